//! Evaluation: [`argmax`] of logits, [`predict`] over any number of images in fixed batches of
//! `N`, [`evaluate`] into a [`ConfusionMatrix`], which prints as a table.
//!
//! The batch size is part of the input type, so the last batch is padded with zero images; their
//! predictions are dropped. (In inference mode no layer mixes samples, so padding rows cannot
//! change the real rows' outputs.)
//!
//! ```
//! use typed_cnn::prelude::*;
//! use typed_cnn::data::Dataset;
//! // A "model" that copies its 2 pixels to 2 logits: the class is the brighter pixel.
//! let net = Flatten;
//! let data = Dataset::<1, 1, 2, 2>::from_parts(
//!     vec![0.9, 0.1, 0.2, 0.8, 0.3, 0.7], // predicts 0, 1, 1
//!     vec![0, 1, 0],
//! ).unwrap();
//! let cm = data.evaluate::<2>(&net); // batches of 2: the second is padded
//! assert_eq!(cm.total(), 3);
//! assert_eq!(cm.count(0, 1), 1); // sample 2: true 0, predicted 1
//! assert!((cm.accuracy() - 2.0 / 3.0).abs() < 1e-12);
//! ```

use core::fmt;
use typenum::Unsigned;

use crate::data::Dataset;
use crate::module::{Forward, Module};
use crate::shape::{BatchSize, Dims, Size};
use crate::{Float, T2, Tensor, Tensor2};

/// The index of the largest value of each row of `logits` (ties go to the lowest index; NaNs are
/// skipped, and a row of only NaNs gives 0).
///
/// ```
/// use typed_cnn::{Tensor2, eval::argmax};
/// let z = Tensor2::<3, 3>::from_slice(&[0.1, 2.0, -1.0, 5.0, 5.0, 1.0, -3.0, -2.0, -2.5]).unwrap();
/// assert_eq!(argmax(&z), [1, 0, 1]); // row 1 ties between 0 and 1: the lower wins
/// ```
pub fn argmax<E: Float, const N: usize, F: Unsigned>(logits: &T2<E, N, F>) -> Vec<usize> {
    let f = F::USIZE;
    if f == 0 {
        return vec![0; N];
    }
    logits.as_slice().chunks_exact(f).map(argmax_row).collect()
}

fn argmax_row<E: Float>(row: &[E]) -> usize {
    let mut best: Option<(usize, E)> = None;
    for (i, &v) in row.iter().enumerate() {
        let is_nan = v.partial_cmp(&v).is_none();
        if !is_nan && best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// The predicted class (argmax of the logits) of each image in `images` (`n·C·H·W` floats),
/// computed with `model`'s inference forward in batches of `N`; the last batch is padded with
/// zero images whose predictions are dropped. Returns `n` classes.
///
/// **Panics** if `images.len()` is not a multiple of `C·H·W`.
///
/// ```
/// use typed_cnn::{prelude::*, eval::predict};
/// let net = Flatten; // logits = the 3 pixels of a 1×1×3 image
/// let images = [0., 1., 0.,  2., 0., 1.,  0., 0., 3.];
/// assert_eq!(predict::<2, 1, 1, 3, 3>(&net, &images), [1, 0, 2]);
/// ```
#[track_caller]
pub fn predict<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const CLASSES: usize,
>(
    model: &impl Forward<Tensor<N, C, H, W>, Output = Tensor2<N, CLASSES>>,
    images: &[f32],
) -> Vec<usize>
where
    Dims<N>: BatchSize,
    Dims<C>: Size,
    Dims<H>: Size,
    Dims<W>: Size,
    Dims<CLASSES>: Size,
{
    let size = C * H * W;
    if size == 0 {
        return Vec::new();
    }
    assert!(
        images.len().is_multiple_of(size),
        "{} floats are not a whole number of {C}×{H}×{W} images",
        images.len()
    );
    let mut classes = Vec::with_capacity(images.len() / size);
    for chunk in images.chunks(N * size) {
        let mut x = Tensor::<N, C, H, W>::zeros();
        x.as_mut_slice()[..chunk.len()].copy_from_slice(chunk);
        let logits = model.forward(x);
        classes.extend(argmax(&logits).into_iter().take(chunk.len() / size));
    }
    classes
}

/// The confusion matrix of `model` on `data`, predicted in batches of `N` (see [`predict`]).
///
/// ```
/// use typed_cnn::{prelude::*, data::Dataset, eval::evaluate};
/// let data = Dataset::<1, 1, 2, 2>::from_parts(vec![1., 0., 0., 1.], vec![0, 0]).unwrap();
/// let cm = evaluate::<4, _, _, _, _>(&Flatten, &data); // one padded batch
/// assert_eq!((cm.count(0, 0), cm.count(0, 1)), (1, 1));
/// ```
pub fn evaluate<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const CLASSES: usize,
>(
    model: &impl Forward<Tensor<N, C, H, W>, Output = Tensor2<N, CLASSES>>,
    data: &Dataset<C, H, W, CLASSES>,
) -> ConfusionMatrix<CLASSES>
where
    Dims<N>: BatchSize,
    Dims<C>: Size,
    Dims<H>: Size,
    Dims<W>: Size,
    Dims<CLASSES>: Size,
{
    let mut cm = ConfusionMatrix::new();
    for (i, pred) in predict::<N, C, H, W, CLASSES>(model, data.images()).into_iter().enumerate() {
        cm.add(data.label(i), pred);
    }
    cm
}

impl<const C: usize, const H: usize, const W: usize, const CLASSES: usize> Dataset<C, H, W, CLASSES>
where
    Dims<C>: Size,
    Dims<H>: Size,
    Dims<W>: Size,
    Dims<CLASSES>: Size,
{
    /// The predicted class of each sample (see [`predict`]), in batches of `N`.
    ///
    /// ```
    /// use typed_cnn::{prelude::*, data::Dataset};
    /// let data = Dataset::<1, 1, 2, 2>::from_parts(vec![1., 0., 0., 1., 3., 2.], vec![0; 3])
    ///     .unwrap();
    /// assert_eq!(data.predict::<2>(&Flatten), [0, 1, 0]);
    /// ```
    pub fn predict<const N: usize>(
        &self,
        model: &impl Forward<Tensor<N, C, H, W>, Output = Tensor2<N, CLASSES>>,
    ) -> Vec<usize>
    where
        Dims<N>: BatchSize,
    {
        predict::<N, C, H, W, CLASSES>(model, self.images())
    }

    /// The confusion matrix of `model` on this dataset (see [`evaluate`]), in batches of `N`.
    ///
    /// ```
    /// use typed_cnn::{prelude::*, data::Dataset};
    /// let data = Dataset::<1, 1, 2, 2>::from_parts(vec![1., 0., 0., 1.], vec![0, 1]).unwrap();
    /// assert_eq!(data.evaluate::<8>(&Flatten).accuracy(), 1.0);
    /// ```
    pub fn evaluate<const N: usize>(
        &self,
        model: &impl Forward<Tensor<N, C, H, W>, Output = Tensor2<N, CLASSES>>,
    ) -> ConfusionMatrix<CLASSES>
    where
        Dims<N>: BatchSize,
    {
        evaluate::<N, C, H, W, CLASSES>(model, self)
    }
}

/// Counts of (true class, predicted class) pairs over `CLASSES` classes.
///
/// Prints as a table, one row per true class and one column per predicted class, with each
/// class's recall (the share of its samples predicted correctly) and the overall accuracy.
///
/// ```
/// use typed_cnn::eval::ConfusionMatrix;
/// let mut cm = ConfusionMatrix::<2>::new();
/// for (t, p) in [(0, 0), (0, 0), (0, 1), (1, 1)] {
///     cm.add(t, p);
/// }
/// assert_eq!(cm.accuracy(), 0.75); // 3 of 4 on the diagonal
/// assert_eq!(
///     cm.to_string(),
///     "true\\pred  0  1  recall\n\
///      \x20       0  2  1   66.7%\n\
///      \x20       1  0  1  100.0%\n\
///      accuracy 75.00% (3/4)\n"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix<const CLASSES: usize> {
    /// `counts[t·CLASSES + p]`: samples of true class `t` predicted as `p`.
    counts: Vec<u64>,
}

impl<const CLASSES: usize> Default for ConfusionMatrix<CLASSES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CLASSES: usize> ConfusionMatrix<CLASSES> {
    /// An empty matrix.
    ///
    /// ```
    /// use typed_cnn::eval::ConfusionMatrix;
    /// assert_eq!(ConfusionMatrix::<10>::new().total(), 0);
    /// ```
    pub fn new() -> Self {
        Self { counts: vec![0; CLASSES * CLASSES] }
    }

    /// Counts one sample of true class `truth` predicted as `pred`. **Panics** if either is not
    /// below `CLASSES`.
    ///
    /// ```
    /// use typed_cnn::eval::ConfusionMatrix;
    /// let mut cm = ConfusionMatrix::<3>::new();
    /// cm.add(2, 0);
    /// assert_eq!(cm.count(2, 0), 1);
    /// ```
    #[track_caller]
    pub fn add(&mut self, truth: usize, pred: usize) {
        assert!(
            truth < CLASSES && pred < CLASSES,
            "classes ({truth}, {pred}) out of range for {CLASSES} classes"
        );
        self.counts[truth * CLASSES + pred] += 1;
    }

    /// The number of samples of true class `truth` predicted as `pred`. **Panics** if either is
    /// not below `CLASSES`.
    ///
    /// ```
    /// use typed_cnn::eval::ConfusionMatrix;
    /// assert_eq!(ConfusionMatrix::<3>::new().count(1, 2), 0);
    /// ```
    #[track_caller]
    pub fn count(&self, truth: usize, pred: usize) -> u64 {
        assert!(
            truth < CLASSES && pred < CLASSES,
            "classes ({truth}, {pred}) out of range for {CLASSES} classes"
        );
        self.counts[truth * CLASSES + pred]
    }

    /// The number of samples counted.
    ///
    /// ```
    /// use typed_cnn::eval::ConfusionMatrix;
    /// let mut cm = ConfusionMatrix::<2>::new();
    /// cm.add(0, 1);
    /// cm.add(1, 1);
    /// assert_eq!(cm.total(), 2);
    /// ```
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The number of samples predicted correctly (the diagonal).
    ///
    /// ```
    /// use typed_cnn::eval::ConfusionMatrix;
    /// let mut cm = ConfusionMatrix::<2>::new();
    /// cm.add(0, 1);
    /// cm.add(1, 1);
    /// assert_eq!(cm.correct(), 1);
    /// ```
    pub fn correct(&self) -> u64 {
        (0..CLASSES).map(|k| self.counts[k * CLASSES + k]).sum()
    }

    /// The share of samples predicted correctly, `correct / total` (0 when empty).
    ///
    /// ```
    /// use typed_cnn::eval::ConfusionMatrix;
    /// let mut cm = ConfusionMatrix::<2>::new();
    /// assert_eq!(cm.accuracy(), 0.0);
    /// cm.add(0, 0);
    /// cm.add(1, 0);
    /// assert_eq!(cm.accuracy(), 0.5);
    /// ```
    pub fn accuracy(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            total => self.correct() as f64 / total as f64,
        }
    }

    /// The recall of class `k`: the share of its samples predicted as `k` (`None` if it has
    /// none). **Panics** if `k ≥ CLASSES`.
    ///
    /// ```
    /// use typed_cnn::eval::ConfusionMatrix;
    /// let mut cm = ConfusionMatrix::<3>::new();
    /// cm.add(1, 1);
    /// cm.add(1, 2);
    /// assert_eq!((cm.recall(1), cm.recall(0)), (Some(0.5), None));
    /// ```
    #[track_caller]
    pub fn recall(&self, k: usize) -> Option<f64> {
        assert!(k < CLASSES, "class {k} out of range for {CLASSES} classes");
        let row = &self.counts[k * CLASSES..(k + 1) * CLASSES];
        let total: u64 = row.iter().sum();
        (total > 0).then(|| row[k] as f64 / total as f64)
    }
}

impl<const CLASSES: usize> fmt::Display for ConfusionMatrix<CLASSES> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = "true\\pred";
        let largest = self.counts.iter().max().copied().unwrap_or(0);
        let cell = largest.to_string().len().max(CLASSES.saturating_sub(1).to_string().len()) + 2;
        write!(f, "{head}")?;
        for p in 0..CLASSES {
            write!(f, "{p:>cell$}")?;
        }
        writeln!(f, "  recall")?;
        for t in 0..CLASSES {
            write!(f, "{t:>w$}", w = head.len())?;
            for p in 0..CLASSES {
                write!(f, "{:>cell$}", self.counts[t * CLASSES + p])?;
            }
            match self.recall(t) {
                Some(r) => writeln!(f, "{:>7.1}%", 100.0 * r)?,
                None => writeln!(f, "{:>8}", "-")?,
            }
        }
        writeln!(
            f,
            "accuracy {:.2}% ({}/{})",
            100.0 * self.accuracy(),
            self.correct(),
            self.total()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Flatten;
    use core::cell::Cell;

    /// Logits `(−a, −b, −c)` of a 1×1×3 image `(a, b, c)`: predicts the smallest pixel. Counts its
    /// calls.
    struct Negate(Cell<usize>);
    impl<const N: usize> Forward<Tensor<N, 1, 1, 3>> for Negate {
        type Output = Tensor2<N, 3>;
        type Cache = ();
        fn forward_impl(&self, x: Tensor<N, 1, 1, 3>) -> Tensor2<N, 3> {
            self.0.set(self.0.get() + 1);
            Tensor2::<N, 3>::from_fn(|n, f| -x.get(n, 0, 0, f))
        }
        fn train_impl(&self, x: Tensor<N, 1, 1, 3>) -> (Tensor2<N, 3>, ()) {
            (self.forward_impl(x), ())
        }
        fn backward_impl(&self, _: (), _: Tensor2<N, 3>, _: &mut Self) -> Tensor<N, 1, 1, 3> {
            unimplemented!()
        }
    }

    #[rustfmt::skip]
    const TEN: [f32; 30] = [
        1., 2., 3., // smallest: 0
        5., 4., 6., // 1
        9., 8., 7., // 2
        0., 0., 1., // tie 0/1: 0
        2., 1., 1., // tie 1/2: 1
        -1., 3., -2., // 2
        4., 4., 4., // tie: 0
        7., 6., 8., // 1
        3., 2., 1., // 2
        0., 1., 2., // 0
    ];

    #[test]
    fn predict_with_a_remainder() {
        let model = Negate(Cell::new(0));
        // 10 samples in batches of 4: 4 + 4 + 2 (padded)
        assert_eq!(predict::<4, 1, 1, 3, 3>(&model, &TEN), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(model.0.get(), 3);
        assert_eq!(predict::<16, 1, 1, 3, 3>(&model, &TEN[..6]), [0, 1]);
        assert_eq!(predict::<4, 1, 1, 3, 3>(&model, &[]), Vec::<usize>::new());
    }

    #[test]
    fn evaluate_counts_only_real_rows() {
        let model = Negate(Cell::new(0));
        // predictions 0 1 2 0 1 2 0 1 2 0; labels below
        let labels = vec![0, 1, 2, 1, 1, 0, 0, 2, 2, 0];
        let data = Dataset::<1, 1, 3, 3>::from_parts(TEN.to_vec(), labels).unwrap();
        let cm = data.evaluate::<4>(&model);
        // (t, p): (0,0) (1,1) (2,2) (1,0) (1,1) (0,2) (0,0) (2,1) (2,2) (0,0)
        assert_eq!(cm.total(), 10);
        let counts: Vec<Vec<u64>> =
            (0..3).map(|t| (0..3).map(|p| cm.count(t, p)).collect()).collect();
        assert_eq!(counts, [[3, 0, 1], [1, 2, 0], [0, 1, 2]]);
        assert_eq!(cm.correct(), 7);
        assert_eq!(cm.accuracy(), 0.7);
        assert_eq!(cm.recall(0), Some(0.75));
        assert_eq!(
            cm.to_string(),
            "true\\pred  0  1  2  recall\n        0  3  0  1   75.0%\n        1  1  2  0   66.7%\n        2  0  1  2   66.7%\naccuracy 70.00% (7/10)\n"
        );
        assert_eq!(cm, evaluate::<3, _, _, _, _>(&model, &data));
    }

    #[test]
    fn display_widens_for_large_counts_and_empty_rows() {
        let mut cm = ConfusionMatrix::<2>::new();
        for _ in 0..1234 {
            cm.add(0, 0);
        }
        cm.add(0, 1);
        let s = cm.to_string();
        assert_eq!(
            s,
            "true\\pred     0     1  recall\n        0  1234     1   99.9%\n        1     0     0       -\naccuracy 99.92% (1234/1235)\n"
        );
    }

    #[test]
    fn argmax_ties_and_nan() {
        let z =
            Tensor2::<3, 3>::from_slice(&[1., 1., 1., f32::NAN, 2., 1., 0., f32::NAN, 3.]).unwrap();
        assert_eq!(argmax(&z), [0, 1, 2]);
    }

    #[test]
    fn flatten_as_identity_logits() {
        let data = Dataset::<1, 1, 2, 2>::from_parts(vec![0.9, 0.1, 0.2, 0.8], vec![0, 0]).unwrap();
        assert_eq!(data.predict::<3>(&Flatten), [0, 1]);
    }
}
