//! `Flatten`: `(N, C, H, W)` to `(N, C·H·W)` in C, H, W order, a pure reshape (no copy).
//!
//! Its output feature count is a typenum product, so it is unlimited (64·12·12 = 9216 is fine);
//! the check that it fits the next layer happens there.

use core::ops::Mul;
use typenum::Prod;

use crate::Float;
use crate::infer::{Infer, view_default};
#[cfg(feature = "std")]
use crate::module::{Forward, NoParams};
use crate::tensor::{T2, T4};
#[cfg(feature = "std")]
use crate::tensor::{reshape2to4, reshape4to2};

/// Flattens each sample's `(C, H, W)` into `C·H·W` features, in C, H, W order.
///
/// **PyTorch equivalent**: `torch.nn.Flatten()`.
///
/// # Shapes
/// - input: `(N, C, H, W)`
/// - output: `(N, C·H·W)`
///
/// ```
/// use typed_cnn::prelude::*;
/// let x = Tensor::<2, 3, 4, 5>::zeros();
/// let y: Tensor2<2, 60> = Flatten.forward(x);
/// # let _ = y;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

#[cfg(feature = "std")]
impl NoParams for Flatten {}

view_default! { [] Flatten; }

/// A reshape: the output is the input's values, so a network keeps them where they are.
impl<E: Float, const N: usize, C, H, W> Infer<T4<E, N, C, H, W>> for Flatten
where
    C: typenum::Unsigned + Mul<H>,
    H: typenum::Unsigned,
    W: typenum::Unsigned,
    Prod<C, H>: Mul<W>,
    FlatSize<C, H, W>: typenum::Unsigned,
{
    type Output = T2<E, N, FlatSize<C, H, W>>;
    const IN_PLACE: bool = true;

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        y.copy_from_slice(x);
    }

    fn infer_in_place(&self, _: &mut [E]) {}
}

/// The flattened feature count `C·H·W` as a typenum number.
///
/// ```
/// use typed_cnn::{T2, prelude::*};
/// // FlatSize<U3, U4, U5> = 3·4·5 = 60: the feature count in `Flatten`'s output type
/// let y: T2<f32, 2, typenum::U<60>> = Flatten.forward(Tensor::<2, 3, 4, 5>::zeros());
/// # let _ = y;
/// // A typenum product, so not limited to 1024: 64·12·12 = 9216
/// assert_eq!(Flatten.forward(Tensor::<2, 64, 12, 12>::zeros()).shape(), [2, 9216]);
/// ```
pub type FlatSize<C, H, W> = Prod<Prod<C, H>, W>;

#[cfg(feature = "std")]
impl<E: Float, const N: usize, C, H, W> Forward<T4<E, N, C, H, W>> for Flatten
where
    C: Mul<H>,
    Prod<C, H>: Mul<W>,
{
    type Output = T2<E, N, FlatSize<C, H, W>>;
    type Cache = ();

    fn forward_impl(&self, x: T4<E, N, C, H, W>) -> Self::Output {
        reshape4to2(x)
    }

    fn train_impl(&self, x: T4<E, N, C, H, W>) -> (Self::Output, ()) {
        (reshape4to2(x), ())
    }

    fn backward_impl(&self, _: (), dy: Self::Output, _: &mut Self) -> T4<E, N, C, H, W> {
        reshape2to4(dy)
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::seeded;

    #[test]
    fn flatten_backward_matches_finite_differences() {
        let x = Tensor::<2, 3, 2, 4, f64>::uniform(&mut seeded(15), -1.0, 1.0);
        check_module(&Flatten, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn flatten_keeps_chw_order_and_backward_is_the_inverse() {
        let x = Tensor::<2, 2, 3, 4, f64>::from_fn(|n, c, h, w| {
            (n * 1000 + c * 100 + h * 10 + w) as f64
        });
        let (y, trace) = Flatten.forward_train(x.clone());
        let y: Tensor2<2, 24, f64> = y;
        // Sample 1, channel 1, row 2, column 3 is feature 1·12 + 2·4 + 3 = 23.
        assert_eq!(y.get(1, 23), 1123.0);
        assert_eq!(y.get(0, 4), 10.0);
        let dx = Flatten.backward(trace, y, &mut Flatten);
        assert_eq!(dx, x);
    }
}
