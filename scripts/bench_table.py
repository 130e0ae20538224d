#!/usr/bin/env python3
"""Turns the output of scripts/bench_vs_refs.sh into the README's speed tables.

    scripts/bench_vs_refs.sh PATH/TO/bench-ref PYTHON > run.txt 2>&1
    python3 scripts/bench_table.py run.txt

Reads our `BENCH` lines and the single-core FMA peak, PyTorch's `RESULT` lines (conv_ref.py),
PyTorch's and ONNX Runtime's `REF` lines (lenet_torch.py) and JAX's epoch line (lenet_ref.py),
and prints markdown: the conv layers (ours, PyTorch, their ratio, our GFLOP/s and share of the
peak, at 1 and 2 threads) and the LeNet rows, with each ratio the speed issue sets a target on.
Every figure comes from the one run given; nothing is measured here.
"""
import re
import sys

# conv_ref.py's cases: name, batch, cin, h, cout, k, s, p
CASES = [
    ("lenet1", 64, 1, 28, 6, 5, 1, 2),
    ("lenet2", 64, 6, 14, 16, 5, 1, 0),
    ("cifar1", 32, 3, 32, 32, 3, 1, 1),
    ("res64", 32, 64, 16, 64, 3, 1, 1),
    ("c128", 8, 128, 28, 128, 3, 1, 1),
    ("pw1x1", 16, 64, 56, 64, 1, 1, 0),
    ("strided", 32, 32, 32, 64, 3, 2, 1),
]


def fwd_flops(case):
    _, n, cin, h, cout, k, s, p = case
    ho = (h + 2 * p - k) // s + 1
    return 2.0 * n * cout * ho * ho * cin * k * k


def main(path):
    text = open(path, encoding="utf-8").read()
    ours, torch, refs = {}, {}, {}
    for m in re.finditer(r"^BENCH (\S+) (\S+) (\d+) (\S+)", text, re.M):
        ours[(m[1], m[2], int(m[3]))] = float(m[4])
    for m in re.finditer(r"^RESULT\ttorch\t(\d+)\t(\S+)\t(\S+)\t(\S+)", text, re.M):
        torch[(m[2], m[3], int(m[1]))] = float(m[4])
    for m in re.finditer(r"^REF (\S+) (\S+) (\d+) (\S+)", text, re.M):
        refs[(m[1], m[2], int(m[3]))] = float(m[4])
    peak = re.search(r"FMA peak, measured: ([\d.]+) GFLOP/s", text)
    peak = float(peak[1]) if peak else None
    jax = re.search(r"^\s*epoch\s+1\s.*time ([\d.]+)s", text, re.M)
    jax = float(jax[1]) if jax else None
    head = [l for l in text.splitlines() if l.startswith(("date:", "machine:"))]
    print("\n".join(head))
    if peak:
        print(f"single-core f32 FMA peak (bench's probe): {peak:.1f} GFLOP/s\n")

    print("| case | pass | ours 1t | PyTorch 1t | ours/PyTorch | GFLOP/s | % peak "
          "| ours 2t | PyTorch 2t | ours/PyTorch | 2t speed-up |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        for pass_ in ("fwd", "fwdbwd"):
            o1, o2 = ours.get((case[0], pass_, 1)), ours.get((case[0], pass_, 2))
            t1, t2 = torch.get((case[0], pass_, 1)), torch.get((case[0], pass_, 2))
            flops = fwd_flops(case) * (1 if pass_ == "fwd" else 3)
            cell = lambda v: f"{v:.2f}" if v is not None else ""
            ratio = lambda a, b: f"{a / b:.2f}" if a and b else ""
            rate = flops / (o1 * 1e-3) / 1e9 if o1 else None
            share = f"{100 * rate / peak:.0f}" if rate and peak else ""
            print(f"| {case[0]} | {pass_} | {cell(o1)} | {cell(t1)} | {ratio(o1, t1)} "
                  f"| {cell(rate)} | {share} | {cell(o2)} | {cell(t2)} | {ratio(o2, t2)} "
                  f"| {ratio(o1, o2)} |")

    print()
    print("| LeNet | ours 1t | ours 2t | PyTorch 1t | PyTorch 2t | ONNX Runtime 1t "
          "| ONNX Runtime 2t | JAX (2 cores) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = [
        ("training epoch, MNIST, batch 64 (s)", ("lenet_epoch", "train"), "epoch", None),
        ("inference, 1 image (µs)", ("lenet_infer", "batch1"), "infer1", "infer1"),
        ("inference, 64 images (ms)", ("lenet_infer", "batch64"), "infer64", "infer64"),
    ]
    for label, key, tk, ok in rows:
        cells = [ours.get(key + (t,)) for t in (1, 2)]
        cells += [refs.get(("torch", tk, t)) for t in (1, 2)]
        cells += [refs.get(("ort", ok, t)) if ok else None for t in (1, 2)]
        cells.append(jax if key[0] == "lenet_epoch" else None)
        print(f"| {label} | " + " | ".join(f"{c:.3g}" if c else "" for c in cells) + " |")

    print("\nTargets of the speed issue, this run:")
    e1, e2 = ours.get(("lenet_epoch", "train", 1)), ours.get(("lenet_epoch", "train", 2))
    pt2 = refs.get(("torch", "epoch", 2))
    if e1 and e2 and pt2:
        print(f"- epoch 2t / PyTorch 2t = {e2 / pt2:.2f} (target ≤ 0.33)"
              + (f", / JAX = {e2 / jax:.2f} (target ≤ 0.17)" if jax else "")
              + f"; 1t / 2t = {e1 / e2:.2f} (target ≥ 1.8)")
    i1, o1 = ours.get(("lenet_infer", "batch1", 1)), refs.get(("ort", "infer1", 1))
    if i1 and o1:
        print(f"- 1 image / ONNX Runtime, 1t = {i1 / o1:.2f} (target ≤ 0.5)")
    for t in (1, 2):
        i64, o64 = ours.get(("lenet_infer", "batch64", t)), refs.get(("ort", "infer64", t))
        if i64 and o64:
            print(f"- 64 images / ONNX Runtime, {t}t = {i64 / o64:.2f} (target ≤ 1)")


if __name__ == "__main__":
    main(sys.argv[1])
