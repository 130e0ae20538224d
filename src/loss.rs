//! Losses, each returning the value and the gradient with respect to its input in one call:
//! softmax cross-entropy (fused gradient `(softmax − onehot)/N`), its per-pixel form for
//! segmentation ([`pixel_cross_entropy`]) and mean squared error.
//!
//! Class labels are [`Labels<N, CLASSES>`] (one per image) or [`PixelLabels<N, H, W, CLASSES>`]
//! (one per pixel), each below `CLASSES`, checked once at construction so the loss itself cannot
//! fail.

use core::fmt;
use typenum::{Eq, IsEqual, Unsigned};

use crate::Float;
use crate::kernels::softmax::log_softmax_rows;
use crate::shape::{
    ClassesMatch, Decimal, Dims, Num, PixelSizesMatch, ShapeEq, Show, Size, TargetsMatch,
};
use crate::tensor::{T2, T4, TensorData};

/// `N` class labels, each in `0..CLASSES`.
///
/// ```
/// use typed_cnn::loss::Labels;
/// let labels = Labels::<3, 10>::new(vec![7, 0, 9]).unwrap();
/// assert_eq!(labels.as_slice(), [7, 0, 9]);
/// assert!(Labels::<3, 10>::new(vec![7, 0, 10]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels<const N: usize, const CLASSES: usize> {
    labels: Box<[usize]>,
}

/// A label vector that does not fit its [`Labels`] type.
///
/// ```
/// use typed_cnn::loss::{LabelError, Labels};
/// assert_eq!(Labels::<2, 10>::new(vec![1]), Err(LabelError::Count { expected: 2, found: 1 }));
/// let err = Labels::<2, 10>::new(vec![1, 12]).unwrap_err();
/// assert_eq!(err, LabelError::OutOfRange { index: 1, label: 12, classes: 10 });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelError {
    /// The number of labels is not `N`.
    Count {
        /// `N`.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// A label is not below `CLASSES`.
    OutOfRange {
        /// Its position.
        index: usize,
        /// Its value.
        label: usize,
        /// The number of classes `CLASSES`.
        classes: usize,
    },
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count { expected, found } => {
                write!(f, "expected {expected} labels, found {found}")
            }
            Self::OutOfRange { index, label, classes } => write!(
                f,
                "label {index} is {label}, but there are only {classes} classes (0..={})",
                classes.saturating_sub(1)
            ),
        }
    }
}
impl std::error::Error for LabelError {}

impl<const N: usize, const CLASSES: usize> Labels<N, CLASSES> {
    /// Checks that there are `N` labels, each below `CLASSES`.
    ///
    /// # Errors
    /// [`LabelError`] naming the count or the first label out of range.
    ///
    /// ```
    /// use typed_cnn::loss::Labels;
    /// assert!(Labels::<2, 3>::new(vec![2, 0]).is_ok());
    /// let err = Labels::<2, 3>::new(vec![0, 3]).unwrap_err(); // 3 is not below CLASSES = 3
    /// assert_eq!(err.to_string(), "label 1 is 3, but there are only 3 classes (0..=2)");
    /// ```
    pub fn new(labels: Vec<usize>) -> Result<Self, LabelError> {
        Ok(Self { labels: Self::check(labels, N)? })
    }

    /// `count` labels, each below `CLASSES`.
    fn check(labels: Vec<usize>, count: usize) -> Result<Box<[usize]>, LabelError> {
        if labels.len() != count {
            return Err(LabelError::Count { expected: count, found: labels.len() });
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= CLASSES) {
            return Err(LabelError::OutOfRange { index, label, classes: CLASSES });
        }
        Ok(labels.into_boxed_slice())
    }

    /// The labels.
    ///
    /// ```
    /// use typed_cnn::loss::Labels;
    /// let labels = Labels::<4, 10>::new((0..4).map(|i| i * 3).collect()).unwrap();
    /// assert_eq!(labels.as_slice(), [0, 3, 6, 9]);
    /// ```
    pub fn as_slice(&self) -> &[usize] {
        &self.labels
    }
}

/// Softmax cross-entropy, averaged over the batch, and its gradient with respect to the logits.
///
/// `loss = (1/N) Σₙ (logsumexp(zₙ) − zₙ[labelₙ])`, computed max-shifted so that logits of ±200
/// stay finite; the gradient is the fused `(softmax(z) − onehot)/N`.
///
/// **PyTorch equivalent**: `torch.nn.functional.cross_entropy(z, labels)` (mean reduction).
///
/// The class count `CLASSES` of the labels and their batch size `N` must equal the logits', which the
/// compiler checks.
///
/// ```
/// use typed_cnn::prelude::*;
/// // Two classes, equal logits: loss = ln 2, gradient (½ − 1, ½) for label 0.
/// let z = Tensor2::<1, 2, f64>::zeros();
/// let (loss, dz) = cross_entropy(&z, &Labels::<1, 2>::new(vec![0]).unwrap());
/// assert!((loss - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(dz.as_slice(), [-0.5, 0.5]);
/// ```
/// Labels for 10 classes do not fit logits of 5:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let z = Tensor2::<1, 5, f64>::zeros();
/// let _ = cross_entropy(&z, &Labels::<1, 10>::new(vec![0]).unwrap());
/// ```
pub fn cross_entropy<E: Float, const N: usize, F, L>(
    logits: &T2<E, N, F>,
    labels: &L,
) -> (E, T2<E, N, F>)
where
    F: Unsigned,
    L: ClassLabels<N, F>,
{
    let f = F::USIZE;
    let mut grad = T2::<E, N, F>::zeros();
    log_softmax_rows(logits.as_slice(), f, grad.as_mut_slice());
    let mut total = 0.0f64;
    let inv_n = E::ONE / E::from_usize(N);
    // With zero classes there are no labels either (none can be below 0): N is 0 too.
    for (row, &label) in grad.as_mut_slice().chunks_exact_mut(f.max(1)).zip(labels.labels()) {
        total -= row[label].to_f64();
        // d/dz of the mean loss: (softmax − onehot) / N.
        row.iter_mut().for_each(|v| *v = v.exp() * inv_n);
        row[label] -= inv_n;
    }
    (E::from_f64(total / N as f64), grad)
}

/// `L: ClassLabels<N, F>`: `L` holds the labels for logits of `N` rows and `F` classes (a
/// typenum number): [`Labels<N, CLASSES>`] with `CLASSES` equal to `F`. The bound of
/// [`cross_entropy`] on its labels; generic code that calls it writes this one bound.
///
/// ```
/// use typed_cnn::T2;
/// use typed_cnn::loss::{ClassLabels, Labels, cross_entropy};
/// use typenum::Unsigned;
/// fn loss<const N: usize, F: Unsigned, L: ClassLabels<N, F>>(z: &T2<f32, N, F>, labels: &L) -> f32 {
///     cross_entropy(z, labels).0
/// }
/// let z = typed_cnn::Tensor2::<1, 4>::zeros();
/// assert!((loss(&z, &Labels::<1, 4>::new(vec![3]).unwrap()) - 4f32.ln()).abs() < 1e-6);
/// ```
///
/// `cross_entropy` takes its labels as a type `L` with this bound, rather than as
/// `Labels<N, CLASSES>` with bounds on `CLASSES`, for compile time: the compiler reads a call's
/// bounds before all its arguments, and a bound on a `CLASSES` still unknown makes it try every
/// entry of the size table (about 50 million instructions, some 15 ms, in each crate that calls
/// `cross_entropy`); a bound whose subject `L` is still unknown simply waits.
#[diagnostic::on_unimplemented(
    message = "cross-entropy gets logits of {N} rows and labels of type `{Self}`",
    label = "expected `Labels<{N}, CLASSES>`",
    note = "the labels are a `Labels<N, CLASSES>` with the logits' batch size `N` (`Labels::<N, CLASSES>::new(vec)` checks each label against `CLASSES`)"
)]
pub trait ClassLabels<const N: usize, F> {
    /// The labels, each below the class count.
    fn labels(&self) -> &[usize];
}

impl<const N: usize, F, const CLASSES: usize> ClassLabels<N, F> for Labels<N, CLASSES>
where
    F: Decimal,
    Dims<CLASSES>: Size,
    Num<CLASSES>: IsEqual<F>,
    Eq<Num<CLASSES>, F>: ClassesMatch<CLASSES, Show<F>>,
{
    fn labels(&self) -> &[usize] {
        self.as_slice()
    }
}

/// Per-pixel class labels for segmentation: `N` maps of `H × W` pixels (row-major, image after
/// image), each pixel's class in `0..CLASSES`.
///
/// ```
/// use typed_cnn::loss::PixelLabels;
/// // one 2×3 map: the left column is class 1, the rest class 0
/// let mask = PixelLabels::<1, 2, 3, 2>::new(vec![1, 0, 0, 1, 0, 0]).unwrap();
/// assert_eq!(mask.as_slice(), [1, 0, 0, 1, 0, 0]);
/// let err = PixelLabels::<1, 2, 3, 2>::new(vec![0; 5]).unwrap_err();
/// assert_eq!(err.to_string(), "expected 6 labels, found 5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PixelLabels<const N: usize, const H: usize, const W: usize, const CLASSES: usize> {
    labels: Box<[usize]>,
}

impl<const N: usize, const H: usize, const W: usize, const CLASSES: usize>
    PixelLabels<N, H, W, CLASSES>
{
    /// Checks that there are `N·H·W` labels, each below `CLASSES`.
    ///
    /// # Errors
    /// [`LabelError`] naming the count, or the first pixel (its index in the flat `N·H·W` list)
    /// whose label is out of range.
    ///
    /// ```
    /// use typed_cnn::loss::PixelLabels;
    /// let err = PixelLabels::<1, 2, 2, 3>::new(vec![0, 2, 3, 1]).unwrap_err();
    /// assert_eq!(err.to_string(), "label 2 is 3, but there are only 3 classes (0..=2)");
    /// ```
    pub fn new(labels: Vec<usize>) -> Result<Self, LabelError> {
        let checked = Labels::<0, CLASSES>::check(labels, N * H * W)?;
        Ok(Self { labels: checked })
    }

    /// The labels, `N·H·W` of them.
    pub fn as_slice(&self) -> &[usize] {
        &self.labels
    }
}

/// Softmax cross-entropy over the channels of every pixel, averaged over all `N·H·W` pixels,
/// and its gradient with respect to the logits: the loss of segmentation networks whose output
/// is `(N, CLASSES, H, W)` logits.
///
/// `loss = (1/(N·H·W)) Σ_{n,i,j} (logsumexp_c(z[n, c, i, j]) − z[n, label[n, i, j], i, j])`,
/// max-shifted like [`cross_entropy`]; gradient `(softmax − onehot)/(N·H·W)`.
///
/// **PyTorch equivalent**: `torch.nn.functional.cross_entropy(z, labels)` with `z` of shape
/// `(N, C, H, W)` and `labels` of `(N, H, W)` (mean reduction).
///
/// The labels' batch, class count and map size must equal the logits', which the compiler checks.
///
/// ```
/// use typed_cnn::prelude::*;
/// // Two classes, equal logits everywhere: ln 2 per pixel, whatever the labels.
/// let z = Tensor::<1, 2, 2, 2, f64>::zeros();
/// let labels = PixelLabels::<1, 2, 2, 2>::new(vec![0, 1, 1, 0]).unwrap();
/// let (loss, dz) = pixel_cross_entropy(&z, &labels);
/// assert!((loss - 2f64.ln()).abs() < 1e-15);
/// // (softmax − onehot)/4: channel 0 is (½ − 1)/4 where the label is 0, ½/4 elsewhere
/// assert_eq!(dz.as_slice(), [-0.125, 0.125, 0.125, -0.125, 0.125, -0.125, -0.125, 0.125]);
/// ```
/// Masks of another size do not compile:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let z = Tensor::<1, 2, 4, 4>::zeros();
/// let _ = pixel_cross_entropy(&z, &PixelLabels::<1, 4, 5, 2>::new(vec![0; 20]).unwrap());
/// ```
pub fn pixel_cross_entropy<E: Float, const N: usize, C, H, W, L>(
    logits: &T4<E, N, C, H, W>,
    labels: &L,
) -> (E, T4<E, N, C, H, W>)
where
    C: Unsigned,
    H: Unsigned,
    W: Unsigned,
    L: PixelClassLabels<N, C, H, W>,
{
    let (c, hw) = (C::USIZE, H::USIZE * W::USIZE);
    let mut grad = T4::<E, N, C, H, W>::zeros();
    let pixels = N * hw;
    if pixels == 0 || c == 0 {
        return (E::ZERO, grad);
    }
    let inv = E::ONE / E::from_usize(pixels);
    let (mut top, mut sum) = (vec![E::NEG_INFINITY; hw], vec![E::ZERO; hw]);
    let mut total = 0.0f64;
    let planes =
        logits.as_slice().chunks_exact(c * hw).zip(grad.as_mut_slice().chunks_exact_mut(c * hw));
    for ((z, g), label) in planes.zip(labels.labels().chunks_exact(hw)) {
        // per pixel: the maximum over the channels, then Σ exp(z − max) with exp kept in g
        top.fill(E::NEG_INFINITY);
        for zc in z.chunks_exact(hw) {
            top.iter_mut().zip(zc).for_each(|(t, &v)| *t = t.max(v));
        }
        sum.fill(E::ZERO);
        for (zc, gc) in z.chunks_exact(hw).zip(g.chunks_exact_mut(hw)) {
            for (((gv, &v), s), &t) in gc.iter_mut().zip(zc).zip(sum.iter_mut()).zip(&top) {
                *gv = (v - t).exp();
                *s += *gv;
            }
        }
        for (p, &l) in label.iter().enumerate() {
            total += (sum[p].ln() + top[p] - z[l * hw + p]).to_f64();
        }
        for gc in g.chunks_exact_mut(hw) {
            gc.iter_mut().zip(&sum).for_each(|(gv, &s)| *gv = *gv / s * inv);
        }
        for (p, &l) in label.iter().enumerate() {
            g[l * hw + p] -= inv;
        }
    }
    (E::from_f64(total / pixels as f64), grad)
}

/// `L: PixelClassLabels<N, C, H, W>`: `L` holds the labels for logits `(N, C, H, W)` (`C`, `H`,
/// `W` typenum numbers): [`PixelLabels<N, H, W, CLASSES>`] with the same map size and `CLASSES`
/// equal to `C`. The bound of [`pixel_cross_entropy`] on its labels (a bound on `L` waits until
/// the labels' type is known, as [`ClassLabels`] explains).
#[diagnostic::on_unimplemented(
    message = "per-pixel cross-entropy gets logits of {N} images and labels of type `{Self}`",
    label = "expected `PixelLabels<{N}, H, W, CLASSES>`",
    note = "the labels are a `PixelLabels<N, H, W, CLASSES>` with the logits' batch size `N` (`PixelLabels::<N, H, W, CLASSES>::new(vec)` checks each label against `CLASSES`)"
)]
pub trait PixelClassLabels<const N: usize, C, H, W> {
    /// The labels, `N·H·W` of them, each below the class count.
    fn labels(&self) -> &[usize];
}

impl<const N: usize, C, H, W, const LH: usize, const LW: usize, const CLASSES: usize>
    PixelClassLabels<N, C, H, W> for PixelLabels<N, LH, LW, CLASSES>
where
    C: Decimal,
    H: Decimal,
    W: Decimal,
    Dims<CLASSES>: Size,
    Dims<LH>: Size,
    Dims<LW>: Size,
    Num<CLASSES>: IsEqual<C>,
    Eq<Num<CLASSES>, C>: ClassesMatch<CLASSES, Show<C>>,
    Num<LH>: IsEqual<H>,
    Num<LW>: IsEqual<W>,
    (Eq<Num<LH>, H>, Eq<Num<LW>, W>): PixelSizesMatch<LH, LW, Show<H>, Show<W>>,
{
    fn labels(&self) -> &[usize] {
        self.as_slice()
    }
}

/// Mean squared error over all elements, and its gradient `2(pred − target)/len`.
///
/// **PyTorch equivalent**: `torch.nn.functional.mse_loss(pred, target)` (mean reduction).
///
/// ```
/// use typed_cnn::prelude::*;
/// let p = Tensor2::<1, 2, f64>::from_slice(&[1.0, 3.0]).unwrap();
/// let t = Tensor2::<1, 2, f64>::from_slice(&[0.0, 1.0]).unwrap();
/// let (loss, d) = mse(&p, &t);
/// assert_eq!(loss, 2.5);              // (1 + 4) / 2
/// assert_eq!(d.as_slice(), [1.0, 2.0]); // 2·(p − t)/2
/// ```
pub fn mse<T, U>(pred: &T, target: &U) -> (T::Elem, T)
where
    T: TensorData,
    U: TensorData<Elem = T::Elem>,
    T: ShapeEq<U>,
    <T as ShapeEq<U>>::Output: TargetsMatch<T::ShapeType, U::ShapeType>,
{
    let len = pred.data().len();
    let scale = 2.0 / len as f64;
    let mut grad = pred.clone();
    let mut total = 0.0f64;
    for (g, &t) in grad.data_mut().iter_mut().zip(target.data()) {
        let d = (*g - t).to_f64();
        total += d * d;
        *g = T::Elem::from_f64(scale * d);
    }
    (T::Elem::from_f64(total / len as f64), grad)
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::numeric_gradient;
    use crate::prelude::*;
    use crate::testing::{assert_close, seeded};

    #[test]
    fn cross_entropy_gradient_matches_finite_differences() {
        let mut rng = seeded(13);
        let z = Tensor2::<4, 6, f64>::uniform(&mut rng, -3.0, 3.0);
        let labels = Labels::<4, 6>::new(vec![0, 5, 2, 2]).unwrap();
        let (_, grad) = cross_entropy(&z, &labels);
        let numeric = numeric_gradient(
            |v| cross_entropy(&Tensor2::<4, 6, f64>::from_slice(v).unwrap(), &labels).0,
            z.as_slice(),
            1e-6,
        );
        assert_close(grad.as_slice(), &numeric);
    }

    #[test]
    fn cross_entropy_stays_finite_at_200() {
        // logits (200, -200): loss = ln(1 + e^-400) ≈ 0 for label 0, ≈ 400 for label 1.
        let z = Tensor2::<2, 2, f32>::from_slice(&[200., -200., 200., -200.]).unwrap();
        let (loss, grad) = cross_entropy(&z, &Labels::<2, 2>::new(vec![0, 1]).unwrap());
        assert!((loss - 200.0).abs() < 1e-3, "loss {loss}"); // (0 + 400) / 2
        assert!(grad.as_slice().iter().all(|g| g.is_finite()));
        assert_close(grad.as_slice(), &[0.0, 0.0, 0.5, -0.5]);
    }

    #[test]
    fn cross_entropy_hand_worked_three_classes() {
        // z = (1, 2, 3), label 2: loss = ln(e + e² + e³) − 3.
        let z = Tensor2::<1, 3, f64>::from_slice(&[1., 2., 3.]).unwrap();
        let (loss, _) = cross_entropy(&z, &Labels::<1, 3>::new(vec![2]).unwrap());
        let expected = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln() - 3.0;
        assert!((loss - expected).abs() < 1e-14);
    }

    #[test]
    fn pixel_cross_entropy_gradient_matches_finite_differences() {
        let mut rng = seeded(15);
        let z = Tensor::<2, 3, 2, 3, f64>::uniform(&mut rng, -3.0, 3.0);
        let labels =
            PixelLabels::<2, 2, 3, 3>::new(vec![0, 1, 2, 2, 1, 0, 1, 1, 0, 2, 0, 1]).unwrap();
        let (_, grad) = pixel_cross_entropy(&z, &labels);
        let numeric = numeric_gradient(
            |v| pixel_cross_entropy(&Tensor::<2, 3, 2, 3, f64>::from_slice(v).unwrap(), &labels).0,
            z.as_slice(),
            1e-6,
        );
        assert_close(grad.as_slice(), &numeric);
    }

    /// Each pixel's channels as a row of `cross_entropy`: the same loss and gradient, the rows
    /// gathered by hand from the (N, C, H, W) layout.
    #[test]
    fn pixel_cross_entropy_is_cross_entropy_per_pixel() {
        let mut rng = seeded(16);
        let z = Tensor::<2, 4, 3, 2, f64>::uniform(&mut rng, -200.0, 200.0);
        let flat: Vec<usize> = (0..12).map(|i| (i * 7) % 4).collect();
        let (loss, grad) =
            pixel_cross_entropy(&z, &PixelLabels::<2, 3, 2, 4>::new(flat.clone()).unwrap());
        // rows (n, i, j) of 4 logits each: z[n, c, i, j] = z[((n·4 + c)·3 + i)·2 + j]
        let rows: Vec<f64> = (0..12)
            .flat_map(|p| (0..4).map(move |c| (p / 6, c, p % 6)))
            .map(|(n, c, ij)| z.as_slice()[(n * 4 + c) * 6 + ij])
            .collect();
        let rows = Tensor2::<12, 4, f64>::from_slice(&rows).unwrap();
        let (want, want_grad) = cross_entropy(&rows, &Labels::<12, 4>::new(flat).unwrap());
        assert!((loss - want).abs() <= 1e-12 * want.abs(), "{loss} vs {want}");
        for p in 0..12 {
            for c in 0..4 {
                let got = grad.as_slice()[((p / 6) * 4 + c) * 6 + p % 6];
                assert!((got - want_grad.as_slice()[p * 4 + c]).abs() < 1e-15);
            }
        }
        assert!(grad.as_slice().iter().all(|g| g.is_finite()));
    }

    #[test]
    fn mse_gradient_matches_finite_differences() {
        let mut rng = seeded(14);
        let p = Tensor::<2, 1, 3, 2, f64>::uniform(&mut rng, -1.0, 1.0);
        let t = Tensor::<2, 1, 3, 2, f64>::uniform(&mut rng, -1.0, 1.0);
        let (_, grad) = mse(&p, &t);
        let numeric = numeric_gradient(
            |v| mse(&Tensor::<2, 1, 3, 2, f64>::from_slice(v).unwrap(), &t).0,
            p.as_slice(),
            1e-6,
        );
        assert_close(grad.as_slice(), &numeric);
    }

    #[test]
    fn labels_reject_bad_input_with_numbers() {
        assert_eq!(
            Labels::<2, 10>::new(vec![1]).unwrap_err().to_string(),
            "expected 2 labels, found 1"
        );
        assert_eq!(
            Labels::<2, 10>::new(vec![1, 12]).unwrap_err().to_string(),
            "label 1 is 12, but there are only 10 classes (0..=9)"
        );
    }
}
