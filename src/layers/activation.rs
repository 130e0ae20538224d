//! Element-wise activations: `Relu`, `LeakyRelu`, `Sigmoid`, `Tanh`, on any tensor type.
//!
//! Each keeps in its cache only what its derivative needs (the output, or the input for
//! `LeakyRelu`), and works in place on the tensor it is given.

use crate::Float;
use crate::module::{Forward, NoParams};
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

impl NoParams for Relu {}
impl NoParams for LeakyRelu {}
impl NoParams for Sigmoid {}
impl NoParams for Tanh {}

/// Implements `Forward<T>` for an element-wise activation: `$f` maps x to y, `$df` maps
/// (cached value, y-derivative factor) and the cache is the output (`$keep_input` = false) or
/// the input.
macro_rules! elementwise {
    ($t:ty, |$s:ident, $x:ident| $f:expr, |$s2:ident, $c:ident| $df:expr, keep_input: $keep:literal) => {
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

impl<T: TensorData> Forward<T> for Relu {
    type Output = T;
    /// Where the output is positive (where the gradient passes): a byte per value instead of a
    /// copy of the output.
    type Cache = Vec<bool>;

    fn forward_impl(&self, mut x: T) -> T {
        let zero = <T::Elem as Float>::ZERO;
        // `x <= 0`, not `x > 0`: a NaN passes through (as in PyTorch) instead of silently
        // becoming 0.
        x.data_mut().iter_mut().for_each(|v| *v = if *v <= zero { zero } else { *v });
        x
    }

    fn train_impl(&self, x: T) -> (T, Vec<bool>) {
        let y = self.forward_impl(x);
        let zero = <T::Elem as Float>::ZERO;
        // PyTorch's threshold_backward passes the gradient unless `y <= 0`: a NaN passes it.
        let passes = y.data().iter().map(|&v| v > zero || v.partial_cmp(&v).is_none()).collect();
        (y, passes)
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
