//! What the PyTorch-reference tests share: reading a fixture written by a script in
//! `tests/fixtures/` and comparing f64 results with PyTorch's.
#![allow(dead_code, reason = "each test file uses part of this module")]

use std::path::PathBuf;

use typed_cnn::weights::{self, EntryData, StateDict};

/// The path of a fixture file.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A fixture file's tensors, as f64.
pub fn load(name: &str) -> StateDict<f64> {
    weights::load_state_dict(fixture(name)).expect("the fixture ships in tests/fixtures/")
}

/// The values of the tensor `name`.
pub fn values(state: &StateDict<f64>, name: &str) -> Vec<f64> {
    match &state.get(name).unwrap_or_else(|| panic!("no `{name}` in the fixture")).data {
        EntryData::Values(v) => v.clone(),
        EntryData::Count(c) => panic!("`{name}` is a count ({c}), not values"),
    }
}

/// The counter `name` (a batch-norm `num_batches_tracked`).
pub fn count(state: &StateDict<f64>, name: &str) -> u64 {
    match &state.get(name).unwrap_or_else(|| panic!("no `{name}` in the fixture")).data {
        EntryData::Count(c) => *c,
        EntryData::Values(_) => panic!("`{name}` holds values, not a count"),
    }
}

/// f64 against PyTorch's f64: `|got − exp| ≤ 1e-9·|exp| + 1e-12` element by element. Prints
/// the largest difference, absolute and relative to the largest `|exp|` (seen with
/// `cargo test --release --test <file> -- --nocapture`).
#[track_caller]
pub fn close64(got: &[f64], exp: &[f64], what: &str) {
    assert_eq!(got.len(), exp.len(), "{what}: length");
    report(got, exp, what);
    for (i, (g, e)) in got.iter().zip(exp).enumerate() {
        assert!((g - e).abs() <= 1e-9 * e.abs() + 1e-12, "{what}[{i}]: got {g}, PyTorch {e}");
    }
}

/// f64 against PyTorch's f64 where roundoff is amplified (train-mode batch norm on tiny
/// batches): `|got − exp| ≤ 1e-9·max|exp|` for every element. Prints as [`close64`].
#[track_caller]
pub fn close64_scaled(got: &[f64], exp: &[f64], what: &str) {
    assert_eq!(got.len(), exp.len(), "{what}: length");
    let scale = report(got, exp, what);
    for (i, (g, e)) in got.iter().zip(exp).enumerate() {
        assert!((g - e).abs() <= 1e-9 * scale, "{what}[{i}]: got {g}, PyTorch {e} (scale {scale})");
    }
}

/// Prints the largest difference, absolute and as a share of the largest `|exp|`; returns that
/// largest `|exp|`.
fn report(got: &[f64], exp: &[f64], what: &str) -> f64 {
    let diff = got.iter().zip(exp).map(|(g, e)| (g - e).abs()).fold(0.0, f64::max);
    let scale = exp.iter().map(|e| e.abs()).fold(0.0, f64::max);
    println!(
        "{what}: {} values, max |ours − PyTorch| {diff:.2e} ({:.2e} of max |PyTorch|)",
        got.len(),
        diff / scale.max(f64::MIN_POSITIVE)
    );
    scale
}
