#!/usr/bin/env bash
# Runs typed-cnn's benchmark and the PyTorch / JAX references side by side, in one run, so that
# the ratios compare figures measured on the same machine at the same time.
#
#   scripts/bench_vs_refs.sh PATH/TO/bench-ref PYTHON
#
# PATH/TO/bench-ref holds conv_ref.py, lenet_ref.py and lenet_torch.py (with a ../data beside
# it, as they expect); PYTHON is an interpreter with torch, onnxruntime, onnx and jax[cpu]
# installed (a virtualenv outside this repository).
# Pinning follows bench-ref: core 0 for 1 thread, cores 0 and 1 for 2 threads.
set -euo pipefail
ref=${1:?usage: $0 PATH/TO/bench-ref PYTHON}
py=${2:?usage: $0 PATH/TO/bench-ref PYTHON}
cd "$(dirname "$0")/.."

date -u +"date: %Y-%m-%d %H:%M UTC"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo build --release --example bench 2>/dev/null
taskset -c 0 ./target/release/examples/bench --threads 1
taskset -c 0,1 ./target/release/examples/bench --threads 2
for t in 1 2; do
    cores=$([ "$t" = 1 ] && echo 0 || echo 0,1)
    (cd "$ref" && taskset -c "$cores" "$py" conv_ref.py --system torch --threads "$t") || echo "torch reference failed"
    (cd "$ref" && taskset -c "$cores" "$py" lenet_torch.py ../data "$t") || echo "torch/ORT LeNet reference failed"
done
(cd "$ref" && "$py" lenet_ref.py mnist 1) || echo "JAX reference failed"
