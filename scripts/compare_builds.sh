#!/usr/bin/env bash
# Before/after measurements of two checkouts of typed-cnn, alternating in one session so that the
# machine's drift hits both alike: the crate's own release build (dependencies already built),
# the ui suite, the build of the 20-network test file, and the speed benchmark's LeNet epoch and
# lenet1/res64 conv cases at one thread. Prints one line per run and the medians.
#
#   scripts/compare_builds.sh BEFORE_DIR AFTER_DIR [RUNS]
#
# Each checkout builds in its own target directory (BEFORE_DIR/target, AFTER_DIR/target); run
# `cargo build --release --tests --examples` in both first so that dependencies are warm.
set -euo pipefail
before=$(cd "$1" && pwd)
after=$(cd "$2" && pwd)
runs=${3:-3}

secs() { # wall seconds of a command, to 0.01 s
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l | xargs printf '%.2f'
}

measure() { # DIR LABEL
    local dir=$1 label=$2 lib ui nets bench
    cd "$dir"
    export CARGO_TARGET_DIR="$dir/target"
    cargo clean --release -p typed-cnn >/dev/null 2>&1
    lib=$(secs cargo build --release --lib)
    cargo build --release --tests --examples >/dev/null 2>&1
    ui=$(secs cargo test --release --test ui)
    touch tests/many_networks.rs
    nets=$(secs cargo build --release --test many_networks)
    bench=$(./target/release/examples/bench --cases lenet1,res64,lenet_epoch --threads 1 2>/dev/null |
        awk '/^BENCH (lenet1|res64) fwdbwd|^BENCH lenet_epoch/ {printf "%s=%s ", $2, $5}')
    echo "$label lib_build=${lib}s ui_suite=${ui}s many_networks_build=${nets}s $bench load=$(cut -d' ' -f1 /proc/loadavg)"
}

for i in $(seq 1 "$runs"); do
    measure "$before" "before#$i"
    measure "$after" "after#$i"
done | tee /tmp/compare_builds.log

echo "medians:"
for who in before after; do
    for key in lib_build ui_suite many_networks_build lenet1 res64 lenet_epoch; do
        grep "^$who" /tmp/compare_builds.log | tr ' ' '\n' | grep "^$key=" | cut -d= -f2 |
            tr -d s | sort -n | awk -v who="$who" -v key="$key" \
            '{v[NR] = $1} END {printf "%s %s median %s (runs:", who, key, v[int((NR + 1) / 2)]; for (i = 1; i <= NR; i++) printf " %s", v[i]; print ")"}'
    done
done
