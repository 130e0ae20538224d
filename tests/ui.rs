//! The compile-fail suite: every shape rule has a case in `ui-tests/fail/` whose `.stderr` pins
//! the message a user sees. The pass cases make trybuild run `cargo build` rather than
//! `cargo check`, which would also reveal post-monomorphization errors.
//!
//! Compiler messages change between rustc versions, so the snapshots are pinned to the MSRV,
//! rustc 1.95 (`rust-version` in Cargo.toml). On another compiler the suite says so and is
//! skipped rather than failing on wording, except in CI (`CI` set), where a compiler other than
//! the pinned one is an error: CI must not go green with the suite unrun. Regenerate after an intended change with
//! `TRYBUILD=overwrite cargo test --release --test ui` and review the diff.

use std::process::Command;

const PINNED: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version.starts_with(PINNED) {
        assert!(
            std::env::var_os("CI").is_none(),
            "ui snapshots are pinned to {PINNED}x but CI runs {version:?}"
        );
        eprintln!("ui snapshots are pinned to {PINNED}x; this is {version:?}: skipped");
        return;
    }
    let t = trybuild::TestCases::new();
    t.pass("ui-tests/pass/*.rs");
    t.compile_fail("ui-tests/fail/*.rs");
}
