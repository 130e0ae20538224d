#!/usr/bin/env python3
"""The `resnet` example's model and schedule in PyTorch, for a side-by-side run: ResNet-8
(3x3 stem to 16 channels, torchvision BasicBlocks at 16, 32 and 64 channels with stride-2
projection shortcuts, global average pooling, linear), Fashion-MNIST, batch 64, shifts of up to
2 pixels (one shift per batch, wrapping around, where the example shifts each image and
fills zeros: per-image Python loops would slow PyTorch down) and left-right flips, SGD lr 0.1 momentum 0.9 Nesterov, weight decay 5e-4, cosine
schedule per epoch. Prints the same epoch lines as the example.

    python3 scripts/resnet_fashion_torch.py --epochs 10 --threads 2 \
        --data /usr/share/datasets/fashion-mnist

Needs torch and torchvision (pip install torch torchvision); reads the IDX .gz files directly.
"""
import argparse
import gzip
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = BasicBlock(16, 16)
        down = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 1, 2, bias=False), nn.BatchNorm2d(o))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2, down(16, 32)), BasicBlock(32, 32))
        self.layer3 = nn.Sequential(BasicBlock(32, 64, 2, down(32, 64)), BasicBlock(64, 64))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load = lambda n: torch.tensor(idx(os.path.join(args.data, n)).copy())
    xtr = load("train-images-idx3-ubyte.gz").float().div(255).unsqueeze(1)
    ytr = load("train-labels-idx1-ubyte.gz").long()
    xte = load("t10k-images-idx3-ubyte.gz").float().div(255).unsqueeze(1)
    yte = load("t10k-labels-idx1-ubyte.gz").long()
    net = Net()
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    for epoch in range(1, args.epochs + 1):
        for g in opt.param_groups:
            g["lr"] = 0.05 * (1 + math.cos(math.pi * (epoch - 1) / args.epochs))
        net.train()
        start, total, correct, seen = time.time(), 0.0, 0, 0
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 64):
            b = perm[i:i + 64]
            x, y = xtr[b], ytr[b]
            dy, dx = np.random.randint(-2, 3, 2)
            x = torch.roll(x, (int(dy), int(dx)), (2, 3))
            flip = torch.rand(len(x)) < 0.5
            x[flip] = x[flip].flip(3)
            out = net(x)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(b)
        net.eval()
        with torch.no_grad():
            acc = sum((net(xte[i:i + 500]).argmax(1) == yte[i:i + 500]).sum().item()
                      for i in range(0, len(xte), 500)) / len(xte)
        print(f"epoch {epoch}/{args.epochs}: loss {total / seen:.4f}  train acc "
              f"{100 * correct / seen:.2f}%  test acc {100 * acc:.2f}%  ({time.time() - start:.1f} s)",
              flush=True)


if __name__ == "__main__":
    main()
