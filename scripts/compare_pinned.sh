#!/usr/bin/env bash
# Before/after timings of two checkouts of typed-cnn run at the same time, each pinned to its own
# core (and swapped every other round), so that a shared machine's drift hits both alike: the
# crate's own release build, the 20-network test file's build and the ui suite (cargo with one
# job each), then the benchmark's LeNet epoch and lenet1/res64 fwdbwd at one thread. Prints
# after/before ratios per run and their medians.
#
#   scripts/compare_pinned.sh BEFORE_DIR AFTER_DIR [ROUNDS]
#
# Build both first (`cargo build --release --tests --examples`, CARGO_TARGET_DIR=DIR/target).
set -euo pipefail
before=$(cd "$1" && pwd)
after=$(cd "$2" && pwd)
rounds=${3:-3}
log=/tmp/compare_pinned.log
: >"$log"

secs() { # wall seconds of a command, to 0.01 s
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    printf '%.2f' "$(echo "$t1 - $t0" | bc -l)"
}

one() { # DIR CORE LABEL: the build timings and benchmark figures of one checkout
    local dir=$1 core=$2 label=$3 lib nets ui bench
    cd "$dir"
    export CARGO_TARGET_DIR="$dir/target" CARGO_BUILD_JOBS=1
    cargo clean --release -p typed-cnn >/dev/null 2>&1
    lib=$(secs taskset -c "$core" cargo build --release --lib)
    taskset -c "$core" cargo build --release --tests --examples >/dev/null 2>&1
    touch tests/many_networks.rs
    nets=$(secs taskset -c "$core" cargo build --release --test many_networks)
    ui=$(secs taskset -c "$core" cargo test --release --test ui)
    bench=$(taskset -c "$core" ./target/release/examples/bench --cases lenet1,res64,lenet_epoch \
        --threads 1 2>/dev/null |
        awk '/^BENCH (lenet1|res64) fwdbwd|^BENCH lenet_epoch/ {printf "%s=%s ", $2, $5}')
    echo "$label core$core lib_build=$lib many_networks_build=$nets ui_suite=$ui $bench"
}

for r in $(seq 1 "$rounds"); do
    cb=$(( r % 2 )); ca=$(( 1 - cb ))
    one "$before" "$cb" "before#$r" >/tmp/pinned_b.txt &
    one "$after" "$ca" "after#$r" >/tmp/pinned_a.txt
    wait
    cat /tmp/pinned_b.txt /tmp/pinned_a.txt | tee -a "$log"
done

echo "after/before ratios (same round, same moment), median:"
for key in lib_build many_networks_build ui_suite lenet1 res64 lenet_epoch; do
    for r in $(seq 1 "$rounds"); do
        b=$(grep "^before#$r " "$log" | tr ' ' '\n' | grep "^$key=" | cut -d= -f2)
        a=$(grep "^after#$r " "$log" | tr ' ' '\n' | grep "^$key=" | cut -d= -f2)
        echo "$a / $b" | bc -l
    done | sort -n | awk -v key="$key" '{v[NR] = $1} END {printf "%s median %.3f (", key, v[int((NR + 1) / 2)]; for (i = 1; i <= NR; i++) printf " %.3f", v[i]; print " )"}'
done
