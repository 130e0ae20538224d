#!/usr/bin/env bash
# The embedded step of CI (called by .ci/run): the library without `std` for the host and for a
# Cortex-M4F, the no-allocation test, and the LeNet-5 firmware (examples/cortex-m) under QEMU,
# whose digits must equal the desktop's.
#
# The thumbv7em build uses Debian's Rust 1.96 (rustc-web: it ships the standard library's source,
# so `-Zbuild-std` builds `core` for the target offline; RUSTC_BOOTSTRAP=1 enables that flag)
# and only for this step: the rest of CI, the ui suite above all, stays on rustup's 1.95.
# A developer with rustup needs none of it: `rustup target add thumbv7em-none-eabihf`, then
# `cargo run --release` in examples/cortex-m (its .cargo/config.toml has the QEMU runner).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n=== %s\n' "$*"; }

step "embedded: Debian packages (rustc-web, cargo-web, rust-web-src, lld, qemu-system-arm)"
need=()
[ -x /usr/bin/cargo ] && /usr/bin/cargo --version 2>/dev/null | grep -q '^cargo 1\.9[6-9]' || need+=(rustc-web cargo-web rust-web-src rust-web-llvm)
[ -x /usr/bin/rust-lld ] || need+=(lld-22)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
/usr/bin/cargo --version
qemu-system-arm --version | head -1
echo "packages ready after $(( $(date +%s) - start )) s"

step "embedded: the no_std library for the host: build, clippy -D warnings"
cargo build --release --no-default-features
cargo clippy --release --no-default-features --lib -- -D warnings

step "embedded: cargo test --release --no-default-features --test no_heap"
cargo test --release --no-default-features --test no_heap

step "embedded: the firmware for thumbv7em-none-eabihf (Debian's cargo, build-std)"
firmware=examples/cortex-m/target/thumbv7em-none-eabihf/release/typed-cnn-cortex-m
(cd examples/cortex-m &&
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --release -Zbuild-std=core)
echo "flash = .vector_table + .text + .rodata + .data, RAM = .data + .bss + .uninit (the stack not counted):"
size -A "$firmware" | awk '
    $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ { printf "  %-14s %8d\n", $1, $2 }
    $1 ~ /^\.(vector_table|text|rodata|data)$/ { flash += $2 }
    $1 ~ /^\.(data|bss|uninit)$/ { ram += $2 }
    END { printf "  flash %d bytes, RAM %d bytes\n", flash, ram }'

step "embedded: run it under QEMU (mps2-an386, Cortex-M4F, -icount shift=0)"
out=$(timeout 300 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$firmware")
echo "$out"

step "embedded: the desktop's digits for the same weights and images (std forward)"
desktop=$(cargo run --release --quiet --example embedded_digits)
echo "$desktop"
for line in digits 'logits FNV-1a'; do
    device_line=$(grep "^$line:" <<<"$out" || true)
    desktop_line=$(grep "^$line:" <<<"$desktop" || true)
    if [ -z "$device_line" ] || [ "$device_line" != "$desktop_line" ]; then
        echo "error: the Cortex-M firmware printed '$device_line', the desktop '$desktop_line'"
        exit 1
    fi
done
echo "the firmware's digits equal the desktop's (std forward), its logits the desktop's infer bit for bit"
echo "embedded step done in $(( $(date +%s) - start )) s"
