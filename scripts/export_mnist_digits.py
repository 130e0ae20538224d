#!/usr/bin/env python3
"""Writes the first COUNT MNIST test images and their labels for the Cortex-M example and the
no-heap test: examples/cortex-m/digits.bin = COUNT·784 pixel bytes (row-major, 0–255, as the IDX
file stores them) followed by COUNT label bytes.

    python3 scripts/export_mnist_digits.py [COUNT]   # default 16, from data/mnist
"""
import gzip
import pathlib
import struct
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 16
root = pathlib.Path(__file__).resolve().parent.parent
images = gzip.open(root / "data/mnist/t10k-images-idx3-ubyte.gz").read()
labels = gzip.open(root / "data/mnist/t10k-labels-idx1-ubyte.gz").read()
magic, n, h, w = struct.unpack(">IIII", images[:16])
assert (magic, h, w) == (2051, 28, 28) and n >= count, (magic, n, h, w)
magic, n = struct.unpack(">II", labels[:8])
assert magic == 2049 and n >= count, (magic, n)
out = images[16 : 16 + count * 784] + labels[8 : 8 + count]
(root / "examples/cortex-m/digits.bin").write_bytes(out)
print(f"examples/cortex-m/digits.bin: {count} images, labels {list(labels[8:8 + count])}")
