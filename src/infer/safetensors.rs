//! A safetensors reader that allocates nothing, for weights in flash: the 8-byte header length,
//! the JSON header (scanned in place, never copied), the tensors' bytes viewed in place.
//!
//! Format (<https://github.com/huggingface/safetensors>): `u64` little-endian header length `n`,
//! `n` bytes of JSON `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//! …, "__metadata__": {..}}`, then the data, offsets relative to its start.

use core::fmt;

use super::error::{Name, ViewError, ViewErrorKind};
use crate::Float;

/// The deepest nesting of JSON values the reader follows (in `__metadata__` and unknown fields).
const MAX_DEPTH: usize = 16;
/// The highest rank a tensor may have.
pub const MAX_RANK: usize = 8;

/// A safetensors file image in `&'static` memory (flash, or a leaked buffer), its header checked
/// once by [`SafeTensors::parse`]; tensors are found by name and viewed in place.
#[derive(Clone, Copy)]
pub struct SafeTensors {
    header: &'static [u8],
    data: &'static [u8],
    /// The number of tensors.
    count: usize,
}

impl fmt::Debug for SafeTensors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafeTensors({} tensors, {} data bytes)", self.count, self.data.len())
    }
}

/// One tensor of a [`SafeTensors`] file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The dtype as the file spells it (`F32`, `F64`, `I64`…), at most 8 bytes.
    dtype: [u8; 8],
    dtype_len: u8,
    /// The shape's first `rank` dimensions.
    pub shape: [usize; MAX_RANK],
    /// The number of dimensions.
    pub rank: usize,
    /// The tensor's bytes.
    pub data: &'static [u8],
}

impl TensorInfo {
    /// The dtype as the file spells it.
    pub fn dtype(&self) -> &str {
        core::str::from_utf8(&self.dtype[..usize::from(self.dtype_len)]).unwrap_or("?")
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape[..self.rank]
    }
}

fn format_error(reason: &'static str, at: usize) -> ViewError {
    ViewError::new(ViewErrorKind::Format { reason, at }, &"")
}

/// Bytes per element of the dtypes safetensors defines (`None`: not one of them).
fn dtype_size(dtype: &[u8]) -> Option<usize> {
    Some(match dtype {
        b"BOOL" | b"U8" | b"I8" | b"F8_E5M2" | b"F8_E4M3" => 1,
        b"I16" | b"U16" | b"F16" | b"BF16" => 2,
        b"I32" | b"U32" | b"F32" => 4,
        b"I64" | b"U64" | b"F64" => 8,
        _ => return None,
    })
}

impl SafeTensors {
    /// Checks the header of a file image: its length, its JSON, and every tensor's dtype,
    /// shape and byte range (within the data, of the size the shape and dtype give).
    ///
    /// # Errors
    /// [`ViewErrorKind::Format`] with the byte offset of the first thing wrong.
    ///
    /// # Panics
    /// Never: a malformed file is an error (tested on every truncation of a real file and on
    /// 2,000 random byte changes in its header).
    ///
    /// ```
    /// use typed_cnn::infer::{SafeTensors, ViewErrorKind};
    /// let mut file = Vec::new();
    /// let header = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    /// file.extend_from_slice(&(header.len() as u64).to_le_bytes());
    /// file.extend_from_slice(header);
    /// file.extend_from_slice(&[0; 8]);
    /// let file: &'static [u8] = file.leak();
    /// let st = SafeTensors::parse(file).unwrap();
    /// assert_eq!(st.len(), 1);
    /// let err = SafeTensors::parse(&file[..20]).unwrap_err();
    /// assert!(matches!(err.kind, ViewErrorKind::Format { .. }), "{err}");
    /// ```
    pub fn parse(file: &'static [u8]) -> Result<SafeTensors, ViewError> {
        if cfg!(target_endian = "big") {
            return Err(ViewError::new(ViewErrorKind::BigEndian, &""));
        }
        let Some((len, rest)) = file.split_first_chunk::<8>() else {
            return Err(format_error("shorter than the 8-byte header length", file.len()));
        };
        let len = u64::from_le_bytes(*len);
        if len > rest.len() as u64 {
            return Err(format_error("the header length runs past the end of the file", 0));
        }
        let (header, data) = rest.split_at(len as usize);
        if core::str::from_utf8(header).is_err() {
            return Err(format_error("the header is not UTF-8", 8));
        }
        let mut st = SafeTensors { header, data, count: 0 };
        let mut count = 0;
        st.scan(&mut |_, _| {
            count += 1;
            false
        })?;
        st.count = count;
        Ok(st)
    }

    /// A file's bytes copied once into a buffer aligned for `f64` that lives for the rest of
    /// the program (it is leaked), then [`SafeTensors::parse`]d: for viewing a file read at run
    /// time on a desktop; a firmware views its flash with
    /// [`include_weights!`](crate::include_weights) instead.
    ///
    /// # Errors
    /// As [`SafeTensors::parse`].
    ///
    /// ```
    /// use typed_cnn::infer::SafeTensors;
    /// use typed_cnn::prelude::*;
    /// let bytes = typed_cnn::weights::to_bytes(&Linear::<2, 1>::init(&mut rand::rng()))?;
    /// let file = SafeTensors::leak(&bytes)?;
    /// let fc = Linear::<2, 1>::view(&file)?; // its weights are the leaked buffer's
    /// assert_eq!(file.len(), 2);
    /// # let _ = fc;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn leak(bytes: &[u8]) -> Result<SafeTensors, ViewError> {
        SafeTensors::parse(leak_aligned(bytes))
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the file holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The tensor called `name`.
    ///
    /// # Errors
    /// [`ViewErrorKind::Missing`] if there is none.
    pub fn tensor(&self, name: &Name) -> Result<TensorInfo, ViewError> {
        let mut found = None;
        self.scan(&mut |key, info| {
            let hit = key_matches(key, name);
            if hit {
                found = Some(info);
            }
            hit
        })?;
        found.ok_or_else(|| ViewError::new(ViewErrorKind::Missing, name))
    }

    /// The values of tensor `name`, which must have element type `E` and shape `shape`, viewed
    /// in place.
    ///
    /// # Errors
    /// [`ViewError`] if it is missing, of another dtype or shape, or not aligned for `E`.
    pub fn values<E: Float>(
        &self,
        name: &Name,
        shape: &[usize],
    ) -> Result<&'static [E], ViewError> {
        let t = self.tensor(name)?;
        if t.dtype() != E::DTYPE {
            return Err(ViewError::new(ViewErrorKind::WrongDtype { expected: E::DTYPE }, name));
        }
        if t.shape() != shape {
            let mut expected = [0; 4];
            let mut found = [0; 4];
            let narrow = |d: &usize| u32::try_from(*d).unwrap_or(u32::MAX);
            for (e, s) in expected.iter_mut().zip(shape) {
                *e = narrow(s);
            }
            for (f, s) in found.iter_mut().zip(t.shape()) {
                *f = narrow(s);
            }
            let ranks = (shape.len().min(255) as u8, t.rank as u8);
            return Err(ViewError::new(ViewErrorKind::WrongShape { expected, found, ranks }, name));
        }
        E::view_bytes(t.data).ok_or_else(|| {
            let offset = t.data.as_ptr() as usize % size_of::<E>();
            ViewError::new(ViewErrorKind::Misaligned { offset }, name)
        })
    }

    /// Calls `f(raw key, tensor)` for every tensor (not `__metadata__`) until it returns `true`,
    /// checking the header's syntax and every tensor's entry on the way.
    fn scan(&self, f: &mut dyn FnMut(&[u8], TensorInfo) -> bool) -> Result<(), ViewError> {
        let mut c = Cursor { s: self.header, pos: 0 };
        c.ws();
        c.expect(b'{', "the header is not a JSON object")?;
        c.ws();
        if c.peek() == Some(b'}') {
            c.pos += 1;
            return c.end();
        }
        loop {
            c.ws();
            let key = c.string()?;
            c.ws();
            c.expect(b':', "expected `:` after a key")?;
            c.ws();
            if key == b"__metadata__" {
                c.skip_value(0)?;
            } else {
                let info = self.entry(&mut c)?;
                if f(key, info) {
                    return Ok(());
                }
            }
            c.ws();
            match c.next() {
                Some(b',') => continue,
                Some(b'}') => return c.end(),
                _ => return Err(c.error("expected `,` or `}` after a tensor")),
            }
        }
    }

    /// One tensor's `{"dtype": …, "shape": […], "data_offsets": [b, e]}`, checked.
    fn entry(&self, c: &mut Cursor) -> Result<TensorInfo, ViewError> {
        let start = c.pos;
        c.expect(b'{', "a tensor's entry is not an object")?;
        let (mut dtype, mut shape, mut offsets) = (None, None, None);
        loop {
            c.ws();
            let field = c.string()?;
            c.ws();
            c.expect(b':', "expected `:` after a field")?;
            c.ws();
            match field {
                b"dtype" => dtype = Some(c.string()?),
                b"shape" => {
                    let mut dims = [0usize; MAX_RANK];
                    let rank = c.numbers(&mut dims, "a tensor has more than 8 dimensions")?;
                    shape = Some((dims, rank));
                }
                b"data_offsets" => {
                    let mut two = [0usize; 2];
                    if c.numbers(&mut two, "data_offsets has more than 2 numbers")? != 2 {
                        return Err(c.error("data_offsets has fewer than 2 numbers"));
                    }
                    offsets = Some(two);
                }
                _ => c.skip_value(0)?,
            }
            c.ws();
            match c.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(c.error("expected `,` or `}` in a tensor's entry")),
            }
        }
        let at = start + 8;
        let (Some(dtype), Some((shape, rank)), Some([begin, end])) = (dtype, shape, offsets) else {
            return Err(format_error("a tensor lacks dtype, shape or data_offsets", at));
        };
        if dtype.len() > 8 {
            return Err(format_error("a dtype longer than 8 bytes", at));
        }
        if begin > end || end > self.data.len() {
            return Err(format_error("a tensor's data_offsets run outside the data", at));
        }
        if let Some(size) = dtype_size(dtype) {
            let count = shape[..rank].iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if count.and_then(|n| n.checked_mul(size)) != Some(end - begin) {
                return Err(format_error("a tensor's byte length is not its shape's", at));
            }
        }
        let mut d = [0u8; 8];
        d[..dtype.len()].copy_from_slice(dtype);
        Ok(TensorInfo {
            dtype: d,
            dtype_len: dtype.len() as u8,
            shape,
            rank,
            data: &self.data[begin..end],
        })
    }
}

/// `bytes` copied once into a leaked buffer aligned for `f64` (8 bytes), for the rest of the
/// program: [`SafeTensors::leak`]'s copy, and the tests' aligned images.
#[cfg(feature = "std")]
pub(crate) fn leak_aligned(bytes: &[u8]) -> &'static [u8] {
    let words: &'static mut [u64] = vec![0u64; bytes.len().div_ceil(8)].leak();
    let all: &'static mut [u8] = bytemuck::cast_slice_mut(words);
    all[..bytes.len()].copy_from_slice(bytes);
    &all[..bytes.len()]
}

/// Whether a raw JSON key (escapes undecoded) is `name`.
fn key_matches(raw: &[u8], name: &Name) -> bool {
    if !raw.contains(&b'\\') {
        return core::str::from_utf8(raw).is_ok_and(|k| name.matches(k));
    }
    let mut buf = [0u8; 256];
    let mut len = 0;
    let mut i = 0;
    while i < raw.len() {
        let (ch, used) = match raw[i] {
            b'\\' => match decode_escape(&raw[i..]) {
                Some(x) => x,
                None => return false,
            },
            _ => {
                let n = utf8_len(raw[i]);
                match raw.get(i..i + n).and_then(|b| core::str::from_utf8(b).ok()) {
                    Some(s) => (s.chars().next().unwrap_or('\u{fffd}'), n),
                    None => return false,
                }
            }
        };
        if len + ch.len_utf8() > buf.len() {
            return false; // longer than any name a network of ours builds
        }
        ch.encode_utf8(&mut buf[len..]);
        len += ch.len_utf8();
        i += used;
    }
    core::str::from_utf8(&buf[..len]).is_ok_and(|k| name.matches(k))
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    let s = core::str::from_utf8(b.get(..4)?).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// The character of the escape at the start of `s` (`\n`, `\u00e9`, a surrogate pair…) and the
/// bytes it takes.
fn decode_escape(s: &[u8]) -> Option<(char, usize)> {
    Some(match *s.get(1)? {
        b'"' => ('"', 2),
        b'\\' => ('\\', 2),
        b'/' => ('/', 2),
        b'b' => ('\u{8}', 2),
        b'f' => ('\u{c}', 2),
        b'n' => ('\n', 2),
        b'r' => ('\r', 2),
        b't' => ('\t', 2),
        b'u' => {
            let hi = hex4(s.get(2..)?)?;
            if (0xD800..0xDC00).contains(&hi) {
                if s.get(6..8)? != b"\\u" {
                    return None;
                }
                let lo = hex4(s.get(8..)?)?;
                if !(0xDC00..0xE000).contains(&lo) {
                    return None;
                }
                (char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?, 12)
            } else {
                (char::from_u32(hi)?, 6)
            }
        }
        _ => return None,
    })
}

/// A position in the header.
struct Cursor<'s> {
    s: &'s [u8],
    pos: usize,
}

impl<'s> Cursor<'s> {
    fn error(&self, reason: &'static str) -> ViewError {
        format_error(reason, self.pos + 8)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        self.pos += usize::from(b.is_some());
        b
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8, reason: &'static str) -> Result<(), ViewError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    /// Only spaces after the top-level object (safetensors pads the header with them).
    fn end(&mut self) -> Result<(), ViewError> {
        self.ws();
        if self.pos == self.s.len() {
            Ok(())
        } else {
            Err(self.error("bytes after the header's object"))
        }
    }

    /// A string's raw bytes between the quotes (escapes checked, not decoded).
    fn string(&mut self) -> Result<&'s [u8], ViewError> {
        self.expect(b'"', "expected a string")?;
        let start = self.pos;
        loop {
            match self.next() {
                None => return Err(self.error("a string runs past the header's end")),
                Some(b'"') => return Ok(&self.s[start..self.pos - 1]),
                Some(b'\\') => {
                    let (_, used) = decode_escape(&self.s[self.pos - 1..])
                        .ok_or_else(|| self.error("a bad escape in a string"))?;
                    self.pos += used - 1;
                }
                Some(b) if b < 0x20 => return Err(self.error("a control character in a string")),
                Some(_) => {}
            }
        }
    }

    /// A non-negative integer.
    fn number(&mut self) -> Result<usize, ViewError> {
        let start = self.pos;
        let mut n: usize = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(d - b'0')))
                .ok_or_else(|| self.error("a number too large"))?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("expected a non-negative integer"));
        }
        Ok(n)
    }

    /// `[n, …]` into `out`; its count, or `too_many` if it has more.
    fn numbers(&mut self, out: &mut [usize], too_many: &'static str) -> Result<usize, ViewError> {
        self.expect(b'[', "expected `[`")?;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(0);
        }
        let mut count = 0;
        loop {
            self.ws();
            let n = self.number()?;
            *out.get_mut(count).ok_or_else(|| self.error(too_many))? = n;
            count += 1;
            self.ws();
            match self.next() {
                Some(b',') => continue,
                Some(b']') => return Ok(count),
                _ => return Err(self.error("expected `,` or `]` in a list of numbers")),
            }
        }
    }

    /// Any JSON value, checked and skipped (`__metadata__`, fields of later versions).
    fn skip_value(&mut self, depth: usize) -> Result<(), ViewError> {
        if depth > MAX_DEPTH {
            return Err(self.error("values nested too deeply"));
        }
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(open @ (b'{' | b'[')) => {
                self.pos += 1;
                let close = if open == b'{' { b'}' } else { b']' };
                self.ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if open == b'{' {
                        self.string()?;
                        self.ws();
                        self.expect(b':', "expected `:` after a key")?;
                        self.ws();
                    }
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.next() {
                        Some(b',') => continue,
                        Some(c) if c == close => return Ok(()),
                        _ => return Err(self.error("expected `,` or a closing bracket")),
                    }
                }
            }
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => {
                while matches!(self.peek(), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.pos += 1;
                }
                Ok(())
            }
            _ => Err(self.error("expected a JSON value")),
        }
    }

    fn word(&mut self, w: &[u8]) -> Result<(), ViewError> {
        if self.s[self.pos..].starts_with(w) {
            self.pos += w.len();
            Ok(())
        } else {
            Err(self.error("expected a JSON value"))
        }
    }
}
