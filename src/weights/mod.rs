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

mod codec;
mod state_dict;
mod validate;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::Float;
use crate::module::{Buffer, BufferMut, Params};

use codec::{decode_into, float_size, parse, serialize};
pub use state_dict::{
    Entry, EntryData, StateDict, load_state_dict, save_state_dict, state_dict_from_bytes,
    state_dict_to_bytes,
};
pub(crate) use validate::{Want, validate};

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
    from_bytes_renamed(model, bytes, file, |name| name.to_string())
}

/// [`from_bytes`] for a file whose tensor names differ from the model's by a rule: `file_name`
/// gives, for each of the model's names (`fc.weight`), the name it has in the file. The load is
/// as strict as [`from_bytes`]: every renamed tensor must be in the file with its shape and
/// dtype, and the file may hold nothing else; errors name the tensor as the file does.
///
/// Common rules: a checkpoint saved from `nn.DataParallel` or a wrapper module prefixes every
/// name (`|n| format!("module.{n}")`, `|n| format!("model.{n}")`); a network whose modules are
/// named differently from the file's maps names through a table of its own.
///
/// # Errors
/// Those of [`from_bytes`].
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::weights::{self, Entry, StateDict};
/// // A file written by a DataParallel model: every key starts with `module.`
/// let mut state = StateDict::<f32>::new();
/// state.entries.push(Entry::values("module.weight", vec![1, 2], vec![1.0, 2.0]));
/// state.entries.push(Entry::values("module.bias", vec![1], vec![0.5]));
/// let bytes = weights::state_dict_to_bytes(&state).unwrap();
///
/// let mut fc = Linear::<2, 1>::default();
/// weights::from_bytes_renamed(&mut fc, &bytes, "dp.safetensors", |n| format!("module.{n}"))
///     .unwrap();
/// assert_eq!((fc.weight(), fc.bias()), (&[1.0, 2.0][..], &[0.5][..]));
///
/// // Without the rule, the load refuses the file and names what it missed.
/// let err = weights::from_bytes(&mut fc, &bytes, "dp.safetensors").unwrap_err();
/// assert_eq!(err.to_string(), r#"dp.safetensors: missing tensor "weight" (in the model, not in the file)"#);
/// ```
pub fn from_bytes_renamed<E: Float, M: Params<E>>(
    model: &mut M,
    bytes: &[u8],
    file: &str,
    file_name: impl Fn(&str) -> String,
) -> Result<(), WeightsError> {
    let st = parse(bytes, file)?;

    // What the model needs, in visitor order.
    let mut wants: Vec<(String, Want)> = Vec::new();
    model.visit("", &mut |name, shape, values| {
        // A layer bug, not a file problem: caught here, before anything is written.
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}: shape and length");
        wants.push((file_name(name), Want::Values(shape.to_vec())));
    });
    model.visit_buffers("", &mut |name, shape, buffer| {
        wants.push((
            file_name(name),
            match buffer {
                Buffer::Values(values) => {
                    assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}: shape");
                    Want::Values(shape.to_vec())
                }
                // PyTorch tolerates a missing `num_batches_tracked`; so do we, for every counter.
                Buffer::Count(_) => Want::Count { required: false },
            },
        ));
    });

    // Validate everything before writing anything.
    let counts = validate::<E>(&st, &wants, file)?;
    let counts: HashMap<&str, u64> = wants
        .iter()
        .zip(counts)
        .filter_map(|((name, _), count)| Some((name.as_str(), count?)))
        .collect();

    // Write: every tensor is present with the right dtype and shape.
    let size = float_size::<E>();
    model.visit_mut("", &mut |name, _, values| {
        let name = &file_name(name);
        let data = st.tensor(name).expect("checked above").data();
        assert_eq!(data.len(), values.len() * size, "tensor \"{name}\": visitor shape and length");
        decode_into(data, values);
    });
    model.visit_buffers_mut("", &mut |name, _, buffer| match buffer {
        BufferMut::Values(values) => {
            let name = &file_name(name);
            let data = st.tensor(name).expect("checked above").data();
            assert_eq!(data.len(), values.len() * size, "buffer \"{name}\": shape and length");
            decode_into(data, values);
        }
        BufferMut::Count(count) => {
            if let Some(&c) = counts.get(file_name(name).as_str()) {
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

/// [`load`] for a file whose tensor names differ from the model's by a rule: `file_name` gives,
/// for each of the model's names, the name it has in the file (see [`from_bytes_renamed`]:
/// prefixes such as DataParallel's `module.`, or a table of your own). As strict as [`load`].
///
/// # Errors
/// Those of [`load`]; they name each tensor as the file does.
///
/// ```no_run
/// use typed_cnn::{models::ResNet18, weights};
/// let mut net = ResNet18::<1000>::default();
/// // A checkpoint of `nn.DataParallel(resnet18())`: keys `module.conv1.weight`, …
/// weights::load_renamed(&mut net, "checkpoint.safetensors", |n| format!("module.{n}"))?;
/// # Ok::<(), weights::WeightsError>(())
/// ```
pub fn load_renamed<E: Float, M: Params<E>>(
    model: &mut M,
    path: impl AsRef<Path>,
    file_name: impl Fn(&str) -> String,
) -> Result<(), WeightsError> {
    let path = path.as_ref();
    let bytes = read(path)?;
    from_bytes_renamed(model, &bytes, &path.display().to_string(), file_name)
}

fn read(path: &Path) -> Result<Vec<u8>, WeightsError> {
    std::fs::read(path).map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })
}
