//! Element-wise activations: `Relu`, `LeakyRelu`, `Sigmoid`, `Tanh`, and those of MobileNet and
//! transformer-era networks, `Relu6`, `Hardswish`, `Silu`, `Gelu`, on any tensor type.
//!
//! Each keeps in its cache only what its derivative needs (the output, or the input for
//! `LeakyRelu`), and works in place on the tensor it is given.

use crate::Float;
use crate::infer::{Infer, Layout, view_default};
#[cfg(feature = "std")]
use crate::module::{Forward, NoParams};
#[cfg(feature = "std")]
use crate::tensor::TensorData;

/// `max(0, x)`. The derivative at exactly 0 is taken as 0, as PyTorch does.
///
/// **PyTorch equivalent**: `torch.nn.ReLU()`. Any shape in, the same shape out.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Relu.forward(Tensor2::<1, 3>::from_slice(&[-1.0, 0.0, 2.0]).unwrap());
/// assert_eq!(y.as_slice(), [0.0, 0.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

/// `x` for `x > 0`, else `negative_slope · x`.
///
/// **PyTorch equivalent**: `torch.nn.LeakyReLU(negative_slope=0.01)` (the default from `init`).
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = LeakyRelu::new(0.1).forward(Tensor2::<1, 2>::from_slice(&[-2.0, 3.0]).unwrap());
/// assert_eq!(y.as_slice(), [-0.2, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    /// The slope for negative inputs.
    pub negative_slope: f64,
}

impl LeakyRelu {
    /// A leaky ReLU with the given negative slope.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let act = LeakyRelu::new(0.5);
    /// let y = act.forward(Tensor2::<1, 3, f64>::from_slice(&[-4.0, 0.0, 3.0]).unwrap());
    /// assert_eq!(y.as_slice(), [-2.0, 0.0, 3.0]); // 0.5·(−4), 0, 3
    /// ```
    pub fn new(negative_slope: f64) -> Self {
        Self { negative_slope }
    }
}

impl Default for LeakyRelu {
    /// PyTorch's default slope, 0.01.
    fn default() -> Self {
        Self::new(0.01)
    }
}

/// The logistic function `1 / (1 + e⁻ˣ)`.
///
/// **PyTorch equivalent**: `torch.nn.Sigmoid()`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Sigmoid.forward(Tensor2::<1, 1, f64>::zeros());
/// assert_eq!(y.as_slice(), [0.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;

/// The hyperbolic tangent.
///
/// **PyTorch equivalent**: `torch.nn.Tanh()`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Tanh.forward(Tensor2::<1, 1, f64>::zeros());
/// assert_eq!(y.as_slice(), [0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

/// `min(max(0, x), 6)`: MobileNetV2's activation. The derivative is 1 strictly between 0 and 6,
/// else 0 (PyTorch's `hardtanh_backward`, which lets a NaN's gradient through).
///
/// **PyTorch equivalent**: `torch.nn.ReLU6()`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Relu6.forward(Tensor2::<1, 3>::from_slice(&[-1.0, 2.5, 9.0]).unwrap());
/// assert_eq!(y.as_slice(), [0.0, 2.5, 6.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu6;

/// `x · relu6(x + 3) / 6`: MobileNetV3's activation. The derivative is 0 below −3,
/// `x/3 + 1/2` from −3 to 3, and 1 above, as PyTorch's `hardswish_backward` takes it.
///
/// **PyTorch equivalent**: `torch.nn.Hardswish()`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Hardswish.forward(Tensor2::<1, 3, f64>::from_slice(&[-4.0, 1.5, 4.0]).unwrap());
/// assert_eq!(y.as_slice(), [0.0, 1.125, 4.0]); // 1.5·4.5/6
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hardswish;

/// `x · σ(x)` (also called swish): EfficientNet's activation.
///
/// **PyTorch equivalent**: `torch.nn.SiLU()`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Silu.forward(Tensor2::<1, 2, f64>::from_slice(&[0.0, 2.0]).unwrap());
/// assert_eq!(y.as_slice()[0], 0.0);
/// assert!((y.as_slice()[1] - 2.0 / (1.0 + (-2f64).exp())).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Silu;

/// The Gaussian error linear unit, `x · Φ(x)` with `Φ` the standard normal distribution
/// function, `Φ(x) = (1 + erf(x/√2))/2`; or, with `approximate: true`, PyTorch's tanh form
/// `x/2 · (1 + tanh(√(2/π) · (x + 0.044715·x³)))`. `erf` is computed in `f64` (series below
/// 2.5, continued fraction above), to about 1e-15.
///
/// **PyTorch equivalent**: `torch.nn.GELU()` (`Gelu::default()`, exact) and
/// `torch.nn.GELU(approximate='tanh')` (`Gelu { approximate: true }`).
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Gelu::default().forward(Tensor2::<1, 2, f64>::from_slice(&[0.0, 1.0]).unwrap());
/// assert_eq!(y.as_slice()[0], 0.0);
/// assert!((y.as_slice()[1] - 0.8413447460685429).abs() < 1e-15); // Φ(1)
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gelu {
    /// Use the tanh approximation (PyTorch's `approximate='tanh'`) instead of `erf`.
    pub approximate: bool,
}

#[cfg(feature = "std")]
impl NoParams for Relu {}
#[cfg(feature = "std")]
impl NoParams for LeakyRelu {}
#[cfg(feature = "std")]
impl NoParams for Sigmoid {}
#[cfg(feature = "std")]
impl NoParams for Tanh {}
#[cfg(feature = "std")]
impl NoParams for Relu6 {}
#[cfg(feature = "std")]
impl NoParams for Hardswish {}
#[cfg(feature = "std")]
impl NoParams for Silu {}
#[cfg(feature = "std")]
impl NoParams for Gelu {}

/// The error function, to about 1e-15: the Maclaurin series below 2.5 (where its alternating
/// terms lose at most two digits), the continued fraction of `erfc` (Abramowitz & Stegun 7.1.14)
/// above, `±1` beyond 6 (`erfc(6) < 3e-17`).
pub(crate) fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let r = if a < 2.5 {
        // erf(a) = 2/√π · Σₙ (−1)ⁿ a^(2n+1) / (n!·(2n+1))
        let (a2, mut term, mut sum) = (a * a, a, a);
        for n in 1..80 {
            term *= -a2 / n as f64;
            let add = term / (2 * n + 1) as f64;
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        sum * core::f64::consts::FRAC_2_SQRT_PI
    } else if a < 6.0 {
        // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + (2/2)/(a + (3/2)/(a + …))))
        let mut f = a;
        for k in (1..=60).rev() {
            f = a + (k as f64 / 2.0) / f;
        }
        1.0 - Float::exp(-a * a) * core::f64::consts::FRAC_2_SQRT_PI / 2.0 / f
    } else {
        1.0
    };
    r.copysign(x)
}

/// `Φ(x)`, the standard normal distribution function.
fn normal_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf(x * core::f64::consts::FRAC_1_SQRT_2))
}

/// `√(2/π)`, GELU's tanh form.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// `1/√(2π)`, the normal density at 0.
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// GELU and its derivative at `x`, in `f64`.
fn gelu(x: f64, approximate: bool) -> (f64, f64) {
    if approximate {
        let u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
        let t = Float::tanh(u);
        let du = SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x);
        (0.5 * x * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
    } else {
        let cdf = normal_cdf(x);
        (x * cdf, cdf + x * INV_SQRT_2PI * Float::exp(-0.5 * x * x))
    }
}

/// Implements `Forward<T>` for an element-wise activation: `$f` maps x to y, `$df` maps
/// (cached value, y-derivative factor) and the cache is the output (`$keep_input` = false) or
/// the input.
macro_rules! elementwise {
    ($t:ty, |$s:ident, $x:ident| $f:expr, |$s2:ident, $c:ident| $df:expr, keep_input: $keep:literal) => {
        impl<T: Layout> Infer<T> for $t {
            type Output = T;
            const IN_PLACE: bool = true;

            fn infer_into(&self, x: &[T::Elem], y: &mut [T::Elem], _: &mut [T::Elem]) {
                let $s = self;
                for (v, &$x) in y.iter_mut().zip(x) {
                    *v = $f;
                }
            }

            fn infer_in_place(&self, xy: &mut [T::Elem]) {
                let $s = self;
                xy.iter_mut().for_each(|v| {
                    let $x = *v;
                    *v = $f;
                });
            }
        }

        #[cfg(feature = "std")]
        impl<T: TensorData> Forward<T> for $t {
            type Output = T;
            type Cache = T;

            fn forward_impl(&self, mut x: T) -> T {
                let $s = self;
                x.data_mut().iter_mut().for_each(|v| {
                    let $x = *v;
                    *v = $f;
                });
                x
            }

            fn train_impl(&self, x: T) -> (T, T) {
                if $keep {
                    let input = x.clone();
                    (self.forward_impl(x), input)
                } else {
                    let y = self.forward_impl(x);
                    (y.clone(), y)
                }
            }

            fn backward_impl(&self, cache: T, mut dy: T, _: &mut Self) -> T {
                let $s2 = self;
                // dx = dy · f'(x), with f' written in terms of the cached value.
                for (d, &$c) in dy.data_mut().iter_mut().zip(cache.data()) {
                    *d *= $df;
                }
                dy
            }
        }
    };
}

/// ReLU of one value, `x ≤ 0 → 0`: the test is `x <= 0`, not `x > 0`, so that a NaN passes
/// through (as in PyTorch) instead of silently becoming 0. The forward and [`Infer`] run it.
fn relu<E: Float>(x: E) -> E {
    if x <= E::ZERO { E::ZERO } else { x }
}

impl<T: Layout> Infer<T> for Relu {
    type Output = T;
    const IN_PLACE: bool = true;

    fn infer_into(&self, x: &[T::Elem], y: &mut [T::Elem], _: &mut [T::Elem]) {
        y.iter_mut().zip(x).for_each(|(v, &x)| *v = relu(x));
    }

    fn infer_in_place(&self, xy: &mut [T::Elem]) {
        xy.iter_mut().for_each(|v| *v = relu(*v));
    }
}

view_default! {
    [] Relu; [] LeakyRelu; [] Sigmoid; [] Tanh; [] Relu6; [] Hardswish; [] Silu; [] Gelu;
}

#[cfg(feature = "std")]
impl<T: TensorData> Forward<T> for Relu {
    type Output = T;
    /// Where the output is positive (where the gradient passes): a byte per value instead of a
    /// copy of the output.
    type Cache = Vec<bool>;

    fn forward_impl(&self, mut x: T) -> T {
        x.data_mut().iter_mut().for_each(|v| *v = relu(*v));
        x
    }

    fn train_impl(&self, mut x: T) -> (T, Vec<bool>) {
        let zero = <T::Elem as Float>::ZERO;
        // One pass for the output and the mask. PyTorch's threshold_backward passes the
        // gradient unless `y <= 0`, so a NaN passes it, as it passes the forward.
        let mut passes = Vec::with_capacity(x.data().len());
        passes.extend(x.data_mut().iter_mut().map(|v| {
            // `v > 0`, or NaN: not `v <= 0`
            let pass = *v > zero || (*v).partial_cmp(&*v).is_none();
            *v = if pass { *v } else { zero };
            pass
        }));
        (x, passes)
    }

    fn backward_impl(&self, passes: Vec<bool>, mut dy: T, _: &mut Self) -> T {
        // dx = dy where the output was not ≤ 0, else 0
        let zero = <T::Elem as Float>::ZERO;
        for (d, &p) in dy.data_mut().iter_mut().zip(&passes) {
            *d = if p { *d } else { zero };
        }
        dy
    }
}

elementwise!(LeakyRelu, |s, x| if x > <T::Elem as Float>::ZERO { x } else { x * <T::Elem as Float>::from_f64(s.negative_slope) },
    |s, x| if x > <T::Elem as Float>::ZERO { <T::Elem as Float>::ONE } else { <T::Elem as Float>::from_f64(s.negative_slope) },
    keep_input: true);
elementwise!(Sigmoid, |_s, x| <T::Elem as Float>::ONE / (<T::Elem as Float>::ONE + (-x).exp()),
    |_s, y| y * (<T::Elem as Float>::ONE - y),
    keep_input: false);
elementwise!(Tanh, |_s, x| x.tanh(),
    |_s, y| <T::Elem as Float>::ONE - y * y,
    keep_input: false);
elementwise!(Relu6, |_s, x| {
        let (zero, six) = (<T::Elem as Float>::ZERO, <T::Elem as Float>::from_f64(6.0));
        if x <= zero { zero } else if x >= six { six } else { x }
    },
    |_s, x| {
        let (zero, six) = (<T::Elem as Float>::ZERO, <T::Elem as Float>::from_f64(6.0));
        if x <= zero || x >= six { zero } else { <T::Elem as Float>::ONE }
    },
    keep_input: true);
elementwise!(Hardswish, |_s, x| {
        let v = x.to_f64();
        <T::Elem as Float>::from_f64(v * (v + 3.0).clamp(0.0, 6.0) / 6.0)
    },
    |_s, x| {
        let v = x.to_f64();
        <T::Elem as Float>::from_f64(if v < -3.0 { 0.0 } else if v <= 3.0 { v / 3.0 + 0.5 } else { 1.0 })
    },
    keep_input: true);
elementwise!(Silu, |_s, x| x / (<T::Elem as Float>::ONE + (-x).exp()),
    |_s, x| {
        let sig = <T::Elem as Float>::ONE / (<T::Elem as Float>::ONE + (-x).exp());
        sig * (<T::Elem as Float>::ONE + x * (<T::Elem as Float>::ONE - sig))
    },
    keep_input: true);
elementwise!(Gelu, |s, x| <T::Elem as Float>::from_f64(gelu(x.to_f64(), s.approximate).0),
    |s, x| <T::Elem as Float>::from_f64(gelu(x.to_f64(), s.approximate).1),
    keep_input: true);

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;

    /// NaN propagates through every activation (PyTorch's behavior), so a NaN cannot vanish
    /// silently on its way to the loss.
    #[test]
    fn nan_propagates() {
        let x = || Tensor2::<1, 1, f64>::filled(f64::NAN);
        assert!(Relu.forward(x()).as_slice()[0].is_nan());
        assert!(LeakyRelu::new(0.1).forward(x()).as_slice()[0].is_nan());
        assert!(Sigmoid.forward(x()).as_slice()[0].is_nan());
        assert!(Tanh.forward(x()).as_slice()[0].is_nan());
        assert!(Relu6.forward(x()).as_slice()[0].is_nan());
        assert!(Hardswish.forward(x()).as_slice()[0].is_nan());
        assert!(Silu.forward(x()).as_slice()[0].is_nan());
        assert!(Gelu::default().forward(x()).as_slice()[0].is_nan());
        assert!(Gelu { approximate: true }.forward(x()).as_slice()[0].is_nan());
        // and ReLU's backward passes the gradient at a NaN, as PyTorch's threshold_backward does
        let (_, trace) = Relu.forward_train(x());
        assert_eq!(Relu.backward(trace, T2::filled(2.0), &mut Relu).as_slice(), [2.0]);
    }

    /// Inputs kept at least 1e-3 away from the ReLU kink at 0.
    fn away_from_zero() -> Tensor<2, 3, 4, 5, f64> {
        T4::from_fn(|n, c, h, w| {
            let v = ((n * 7 + c * 5 + h * 3 + w) % 11) as f64 / 5.0 - 1.05;
            if v.abs() < 1e-3 { 0.5 } else { v }
        })
    }

    #[test]
    fn relu_backward_matches_finite_differences() {
        check_module(&Relu, away_from_zero(), 1e-6).assert_below(1e-6);
    }

    #[test]
    fn leaky_relu_backward_matches_finite_differences() {
        check_module(&LeakyRelu::new(0.07), away_from_zero(), 1e-6).assert_below(1e-6);
    }

    #[test]
    fn sigmoid_and_tanh_backward_match_finite_differences() {
        check_module(&Sigmoid, away_from_zero(), 1e-6).assert_below(1e-6);
        check_module(&Tanh, away_from_zero(), 1e-6).assert_below(1e-6);
    }

    #[test]
    fn new_activations_backward_match_finite_differences() {
        // the inputs avoid the kinks of Relu6 (0, 6) and Hardswish (−3, 3)
        let x = || away_from_zero();
        check_module(&Relu6, x(), 1e-6).assert_below(1e-6);
        check_module(&Hardswish, x(), 1e-6).assert_below(1e-6);
        check_module(&Silu, x(), 1e-6).assert_below(1e-6);
        check_module(&Gelu::default(), x(), 1e-6).assert_below(1e-6);
        check_module(&Gelu { approximate: true }, x(), 1e-6).assert_below(1e-6);
        // beyond the kinks and into the continued-fraction range of erf
        let wide = || {
            Tensor2::<1, 8, f64>::from_slice(&[-7.0, -4.2, -2.7, 2.6, 3.4, 4.5, 6.5, 8.0]).unwrap()
        };
        check_module(&Relu6, wide(), 1e-6).assert_below(1e-6);
        check_module(&Hardswish, wide(), 1e-6).assert_below(1e-6);
        check_module(&Gelu::default(), wide(), 1e-6).assert_below(1e-6);
    }

    /// Published values of erf (Abramowitz & Stegun, table 7.1, and their 16-digit forms).
    #[test]
    fn erf_matches_tables() {
        use super::erf;
        let table = [
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.5, 0.999_593_047_982_555),
            (3.0, 0.999_977_909_503_001_4),
        ];
        for (x, e) in table {
            assert!((erf(x) - e).abs() <= 2e-15, "erf({x}) = {}, table {e}", erf(x));
            assert_eq!(erf(-x), -erf(x));
        }
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(7.0), 1.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn new_activations_match_hand_values() {
        let x = Tensor2::<1, 5, f64>::from_slice(&[-5.0, -1.5, 0.0, 2.0, 7.0]).unwrap();
        assert_eq!(Relu6.forward(x.clone()).as_slice(), [0.0, 0.0, 0.0, 2.0, 6.0]);
        // x·relu6(x + 3)/6: −5 → 0, −1.5·1.5/6, 0, 2·5/6, 7·6/6
        let h = Hardswish.forward(x.clone());
        let expect = [0.0, -0.375, 0.0, 10.0 / 6.0, 7.0];
        assert!(h.as_slice().iter().zip(expect).all(|(a, b)| (a - b).abs() < 1e-15));
        // GELU(x) = x·Φ(x) with Φ(2) = 0.9772498680518208, Φ(−1.5) = 0.0668072012688581
        let g = Gelu::default().forward(x.clone());
        assert!((g.get(0, 3) - 2.0 * 0.977_249_868_051_820_8).abs() < 1e-14);
        assert!((g.get(0, 1) + 1.5 * 0.066_807_201_268_858_1).abs() < 1e-14);
        // tanh form at 2: 0.5·2·(1 + tanh(√(2/π)·(2 + 0.044715·8)))
        let a = Gelu { approximate: true }.forward(x);
        let u = (2.0 / core::f64::consts::PI).sqrt() * (2.0 + 0.044715 * 8.0);
        assert!((a.get(0, 3) - (1.0 + u.tanh())).abs() < 1e-15);
    }

    #[test]
    fn activations_match_hand_values() {
        let x = Tensor2::<1, 3, f64>::from_slice(&[-2.0, 0.0, 1.5]).unwrap();
        assert_eq!(Relu.forward(x.clone()).as_slice(), [0.0, 0.0, 1.5]);
        assert_eq!(LeakyRelu::new(0.5).forward(x.clone()).as_slice(), [-1.0, 0.0, 1.5]);
        let s = Sigmoid.forward(x.clone());
        assert!((s.get(0, 0) - 1.0 / (1.0 + 2f64.exp())).abs() < 1e-15);
        let t = Tanh.forward(x);
        assert!((t.get(0, 2) - 1.5f64.tanh()).abs() < 1e-15);
    }
}
