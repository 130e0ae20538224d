//! The UCI optical handwritten digits as a CSV: 65 integers a line, an 8×8 image then the label.

use std::path::Path;

use super::{DataError, Dataset, decompress, read_file};

/// The UCI optical handwritten digits: 8×8 images with values `0..=16` scaled by 1/16, 10
/// classes, 1,797 samples (scikit-learn's `load_digits`).
///
/// ```no_run
/// use typed_cnn::data::Digits;
/// let all = Digits::load("data/digits/digits.csv.gz")?;
/// let (train, test) = (all.subset(0..1500), all.subset(1500..all.len()));
/// assert_eq!((train.len(), test.len()), (1500, 297));
/// # Ok::<(), typed_cnn::data::DataError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Digits;

/// The digits dataset type: 8×8, one channel, 10 classes.
///
/// ```
/// assert_eq!(typed_cnn::data::DigitsSet::IMAGE_LEN, 64); // 8·8
/// ```
pub type DigitsSet = Dataset<1, 8, 8, 10>;

impl Digits {
    /// Loads the CSV at `path`, gzip'd or plain (gzip is recognised by its magic bytes).
    ///
    /// # Errors
    /// [`DataError::Io`] if reading fails, [`DataError::Invalid`] if the contents are not valid
    /// (see [`parse_digits_csv`]).
    ///
    /// ```
    /// use typed_cnn::data::{DataError, Digits};
    /// let err = Digits::load("/nonexistent/digits.csv").unwrap_err();
    /// assert!(matches!(err, DataError::Io { .. }));
    /// assert!(err.to_string().starts_with("/nonexistent/digits.csv: "));
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<DigitsSet, DataError> {
        let path = path.as_ref();
        parse_digits_csv(&read_file(path)?, &path.display().to_string())
    }
}

/// Parses the digits CSV from bytes (gzip'd or plain): lines of 65 comma-separated integers,
/// 64 pixel values `0..=16` (scaled by 1/16) then a label `0..=9`. Surrounding spaces and `\r`
/// are allowed; a final newline is optional. Never panics. `file` names the input in errors,
/// which name the line and column (both from 1).
///
/// # Errors
/// [`DataError::Invalid`] naming `file`, the line (and column), the expected and the found value.
///
/// ```
/// use typed_cnn::data::parse_digits_csv;
/// let line = format!("{}16,3\n", "0,".repeat(63)); // 63 zeros, a 16, label 3
/// let set = parse_digits_csv(line.as_bytes(), "d.csv").unwrap();
/// assert_eq!((set.len(), set.label(0), set.image(0)[63]), (1, 3, 1.0)); // 16/16
/// let bad = format!("{}17,3\n", "0,".repeat(63));
/// let err = parse_digits_csv(bad.as_bytes(), "d.csv").unwrap_err();
/// assert_eq!(err.to_string(), "d.csv: line 1 column 64: expected an integer 0..=16, found \"17\"");
/// ```
pub fn parse_digits_csv(bytes: &[u8], file: &str) -> Result<DigitsSet, DataError> {
    const COLUMNS: usize = 65;
    let text = decompress(bytes, file)?;
    let mut body = text.as_slice();
    if let Some(rest) = body.strip_suffix(b"\n") {
        body = rest;
    }
    let mut images = Vec::new();
    let mut labels = Vec::new();
    if body.is_empty() {
        return Dataset::from_parts(images, labels);
    }
    for (l, line) in body.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let columns = line.split(|&b| b == b',').count();
        if columns != COLUMNS {
            return Err(DataError::invalid(
                file,
                format_args!("line {}", l + 1),
                format_args!("{COLUMNS} columns"),
                format_args!("{columns} columns"),
            ));
        }
        for (c, field) in line.split(|&b| b == b',').enumerate() {
            let (max, what) = if c + 1 == COLUMNS { (9, "a label") } else { (16, "an integer") };
            let value = parse_small(field.trim_ascii()).filter(|&v| v <= max).ok_or_else(|| {
                DataError::invalid(
                    file,
                    format_args!("line {} column {}", l + 1, c + 1),
                    format_args!("{what} 0..={max}"),
                    format_args!("{:?}", shown(field)),
                )
            })?;
            if c + 1 == COLUMNS {
                labels.push(value);
            } else {
                images.push(f32::from(value) / 16.0);
            }
        }
    }
    Dataset::from_parts(images, labels)
}

/// A decimal integer with any number of leading zeros, or `None`; values of 4 digits and more
/// (at least 1000, beyond any valid field) are `None` too.
fn parse_small(field: &[u8]) -> Option<u8> {
    if field.is_empty() || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = &field[field.iter().position(|&d| d != b'0').unwrap_or(field.len())..];
    if significant.len() > 3 {
        return None;
    }
    let value = significant.iter().fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    u8::try_from(value).ok()
}

/// A field for an error message: at most 20 bytes, lossily decoded.
fn shown(field: &[u8]) -> String {
    let cut = &field[..field.len().min(20)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if field.len() > 20 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_mentions(err: DataError, parts: &[&str]) {
        let msg = err.to_string();
        for part in parts {
            assert!(msg.contains(part), "{msg:?} does not mention {part:?}");
        }
    }

    /// A CSV line: pixel `i` is `i mod 17`, then `label`.
    fn line(label: &str) -> String {
        let pixels: Vec<String> = (0..64).map(|i| (i % 17).to_string()).collect();
        format!("{},{label}", pixels.join(","))
    }

    #[test]
    fn two_lines_scaled_by_1_16() {
        let csv = format!("{}\r\n{}", line("9"), line(" 0 ")); // CRLF, spaces, no final newline
        let set = parse_digits_csv(csv.as_bytes(), "d").unwrap();
        assert_eq!((set.len(), set.label(0), set.label(1)), (2, 9, 0));
        // pixel 8 is 8/16, pixel 16 is 16/16, pixel 17 is 0
        assert_eq!((set.image(1)[8], set.image(1)[16], set.image(1)[17]), (0.5, 1.0, 0.0));
    }

    #[test]
    fn empty_input_is_an_empty_dataset() {
        assert!(parse_digits_csv(b"", "d").unwrap().is_empty());
        assert!(parse_digits_csv(b"\n", "d").unwrap().is_empty());
    }

    #[test]
    fn sixty_four_columns() {
        let cols: Vec<String> = (0..64).map(|_| "1".to_string()).collect();
        let csv = format!("{}\n{}\n", line("1"), cols.join(","));
        let err = parse_digits_csv(csv.as_bytes(), "d.csv").unwrap_err();
        assert_mentions(err, &["d.csv", "line 2", "expected 65 columns", "found 64 columns"]);
    }

    #[test]
    fn not_a_number() {
        let csv = line("1").replacen("2", "x2", 1); // column 3 holds 2
        let err = parse_digits_csv(csv.as_bytes(), "d.csv").unwrap_err();
        assert_mentions(err, &["d.csv", "line 1 column 3", "expected an integer 0..=16", "\"x2\""]);
        for bad in ["-1", "1.5", "", "99999999999"] {
            let csv = line("1").replacen("2", bad, 1);
            assert!(parse_digits_csv(csv.as_bytes(), "d").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn value_17() {
        let csv = format!("{}\n{}\n{}\n", line("1"), line("2"), line("3").replacen("16", "17", 1));
        let err = parse_digits_csv(csv.as_bytes(), "d.csv").unwrap_err();
        // pixel i holds i mod 17: 16 is pixel 16, column 17
        assert_mentions(
            err,
            &["d.csv", "line 3 column 17", "expected an integer 0..=16", "\"17\""],
        );
    }

    #[test]
    fn label_10() {
        let err = parse_digits_csv(line("10").as_bytes(), "d.csv").unwrap_err();
        assert_mentions(err, &["d.csv", "line 1 column 65", "expected a label 0..=9", "\"10\""]);
    }

    /// Found by tests/fuzz.rs: `0016` (16 with leading zeros) was refused as "not an integer
    /// 0..=16" because fields were capped at 3 characters.
    #[test]
    fn leading_zeros() {
        for (field, value) in
            [("0016", 1.0), ("00000000000000000000000000000016", 1.0), ("000", 0.0)]
        {
            let csv = format!("{field},{}7", "0,".repeat(63));
            let set = parse_digits_csv(csv.as_bytes(), "d").unwrap();
            assert_eq!((set.image(0)[0], set.label(0)), (value, 7), "{field}");
        }
        let csv = format!("{}00010", "0,".repeat(64)); // label 10 with leading zeros
        let err = parse_digits_csv(csv.as_bytes(), "d.csv").unwrap_err();
        assert_mentions(err, &["d.csv", "line 1 column 65", "expected a label 0..=9", "\"00010\""]);
        let csv = format!("0001000,{}7", "0,".repeat(63));
        assert!(parse_digits_csv(csv.as_bytes(), "d").is_err());
    }

    #[test]
    fn long_garbage_is_cut_in_the_message() {
        let csv = line("1").replacen("2", &"é".repeat(100), 1);
        let msg = parse_digits_csv(csv.as_bytes(), "d").unwrap_err().to_string();
        assert!(msg.len() < 120, "{msg}");
        assert!(parse_digits_csv(&[0xff, 0xfe, b',', b'\n'], "d").is_err());
    }
}
