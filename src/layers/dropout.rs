//! `Dropout`: inverted dropout in train mode, the identity in eval mode.

#[cfg(feature = "std")]
use core::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "std")]
use rand::Rng;

#[cfg(feature = "std")]
use crate::Float;
use crate::infer::{Infer, Layout, view_default};
#[cfg(feature = "std")]
use crate::module::{Forward, Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike};
#[cfg(feature = "std")]
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
/// stream `(seed, n)` of SplitMix64, a fully specified generator, so the masks are the same on
/// every platform and version. [`Init::init`] draws the seed from the caller's generator, so a
/// seeded run reproduces its masks. Training forwards of one layer from several threads at once
/// take stream numbers in whatever order they arrive. Neither the seed nor the counter is saved
/// in weight files (PyTorch's `state_dict` has no generator state either).
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
    p: f64,
    seed: u64,
    /// Training forwards so far (each draws a new mask); without `std` there is no training
    /// (and Cortex-M has no 64-bit atomics).
    #[cfg(feature = "std")]
    calls: AtomicU64,
}

view_default! { [] Dropout; }

/// Eval mode: the identity.
impl<T: Layout> Infer<T> for Dropout {
    type Output = T;
    const IN_PLACE: bool = true;

    fn infer_into(&self, x: &[T::Elem], y: &mut [T::Elem], _: &mut [T::Elem]) {
        y.copy_from_slice(x);
    }

    fn infer_in_place(&self, _: &mut [T::Elem]) {}
}

impl Dropout {
    /// Dropout with probability `p` whose masks come from `seed`.
    ///
    /// **Panics** if `p` is not in `[0, 1]` (a programming error, like PyTorch's `ValueError`).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Dropout::new(0.25, 1).p(), 0.25);
    /// assert!(std::panic::catch_unwind(|| Dropout::new(1.5, 1)).is_err());
    /// ```
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        assert!((0.0..=1.0).contains(&p), "Dropout: p must be in [0, 1], got {p}");
        #[cfg(feature = "std")]
        return Self { p, seed, calls: AtomicU64::new(0) };
        #[cfg(not(feature = "std"))]
        Self { p, seed }
    }

    /// The probability of zeroing a value.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Dropout::new(0.25, 1).p(), 0.25);
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Sets the probability of zeroing a value (after [`Init::init`], which uses 0.5).
    ///
    /// **Panics** if `p` is not in `[0, 1]`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut net: (Linear<4, 4>, Dropout) = Init::init(&mut rand::rng());
    /// net.1.set_p(0.1);
    /// assert_eq!(net.1.p(), 0.1);
    /// ```
    #[track_caller]
    pub fn set_p(&mut self, p: f64) {
        assert!((0.0..=1.0).contains(&p), "Dropout: p must be in [0, 1], got {p}");
        self.p = p;
    }
}

#[cfg(feature = "std")]
/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator whose output is fixed by its
/// definition, unlike `rand`'s `SmallRng`, which may change between versions and platforms.
struct SplitMix64(u64);

#[cfg(feature = "std")]
impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(not(feature = "std"))]
impl Clone for Dropout {
    fn clone(&self) -> Self {
        Self { p: self.p, seed: self.seed }
    }
}

#[cfg(feature = "std")]
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

impl Default for Dropout {
    /// `p = 0.5` (PyTorch's default) and seed 0, for a network built without a generator
    /// (to load weights into); [`Init::init`] draws the seed instead.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Dropout::default(), Dropout::new(0.5, 0));
    /// ```
    fn default() -> Self {
        Self::new(0.5, 0)
    }
}

#[cfg(feature = "std")]
impl Init for Dropout {
    /// `p = 0.5` (PyTorch's default) with a seed drawn from `rng`; change it with
    /// [`Dropout::set_p`].
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::new(0.5, rng.random())
    }
}

#[cfg(feature = "std")]
impl<E: Float> Params<E> for Dropout {
    fn visit<'a>(&'a self, _: &str, _: &mut ParamFn<'a, '_, E>) {}
    fn visit_mut(&mut self, _: &str, _: &mut ParamFnMut<'_, E>) {}
    fn visit_with_grads(&mut self, _: &Self, _: &mut PairFn<'_, E>) {}
}

#[cfg(feature = "std")]
impl ZerosLike for Dropout {
    fn zeros_like_impl(&self) -> Self {
        self.clone()
    }
}

#[cfg(feature = "std")]
impl<T: TensorData> Forward<T> for Dropout {
    type Output = T;
    /// The mask, as the factor each value was multiplied by (0 or `1/(1 − p)`).
    type Cache = Box<[T::Elem]>;

    fn forward_impl(&self, x: T) -> T {
        x
    }

    fn train_impl(&self, mut x: T) -> (T, Self::Cache) {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        // One stream per (seed, call): the call number, scrambled, offsets the seed.
        let mut rng = SplitMix64(self.seed ^ SplitMix64(call).next());
        let keep =
            <T::Elem as Float>::from_f64(if self.p < 1.0 { 1.0 / (1.0 - self.p) } else { 0.0 });
        let mask: Box<[T::Elem]> = x
            .data()
            .iter()
            .map(|_| if rng.unit() < self.p { <T::Elem as Float>::ZERO } else { keep })
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

    /// SplitMix64's published first outputs for seed 0 (e.g. the reference C code by Vigna):
    /// 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4.
    #[test]
    fn splitmix64_matches_its_reference_outputs() {
        let mut g = super::SplitMix64(0);
        assert_eq!((g.next(), g.next()), (0xe220_a839_7b1d_cdaf, 0x6e78_9e6a_a1b9_65f4));
    }

    #[test]
    fn drop_rate_follows_p() {
        let drop = Dropout::new(0.2, 4);
        let (y, _) = drop.forward_train(Tensor2::<20, 1000, f64>::filled(1.0));
        let dropped = y.as_slice().iter().filter(|&&v| v == 0.0).count() as f64 / 20000.0;
        // binomial standard deviation √(0.2·0.8/20000) ≈ 0.0028: allow 5 of them
        assert!((dropped - 0.2).abs() < 0.015, "dropped {dropped}");
        assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 1.25));
    }

    #[test]
    fn extremes() {
        let x = Tensor2::<1, 8>::filled(3.0);
        assert_eq!(Dropout::new(0.0, 1).forward_train(x.clone()).0, x);
        assert_eq!(Dropout::new(1.0, 1).forward_train(x).0, T2::zeros());
    }
}
