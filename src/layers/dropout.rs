//! `Dropout`: inverted dropout in train mode, the identity in eval mode.

use core::sync::atomic::{AtomicU64, Ordering};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::Float;
use crate::module::{Forward, Init, ParamFn, ParamFnMut, Params};
use crate::tensor::TensorData;

/// Inverted dropout: in train mode each value is zeroed with probability `p` and the others are
/// scaled by `1/(1 − p)`, so eval mode is the identity.
///
/// **PyTorch equivalent**: `torch.nn.Dropout(p)` (default `p = 0.5`).
///
/// The mode is the method: [`Module::forward`](crate::Module::forward) (eval) passes the input
/// through; [`Module::forward_train`](crate::Module::forward_train) (train) draws a mask and keeps
/// it in the trace for backward. Forward takes `&self`, so the masks come from a seed and a call
/// counter (an atomic, so the layer stays `Sync`): the n-th training forward of a layer uses the
/// stream `(seed, n)`. [`Init::init`] draws the seed from the caller's generator, so a seeded run
/// reproduces its masks.
///
/// ```
/// use typed_cnn::prelude::*;
/// let drop = Dropout::new(0.5, 7);
/// let x = Tensor2::<1, 1000>::filled(1.0);
/// assert_eq!(drop.forward(x.clone()), x); // eval mode: the identity
/// let (y, _trace) = drop.forward_train(x); // train mode: zeros and 2s
/// assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 2.0));
/// let kept = y.as_slice().iter().filter(|&&v| v == 2.0).count();
/// assert!((400..600).contains(&kept), "{kept} of 1000 kept"); // about half
/// ```
#[derive(Debug)]
pub struct Dropout {
    /// The probability of zeroing a value, in `[0, 1]`.
    pub p: f64,
    seed: u64,
    calls: AtomicU64,
}

impl Dropout {
    /// Dropout with probability `p` whose masks come from `seed`.
    ///
    /// **Panics** if `p` is not in `[0, 1]` (a programming error, like PyTorch's `ValueError`).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Dropout::new(0.25, 1).p, 0.25);
    /// assert!(std::panic::catch_unwind(|| Dropout::new(1.5, 1)).is_err());
    /// ```
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        assert!((0.0..=1.0).contains(&p), "Dropout: p must be in [0, 1], got {p}");
        Self { p, seed, calls: AtomicU64::new(0) }
    }
}

impl Clone for Dropout {
    fn clone(&self) -> Self {
        Self {
            p: self.p,
            seed: self.seed,
            calls: AtomicU64::new(self.calls.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Dropout {
    /// Equal probability and seed (the call counter is not compared).
    fn eq(&self, other: &Self) -> bool {
        self.p == other.p && self.seed == other.seed
    }
}

impl Init for Dropout {
    /// `p = 0.5` (PyTorch's default) with a seed drawn from `rng`; set `p` afterwards.
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::new(0.5, rng.random())
    }
}

impl<E: Float> Params<E> for Dropout {
    fn visit<'a>(&'a self, _: &str, _: &mut ParamFn<'a, '_, E>) {}
    fn visit_mut(&mut self, _: &str, _: &mut ParamFnMut<'_, E>) {}
    fn zeros_like(&self) -> Self {
        self.clone()
    }
}

impl<T: TensorData> Forward<T> for Dropout {
    type Output = T;
    /// The mask, as the factor each value was multiplied by (0 or `1/(1 − p)`).
    type Cache = Box<[T::Elem]>;

    fn forward_impl(&self, x: T) -> T {
        x
    }

    fn train_impl(&self, mut x: T) -> (T, Self::Cache) {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        // One independent stream per (seed, call): SmallRng seeded from a mix of the two.
        let mut rng = SmallRng::seed_from_u64(self.seed ^ call.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let keep =
            <T::Elem as Float>::from_f64(if self.p < 1.0 { 1.0 / (1.0 - self.p) } else { 0.0 });
        let mask: Box<[T::Elem]> = x
            .data()
            .iter()
            .map(|_| if rng.random::<f64>() < self.p { <T::Elem as Float>::ZERO } else { keep })
            .collect();
        x.data_mut().iter_mut().zip(&mask).for_each(|(v, &m)| *v *= m);
        (x, mask)
    }

    fn backward_impl(&self, mask: Self::Cache, mut dy: T, _: &mut Self) -> T {
        dy.data_mut().iter_mut().zip(&mask).for_each(|(d, &m)| *d *= m);
        dy
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn backward_uses_the_forward_mask() {
        let drop = Dropout::new(0.5, 3);
        let x = Tensor2::<2, 50, f64>::from_fn(|i, j| 1.0 + (i * 50 + j) as f64);
        let (y, trace) = drop.forward_train(x.clone());
        let dx = drop.backward(trace, T2::filled(1.0), &mut drop.clone());
        // y = x·m and dx = 1·m with the same m ∈ {0, 2}.
        for ((&y, &x), &d) in y.as_slice().iter().zip(x.as_slice()).zip(dx.as_slice()) {
            assert!(d == 0.0 || d == 2.0);
            assert_eq!(y, x * d);
        }
    }

    #[test]
    fn masks_differ_between_calls_and_reproduce_from_the_seed() {
        let x = Tensor2::<1, 64>::filled(1.0);
        let a = Dropout::new(0.5, 9);
        let b = Dropout::new(0.5, 9);
        let (a1, a2) = (a.forward_train(x.clone()).0, a.forward_train(x.clone()).0);
        assert_ne!(a1, a2, "two training calls drew the same mask");
        assert_eq!((a1, a2), (b.forward_train(x.clone()).0, b.forward_train(x).0));
    }

    #[test]
    fn extremes() {
        let x = Tensor2::<1, 8>::filled(3.0);
        assert_eq!(Dropout::new(0.0, 1).forward_train(x.clone()).0, x);
        assert_eq!(Dropout::new(1.0, 1).forward_train(x).0, T2::zeros());
    }
}
