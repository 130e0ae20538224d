//! The compile-fail suite: every shape rule has a case in `ui-tests/fail/` whose `.stderr` pins
//! the message a user sees.
//!
//! The fail cases run on their own, with no pass case beside them, so that trybuild compiles them
//! with `cargo check`: a rule that only `cargo build` reported (a post-monomorphization `const`
//! assert, invisible in the editor) would make its case fail here. The pass cases
//! (`ui-tests/pass/`) run apart, with `cargo build`.
//!
//! Compiler messages change between rustc versions, so the snapshots are pinned to the MSRV,
//! rustc 1.95 (`rust-version` in Cargo.toml). On another compiler the suite says so and is
//! skipped rather than failing on wording, except in CI (`CI` set), where a compiler other than
//! the pinned one is an error: CI must not go green with the suite unrun. Regenerate after an
//! intended change with `TRYBUILD=overwrite cargo test --release --test ui` and review the diff.

use std::process::Command;
use std::sync::Mutex;

const PINNED: &str = "rustc 1.95.";

/// The two suites share trybuild's project directory: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether this compiler is the one the snapshots are pinned to (panics in CI if not).
fn pinned_compiler() -> bool {
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
        return false;
    }
    true
}

#[test]
fn ui_fail_at_cargo_check() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if pinned_compiler() {
        trybuild::TestCases::new().compile_fail("ui-tests/fail/*.rs");
    }
}

#[test]
fn ui_pass() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if pinned_compiler() {
        trybuild::TestCases::new().pass("ui-tests/pass/*.rs");
    }
}
