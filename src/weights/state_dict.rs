//! [`StateDict`]: named tensors and metadata independent of any model, and their files.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use super::codec::{decode_into, float_dtype, invalid, parse, read_count, serialize};
use super::validate::{Want, check_tensor};
use super::{WeightsError, read};
use crate::Float;
use crate::module::{Buffer, Params};

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
            let want = Want::Count { required: true };
            check_tensor(&name, &want, (view.dtype(), view.shape()), float_dtype::<E>(), file)?;
            let count = read_count(&view, &name, file)?;
            Entry::count(name, count)
        } else {
            let want = Want::Values(view.shape().to_vec());
            check_tensor(&name, &want, (view.dtype(), view.shape()), float_dtype::<E>(), file)?;
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
