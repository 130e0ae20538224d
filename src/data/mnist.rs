//! MNIST in the IDX format (big-endian headers, then one byte per pixel or label).

use std::path::Path;

use super::{DataError, Dataset, decompress, read_file};

/// The magic number of an IDX file of unsigned bytes with 3 dimensions (images).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of unsigned bytes with 1 dimension (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;

/// The big-endian `u32` at byte `at`, or an error naming the field if the header is too short.
fn be_u32(bytes: &[u8], at: usize, header: usize, file: &str) -> Result<u32, DataError> {
    match bytes.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
        Some(b) => Ok(u32::from_be_bytes(b)),
        None => Err(DataError::invalid(
            file,
            "header",
            format_args!("{header} bytes"),
            format_args!("{} bytes", bytes.len()),
        )),
    }
}

fn check_magic(bytes: &[u8], magic: u32, header: usize, file: &str) -> Result<(), DataError> {
    let found = be_u32(bytes, 0, header, file)?;
    if found != magic {
        return Err(DataError::invalid(
            file,
            "magic",
            format_args!("{magic:#010x}"),
            format_args!("{found:#010x}"),
        ));
    }
    Ok(())
}

/// Checks that the data after a `header`-byte header is exactly `count·item` bytes.
fn check_length<'a>(
    bytes: &'a [u8],
    header: usize,
    count: u32,
    item: &[u32],
    file: &str,
) -> Result<&'a [u8], DataError> {
    let data = bytes.get(header..).unwrap_or_default();
    // u128: count·rows·cols of three u32s cannot overflow it.
    let expected = item.iter().fold(u128::from(count), |acc, &d| acc * u128::from(d));
    if expected != data.len() as u128 {
        let formula = if item.is_empty() { "count" } else { "count·rows·cols" };
        let factors: Vec<String> =
            core::iter::once(count).chain(item.iter().copied()).map(|d| d.to_string()).collect();
        return Err(DataError::invalid(
            file,
            "data length",
            format_args!(
                "{formula} = {} = {expected} bytes after the {header}-byte header",
                factors.join("·")
            ),
            format_args!("{} bytes", data.len()),
        ));
    }
    Ok(data)
}

/// Parses an IDX image file (already inflated) of `H × W` images; pixels are scaled by 1/255.
///
/// Checks the magic `0x00000803`, that rows and columns are `H` and `W`, and that the data is
/// exactly `count·rows·cols` bytes (a truncated file and trailing bytes are both errors). Never
/// panics, and allocates only after the length check. `file` names the input in errors.
///
/// # Errors
/// [`DataError::Invalid`] naming `file`, the field, the expected and the found value.
///
/// ```
/// use typed_cnn::data::parse_idx_images;
/// // magic, count 1, rows 1, cols 2, then the two pixels
/// let bytes = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255];
/// assert_eq!(parse_idx_images::<1, 2>(&bytes, "tiny").unwrap(), [0.0, 1.0]);
/// let err = parse_idx_images::<1, 3>(&bytes, "tiny").unwrap_err();
/// assert_eq!(err.to_string(), "tiny: cols: expected 3, found 2");
/// ```
pub fn parse_idx_images<const H: usize, const W: usize>(
    bytes: &[u8],
    file: &str,
) -> Result<Vec<f32>, DataError> {
    const HEADER: usize = 16;
    check_magic(bytes, IMAGES_MAGIC, HEADER, file)?;
    let count = be_u32(bytes, 4, HEADER, file)?;
    let rows = be_u32(bytes, 8, HEADER, file)?;
    let cols = be_u32(bytes, 12, HEADER, file)?;
    for (field, expected, found) in [("rows", H, rows), ("cols", W, cols)] {
        if u128::from(found) != expected as u128 {
            return Err(DataError::invalid(file, field, expected, found));
        }
    }
    let data = check_length(bytes, HEADER, count, &[rows, cols], file)?;
    Ok(data.iter().map(|&p| f32::from(p) / 255.0).collect())
}

/// Parses an IDX label file (already inflated) of labels below `CLASSES`.
///
/// Checks the magic `0x00000801`, that the data is exactly `count` bytes, and that every label is
/// below `CLASSES`. Never panics. `file` names the input in errors.
///
/// # Errors
/// [`DataError::Invalid`] naming `file`, the field, the expected and the found value.
///
/// ```
/// use typed_cnn::data::parse_idx_labels;
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 2, 5, 0]; // magic, count 2, labels 5 and 0
/// assert_eq!(parse_idx_labels::<10>(&bytes, "tiny").unwrap(), [5, 0]);
/// let err = parse_idx_labels::<10>(&bytes[..9], "tiny").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "tiny: data length: expected count = 2 = 2 bytes after the 8-byte header, found 1 bytes"
/// );
/// ```
pub fn parse_idx_labels<const CLASSES: usize>(
    bytes: &[u8],
    file: &str,
) -> Result<Vec<u8>, DataError> {
    const HEADER: usize = 8;
    check_magic(bytes, LABELS_MAGIC, HEADER, file)?;
    let count = be_u32(bytes, 4, HEADER, file)?;
    let data = check_length(bytes, HEADER, count, &[], file)?;
    if let Some((i, &l)) = data.iter().enumerate().find(|(_, l)| usize::from(**l) >= CLASSES) {
        let expected = format!("0..={}", CLASSES.saturating_sub(1));
        return Err(DataError::invalid(file, format_args!("label {i}"), expected, l));
    }
    Ok(data.to_vec())
}

/// The MNIST handwritten digits: 28×28 grayscale images scaled to `[0, 1]`, 10 classes.
///
/// ```no_run
/// use typed_cnn::data::Mnist;
/// let (train, test) = Mnist::load("data/mnist")?;
/// assert_eq!((train.len(), test.len()), (60_000, 10_000));
/// # Ok::<(), typed_cnn::data::DataError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Mnist;

/// One MNIST split, 28×28 with 10 classes.
///
/// ```
/// assert_eq!(typed_cnn::data::MnistSet::IMAGE_LEN, 784); // 28·28
/// ```
pub type MnistSet = Dataset<1, 28, 28, 10>;

impl Mnist {
    /// The file names of the four IDX files, without `.gz`: train images, train labels, test
    /// images, test labels.
    ///
    /// ```
    /// assert_eq!(typed_cnn::data::Mnist::FILES[0], "train-images-idx3-ubyte");
    /// ```
    pub const FILES: [&str; 4] = [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ];

    /// Loads `(train, test)` from the four IDX files in `dir`, each either gzip'd (`name.gz`,
    /// preferred when both exist) or raw (`name`); gzip is recognised by its magic bytes, not by
    /// the extension.
    ///
    /// # Errors
    /// [`DataError::NotFound`] if neither form of a file exists, [`DataError::Io`] if reading
    /// fails, [`DataError::Invalid`] if the contents are not valid MNIST (see
    /// [`Mnist::parse`]).
    ///
    /// ```
    /// use typed_cnn::data::{DataError, Mnist};
    /// let err = Mnist::load("/nonexistent").unwrap_err();
    /// assert!(matches!(err, DataError::NotFound { .. }));
    /// assert!(err.to_string().contains("/nonexistent/train-images-idx3-ubyte.gz"));
    /// ```
    pub fn load(dir: impl AsRef<Path>) -> Result<(MnistSet, MnistSet), DataError> {
        let dir = dir.as_ref();
        let read = |name: &str| -> Result<(Vec<u8>, String), DataError> {
            let gz = dir.join(format!("{name}.gz"));
            let raw = dir.join(name);
            let path = if gz.is_file() {
                gz
            } else if raw.is_file() {
                raw
            } else {
                return Err(DataError::NotFound { tried: vec![gz, raw] });
            };
            Ok((read_file(&path)?, path.display().to_string()))
        };
        let [train_images, train_labels, test_images, test_labels] = Self::FILES;
        let train_images = read(train_images)?;
        let train_labels = read(train_labels)?;
        let train = Self::parse_inflated(&train_images, &train_labels)?;
        let test_images = read(test_images)?;
        let test_labels = read(test_labels)?;
        let test = Self::parse_inflated(&test_images, &test_labels)?;
        Ok((train, test))
    }

    /// One split from the bytes of an image file and a label file, each gzip'd or raw; the names
    /// are for error messages. This is what [`Mnist::load`] does after reading the files, and
    /// what a fuzzer calls.
    ///
    /// # Errors
    /// [`DataError::Invalid`]: a corrupt or oversized gzip stream, an invalid image file (see
    /// [`parse_idx_images`]) or label file (see [`parse_idx_labels`]), or image and label counts
    /// that differ.
    ///
    /// ```
    /// use typed_cnn::data::Mnist;
    /// let images = [&[0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28][..], &[0; 784]].concat();
    /// let labels = [0, 0, 8, 1, 0, 0, 0, 1, 7];
    /// let set = Mnist::parse(&images, "images", &labels, "labels").unwrap();
    /// assert_eq!((set.len(), set.label(0)), (1, 7));
    /// let labels = [0, 0, 8, 1, 0, 0, 0, 2, 7, 1];
    /// let err = Mnist::parse(&images, "images", &labels, "labels").unwrap_err();
    /// assert_eq!(err.to_string(), "labels: count: expected 1 (as in images), found 2");
    /// ```
    pub fn parse(
        images: &[u8],
        images_file: &str,
        labels: &[u8],
        labels_file: &str,
    ) -> Result<MnistSet, DataError> {
        let images = (decompress(images, images_file)?, images_file.to_string());
        let labels = (decompress(labels, labels_file)?, labels_file.to_string());
        Self::parse_inflated(&images, &labels)
    }

    fn parse_inflated(
        (images, images_file): &(Vec<u8>, String),
        (labels, labels_file): &(Vec<u8>, String),
    ) -> Result<MnistSet, DataError> {
        let pixels = parse_idx_images::<28, 28>(images, images_file)?;
        let labels = parse_idx_labels::<10>(labels, labels_file)?;
        let count = pixels.len() / MnistSet::IMAGE_LEN;
        if labels.len() != count {
            return Err(DataError::invalid(
                labels_file,
                "count",
                format_args!("{count} (as in {images_file})"),
                labels.len(),
            ));
        }
        Dataset::from_parts(pixels, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::decompress_limited;
    use std::io::Write;

    /// An IDX image file: magic, count, rows, cols (big-endian), then `data`.
    fn images(magic: u32, count: u32, rows: u32, cols: u32, data: &[u8]) -> Vec<u8> {
        [magic, count, rows, cols]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .chain(data.to_vec())
            .collect()
    }

    fn labels(count: u32, data: &[u8]) -> Vec<u8> {
        [0x801u32, count].iter().flat_map(|v| v.to_be_bytes()).chain(data.to_vec()).collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// Asserts that the message contains each part.
    fn assert_mentions(err: DataError, parts: &[&str]) {
        let msg = err.to_string();
        for part in parts {
            assert!(msg.contains(part), "{msg:?} does not mention {part:?}");
        }
    }

    #[test]
    fn two_images_scaled_by_1_255() {
        let mut data = vec![0u8; 2 * 784];
        data[0] = 255;
        data[784 + 783] = 51; // 51/255 = 0.2
        let set =
            Mnist::parse(&images(0x803, 2, 28, 28, &data), "i", &labels(2, &[3, 9]), "l").unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!((set.label(0), set.label(1)), (3, 9));
        assert_eq!(set.image(0)[0], 1.0);
        assert_eq!(set.image(1)[783], 0.2);
        assert_eq!(
            set.image(0)[1..].iter().sum::<f32>() + set.image(1)[..783].iter().sum::<f32>(),
            0.0
        );
    }

    #[test]
    fn gzip_and_raw_parse_alike() {
        let (i, l) = (images(0x803, 1, 28, 28, &[7; 784]), labels(1, &[4]));
        let raw = Mnist::parse(&i, "i", &l, "l").unwrap();
        assert_eq!(Mnist::parse(&gzip(&i), "i", &gzip(&l), "l").unwrap(), raw);
        assert_eq!(Mnist::parse(&gzip(&i), "i", &l, "l").unwrap(), raw);
    }

    #[test]
    fn wrong_magic() {
        let err = parse_idx_images::<28, 28>(&images(0x801, 0, 28, 28, &[]), "imgs").unwrap_err();
        assert_mentions(err, &["imgs", "magic", "expected 0x00000803", "found 0x00000801"]);
        let err = parse_idx_labels::<10>(&images(0x803, 0, 28, 28, &[]), "labs").unwrap_err();
        assert_mentions(err, &["labs", "magic", "expected 0x00000801", "found 0x00000803"]);
    }

    #[test]
    fn truncated_and_trailing_data() {
        // 2 images of 28·28 = 1568 bytes
        let err =
            parse_idx_images::<28, 28>(&images(0x803, 2, 28, 28, &[0; 1567]), "t.idx").unwrap_err();
        assert_mentions(err, &["t.idx", "data length", "2·28·28 = 1568", "found 1567 bytes"]);
        let err =
            parse_idx_images::<28, 28>(&images(0x803, 2, 28, 28, &[0; 1569]), "t.idx").unwrap_err();
        assert_mentions(err, &["t.idx", "data length", "2·28·28 = 1568", "found 1569 bytes"]);
        let err = parse_idx_labels::<10>(&labels(3, &[1, 2]), "l.idx").unwrap_err();
        assert_mentions(err, &["l.idx", "data length", "count = 3 = 3 bytes", "found 2 bytes"]);
        let err = parse_idx_labels::<10>(&labels(1, &[1, 2]), "l.idx").unwrap_err();
        assert_mentions(err, &["l.idx", "data length", "count = 1 = 1 bytes", "found 2 bytes"]);
    }

    #[test]
    fn short_header() {
        let err = parse_idx_images::<28, 28>(&[0, 0, 8, 3, 0, 0], "h").unwrap_err();
        assert_mentions(err, &["h", "header", "expected 16 bytes", "found 6 bytes"]);
        let err = parse_idx_labels::<10>(&[0, 0], "h").unwrap_err();
        assert_mentions(err, &["h", "header", "expected 8 bytes", "found 2 bytes"]);
        assert!(parse_idx_labels::<10>(&[], "h").is_err());
    }

    #[test]
    fn huge_count_is_an_error_not_an_allocation() {
        let err = parse_idx_images::<28, 28>(&images(0x803, u32::MAX, 28, 28, &[0; 10]), "big")
            .unwrap_err();
        // 4294967295·784 = 3367254359280
        assert_mentions(err, &["big", "data length", "= 3367254359280 bytes", "found 10 bytes"]);
    }

    #[test]
    fn count_mismatch() {
        let i = images(0x803, 2, 28, 28, &[0; 1568]);
        let err = Mnist::parse(&i, "imgs", &labels(3, &[1, 2, 3]), "labs").unwrap_err();
        assert_mentions(err, &["labs", "count", "expected 2 (as in imgs)", "found 3"]);
    }

    #[test]
    fn label_10() {
        let err = parse_idx_labels::<10>(&labels(3, &[9, 0, 10]), "labs").unwrap_err();
        assert_mentions(err, &["labs", "label 2", "expected 0..=9", "found 10"]);
    }

    #[test]
    fn rows_27_and_cols_29() {
        let err =
            parse_idx_images::<28, 28>(&images(0x803, 1, 27, 28, &[0; 756]), "imgs").unwrap_err();
        assert_mentions(err, &["imgs", "rows", "expected 28", "found 27"]);
        let err =
            parse_idx_images::<28, 28>(&images(0x803, 1, 28, 29, &[0; 812]), "imgs").unwrap_err();
        assert_mentions(err, &["imgs", "cols", "expected 28", "found 29"]);
    }

    #[test]
    fn corrupt_gzip() {
        let mut gz = gzip(&labels(1, &[1]));
        let n = gz.len();
        gz.truncate(n - 6);
        let err =
            Mnist::parse(&gzip(&images(0x803, 0, 28, 28, &[])), "i", &gz, "l.gz").unwrap_err();
        assert_mentions(err, &["l.gz", "gzip stream", "expected valid gzip data"]);
        assert!(decompress(&[0x1f, 0x8b], "x").is_err());
    }

    #[test]
    fn inflating_beyond_the_limit_is_an_error() {
        let zeros = gzip(&[0; 1001]);
        assert_eq!(decompress_limited(&zeros, "z", 1001).unwrap().len(), 1001);
        let err = decompress_limited(&zeros, "bomb.gz", 1000).unwrap_err();
        assert_mentions(err, &["bomb.gz", "size", "expected at most 1000 bytes", "more than 1000"]);
        let err = decompress_limited(&[0; 1001], "raw", 1000).unwrap_err();
        assert_mentions(err, &["raw", "size", "expected at most 1000 bytes", "found more than"]);
    }

    #[test]
    fn no_panic_on_prefixes_and_bit_flips() {
        let i = images(0x803, 2, 28, 28, &[9; 1568]);
        let l = labels(2, &[1, 2]);
        for cut in 0..40 {
            let _ = Mnist::parse(&i[..cut], "i", &l[..cut.min(l.len())], "l");
            let _ = Mnist::parse(&gzip(&i)[..cut], "i", &l, "l");
        }
        for byte in 0..16 {
            for bit in 0..8 {
                let mut i = i.clone();
                i[byte] ^= 1 << bit;
                assert!(Mnist::parse(&i, "i", &l, "l").is_err());
            }
        }
    }
}
