//! Datasets, loaders and typed mini-batches.
//!
//! - [`Dataset<C, H, W, CLASSES>`]: `n` images of `C × H × W` floats and `n` labels below `CLASSES`, checked
//!   once when built ([`Dataset::from_parts`]).
//! - Loaders: [`Mnist`] (IDX files, gzip'd or raw) and [`Digits`] (the UCI 8×8 digits CSV). Both
//!   also parse bytes in memory ([`parse_idx_images`], [`parse_idx_labels`],
//!   [`parse_digits_csv`]), never panic on any input, never allocate more than the input
//!   justifies, and refuse to inflate a gzip stream beyond [`MAX_DECOMPRESSED`] bytes. Errors are
//!   [`DataError`]s naming the file, the field, the expected and the found value.
//! - Batches: [`Dataset::batches`] (in order) and [`Dataset::shuffled_batches`] (a permutation
//!   drawn from the caller's generator, so a seeded run reproduces) yield [`Batch`]es whose images
//!   are a typed `Tensor<N, C, H, W>` and whose labels are `Labels<N, CLASSES>`.
//! - [`augment`]: random shifts and horizontal flips of a batch, from the caller's generator.
//!
//! # The last batch of an epoch
//!
//! The batch size `N` is part of the tensor type, so every batch has exactly `N` rows. When the
//! dataset size `n` is not a multiple of `N`, the last batch is **filled with samples wrapped
//! around from the start of the epoch's order**, and [`Batch::len`] says how many rows are real
//! (the first `len`; the others repeat earlier samples of the same epoch).
//!
//! - Training may use all `N` rows: a handful (`N − n mod N`) of samples are seen twice per
//!   epoch, which is harmless, and no sample is dropped.
//! - Evaluation must count only the first `len` rows ([`crate::eval`] does).
//! - A dataset smaller than `N` wraps around repeatedly: one batch of `len = n`. An empty dataset
//!   yields no batch.
//!
//! ```
//! use typed_cnn::data::Dataset;
//! // 5 one-pixel images with values 0..5, labels 0, 1, 0, 1, 0
//! let data = Dataset::<1, 1, 1, 2>::from_parts(vec![0., 1., 2., 3., 4.], vec![0, 1, 0, 1, 0])
//!     .unwrap();
//! let batches: Vec<_> = data.batches::<2>().collect();
//! assert_eq!(batches.len(), 3); // ⌈5/2⌉
//! assert_eq!(batches[2].images.as_slice(), [4., 0.]); // sample 4, then sample 0 wrapped around
//! assert_eq!(batches[2].labels.as_slice(), [0, 0]);
//! assert_eq!((batches[1].len, batches[2].len), (2, 1)); // only the first row of the last is real
//! ```

use core::fmt;
use core::ops::Range;
use std::io::Read;
use std::path::{Path, PathBuf};

use rand::Rng;
use rand::seq::SliceRandom;

use crate::Tensor;
use crate::loss::Labels;
use crate::shape::{BatchSize, Dims, Size};

pub mod augment;
mod digits;
mod mnist;

pub use digits::{Digits, DigitsSet, parse_digits_csv};
pub use mnist::{Mnist, MnistSet, parse_idx_images, parse_idx_labels};

/// The most bytes a loader inflates from one gzip stream (or reads from one raw file): 64 MiB,
/// above MNIST's largest file (47,040,016 bytes). A stream that inflates to more is an error
/// (a gzip bomb cannot exhaust memory).
///
/// ```
/// assert!(typed_cnn::data::MAX_DECOMPRESSED > 47_040_016); // MNIST's training images
/// ```
pub const MAX_DECOMPRESSED: usize = 64 << 20;

/// Why a dataset could not be loaded or built.
///
/// Every message names the file, the field, the expected and the found value:
///
/// ```
/// use typed_cnn::data::{DataError, parse_idx_labels};
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 1, 10]; // one label, 10, in an IDX label file
/// let err = parse_idx_labels::<10>(&bytes, "labels.idx").unwrap_err();
/// assert_eq!(err.to_string(), "labels.idx: label 0: expected 0..=9, found 10");
/// assert!(matches!(err, DataError::Invalid { .. }));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// Reading a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// None of the candidate files exists.
    NotFound {
        /// The paths tried, in order.
        tried: Vec<PathBuf>,
    },
    /// The contents do not have the expected format.
    Invalid {
        /// The file (or, for data built in memory, what was being built).
        file: String,
        /// The field: `magic`, `rows`, `data length`, `line 17 column 65`…
        field: String,
        /// What the field should be.
        expected: String,
        /// What it is.
        found: String,
    },
}

impl DataError {
    pub(crate) fn invalid(
        file: &str,
        field: impl fmt::Display,
        expected: impl fmt::Display,
        found: impl fmt::Display,
    ) -> Self {
        Self::Invalid {
            file: file.to_string(),
            field: field.to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::NotFound { tried } => {
                write!(f, "file not found; tried")?;
                for (i, p) in tried.iter().enumerate() {
                    write!(f, "{} {}", if i == 0 { "" } else { "," }, p.display())?;
                }
                Ok(())
            }
            Self::Invalid { file, field, expected, found } => {
                write!(f, "{file}: {field}: expected {expected}, found {found}")
            }
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Inflates `bytes` if they start with the gzip magic `1f 8b`, else returns them unchanged;
/// either way the result is at most [`MAX_DECOMPRESSED`] bytes.
///
/// # Errors
/// [`DataError::Invalid`] for a corrupt gzip stream or one that inflates beyond the limit.
///
/// ```
/// use std::io::Write;
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
/// gz.write_all(b"hello").unwrap();
/// let gz = gz.finish().unwrap();
/// assert_eq!(typed_cnn::data::decompress(&gz, "x.gz").unwrap(), b"hello");
/// assert_eq!(typed_cnn::data::decompress(b"hello", "x").unwrap(), b"hello"); // not gzip
/// ```
pub fn decompress(bytes: &[u8], file: &str) -> Result<Vec<u8>, DataError> {
    decompress_limited(bytes, file, MAX_DECOMPRESSED)
}

pub(crate) fn decompress_limited(
    bytes: &[u8],
    file: &str,
    limit: usize,
) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        if bytes.len() > limit {
            return Err(too_large(file, limit, bytes.len()));
        }
        return Ok(bytes.to_vec());
    }
    // Every member: RFC 1952 allows several (`cat a.gz b.gz`), and bytes after the last member
    // that are not another member are an error, not silently ignored. Reading one byte past the
    // limit tells "exactly at the limit" from "beyond it".
    let mut reader = flate2::read::MultiGzDecoder::new(bytes).take(limit as u64 + 1);
    let mut out = Vec::new();
    let mut chunk = vec![0; 32 << 10];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DataError::invalid(file, "gzip stream", "valid gzip data", e)),
        };
        if out.capacity() - out.len() < n {
            // Doubling, but never beyond `limit + 1` bytes (`read_to_end` would double a 64 MiB
            // buffer to 128 MiB for the byte past the limit).
            let capacity = (2 * out.capacity()).max(out.len() + n).min(limit + 1);
            out.reserve_exact(capacity - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
    if out.len() > limit {
        return Err(too_large(file, limit, out.len()));
    }
    Ok(out)
}

fn too_large(file: &str, limit: usize, found: usize) -> DataError {
    let found = if found > limit { format!("more than {limit} bytes") } else { found.to_string() };
    DataError::invalid(file, "size", format_args!("at most {limit} bytes"), found)
}

/// Reads a file (at most [`MAX_DECOMPRESSED`] bytes) and inflates it if it is gzip'd.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_DECOMPRESSED as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
    decompress(&bytes, &path.display().to_string())
}

/// `n` images of `C × H × W` floats (row-major, `C·H·W` per image) with `n` labels below `CLASSES`.
///
/// ```
/// use typed_cnn::data::Dataset;
/// let data = Dataset::<1, 2, 2, 3>::from_parts(vec![0.; 8], vec![2, 0]).unwrap(); // 2 images
/// assert_eq!(data.len(), 2);
/// assert_eq!(data.label(0), 2);
/// assert_eq!(data.image(1), [0.; 4]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<const C: usize, const H: usize, const W: usize, const CLASSES: usize> {
    images: Vec<f32>,
    labels: Vec<u8>,
}

impl<const C: usize, const H: usize, const W: usize, const CLASSES: usize>
    Dataset<C, H, W, CLASSES>
{
    /// The number of floats in one image, `C·H·W`.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// assert_eq!(Dataset::<1, 28, 28, 10>::IMAGE_LEN, 784); // 28·28
    /// ```
    pub const IMAGE_LEN: usize = C * H * W;

    /// A dataset from images (`n·C·H·W` floats) and labels (`n`, each below `CLASSES`).
    ///
    /// # Errors
    /// [`DataError::Invalid`] if the lengths disagree or a label is not below `CLASSES`.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// assert!(Dataset::<1, 2, 2, 3>::from_parts(vec![0.; 8], vec![2, 0]).is_ok());
    /// let err = Dataset::<1, 2, 2, 3>::from_parts(vec![0.; 8], vec![2]).unwrap_err();
    /// assert_eq!(err.to_string(), "dataset: images length: expected 1·4 = 4, found 8");
    /// let err = Dataset::<1, 2, 2, 3>::from_parts(vec![0.; 8], vec![2, 3]).unwrap_err();
    /// assert_eq!(err.to_string(), "dataset: label 1: expected 0..=2, found 3");
    /// ```
    pub fn from_parts(images: Vec<f32>, labels: Vec<u8>) -> Result<Self, DataError> {
        let n = labels.len();
        match n.checked_mul(Self::IMAGE_LEN) {
            Some(len) if len == images.len() => {}
            _ => {
                return Err(DataError::invalid(
                    "dataset",
                    "images length",
                    format_args!("{n}·{} = {}", Self::IMAGE_LEN, n.saturating_mul(Self::IMAGE_LEN)),
                    images.len(),
                ));
            }
        }
        if let Some((i, &l)) = labels.iter().enumerate().find(|(_, l)| usize::from(**l) >= CLASSES)
        {
            let expected = format!("0..={}", CLASSES.saturating_sub(1));
            return Err(DataError::invalid("dataset", format_args!("label {i}"), expected, l));
        }
        Ok(Self { images, labels })
    }

    /// The number of samples.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// assert_eq!(Dataset::<1, 1, 2, 2>::from_parts(vec![0.; 6], vec![0, 1, 1]).unwrap().len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// `true` if there is no sample.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// assert!(Dataset::<1, 1, 2, 2>::from_parts(vec![], vec![]).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`: `C·H·W` floats, row-major. **Panics** if `i ≥ len()`.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// let data = Dataset::<1, 1, 2, 2>::from_parts(vec![1., 2., 3., 4.], vec![0, 1]).unwrap();
    /// assert_eq!(data.image(1), [3., 4.]); // floats 1·2 .. 2·2
    /// ```
    #[track_caller]
    pub fn image(&self, i: usize) -> &[f32] {
        assert!(i < self.len(), "image {i} out of range for a dataset of {}", self.len());
        &self.images[i * Self::IMAGE_LEN..(i + 1) * Self::IMAGE_LEN]
    }

    /// Label `i`, below `CLASSES`. **Panics** if `i ≥ len()`.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// let data = Dataset::<1, 1, 1, 10>::from_parts(vec![0., 0.], vec![7, 3]).unwrap();
    /// assert_eq!(data.label(1), 3);
    /// ```
    #[track_caller]
    pub fn label(&self, i: usize) -> usize {
        usize::from(self.labels[i])
    }

    /// All images, `len()·C·H·W` floats.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// let data = Dataset::<1, 1, 1, 2>::from_parts(vec![0.5, 1.0], vec![0, 1]).unwrap();
    /// assert_eq!(data.images(), [0.5, 1.0]);
    /// ```
    pub fn images(&self) -> &[f32] {
        &self.images
    }

    /// All labels.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// let data = Dataset::<1, 1, 1, 2>::from_parts(vec![0.5, 1.0], vec![0, 1]).unwrap();
    /// assert_eq!(data.labels(), [0, 1]);
    /// ```
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// How many samples each class has.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// let data = Dataset::<1, 1, 1, 3>::from_parts(vec![0.; 4], vec![2, 0, 2, 2]).unwrap();
    /// assert_eq!(data.class_counts(), [1, 0, 3]);
    /// ```
    pub fn class_counts(&self) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        counts
    }

    /// The samples in `range`, as a new dataset (for example UCI digits' rows `0..1500` for
    /// training and `1500..1797` for testing). **Panics** if the range is out of bounds.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// let data = Dataset::<1, 1, 1, 10>::from_parts(vec![0., 1., 2., 3.], vec![5, 6, 7, 8]).unwrap();
    /// let tail = data.subset(1..3);
    /// assert_eq!((tail.images(), tail.labels()), (&[1., 2.][..], &[6, 7][..]));
    /// ```
    #[track_caller]
    pub fn subset(&self, range: Range<usize>) -> Self {
        assert!(
            range.start <= range.end && range.end <= self.len(),
            "subset {range:?} out of range for a dataset of {}",
            self.len()
        );
        let len = Self::IMAGE_LEN;
        Self {
            images: self.images[range.start * len..range.end * len].to_vec(),
            labels: self.labels[range].to_vec(),
        }
    }

    /// One epoch of batches of `N` in dataset order; the last batch is filled by wrapping around
    /// (see [the module docs](self#the-last-batch-of-an-epoch)). `N` is a
    /// [`BatchSize`]: `N = 0` is an error at `cargo check`.
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// let data = Dataset::<1, 1, 1, 10>::from_parts(vec![0., 1., 2.], vec![0, 1, 2]).unwrap();
    /// let batch = data.batches::<4>().next().unwrap(); // 3 samples, N = 4
    /// assert_eq!(batch.images.as_slice(), [0., 1., 2., 0.]);
    /// assert_eq!((batch.len, batch.indices), (3, vec![0, 1, 2, 0]));
    /// ```
    pub fn batches<const N: usize>(&self) -> Batches<'_, N, C, H, W, CLASSES>
    where
        Dims<N>: BatchSize,
    {
        Batches { data: self, order: (0..self.len()).collect(), pos: 0 }
    }

    /// One epoch of batches of `N` in an order drawn from `rng` (a uniform permutation); the last
    /// batch is filled by wrapping around (see [the module docs](self#the-last-batch-of-an-epoch)).
    ///
    /// ```
    /// use typed_cnn::data::Dataset;
    /// use rand::{SeedableRng, rngs::StdRng};
    /// let data = Dataset::<1, 1, 1, 10>::from_parts((0..10).map(|i| i as f32).collect(),
    ///     (0..10).collect()).unwrap();
    /// let epoch = |seed| -> Vec<usize> {
    ///     data.shuffled_batches::<4>(&mut StdRng::seed_from_u64(seed))
    ///         .flat_map(|b| b.indices[..b.len].to_vec()).collect()
    /// };
    /// assert_eq!(epoch(7), epoch(7)); // the same seed gives the same order
    /// let mut seen = epoch(7);
    /// seen.sort();
    /// assert_eq!(seen, (0..10).collect::<Vec<_>>()); // each sample once among the real rows
    /// ```
    pub fn shuffled_batches<const N: usize>(
        &self,
        rng: &mut (impl Rng + ?Sized),
    ) -> Batches<'_, N, C, H, W, CLASSES>
    where
        Dims<N>: BatchSize,
    {
        let mut batches = self.batches::<N>();
        batches.order.shuffle(rng);
        batches
    }
}

/// `N` samples as typed tensors: images `Tensor<N, C, H, W>` and labels `Labels<N, CLASSES>`.
///
/// Only the first [`len`](Batch::len) rows are real samples; the rest of the last batch of an
/// epoch repeats samples from the start of the epoch's order (see
/// [the module docs](self#the-last-batch-of-an-epoch)).
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::data::{Batch, Dataset};
/// let data = Dataset::<1, 2, 2, 10>::from_parts(vec![0.5; 12], vec![1, 2, 3]).unwrap();
/// let batch: Batch<2, 1, 2, 2, 10> = data.batches().next().unwrap();
/// let _: Tensor<2, 1, 2, 2> = batch.images; // typed
/// assert_eq!(batch.labels.as_slice(), [1, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Batch<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const CLASSES: usize,
> where
    Dims<C>: Size,
    Dims<H>: Size,
    Dims<W>: Size,
{
    /// The images, `(N, C, H, W)`.
    pub images: Tensor<N, C, H, W>,
    /// The labels.
    pub labels: Labels<N, CLASSES>,
    /// How many rows are real samples (the first `len`; `N` except in an epoch's last batch).
    pub len: usize,
    /// The dataset index of each of the `N` rows.
    pub indices: Vec<usize>,
}

/// The batches of one epoch (see [`Dataset::batches`] and [`Dataset::shuffled_batches`]).
///
/// ```
/// use typed_cnn::data::Dataset;
/// let data = Dataset::<1, 1, 1, 2>::from_parts(vec![0.; 5], vec![0; 5]).unwrap();
/// assert_eq!(data.batches::<2>().len(), 3); // ⌈5/2⌉
/// assert_eq!(data.subset(0..0).batches::<2>().len(), 0); // empty: no batch
/// ```
#[derive(Clone, Debug)]
pub struct Batches<
    'a,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const CLASSES: usize,
> {
    data: &'a Dataset<C, H, W, CLASSES>,
    order: Vec<usize>,
    pos: usize,
}

impl<const N: usize, const C: usize, const H: usize, const W: usize, const CLASSES: usize> Iterator
    for Batches<'_, N, C, H, W, CLASSES>
where
    Dims<C>: Size,
    Dims<H>: Size,
    Dims<W>: Size,
{
    type Item = Batch<N, C, H, W, CLASSES>;

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.order.len();
        if self.pos >= n {
            return None;
        }
        // Row r of this batch is sample order[(pos + r) mod n]: past the end it wraps around.
        let indices: Vec<usize> =
            (0..N).filter_map(|r| self.order.get((self.pos + r) % n).copied()).collect();
        let len = N.min(n - self.pos);
        self.pos += N;
        let mut images = Tensor::<N, C, H, W>::zeros();
        let size = Dataset::<C, H, W, CLASSES>::IMAGE_LEN;
        for (row, &i) in images.as_mut_slice().chunks_exact_mut(size.max(1)).zip(&indices) {
            row.copy_from_slice(self.data.image(i));
        }
        let labels = indices.iter().map(|&i| self.data.label(i)).collect();
        let labels = Labels::new(labels).expect("labels are checked against CLASSES when built");
        Some(Batch { images, labels, len, indices })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.order.len().saturating_sub(self.pos).div_ceil(N);
        (left, Some(left))
    }
}

impl<const N: usize, const C: usize, const H: usize, const W: usize, const CLASSES: usize>
    ExactSizeIterator for Batches<'_, N, C, H, W, CLASSES>
where
    Dims<C>: Size,
    Dims<H>: Size,
    Dims<W>: Size,
{
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    /// `n` one-pixel images whose value is their index, label `index mod 3`.
    fn numbered(n: usize) -> Dataset<1, 1, 1, 3> {
        Dataset::from_parts(
            (0..n).map(|i| i as f32).collect(),
            (0..n).map(|i| (i % 3) as u8).collect(),
        )
        .unwrap()
    }

    #[test]
    fn in_order_with_wrap_around() {
        let batches: Vec<_> = numbered(5).batches::<2>().collect();
        let indices: Vec<_> = batches.iter().map(|b| b.indices.clone()).collect();
        assert_eq!(indices, [[0, 1], [2, 3], [4, 0]]);
        let lens: Vec<_> = batches.iter().map(|b| b.len).collect();
        assert_eq!(lens, [2, 2, 1]);
        assert_eq!(batches[1].images.as_slice(), [2., 3.]);
        assert_eq!(batches[2].images.as_slice(), [4., 0.]);
        assert_eq!(batches[2].labels.as_slice(), [1, 0]); // 4 mod 3, 0 mod 3
    }

    #[test]
    fn exact_multiple_has_no_filler() {
        let lens: Vec<_> = numbered(6).batches::<3>().map(|b| b.len).collect();
        assert_eq!(lens, [3, 3]);
    }

    #[test]
    fn smaller_than_the_batch_wraps_repeatedly() {
        let batches: Vec<_> = numbered(2).batches::<5>().collect();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].indices, [0, 1, 0, 1, 0]);
        assert_eq!(batches[0].len, 2);
        assert_eq!(batches[0].images.as_slice(), [0., 1., 0., 1., 0.]);
    }

    #[test]
    fn empty_dataset_has_no_batch() {
        assert_eq!(numbered(0).batches::<4>().count(), 0);
        assert_eq!(numbered(0).shuffled_batches::<4>(&mut StdRng::seed_from_u64(1)).count(), 0);
    }

    fn epoch(data: &Dataset<1, 1, 1, 3>, seed: u64) -> Vec<Batch<4, 1, 1, 1, 3>> {
        data.shuffled_batches::<4>(&mut StdRng::seed_from_u64(seed)).collect()
    }

    #[test]
    fn shuffle_reproducible_and_complete() {
        let data = numbered(30); // 8 batches of 4, the last with 2 real rows
        let a: Vec<_> = epoch(&data, 42).iter().flat_map(|b| b.indices.clone()).collect();
        let b: Vec<_> = epoch(&data, 42).iter().flat_map(|b| b.indices.clone()).collect();
        let c: Vec<_> = epoch(&data, 43).iter().flat_map(|b| b.indices.clone()).collect();
        assert_eq!(a, b);
        assert_ne!(a, c); // 30! orders: equal by chance with probability ~4e-33
        assert_ne!(a[..30], (0..30).collect::<Vec<_>>());
        for seed in [42, 43] {
            let batches = epoch(&data, seed);
            assert_eq!(batches.len(), 8);
            let mut real: Vec<_> =
                batches.iter().flat_map(|b| b.indices[..b.len].to_vec()).collect();
            let order = real.clone();
            real.sort_unstable();
            assert_eq!(real, (0..30).collect::<Vec<_>>()); // each sample exactly once
            let last = &batches[7];
            assert_eq!(last.len, 2);
            assert_eq!(last.indices[2..], order[..2]); // filled from the start of this epoch
            for batch in &batches {
                // rows hold the images and labels of their indices
                for (r, &i) in batch.indices.iter().enumerate() {
                    assert_eq!(batch.images.as_slice()[r], i as f32);
                    assert_eq!(batch.labels.as_slice()[r], i % 3);
                }
            }
        }
    }

    #[test]
    fn exact_size() {
        let data = numbered(5);
        let mut it = data.batches::<2>();
        assert_eq!(it.len(), 3);
        it.next();
        assert_eq!(it.len(), 2);
    }

    #[test]
    fn from_parts_checks() {
        let err = Dataset::<1, 2, 2, 3>::from_parts(vec![0.; 7], vec![0, 1]).unwrap_err();
        assert_eq!(err.to_string(), "dataset: images length: expected 2·4 = 8, found 7");
        let err = Dataset::<1, 1, 1, 3>::from_parts(vec![0.; 2], vec![0, 3]).unwrap_err();
        assert_eq!(err.to_string(), "dataset: label 1: expected 0..=2, found 3");
    }

    #[test]
    fn subset_and_class_counts() {
        let data = numbered(7);
        let s = data.subset(2..6);
        assert_eq!(s.images(), [2., 3., 4., 5.]);
        assert_eq!(s.labels(), [2, 0, 1, 2]);
        assert_eq!(s.class_counts(), [1, 1, 2]);
        assert!(data.subset(3..3).is_empty());
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// Found by tests/fuzz.rs: only the first member of a multi-member gzip file was inflated
    /// (`cat a.gz b.gz` read as `a`), and bytes after it were ignored.
    #[test]
    fn every_gzip_member_and_nothing_after() {
        let two = [gzip(b"hello, "), gzip(b"world")].concat();
        assert_eq!(decompress(&two, "two.gz").unwrap(), b"hello, world");
        for trailing in [&[0u8][..], b"garbage", &[0x1f, 0x8b, 8]] {
            let bytes = [gzip(b"hello"), trailing.to_vec()].concat();
            let err = decompress(&bytes, "t.gz").unwrap_err().to_string();
            assert!(
                err.starts_with("t.gz: gzip stream: expected valid gzip data, found "),
                "{err}"
            );
        }
    }

    /// Found by tests/fuzz.rs: inflating past the limit doubled the buffer to twice the limit
    /// (a 65 KB gzip bomb made a 128 MiB allocation for a 64 MiB limit).
    #[test]
    fn inflating_never_allocates_past_the_limit() {
        let limit = 100_000;
        for len in [limit, limit + 1, 10 * limit] {
            let result = decompress_limited(&gzip(&vec![7; len]), "z.gz", limit);
            if let Ok(out) = result {
                assert!(out.len() == limit && out.capacity() <= limit + 1, "{}", out.capacity());
            }
        }
        let out = decompress_limited(&gzip(&[7; 3]), "z.gz", limit).unwrap();
        assert!(out.capacity() < 64 << 10, "{}", out.capacity());
    }

    #[test]
    fn io_error_names_the_path() {
        let err = read_file(Path::new("/nonexistent/x.gz")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/x.gz: "), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
