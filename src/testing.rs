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

/// Converts an `f64` test vector to the element type under test.
pub(crate) fn to_e<E: crate::Float>(v: &[f64]) -> Vec<E> {
    v.iter().map(|&x| E::from_f64(x)).collect()
}

/// Converts kernel output back to `f64` for [`assert_close`].
pub(crate) fn to_f64<E: crate::Float>(v: &[E]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

#[cfg(test)]
mod tests {
    use super::assert_close;

    #[test]
    #[should_panic(expected = "first bad element at index 1")]
    fn assert_close_reports_first_bad_index() {
        assert_close(&[1.0, 2.1, 3.5], &[1.0, 2.0, 3.0]);
    }
}
