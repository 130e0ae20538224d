//! Weight files in the [safetensors](https://huggingface.co/docs/safetensors) format, with
//! PyTorch's state-dict names, shapes and dtypes.
//!
//! A model saved here loads in PyTorch into the same `nn.Sequential` architecture with
//! `model.load_state_dict(safetensors.torch.load_file(path))`, and a file written that way from
//! PyTorch loads here: tensor names are the ones [`Params::visit`] and
//! [`Params::visit_buffers`] give (`"0.0.weight"`, `"3.bias"`), parameters and float buffers are
//! stored in the model's element type (`F32` or `F64`, little-endian, row-major), and a counter
//! buffer (batch norm's `num_batches_tracked`) is an `I64` scalar of shape `[]`, as PyTorch
//! stores it.
//!
//! ```
//! use typed_cnn::prelude::*;
//! use typed_cnn::weights;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! type Net = (Conv2d<1, 2, 3>, Relu, Flatten, Linear<8, 3>);
//! let trained: Net = Init::init(&mut StdRng::seed_from_u64(1));
//! let file = format!("typed_cnn_weights_module_example_{}.safetensors", std::process::id());
//! let path = std::env::temp_dir().join(file);
//! weights::save(&trained, &path).unwrap();
//!
//! let mut fresh: Net = Init::init(&mut StdRng::seed_from_u64(2));
//! weights::load(&mut fresh, &path).unwrap();
//! assert_eq!(fresh, trained);
//! # std::fs::remove_file(&path).unwrap();
//! ```
//!
//! Loading is **strict**, like PyTorch's `load_state_dict(strict=True)`: every parameter and
//! buffer of the model must be in the file with its exact shape and dtype, and every tensor of the
//! file must belong to the model. The one exception is PyTorch's own: a counter buffer
//! (`num_batches_tracked`) missing from the file is tolerated and keeps the model's value.
//! Loading is all-or-nothing: the whole file is checked before anything is written into the
//! model, so a failed load leaves the model unchanged.
//!
//! A truncated or corrupt file is a [`WeightsError::Format`] error, never a panic. Before the
//! header is parsed, its 8-byte length field is checked against the number of bytes that follow
//! it (so a length of `u64::MAX` is reported as such). `safetensors` itself then rejects, without
//! allocating from any of these numbers: files shorter than 8 bytes, header lengths over 100 MB
//! or past the end of the file, headers that are not UTF-8 or not JSON, data offsets that do not
//! tile the data from 0 without gaps, a tensor whose byte size is not its dtype size times its
//! shape (with overflow checks), and data that does not end exactly at the end of the file.
//!
//! [`StateDict`] is the same format without a model: named tensors for optimizer checkpoints and
//! other state, saved and loaded with [`save_state_dict`] and [`load_state_dict`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::Float;
use crate::module::{Buffer, BufferMut, Params};

/// What went wrong reading or writing a weight file. Every message starts with the file name
/// (or the name given to [`from_bytes`]) and names the tensor, what was expected and what was
/// found.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::weights::{self, WeightsError};
/// let small = Linear::<2, 1>::init(&mut rand::rng());
/// let bytes = weights::to_bytes(&small).unwrap();
/// let mut big = Linear::<3, 1>::init(&mut rand::rng());
/// let err = weights::from_bytes(&mut big, &bytes, "fc.safetensors").unwrap_err();
/// assert!(matches!(err, WeightsError::ShapeMismatch { .. }));
/// assert_eq!(
///     err.to_string(),
///     r#"fc.safetensors: tensor "weight": expected shape [1, 3], found [1, 2]"#
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WeightsError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (truncated, bad header length, bad JSON,
    /// offsets beyond the data: `message` starts with "not a valid safetensors file: " and ends
    /// with safetensors' own error text where it found the problem), or a counter is out of range
    /// (negative in a file, or above `i64::MAX` when saving).
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A parameter or buffer of the model is not in the file.
    Missing {
        /// The file.
        file: String,
        /// The tensor name.
        tensor: String,
    },
    /// The file holds a tensor that the model does not have.
    Unexpected {
        /// The file.
        file: String,
        /// The tensor name.
        tensor: String,
    },
    /// A tensor has another shape in the file than in the model.
    // Not `Shape`: a second item named `Shape` anywhere in the crate makes rustc print
    // `typed_cnn::shape::Shape<…>` in full in every compile-time shape error (it trims paths only
    // for unique names); the ui suite caught it.
    ShapeMismatch {
        /// The file.
        file: String,
        /// The tensor name.
        tensor: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A tensor has another dtype in the file than the model's (`F32`, `F64`, or `I64` for a
    /// counter).
    Dtype {
        /// The file.
        file: String,
        /// The tensor name.
        tensor: String,
        /// The dtype the model needs.
        expected: String,
        /// The dtype in the file.
        found: String,
    },
    /// A [`StateDict`] entry to be saved has a number of values that its shape does not hold.
    Length {
        /// The file.
        file: String,
        /// The tensor name.
        tensor: String,
        /// The entry's shape.
        shape: Vec<usize>,
        /// The number of values.
        found: usize,
    },
    /// Two tensors to be saved (or a model's parameters and buffers) share a name.
    Duplicate {
        /// The file.
        file: String,
        /// The tensor name.
        tensor: String,
    },
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Format { file, message } => write!(f, "{file}: {message}"),
            Self::Length { file, tensor, shape, found } => write!(
                f,
                "{file}: tensor \"{tensor}\": shape {shape:?} holds {} values, found {found}",
                shape.iter().product::<usize>()
            ),
            Self::Missing { file, tensor } => {
                write!(f, "{file}: missing tensor \"{tensor}\" (in the model, not in the file)")
            }
            Self::Unexpected { file, tensor } => {
                write!(f, "{file}: unexpected tensor \"{tensor}\" (in the file, not in the model)")
            }
            Self::ShapeMismatch { file, tensor, expected, found } => {
                write!(
                    f,
                    "{file}: tensor \"{tensor}\": expected shape {expected:?}, found {found:?}"
                )
            }
            Self::Dtype { file, tensor, expected, found } => {
                write!(f, "{file}: tensor \"{tensor}\": expected dtype {expected}, found {found}")
            }
            Self::Duplicate { file, tensor } => {
                write!(f, "{file}: tensor name \"{tensor}\" occurs twice")
            }
        }
    }
}

impl std::error::Error for WeightsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The data of one [`Entry`]: float values in row-major order, or a counter.
#[derive(Clone, Debug, PartialEq)]
pub enum EntryData<E> {
    /// Float values (parameters, running statistics, optimizer moments), stored in `E`'s dtype.
    Values(Vec<E>),
    /// A counter (`num_batches_tracked`, an optimizer's step count), stored as an `I64` scalar
    /// of shape `[]`.
    Count(u64),
}

/// One named tensor of a [`StateDict`].
///
/// ```
/// use typed_cnn::weights::{Entry, EntryData};
/// let m = Entry::values("exp_avg.0.weight", vec![2, 3], vec![0.0f32; 6]);
/// assert_eq!(m.data, EntryData::Values(vec![0.0; 6]));
/// let t = Entry::<f32>::count("step", 10);
/// assert_eq!(t.shape, Vec::<usize>::new()); // a scalar, as PyTorch stores counters
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<E> {
    /// The tensor's name in the file.
    pub name: String,
    /// The shape; its product must be the number of values (`[]` for a count).
    pub shape: Vec<usize>,
    /// The values or the count.
    pub data: EntryData<E>,
}

impl<E> Entry<E> {
    /// A float tensor.
    ///
    /// ```
    /// use typed_cnn::weights::Entry;
    /// let e = Entry::values("bias", vec![2], vec![0.5f64, -0.5]);
    /// assert_eq!((e.name.as_str(), e.shape.as_slice()), ("bias", &[2][..]));
    /// ```
    pub fn values(name: impl Into<String>, shape: Vec<usize>, values: Vec<E>) -> Self {
        Self { name: name.into(), shape, data: EntryData::Values(values) }
    }
    /// A counter, of shape `[]`.
    ///
    /// ```
    /// use typed_cnn::weights::{Entry, EntryData};
    /// let e = Entry::<f32>::count("step", 3);
    /// assert_eq!(e.data, EntryData::Count(3));
    /// ```
    pub fn count(name: impl Into<String>, count: u64) -> Self {
        Self { name: name.into(), shape: Vec::new(), data: EntryData::Count(count) }
    }
}

/// Named tensors with string metadata: the content of a safetensors file, independent of any
/// model. Weight files hold a model's parameters and buffers ([`StateDict::from_model`]);
/// optimizer checkpoints can hold anything else (moments named after the parameters, a step
/// count…).
///
/// Entries keep the order they were pushed in; a file written by [`save_state_dict`] stores them
/// sorted by name (safetensors' order, as PyTorch writes it), and [`load_state_dict`] returns them
/// in the file's order. Names must be unique.
///
/// ```
/// use typed_cnn::weights::{self, Entry, EntryData, StateDict};
/// let mut state = StateDict::<f32>::new();
/// state.entries.push(Entry::values("exp_avg.0.weight", vec![2, 2], vec![0.1, 0.2, 0.3, 0.4]));
/// state.entries.push(Entry::count("step", 7));
/// let bytes = weights::state_dict_to_bytes(&state).unwrap();
///
/// let back = weights::state_dict_from_bytes::<f32>(&bytes, "adam.safetensors").unwrap();
/// assert_eq!(back.get("step").unwrap().data, EntryData::Count(7));
/// assert_eq!(back.get("exp_avg.0.weight"), state.get("exp_avg.0.weight"));
/// assert_eq!(back.metadata["format"], "pt");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StateDict<E> {
    /// The tensors.
    pub entries: Vec<Entry<E>>,
    /// String metadata, written as the file's `__metadata__` (omitted when empty).
    /// [`StateDict::new`] and [`StateDict::from_model`] start with `"format": "pt"`, which is
    /// what `safetensors.torch` writes and tools look for.
    pub metadata: BTreeMap<String, String>,
}

impl<E: Float> Default for StateDict<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Float> StateDict<E> {
    /// No entries, and the metadata `"format": "pt"`.
    ///
    /// ```
    /// use typed_cnn::weights::StateDict;
    /// let state = StateDict::<f32>::new();
    /// assert!(state.entries.is_empty());
    /// assert_eq!(state.metadata["format"], "pt");
    /// ```
    pub fn new() -> Self {
        let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        Self { entries: Vec::new(), metadata }
    }

    /// A copy of the model's parameters (in [`Params::visit`] order) followed by its buffers (in
    /// [`Params::visit_buffers`] order), with the metadata `"format": "pt"`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// use typed_cnn::weights::StateDict;
    /// let net: (Linear<4, 3>, Relu, Linear<3, 2>) = Init::init(&mut rand::rng());
    /// let state = StateDict::from_model(&net);
    /// let names: Vec<_> = state.entries.iter().map(|e| e.name.as_str()).collect();
    /// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    /// assert_eq!(state.get("2.weight").unwrap().shape, [2, 3]);
    /// ```
    pub fn from_model<M: Params<E>>(model: &M) -> Self {
        let mut state = Self::new();
        model.visit("", &mut |name, shape, values| {
            state.entries.push(Entry::values(name, shape.to_vec(), values.to_vec()));
        });
        model.visit_buffers("", &mut |name, shape, buffer| {
            state.entries.push(match buffer {
                Buffer::Values(values) => Entry::values(name, shape.to_vec(), values.to_vec()),
                Buffer::Count(count) => Entry::count(name, count),
            });
        });
        state
    }

    /// The entry named `name`, if any.
    ///
    /// ```
    /// use typed_cnn::weights::{Entry, StateDict};
    /// let mut state = StateDict::<f64>::new();
    /// state.entries.push(Entry::count("step", 1));
    /// assert!(state.get("step").is_some());
    /// assert!(state.get("steps").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Entry<E>> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// The safetensors dtype of `E`.
fn float_dtype<E: Float>() -> Dtype {
    if E::DTYPE == "F32" { Dtype::F32 } else { Dtype::F64 }
}

/// `values` as little-endian bytes of `E`'s dtype.
fn encode<E: Float>(values: &[E]) -> Vec<u8> {
    if E::DTYPE == "F32" {
        // Exact: an `f32` converted to `f64` and back is itself.
        values.iter().flat_map(|v| (v.to_f64() as f32).to_le_bytes()).collect()
    } else {
        values.iter().flat_map(|v| v.to_f64().to_le_bytes()).collect()
    }
}

/// Little-endian bytes of `E`'s dtype into `out` (`bytes.len()` is `out.len()` times the size).
fn decode_into<E: Float>(bytes: &[u8], out: &mut [E]) {
    if E::DTYPE == "F32" {
        for (v, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = E::from_f64(f32::from_le_bytes(b.try_into().expect("4 bytes")).into());
        }
    } else {
        for (v, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
            *v = E::from_f64(f64::from_le_bytes(b.try_into().expect("8 bytes")));
        }
    }
}

/// The size in bytes of one element of `E`.
fn float_size<E: Float>() -> usize {
    float_dtype::<E>().bitsize() / 8
}

/// Serializes a state dict (checking names for duplicates and shapes against lengths).
fn serialize<E: Float>(state: &StateDict<E>, file: &str) -> Result<Vec<u8>, WeightsError> {
    let mut seen = HashSet::new();
    let mut bytes = Vec::with_capacity(state.entries.len());
    for entry in &state.entries {
        if !seen.insert(entry.name.as_str()) {
            return Err(WeightsError::Duplicate { file: file.into(), tensor: entry.name.clone() });
        }
        bytes.push(match &entry.data {
            EntryData::Values(values) => {
                let size = entry.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                if size != Some(values.len()) {
                    return Err(WeightsError::Length {
                        file: file.into(),
                        tensor: entry.name.clone(),
                        shape: entry.shape.clone(),
                        found: values.len(),
                    });
                }
                (float_dtype::<E>(), encode(values))
            }
            EntryData::Count(count) => {
                let count = i64::try_from(*count).map_err(|_| WeightsError::Format {
                    file: file.into(),
                    message: format!("tensor \"{}\": count {count} exceeds I64", entry.name),
                })?;
                (Dtype::I64, count.to_le_bytes().to_vec())
            }
        });
    }
    let format_error = |message: String| WeightsError::Format { file: file.into(), message };
    let mut views = Vec::with_capacity(bytes.len());
    for (entry, (dtype, data)) in state.entries.iter().zip(&bytes) {
        // A count is a scalar whatever shape the entry claims, as PyTorch stores it.
        let shape = if *dtype == Dtype::I64 { Vec::new() } else { entry.shape.clone() };
        // Cannot fail: lengths and shapes were checked above.
        let view = TensorView::new(*dtype, shape, data).map_err(|e| format_error(e.to_string()))?;
        views.push((entry.name.as_str(), view));
    }
    let metadata = (!state.metadata.is_empty())
        .then(|| state.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    safetensors::serialize(views, metadata).map_err(|e| format_error(e.to_string()))
}

/// A [`WeightsError::Format`] for a file that is not valid safetensors.
fn invalid(file: &str, what: impl fmt::Display) -> WeightsError {
    WeightsError::Format {
        file: file.into(),
        message: format!("not a valid safetensors file: {what}"),
    }
}

/// Checks the header length against the size before safetensors reads the header, then parses.
fn parse<'a>(bytes: &'a [u8], file: &str) -> Result<SafeTensors<'a>, WeightsError> {
    let format_error = |message: String| invalid(file, message);
    let Some(len_field) = bytes.first_chunk::<8>() else {
        return Err(format_error(format!(
            "{} bytes, too short for the 8-byte header length",
            bytes.len()
        )));
    };
    let header_len = u64::from_le_bytes(*len_field);
    let available = (bytes.len() - 8) as u64;
    if header_len > available {
        return Err(format_error(format!(
            "the header length field says {header_len} bytes, but only {available} bytes follow it"
        )));
    }
    check_tensors(&bytes[8..8 + header_len as usize], available - header_len, file)?;
    SafeTensors::deserialize(bytes).map_err(|e| format_error(e.to_string()))
}

/// Reads the JSON header and checks every tensor's `data_offsets` against the data that follows
/// the header and against its shape and dtype, before safetensors sees the file: the errors name
/// the tensor, and safetensors 0.8 is never handed offsets near 2^64 (its
/// `buffer_end + 8 + n` is unchecked and panics under overflow checks). A header that is not
/// JSON, or fields of unexpected types, are left to safetensors' own (stricter) parser.
fn check_tensors(header: &[u8], data_len: u64, file: &str) -> Result<(), WeightsError> {
    let Ok(serde_json::Value::Object(tensors)) = serde_json::from_slice(header) else {
        return Ok(());
    };
    for (name, info) in tensors.iter().filter(|(name, _)| *name != "__metadata__") {
        let offsets: Option<Vec<u64>> = info
            .get("data_offsets")
            .and_then(|o| o.as_array())
            .and_then(|o| o.iter().map(|v| v.as_u64()).collect());
        let Some(&[start, end]) = offsets.as_deref() else { continue };
        if start > end || end > data_len {
            return Err(invalid(
                file,
                format!(
                    "tensor \"{name}\": data_offsets [{start}, {end}]: expected a range within \
                     the {data_len} bytes of data after the header"
                ),
            ));
        }
        let dtype_size = info.get("dtype").and_then(|d| d.as_str()).and_then(|d| match d {
            "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => Some(1u64),
            "I16" | "U16" | "F16" | "BF16" => Some(2),
            "I32" | "U32" | "F32" => Some(4),
            "I64" | "U64" | "F64" | "C64" => Some(8),
            _ => None,
        });
        let shape: Option<Vec<u64>> = info
            .get("shape")
            .and_then(|s| s.as_array())
            .and_then(|s| s.iter().map(|d| d.as_u64()).collect());
        if let (Some(size), Some(shape)) = (dtype_size, shape) {
            let need = shape.iter().try_fold(size, |a, &d| a.checked_mul(d));
            if need != Some(end - start) {
                let need = need.map_or("more than 2^64".to_string(), |n| n.to_string());
                return Err(invalid(
                    file,
                    format!(
                        "tensor \"{name}\": shape {shape:?} needs {need} bytes, but its \
                         data_offsets [{start}, {end}] hold {}",
                        end - start
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// What a model needs of one tensor.
enum Want {
    /// Float values of this shape.
    Values(Vec<usize>),
    /// A counter (`I64`, shape `[]`).
    Count,
}

/// Checks one file tensor against what the model needs; for a counter, returns its value.
fn check(
    view: &TensorView<'_>,
    name: &str,
    want: &Want,
    float: Dtype,
    file: &str,
) -> Result<Option<u64>, WeightsError> {
    let (dtype, shape): (Dtype, &[usize]) = match want {
        Want::Values(shape) => (float, shape),
        Want::Count => (Dtype::I64, &[]),
    };
    if view.dtype() != dtype {
        return Err(WeightsError::Dtype {
            file: file.into(),
            tensor: name.into(),
            expected: dtype.to_string(),
            found: view.dtype().to_string(),
        });
    }
    if view.shape() != shape {
        return Err(WeightsError::ShapeMismatch {
            file: file.into(),
            tensor: name.into(),
            expected: shape.to_vec(),
            found: view.shape().to_vec(),
        });
    }
    match want {
        Want::Values(_) => Ok(None),
        Want::Count => {
            let raw = i64::from_le_bytes(view.data().try_into().expect("8 bytes, checked"));
            u64::try_from(raw).map(Some).map_err(|_| WeightsError::Format {
                file: file.into(),
                message: format!("tensor \"{name}\": negative count {raw}"),
            })
        }
    }
}

/// Serializes the model's parameters and buffers to the bytes of a safetensors file (see the
/// [module documentation](self) for the layout).
///
/// # Errors
/// [`WeightsError::Duplicate`] if two of the model's tensors share a name, or
/// [`WeightsError::Length`] if a tensor's values do not fill its shape (bugs in a custom layer's
/// visitor).
///
/// ```
/// use typed_cnn::prelude::*;
/// let fc = Linear::<2, 1, f64>::from_parts(vec![1.0, 2.0], vec![3.0]).unwrap();
/// let bytes = typed_cnn::weights::to_bytes(&fc).unwrap();
/// let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
/// let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
/// assert!(header.contains(r#""weight":{"dtype":"F64","shape":[1,2],"data_offsets":[8,24]}"#));
/// assert_eq!(bytes.len(), 8 + header_len + 3 * 8); // three f64 values
/// ```
pub fn to_bytes<E: Float, M: Params<E>>(model: &M) -> Result<Vec<u8>, WeightsError> {
    serialize(&StateDict::from_model(model), "<bytes>")
}

/// Saves the model's parameters and buffers to a safetensors file at `path` (see the
/// [module documentation](self) for the layout; PyTorch loads it with
/// `model.load_state_dict(safetensors.torch.load_file(path))`).
///
/// # Errors
/// [`WeightsError::Io`] if the file cannot be written, and the errors of [`to_bytes`].
///
/// ```
/// use typed_cnn::prelude::*;
/// let net: (Conv2d<1, 2, 3>, Relu) = Init::init(&mut rand::rng());
/// let file = format!("typed_cnn_save_example_{}.safetensors", std::process::id());
/// let path = std::env::temp_dir().join(file);
/// typed_cnn::weights::save(&net, &path).unwrap();
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save<E: Float, M: Params<E>>(model: &M, path: impl AsRef<Path>) -> Result<(), WeightsError> {
    save_state_dict(&StateDict::from_model(model), path)
}

/// Loads the weights in `bytes` (a safetensors file) into `model`, strictly (see the
/// [module documentation](self)); `file` names the source in error messages.
///
/// All-or-nothing: on error the model is unchanged.
///
/// # Errors
/// [`WeightsError::Format`] for a truncated or corrupt file; [`WeightsError::Missing`],
/// [`WeightsError::Dtype`] and [`WeightsError::ShapeMismatch`] for the first of the model's tensors (in
/// visitor order, parameters then buffers) that the file lacks or stores differently;
/// [`WeightsError::Unexpected`] for a tensor of the file that the model lacks (the first by
/// name); [`WeightsError::Duplicate`] if the model's visitors repeat a name.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::weights;
/// let with_bias = Conv2d::<1, 1, 2>::init(&mut rand::rng());
/// let bytes = weights::to_bytes(&with_bias).unwrap();
///
/// let mut without = Conv2d::<1, 1, 2>::init(&mut rand::rng()).without_bias();
/// let before = without.clone();
/// let err = weights::from_bytes(&mut without, &bytes, "conv.safetensors").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"conv.safetensors: unexpected tensor "bias" (in the file, not in the model)"#
/// );
/// assert_eq!(without, before); // a failed load changes nothing
/// ```
pub fn from_bytes<E: Float, M: Params<E>>(
    model: &mut M,
    bytes: &[u8],
    file: &str,
) -> Result<(), WeightsError> {
    let st = parse(bytes, file)?;

    // What the model needs, in visitor order.
    let mut wants: Vec<(String, Want)> = Vec::new();
    model.visit("", &mut |name, shape, values| {
        // A layer bug, not a file problem: caught here, before anything is written.
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}: shape and length");
        wants.push((name.to_string(), Want::Values(shape.to_vec())));
    });
    model.visit_buffers("", &mut |name, shape, buffer| {
        wants.push((
            name.to_string(),
            match buffer {
                Buffer::Values(values) => {
                    assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}: shape");
                    Want::Values(shape.to_vec())
                }
                Buffer::Count(_) => Want::Count,
            },
        ));
    });

    // Validate everything before writing anything.
    let mut seen = HashSet::new();
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for (name, want) in &wants {
        if !seen.insert(name.as_str()) {
            return Err(WeightsError::Duplicate { file: file.into(), tensor: name.clone() });
        }
        match st.tensor(name) {
            Ok(view) => {
                if let Some(count) = check(&view, name, want, float_dtype::<E>(), file)? {
                    counts.insert(name, count);
                }
            }
            // PyTorch tolerates a missing `num_batches_tracked`; so do we, for every counter.
            Err(_) if matches!(want, Want::Count) => {}
            Err(_) => {
                return Err(WeightsError::Missing { file: file.into(), tensor: name.clone() });
            }
        }
    }
    let mut extra: Vec<&str> = st.names().into_iter().filter(|n| !seen.contains(n)).collect();
    extra.sort_unstable();
    if let Some(name) = extra.first() {
        return Err(WeightsError::Unexpected { file: file.into(), tensor: name.to_string() });
    }

    // Write: every tensor is present with the right dtype and shape.
    let size = float_size::<E>();
    model.visit_mut("", &mut |name, _, values| {
        let data = st.tensor(name).expect("checked above").data();
        assert_eq!(data.len(), values.len() * size, "tensor \"{name}\": visitor shape and length");
        decode_into(data, values);
    });
    model.visit_buffers_mut("", &mut |name, _, buffer| match buffer {
        BufferMut::Values(values) => {
            let data = st.tensor(name).expect("checked above").data();
            assert_eq!(data.len(), values.len() * size, "buffer \"{name}\": shape and length");
            decode_into(data, values);
        }
        BufferMut::Count(count) => {
            if let Some(&c) = counts.get(name) {
                *count = c;
            }
        }
    });
    Ok(())
}

/// Loads the safetensors file at `path` into `model`, strictly and all-or-nothing (see
/// [`from_bytes`] and the [module documentation](self)).
///
/// # Errors
/// [`WeightsError::Io`] if the file cannot be read, and the errors of [`from_bytes`], whose
/// messages start with the path.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::weights;
/// let file = format!("typed_cnn_load_example_{}.safetensors", std::process::id());
/// let path = std::env::temp_dir().join(file);
/// weights::save(&Linear::<2, 1>::from_parts(vec![1.0, 2.0], vec![0.5]).unwrap(), &path).unwrap();
///
/// let mut fc = Linear::<2, 1>::init(&mut rand::rng());
/// weights::load(&mut fc, &path).unwrap();
/// assert_eq!((fc.weight(), fc.bias()), (&[1.0, 2.0][..], &[0.5][..]));
///
/// let mut wrong = Linear::<2, 1, f64>::init(&mut rand::rng());
/// let err = weights::load(&mut wrong, &path).unwrap_err();
/// assert!(err.to_string().ends_with(r#": tensor "weight": expected dtype F64, found F32"#));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn load<E: Float, M: Params<E>>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<(), WeightsError> {
    let path = path.as_ref();
    let bytes = read(path)?;
    from_bytes(model, &bytes, &path.display().to_string())
}

fn read(path: &Path) -> Result<Vec<u8>, WeightsError> {
    std::fs::read(path).map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })
}

/// Serializes a [`StateDict`] to the bytes of a safetensors file: `Values` in `E`'s dtype with
/// the entry's shape, `Count` as an `I64` of shape `[]`, the metadata as `__metadata__`.
///
/// # Errors
/// [`WeightsError::Duplicate`] if two entries share a name; [`WeightsError::Length`] if an
/// entry's values do not fill its shape; [`WeightsError::Format`] if a count exceeds `i64::MAX`.
///
/// ```
/// use typed_cnn::weights::{self, Entry, StateDict, WeightsError};
/// let mut state = StateDict::<f32>::new();
/// state.entries.push(Entry::values("m", vec![2, 2], vec![0.0; 3])); // 3 values for 2·2
/// let err = weights::state_dict_to_bytes(&state).unwrap_err();
/// assert!(matches!(err, WeightsError::Length { .. }));
/// assert_eq!(err.to_string(), r#"<bytes>: tensor "m": shape [2, 2] holds 4 values, found 3"#);
/// ```
pub fn state_dict_to_bytes<E: Float>(state: &StateDict<E>) -> Result<Vec<u8>, WeightsError> {
    serialize(state, "<bytes>")
}

/// Saves a [`StateDict`] as a safetensors file at `path` (see [`state_dict_to_bytes`]).
///
/// # Errors
/// [`WeightsError::Io`] if the file cannot be written, and the errors of
/// [`state_dict_to_bytes`].
///
/// ```
/// use typed_cnn::weights::{self, Entry, StateDict};
/// let mut state = StateDict::<f64>::new();
/// state.entries.push(Entry::count("step", 100));
/// let file = format!("typed_cnn_state_dict_example_{}.safetensors", std::process::id());
/// let path = std::env::temp_dir().join(file);
/// weights::save_state_dict(&state, &path).unwrap();
/// assert_eq!(weights::load_state_dict::<f64>(&path).unwrap(), state);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_state_dict<E: Float>(
    state: &StateDict<E>,
    path: impl AsRef<Path>,
) -> Result<(), WeightsError> {
    let path = path.as_ref();
    let bytes = serialize(state, &path.display().to_string())?;
    std::fs::write(path, bytes)
        .map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })
}

/// Parses the bytes of a safetensors file into a [`StateDict`], in the file's order: tensors of
/// `E`'s dtype become `Values`, `I64` scalars (shape `[]`) become `Count`s. `file` names the
/// source in error messages.
///
/// # Errors
/// [`WeightsError::Format`] for a truncated or corrupt file or a negative count;
/// [`WeightsError::Dtype`] for a tensor of any other dtype; [`WeightsError::ShapeMismatch`] for an `I64`
/// tensor that is not a scalar.
///
/// ```
/// use typed_cnn::weights;
/// let err = weights::state_dict_from_bytes::<f32>(&[1, 2, 3], "opt.safetensors").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "opt.safetensors: not a valid safetensors file: 3 bytes, too short for the 8-byte header \
///      length"
/// );
/// ```
pub fn state_dict_from_bytes<E: Float>(
    bytes: &[u8],
    file: &str,
) -> Result<StateDict<E>, WeightsError> {
    let st = parse(bytes, file)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| invalid(file, e))?;
    let metadata = header.metadata().clone().unwrap_or_default().into_iter().collect();
    let mut entries = Vec::with_capacity(st.len());
    for name in header.offset_keys() {
        let view = st.tensor(&name).expect("a name of the file");
        let entry = if view.dtype() == Dtype::I64 {
            let count = check(&view, &name, &Want::Count, float_dtype::<E>(), file)?;
            Entry::count(name, count.expect("a count"))
        } else {
            let want = Want::Values(view.shape().to_vec());
            check(&view, &name, &want, float_dtype::<E>(), file)?;
            let mut values = vec![E::ZERO; view.shape().iter().product()];
            decode_into(view.data(), &mut values);
            Entry::values(name, view.shape().to_vec(), values)
        };
        entries.push(entry);
    }
    Ok(StateDict { entries, metadata })
}

/// Loads a safetensors file into a [`StateDict`] (see [`state_dict_from_bytes`]).
///
/// # Errors
/// [`WeightsError::Io`] if the file cannot be read, and the errors of
/// [`state_dict_from_bytes`].
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::weights::{self, StateDict};
/// let net: (Linear<3, 2>, Relu) = Init::init(&mut rand::rng());
/// let file = format!("typed_cnn_load_state_dict_example_{}.safetensors", std::process::id());
/// let path = std::env::temp_dir().join(file);
/// weights::save(&net, &path).unwrap();
/// let state = weights::load_state_dict::<f32>(&path).unwrap();
/// assert_eq!(state.get("0.weight"), StateDict::from_model(&net).get("0.weight"));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn load_state_dict<E: Float>(path: impl AsRef<Path>) -> Result<StateDict<E>, WeightsError> {
    let path = path.as_ref();
    let bytes = read(path)?;
    state_dict_from_bytes(&bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header whose 8 tensors of 2^61 − 1 bytes each end at 2^64 − 8: the end plus the 8-byte
    /// length field overflows `usize` in safetensors' final size check.
    fn offsets_near_2_pow_64() -> Vec<u8> {
        let size: u64 = (1 << 61) - 1;
        let tensors: Vec<String> = (0..8)
            .map(|k| {
                let (s, e) = (k * size, (k + 1) * size);
                format!(r#""t{k}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{s},{e}]}}"#)
            })
            .collect();
        let header = format!("{{{}}}", tensors.join(","));
        [&(header.len() as u64).to_le_bytes()[..], header.as_bytes()].concat()
    }

    /// Found by reading safetensors while writing tests/fuzz.rs (which runs in release, where the
    /// sum wraps): in a build with overflow checks (the test profile), this file of 854 bytes
    /// panicked inside `SafeTensors::deserialize`.
    #[test]
    fn data_offsets_near_2_pow_64_are_an_error() {
        let bytes = offsets_near_2_pow_64();
        let err = state_dict_from_bytes::<f32>(&bytes, "big.safetensors").unwrap_err();
        assert!(matches!(err, WeightsError::Format { .. }), "{err}");
        assert!(err.to_string().starts_with("big.safetensors: not a valid safetensors file: "));
    }
}
