//! The compile-fail suite: every shape rule has a case in `ui-tests/fail/` whose `.stderr` pins
//! the message a user sees. The pass cases make trybuild run `cargo build` rather than
//! `cargo check`, which would also reveal post-monomorphization errors.
//!
//! The `.stderr` snapshots are tied to the rustc version (1.95, pinned in `rust-toolchain.toml`).
//! Regenerate after an intended change with `TRYBUILD=overwrite cargo test --release --test ui`
//! and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui-tests/pass/*.rs");
    t.compile_fail("ui-tests/fail/*.rs");
}
