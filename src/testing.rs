//! Shared test helpers (compiled for tests only).

pub(crate) use crate::gradcheck::assert_close;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A seeded generator, so every test is reproducible.
pub(crate) fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A tiny xorshift64* generator: deterministic, seeded, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a nonzero-ised seed.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in `[-1, 1)`.
    pub(crate) fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11; // 53 bits
        bits as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// `len` values uniform in `[-1, 1)`.
    pub(crate) fn vec(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.uniform()).collect()
    }
}

/// Uniform integer in `lo..=hi` from the seeded generator.
pub(crate) fn pick(rng: &mut Rng, lo: usize, hi: usize) -> usize {
    let u = (rng.uniform() + 1.0) / 2.0; // [0, 1)
    (lo + (u * (hi - lo + 1) as f64) as usize).min(hi)
}

/// [`assert_close`], with the failing case named in the panic message.
#[track_caller]
pub(crate) fn close_in_case(case: &str, what: &str, got: &[f64], expected: &[f64]) {
    if let Err(e) = std::panic::catch_unwind(|| assert_close(got, expected)) {
        let msg = e.downcast_ref::<String>().map_or("?", |m| m.as_str());
        panic!("{what}: fast ≠ naive for {case}: {msg}");
    }
}

/// Converts an `f64` test vector to the element type under test.
pub(crate) fn to_e<E: crate::Float>(v: &[f64]) -> Vec<E> {
    v.iter().map(|&x| E::from_f64(x)).collect()
}

/// Converts kernel output back to `f64` for [`assert_close`].
pub(crate) fn to_f64<E: crate::Float>(v: &[E]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}
