#!/usr/bin/env python3
"""Turns a PyTorch checkpoint (.pth / .pt: a state dict, or a dict holding one under
"state_dict" or "model") into a safetensors file that typed-cnn loads, e.g. into
typed_cnn::models::ResNet18 (see examples/import.rs).

    python3 scripts/pth_to_safetensors.py resnet18.pth resnet18.safetensors
    python3 scripts/pth_to_safetensors.py --strip-prefix module. dp.pth resnet18.safetensors

Needs torch and safetensors (pip install torch safetensors). Float tensors are written as
float32 (typed-cnn's f32 models check the dtype); integer buffers such as batch norm's
num_batches_tracked stay int64.
"""
import argparse

import torch
from safetensors.torch import save_file


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pth")
    ap.add_argument("out")
    ap.add_argument("--strip-prefix", default="", help="remove this prefix from every key")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = ap.parse_args()
    obj = torch.load(args.pth, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    dtype = getattr(torch, args.dtype)
    out = {}
    for name, t in obj.items():
        if not isinstance(t, torch.Tensor):
            raise SystemExit(f"{args.pth}: entry {name!r} is not a tensor ({type(t).__name__})")
        if args.strip_prefix and name.startswith(args.strip_prefix):
            name = name[len(args.strip_prefix):]
        out[name] = (t.to(dtype) if t.is_floating_point() else t).contiguous()
    save_file(out, args.out, metadata={"format": "pt"})
    print(f"{args.out}: {len(out)} tensors")


if __name__ == "__main__":
    main()
