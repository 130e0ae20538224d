//! `Upsample<F>`: nearest-neighbour upsampling by an integer factor, `(H, W) → (F·H, F·W)`, the
//! up path of a U-Net; its backward sums each `F × F` block of the output gradient.
//! `UpsampleBilinear<F>`: the same sizes, bilinear (PyTorch's `align_corners=False`); its backward
//! spreads each output gradient over the four input pixels it was interpolated from.

use core::ops::Mul;
use typenum::{Gr, IsGreater, Prod, U0, Unsigned};

use crate::Float;
use crate::infer::{Infer, view_default};
#[cfg(feature = "std")]
use crate::layers::LayerInput;
#[cfg(feature = "std")]
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

#[cfg(feature = "std")]
impl<const F: usize> NoParams for Upsample<F> {}

// Its one `Forward` impl and the 2-D rank mistake: `image_layers!` in `layers/mod.rs`.

#[cfg(feature = "std")]
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

    fn forward(layer: &Upsample<F>, x: Self) -> Self::Output {
        let mut y = Self::Output::zeros();
        Infer::<Self>::infer_into(layer, x.as_slice(), y.as_mut_slice(), &mut []);
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

/// Bilinear upsampling by `F` with PyTorch's `align_corners=False`: output pixel `o` reads the
/// input at `max((o + ½)/F − ½, 0)` along each axis, interpolating between the two nearest
/// pixels (the last one repeated at the far edge). `(N, C, H, W)` becomes `(N, C, F·H, F·W)`.
///
/// **PyTorch equivalent**: `torch.nn.Upsample(scale_factor=F, mode='bilinear')`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let x = Tensor::<1, 1, 1, 2, f64>::from_slice(&[0.0, 4.0]).unwrap();
/// let y: Tensor<1, 1, 2, 4, f64> = UpsampleBilinear::<2>.forward(x);
/// // columns read the input at 0, 0.25, 0.75, 1 (clamped): 0, 1, 3, 4
/// assert_eq!(y.as_slice(), [0.0, 1.0, 3.0, 4.0, 0.0, 1.0, 3.0, 4.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsampleBilinear<const F: usize>;

#[cfg(feature = "std")]
impl<const F: usize> NoParams for UpsampleBilinear<F> {}

/// For each of the `n·F` output positions along an axis of `n` input pixels: the two input
/// indices it reads and the weight of the second, PyTorch's `area_pixel_compute_source_index`
/// with `align_corners=False` and scale `1/F`.
#[cfg(feature = "std")]
fn bilinear_taps(n: usize, f: usize) -> Vec<(usize, usize, f64)> {
    (0..n * f).map(|o| bilinear_tap(o, n, f)).collect()
}

#[cfg(feature = "std")]
impl<E: Float, const N: usize, C, H, W, const F: usize> LayerInput<UpsampleBilinear<F>>
    for T4<E, N, C, H, W>
where
    C: Unsigned,
    H: Unsigned + Mul<Num<F>>,
    W: Unsigned + Mul<Num<F>>,
    Dims<F>: Size,
    Num<F>: IsGreater<U0>,
    Gr<Num<F>, U0>: ScaleNonZero<UpsampleBilinear<F>, F>,
    Prod<H, Num<F>>: Unsigned,
    Prod<W, Num<F>>: Unsigned,
{
    type Output = T4<E, N, C, Prod<H, Num<F>>, Prod<W, Num<F>>>;
    type Cache = ();

    fn forward(layer: &UpsampleBilinear<F>, x: Self) -> Self::Output {
        let mut y = Self::Output::zeros();
        Infer::<Self>::infer_into(layer, x.as_slice(), y.as_mut_slice(), &mut []);
        y
    }

    fn train(layer: &UpsampleBilinear<F>, x: Self) -> (Self::Output, ()) {
        (Self::forward(layer, x), ())
    }

    fn backward(
        _: &UpsampleBilinear<F>,
        _: (),
        dy: Self::Output,
        _: &mut UpsampleBilinear<F>,
    ) -> Self {
        let (h, w) = (H::USIZE, W::USIZE);
        let (th, tw) = (bilinear_taps(h, F), bilinear_taps(w, F));
        let mut dx = Self::zeros();
        let (src, dst) = (dy.as_slice(), dx.as_mut_slice());
        for (plane, out) in
            src.chunks_exact((h * w * F * F).max(1)).zip(dst.chunks_exact_mut((h * w).max(1)))
        {
            let mut acc = vec![0.0f64; h * w];
            for (row, &(h0, h1, lh)) in plane.chunks_exact(w * F).zip(&th) {
                for (&g, &(w0, w1, lw)) in row.iter().zip(&tw) {
                    let g = g.to_f64();
                    acc[h0 * w + w0] += (1.0 - lh) * (1.0 - lw) * g;
                    acc[h0 * w + w1] += (1.0 - lh) * lw * g;
                    acc[h1 * w + w0] += lh * (1.0 - lw) * g;
                    acc[h1 * w + w1] += lh * lw * g;
                }
            }
            out.iter_mut().zip(acc).for_each(|(d, a)| *d = E::from_f64(a));
        }
        dx
    }
}

view_default! { [const F: usize] Upsample<F>; [const F: usize] UpsampleBilinear<F>; }

/// The nearest input pixel (the `std` forward runs this too).
impl<E: Float, const N: usize, C, H, W, const F: usize> Infer<T4<E, N, C, H, W>> for Upsample<F>
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

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        let (h, w) = (H::USIZE, W::USIZE);
        for (plane, out) in
            x.chunks_exact((h * w).max(1)).zip(y.chunks_exact_mut((h * w * F * F).max(1)))
        {
            for (oh, row) in out.chunks_exact_mut(w * F).enumerate() {
                let from = &plane[(oh / F) * w..(oh / F + 1) * w];
                for (ow, v) in row.iter_mut().enumerate() {
                    *v = from[ow / F];
                }
            }
        }
    }
}

/// Output position `o` of `n·f` along an axis of `n` pixels: the two input indices it reads
/// and the second's weight (`src ≥ 0`, so its integer part is its floor).
fn bilinear_tap(o: usize, n: usize, f: usize) -> (usize, usize, f64) {
    let src = ((o as f64 + 0.5) / f as f64 - 0.5).max(0.0);
    let i0 = (src as usize).min(n.saturating_sub(1));
    let i1 = if i0 + 1 < n { i0 + 1 } else { i0 };
    (i0, i1, src - i0 as f64)
}

/// PyTorch's bilinear interpolation (`align_corners=False`), in `f64` (the `std` forward runs
/// this too).
impl<E: Float, const N: usize, C, H, W, const F: usize> Infer<T4<E, N, C, H, W>>
    for UpsampleBilinear<F>
where
    C: Unsigned,
    H: Unsigned + Mul<Num<F>>,
    W: Unsigned + Mul<Num<F>>,
    Dims<F>: Size,
    Num<F>: IsGreater<U0>,
    Gr<Num<F>, U0>: ScaleNonZero<UpsampleBilinear<F>, F>,
    Prod<H, Num<F>>: Unsigned,
    Prod<W, Num<F>>: Unsigned,
{
    type Output = T4<E, N, C, Prod<H, Num<F>>, Prod<W, Num<F>>>;

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        let (h, w) = (H::USIZE, W::USIZE);
        for (plane, out) in
            x.chunks_exact((h * w).max(1)).zip(y.chunks_exact_mut((h * w * F * F).max(1)))
        {
            for (oh, row) in out.chunks_exact_mut(w * F).enumerate() {
                let (h0, h1, lh) = bilinear_tap(oh, h, F);
                for (ow, v) in row.iter_mut().enumerate() {
                    let (w0, w1, lw) = bilinear_tap(ow, w, F);
                    let at = |i: usize, j: usize| plane[i * w + j].to_f64();
                    let top = (1.0 - lw) * at(h0, w0) + lw * at(h0, w1);
                    let bottom = (1.0 - lw) * at(h1, w0) + lw * at(h1, w1);
                    *v = E::from_f64((1.0 - lh) * top + lh * bottom);
                }
            }
        }
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
    fn bilinear_by_hand() {
        // one row [0, 4, 8]: ×2 reads at max((o + ½)/2 − ½, 0) = 0, 0.25, 0.75, 1.25, 1.75, 2.25
        // (the last clamped to the edge pixel): 0, 1, 3, 5, 7, 8
        let x = Tensor::<1, 1, 1, 3, f64>::from_slice(&[0.0, 4.0, 8.0]).unwrap();
        let (y, trace): (Tensor<1, 1, 2, 6, f64>, _) = UpsampleBilinear::<2>.forward_train(x);
        assert_eq!(&y.as_slice()[..6], [0.0, 1.0, 3.0, 5.0, 7.0, 8.0]);
        // backward of all ones: each of the 2 rows gives pixel 0 1 + 0.75 + 0.25 = 2, pixel 1
        // 0.25 + 0.75 + 0.75 + 0.25 = 2, pixel 2 0.25 + 0.75 + 1 = 2: 4 each over both rows
        let dx = UpsampleBilinear::<2>.backward(trace, T4::filled(1.0), &mut UpsampleBilinear::<2>);
        assert_eq!(dx.as_slice(), [4.0, 4.0, 4.0]);
    }

    #[test]
    fn bilinear_backward_matches_finite_differences() {
        let mut rng = seeded(15);
        let x = Tensor::<2, 2, 3, 4, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&UpsampleBilinear::<3>, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn upsample_backward_matches_finite_differences() {
        let mut rng = seeded(14);
        let x = Tensor::<2, 2, 3, 2, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&Upsample::<2>, x, 1e-6).assert_below(1e-6);
    }
}
