//! The errors of [`super`] and the names of tensors, without allocation: a name is a chain of
//! borrowed segments while a network is built, and a fixed buffer inside an error.

use core::fmt;

/// A wrong length given to [`InferExt::infer`](super::InferExt::infer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InferError {
    /// `"input"` or `"workspace"`.
    pub what: &'static str,
    /// The length the network's types give (the workspace's minimum).
    pub expected: usize,
    /// The length given.
    pub found: usize,
}

impl fmt::Display for InferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, expected, found) = (self.what, self.expected, self.found);
        if what == "workspace" {
            write!(
                f,
                "the workspace has {found} elements, the network needs at least {expected} (Infer::WORKSPACE_LEN)"
            )
        } else {
            write!(f, "the {what} has {found} elements, the network's input type has {expected}")
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InferError {}

/// A tensor's name while a network is viewed: `prefix.segment`, as a chain of borrowed segments
/// (no allocation). [`Name::root`] is the empty prefix.
#[derive(Clone, Copy, Debug)]
pub struct Name<'a> {
    parent: Option<&'a Name<'a>>,
    segment: &'a str,
}

impl<'a> Name<'a> {
    /// The empty name, the prefix of a whole file.
    pub const fn root() -> Name<'static> {
        Name { parent: None, segment: "" }
    }

    /// `self.segment` (or `segment` at the root).
    pub fn join(&'a self, segment: &'a str) -> Name<'a> {
        Name { parent: Some(self), segment }
    }

    fn is_root(&self) -> bool {
        self.parent.is_none() && self.segment.is_empty()
    }

    /// Whether `key` is this name: the segments joined with dots.
    pub fn matches(&self, key: &str) -> bool {
        self.strip_from(key) == Some("")
    }

    /// `key` without this name's dotted segments at its end, or `None` if it does not end so.
    fn strip_from<'k>(&self, key: &'k str) -> Option<&'k str> {
        if self.is_root() {
            return Some(key);
        }
        let rest = key.strip_suffix(self.segment)?;
        match self.parent {
            Some(p) if !p.is_root() => p.strip_from(rest.strip_suffix('.')?),
            _ => Some(rest),
        }
    }
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.parent.filter(|p| !p.is_root()) {
            write!(f, "{p}.")?;
        }
        f.write_str(self.segment)
    }
}

/// Why [`View`](super::View) or [`SafeTensors::parse`](super::SafeTensors::parse) refused a weight file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ViewError {
    /// What is wrong.
    pub kind: ViewErrorKind,
    name: [u8; 64],
    name_len: u8,
}

/// The kinds of [`ViewError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewErrorKind {
    /// The file is not a safetensors file: `reason` says where it is broken.
    Format {
        /// What the parser found wrong, with the byte offset in `at`.
        reason: &'static str,
        /// Byte offset in the file.
        at: usize,
    },
    /// No tensor of this name.
    Missing,
    /// The tensor's dtype is not the network's element type.
    WrongDtype {
        /// The network's (`"F32"`).
        expected: &'static str,
    },
    /// The tensor's shape is not the layer's (the first 4 dimensions compared are shown).
    WrongShape {
        /// The layer's shape (up to 4 dimensions, then zeros; saturated at `u32::MAX`).
        expected: [u32; 4],
        /// The file's shape (up to 4 dimensions, then zeros; saturated at `u32::MAX`).
        found: [u32; 4],
        /// The ranks.
        ranks: (u8, u8),
    },
    /// The tensor's bytes are not aligned for the element type in memory: place the file with
    /// [`include_weights!`](crate::include_weights).
    Misaligned {
        /// The address's remainder modulo the element size.
        offset: usize,
    },
    /// This build's CPU is big-endian; safetensors files are little-endian.
    BigEndian,
}

impl ViewError {
    pub(crate) fn new(kind: ViewErrorKind, name: &dyn fmt::Display) -> Self {
        let mut e = ViewError { kind, name: [0; 64], name_len: 0 };
        let mut w = Truncating { buf: &mut e.name, len: 0 };
        let _ = fmt::write(&mut w, format_args!("{name}"));
        e.name_len = w.len as u8;
        e
    }

    /// The tensor's name (empty for an error in the file's format), cut at 64 bytes.
    pub fn name(&self) -> &str {
        let bytes = &self.name[..usize::from(self.name_len)];
        // cut at a character boundary by `Truncating`, so always valid
        core::str::from_utf8(bytes).unwrap_or("")
    }
}

/// A `fmt::Write` into a fixed buffer that drops what does not fit (at a character boundary).
struct Truncating<'b> {
    buf: &'b mut [u8; 64],
    len: usize,
}

impl fmt::Write for Truncating<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            let n = ch.len_utf8();
            if self.len + n > self.buf.len() {
                return Ok(());
            }
            ch.encode_utf8(&mut self.buf[self.len..]);
            self.len += n;
        }
        Ok(())
    }
}

impl fmt::Debug for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewError").field("kind", &self.kind).field("name", &self.name()).finish()
    }
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self.kind {
            ViewErrorKind::Format { reason, at } => {
                write!(f, "not a safetensors file: {reason} (at byte {at})")
            }
            ViewErrorKind::Missing => write!(f, "the weight file has no tensor `{name}`"),
            ViewErrorKind::WrongDtype { expected } => {
                write!(f, "tensor `{name}` is not of dtype {expected}, the network's element type")
            }
            ViewErrorKind::WrongShape { expected, found, ranks } => {
                let e = &expected[..usize::from(ranks.0).min(4)];
                let g = &found[..usize::from(ranks.1).min(4)];
                write!(f, "tensor `{name}` has shape {g:?} in the file, the layer's is {e:?}")
            }
            ViewErrorKind::Misaligned { offset } => write!(
                f,
                "tensor `{name}` starts {offset} bytes past an aligned address: place the file with typed_cnn::include_weights! (16-byte aligned)"
            ),
            ViewErrorKind::BigEndian => {
                write!(f, "safetensors files are little-endian and this CPU is not")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ViewError {}
