//! `Upsample<F>`: nearest-neighbour upsampling by an integer factor, `(H, W) → (F·H, F·W)`, the
//! up path of a U-Net; its backward sums each `F × F` block of the output gradient.

use core::ops::Mul;
use typenum::{Gr, IsGreater, Prod, U0, Unsigned};

use crate::Float;
use crate::layers::LayerInput;
use crate::module::NoParams;
use crate::shape::{Dims, Num, ScaleNonZero, Size};
use crate::tensor::T4;

/// Nearest-neighbour upsampling by `F`: every input pixel becomes an `F × F` block, so
/// `(N, C, H, W)` becomes `(N, C, F·H, F·W)` (computed at compile time).
///
/// **PyTorch equivalent**: `torch.nn.Upsample(scale_factor=F, mode='nearest')`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let x = Tensor::<1, 1, 1, 2>::from_slice(&[1.0, 2.0]).unwrap();
/// let y: Tensor<1, 1, 2, 4> = Upsample::<2>.forward(x);
/// assert_eq!(y.as_slice(), [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
/// ```
/// A factor of 0 does not compile:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let _ = Upsample::<0>.forward(Tensor::<1, 1, 2, 2>::zeros());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Upsample<const F: usize>;

impl<const F: usize> NoParams for Upsample<F> {}

// Its one `Forward` impl and the 2-D rank mistake: `image_layers!` in `layers/mod.rs`.

impl<E: Float, const N: usize, C, H, W, const F: usize> LayerInput<Upsample<F>>
    for T4<E, N, C, H, W>
where
    C: Unsigned,
    H: Unsigned + Mul<Num<F>>,
    W: Unsigned + Mul<Num<F>>,
    Dims<F>: Size,
    Num<F>: IsGreater<U0>,
    Gr<Num<F>, U0>: ScaleNonZero<Upsample<F>, F>,
    Prod<H, Num<F>>: Unsigned,
    Prod<W, Num<F>>: Unsigned,
{
    type Output = T4<E, N, C, Prod<H, Num<F>>, Prod<W, Num<F>>>;
    type Cache = ();

    fn forward(_: &Upsample<F>, x: Self) -> Self::Output {
        let (h, w) = (H::USIZE, W::USIZE);
        let mut y = Self::Output::zeros();
        let (src, dst) = (x.as_slice(), y.as_mut_slice());
        for (plane, out) in
            src.chunks_exact((h * w).max(1)).zip(dst.chunks_exact_mut((h * w * F * F).max(1)))
        {
            for (oh, row) in out.chunks_exact_mut(w * F).enumerate() {
                let from = &plane[(oh / F) * w..(oh / F + 1) * w];
                for (ow, v) in row.iter_mut().enumerate() {
                    *v = from[ow / F];
                }
            }
        }
        y
    }

    fn train(layer: &Upsample<F>, x: Self) -> (Self::Output, ()) {
        (Self::forward(layer, x), ())
    }

    fn backward(_: &Upsample<F>, _: (), dy: Self::Output, _: &mut Upsample<F>) -> Self {
        let (h, w) = (H::USIZE, W::USIZE);
        let mut dx = Self::zeros();
        let (src, dst) = (dy.as_slice(), dx.as_mut_slice());
        for (plane, out) in
            src.chunks_exact((h * w * F * F).max(1)).zip(dst.chunks_exact_mut((h * w).max(1)))
        {
            for (oh, row) in plane.chunks_exact(w * F).enumerate() {
                let to = &mut out[(oh / F) * w..(oh / F + 1) * w];
                for (ow, &g) in row.iter().enumerate() {
                    to[ow / F] += g;
                }
            }
        }
        dx
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::seeded;

    #[test]
    fn upsample_repeats_and_backward_sums_blocks() {
        let x = Tensor::<1, 1, 2, 2, f64>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        let (y, trace): (Tensor<1, 1, 6, 6, f64>, _) = Upsample::<3>.forward_train(x);
        assert_eq!(&y.as_slice()[..6], [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
        assert_eq!(&y.as_slice()[30..], [3.0, 3.0, 3.0, 4.0, 4.0, 4.0]);
        // dy = the flat index: each input pixel gets the sum of its 3×3 block
        let dy = T4::from_slice(&(0..36).map(|i| i as f64).collect::<Vec<_>>()).unwrap();
        let dx = Upsample::<3>.backward(trace, dy, &mut Upsample::<3>);
        // block (0,0): (0+1+2) + (6+7+8) + (12+13+14) = 63; (0,1): (3+4+5) + (9+10+11)
        // + (15+16+17) = 90; (1,0): (18+19+20) + (24+25+26) + (30+31+32) = 225; (1,1): 252
        assert_eq!(dx.as_slice(), [63.0, 90.0, 225.0, 252.0]);
    }

    #[test]
    fn upsample_backward_matches_finite_differences() {
        let mut rng = seeded(14);
        let x = Tensor::<2, 2, 3, 2, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&Upsample::<2>, x, 1e-6).assert_below(1e-6);
    }
}
