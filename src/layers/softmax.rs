//! `Softmax` and `LogSoftmax` over the features of each sample, max-shifted so that large logits
//! stay finite. For training a classifier use [`crate::loss::cross_entropy`], whose fused gradient
//! is both faster and more accurate than `LogSoftmax` followed by a loss.

use typenum::Unsigned;

use crate::Float;
use crate::infer::{Infer, view_default};
use crate::kernels::softmax::{log_softmax_rows, log_softmax_rows_in_place, softmax_rows_in_place};
#[cfg(feature = "std")]
use crate::module::{Forward, NoParams};
use crate::tensor::T2;

/// `softmax(x)ᵢ = e^{xᵢ − max x} / Σⱼ e^{xⱼ − max x}` per sample.
///
/// **PyTorch equivalent**: `torch.nn.Softmax(dim=1)`. Input and output `(N, F)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = Softmax.forward(Tensor2::<1, 2, f64>::from_slice(&[1000.0, 1000.0]).unwrap());
/// assert_eq!(y.as_slice(), [0.5, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax;

/// `log softmax(x)ᵢ = xᵢ − max x − ln Σⱼ e^{xⱼ − max x}` per sample.
///
/// **PyTorch equivalent**: `torch.nn.LogSoftmax(dim=1)`. Input and output `(N, F)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let y = LogSoftmax.forward(Tensor2::<1, 2, f64>::from_slice(&[-300.0, 300.0]).unwrap());
/// assert_eq!(y.as_slice(), [-600.0, 0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogSoftmax;

#[cfg(feature = "std")]
impl NoParams for Softmax {}
#[cfg(feature = "std")]
impl NoParams for LogSoftmax {}

view_default! { [] Softmax; [] LogSoftmax; }

/// The same kernel as the forward below.
impl<E: Float, const N: usize, F: Unsigned> Infer<T2<E, N, F>> for Softmax {
    type Output = T2<E, N, F>;
    const IN_PLACE: bool = true;

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        y.copy_from_slice(x);
        Infer::<T2<E, N, F>>::infer_in_place(self, y);
    }

    fn infer_in_place(&self, xy: &mut [E]) {
        softmax_rows_in_place(xy, F::USIZE);
    }
}

/// The same kernel as the forward below.
impl<E: Float, const N: usize, F: Unsigned> Infer<T2<E, N, F>> for LogSoftmax {
    type Output = T2<E, N, F>;
    const IN_PLACE: bool = true;

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        log_softmax_rows(x, F::USIZE, y);
    }

    fn infer_in_place(&self, xy: &mut [E]) {
        log_softmax_rows_in_place(xy, F::USIZE);
    }
}

#[cfg(feature = "std")]
impl<E: Float, const N: usize, F: Unsigned> Forward<T2<E, N, F>> for Softmax {
    type Output = T2<E, N, F>;
    /// The output `y`: `dx = y ⊙ (dy − Σ dy·y)`.
    type Cache = T2<E, N, F>;

    fn forward_impl(&self, mut x: T2<E, N, F>) -> T2<E, N, F> {
        softmax_rows_in_place(x.as_mut_slice(), F::USIZE);
        x
    }

    fn train_impl(&self, x: T2<E, N, F>) -> (T2<E, N, F>, T2<E, N, F>) {
        let y = self.forward_impl(x);
        (y.clone(), y)
    }

    fn backward_impl(&self, y: T2<E, N, F>, mut dy: T2<E, N, F>, _: &mut Self) -> T2<E, N, F> {
        if F::USIZE == 0 {
            return dy;
        }
        for (d, y) in
            dy.as_mut_slice().chunks_exact_mut(F::USIZE).zip(y.as_slice().chunks_exact(F::USIZE))
        {
            let dot = d.iter().zip(y).fold(E::ZERO, |s, (&d, &y)| s + d * y);
            d.iter_mut().zip(y).for_each(|(d, &y)| *d = y * (*d - dot));
        }
        dy
    }
}

#[cfg(feature = "std")]
impl<E: Float, const N: usize, F: Unsigned> Forward<T2<E, N, F>> for LogSoftmax {
    type Output = T2<E, N, F>;
    /// The output `log y`: `dx = dy − softmax · Σ dy`.
    type Cache = T2<E, N, F>;

    fn forward_impl(&self, x: T2<E, N, F>) -> T2<E, N, F> {
        let mut y = T2::zeros();
        log_softmax_rows(x.as_slice(), F::USIZE, y.as_mut_slice());
        y
    }

    fn train_impl(&self, x: T2<E, N, F>) -> (T2<E, N, F>, T2<E, N, F>) {
        let y = self.forward_impl(x);
        (y.clone(), y)
    }

    fn backward_impl(&self, log_y: T2<E, N, F>, mut dy: T2<E, N, F>, _: &mut Self) -> T2<E, N, F> {
        if F::USIZE == 0 {
            return dy;
        }
        for (d, ly) in dy
            .as_mut_slice()
            .chunks_exact_mut(F::USIZE)
            .zip(log_y.as_slice().chunks_exact(F::USIZE))
        {
            let sum = d.iter().fold(E::ZERO, |s, &v| s + v);
            d.iter_mut().zip(ly).for_each(|(d, &l)| *d -= l.exp() * sum);
        }
        dy
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::seeded;

    #[test]
    fn softmax_and_log_softmax_backward_match_finite_differences() {
        let mut rng = seeded(12);
        let x = Tensor2::<3, 5, f64>::uniform(&mut rng, -3.0, 3.0);
        check_module(&Softmax, x.clone(), 1e-6).assert_below(1e-6);
        check_module(&LogSoftmax, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_match_hand_values() {
        // softmax([0, ln 3]) = [1/4, 3/4]
        let y = Softmax.forward(Tensor2::<1, 2, f64>::from_slice(&[0.0, 3f64.ln()]).unwrap());
        assert!((y.get(0, 0) - 0.25).abs() < 1e-15 && (y.get(0, 1) - 0.75).abs() < 1e-15);
        let y = Softmax
            .forward(Tensor2::<2, 3, f32>::from_slice(&[200., -200., 0., 1., 2., 3.]).unwrap());
        for n in 0..2 {
            assert!((y.row(n).iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}
