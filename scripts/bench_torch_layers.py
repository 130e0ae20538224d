#!/usr/bin/env python3
"""PyTorch's time for the issue-12 benchmark rows of examples/bench.rs, to run in the same
session: the depthwise 3x3 convolution `dw144` (N=32, C=144, 56x56, groups=144, no bias; fwd and
fwd+bwd with an all-ones output gradient), `up2x2` (ConvTranspose2d(64, 32, 2, stride=2) with
bias on (16, 64, 28, 28); fwd and fwd+bwd likewise) and `resnet18_step` (torchvision resnet18
with 10 classes, batch 16 of 64x64, cross-entropy, SGD momentum 0.9: one training step).

    python3 scripts/bench_torch_layers.py --threads 1
    cargo run --release --example bench -- --cases dw144,up2x2,resnet18_step --threads 1

Needs torch and torchvision (pip install torch torchvision). Timing as bench-ref/conv_ref.py:
warm-up, then repetitions until about a second has passed (at least 10, at most 200); prints
    RESULT torch <threads> <case> <pass> <median_ms> <min_ms> <max_ms> <reps>
"""
import argparse
import statistics
import time

import torch
import torchvision


def bench(f):
    for _ in range(3):
        f()
    times, total = [], 0.0
    while len(times) < 10 or (total < 1.0 and len(times) < 200):
        t = time.perf_counter()
        f()
        dt = time.perf_counter() - t
        total += dt
        times.append(dt * 1e3)
    return statistics.median(times), min(times), max(times), len(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t = args.threads

    dw = torch.nn.Conv2d(144, 144, 3, 1, 1, groups=144, bias=False)
    x = torch.rand(32, 144, 56, 56)
    with torch.no_grad():
        r = bench(lambda: dw(x))
    print("RESULT", "torch", t, "dw144", "fwd", *[f"{v:.3f}" for v in r[:3]], r[3], sep="\t")

    def fwdbwd():
        xg = x.clone().requires_grad_(True)
        y = dw(xg)
        y.backward(torch.ones_like(y))
        return y

    r = bench(fwdbwd)
    print("RESULT", "torch", t, "dw144", "fwdbwd", *[f"{v:.3f}" for v in r[:3]], r[3], sep="\t")

    up = torch.nn.ConvTranspose2d(64, 32, 2, stride=2)
    xu = torch.rand(16, 64, 28, 28)
    with torch.no_grad():
        r = bench(lambda: up(xu))
    print("RESULT", "torch", t, "up2x2", "fwd", *[f"{v:.3f}" for v in r[:3]], r[3], sep="\t")

    def up_fwdbwd():
        xg = xu.clone().requires_grad_(True)
        y = up(xg)
        y.backward(torch.ones_like(y))
        return y

    r = bench(up_fwdbwd)
    print("RESULT", "torch", t, "up2x2", "fwdbwd", *[f"{v:.3f}" for v in r[:3]], r[3], sep="\t")

    net = torchvision.models.resnet18(num_classes=10)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xb = torch.rand(16, 3, 64, 64)
    labels = torch.arange(16) % 10

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xb), labels)
        loss.backward()
        opt.step()

    r = bench(step)
    print("RESULT", "torch", t, "resnet18_step", "train", *[f"{v:.3f}" for v in r[:3]], r[3],
          sep="\t")


if __name__ == "__main__":
    main()
