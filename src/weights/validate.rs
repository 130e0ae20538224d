//! The one strict check of named tensors against what a reader expects, shared by model loading
//! ([`from_bytes`](super::from_bytes)) and optimizer checkpoints
//! ([`Optimizer::load_state_dict`](crate::optim::Optimizer::load_state_dict)): every expected
//! tensor present with its exact dtype and shape, nothing unexpected, and errors that name the
//! file, the tensor, what was expected and what was found.

use std::collections::HashSet;

use safetensors::{Dtype, SafeTensors};

use super::codec::{float_dtype, read_count};
use super::{EntryData, StateDict, WeightsError};
use crate::Float;

/// What a reader needs of one tensor.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Want {
    /// Float values in the reader's element type, of this shape.
    Values(Vec<usize>),
    /// A counter: an `I64` scalar (shape `[]`). With `required: false` the tensor may be absent
    /// (PyTorch's rule for `num_batches_tracked`: the model keeps its own value).
    Count {
        /// Whether a missing counter is an error.
        required: bool,
    },
}

/// Named tensors to be checked: a parsed safetensors file, or a [`StateDict`] in memory.
pub(crate) trait Tensors {
    /// The dtype and shape of the tensor `name`, if there is one.
    fn dtype_and_shape(&self, name: &str) -> Option<(Dtype, Vec<usize>)>;
    /// The value of the counter `name`, already checked to be present and an `I64` scalar.
    fn count(&self, name: &str, file: &str) -> Result<u64, WeightsError>;
    /// The first name not in `seen`, in this source's reporting order.
    fn first_unexpected(&self, seen: &HashSet<&str>) -> Option<String>;
}

/// A file's tensors; an unexpected one is reported in name order (the file's own order is lost
/// in safetensors' map).
impl Tensors for SafeTensors<'_> {
    fn dtype_and_shape(&self, name: &str) -> Option<(Dtype, Vec<usize>)> {
        self.tensor(name).ok().map(|view| (view.dtype(), view.shape().to_vec()))
    }
    fn count(&self, name: &str, file: &str) -> Result<u64, WeightsError> {
        match self.tensor(name) {
            Ok(view) => read_count(&view, name, file),
            Err(_) => unreachable!("\"{name}\": a tensor of the file, checked"),
        }
    }
    fn first_unexpected(&self, seen: &HashSet<&str>) -> Option<String> {
        // The least name in byte order: the same as sorting them all, without a sort.
        self.names().into_iter().filter(|name| !seen.contains(name)).min().map(str::to_string)
    }
}

/// A state dict's entries, as they would be written: values in `E`'s dtype with the entry's
/// shape, a count as an `I64` scalar. An unexpected entry is reported in the entries' order.
impl<E: Float> Tensors for StateDict<E> {
    fn dtype_and_shape(&self, name: &str) -> Option<(Dtype, Vec<usize>)> {
        self.get(name).map(|entry| match entry.data {
            EntryData::Values(_) => (float_dtype::<E>(), entry.shape.clone()),
            EntryData::Count(_) => (Dtype::I64, Vec::new()),
        })
    }
    fn count(&self, name: &str, _file: &str) -> Result<u64, WeightsError> {
        match self.get(name).map(|entry| &entry.data) {
            Some(EntryData::Count(count)) => Ok(*count),
            _ => unreachable!("\"{name}\": a count, checked"),
        }
    }
    fn first_unexpected(&self, seen: &HashSet<&str>) -> Option<String> {
        let mut names = self.entries.iter().map(|entry| entry.name.as_str());
        names.find(|name| !seen.contains(name)).map(str::to_string)
    }
}

/// Checks one tensor's dtype, then its shape, against `want` (`float` is the reader's dtype).
pub(super) fn check_tensor(
    name: &str,
    want: &Want,
    (dtype, shape): (Dtype, &[usize]),
    float: Dtype,
    file: &str,
) -> Result<(), WeightsError> {
    let (expected_dtype, expected_shape): (Dtype, &[usize]) = match want {
        Want::Values(shape) => (float, shape),
        Want::Count { .. } => (Dtype::I64, &[]),
    };
    if dtype != expected_dtype {
        return Err(WeightsError::Dtype {
            file: file.into(),
            tensor: name.into(),
            expected: expected_dtype.to_string(),
            found: dtype.to_string(),
        });
    }
    if shape != expected_shape {
        return Err(WeightsError::ShapeMismatch {
            file: file.into(),
            tensor: name.into(),
            expected: expected_shape.to_vec(),
            found: shape.to_vec(),
        });
    }
    Ok(())
}

/// The strict check: goes through `expected` in order and reports the first tensor that is
/// named twice ([`WeightsError::Duplicate`]), absent ([`WeightsError::Missing`], unless an
/// optional counter), of another dtype ([`WeightsError::Dtype`]: `E`'s, or `I64` for a counter),
/// of another shape ([`WeightsError::ShapeMismatch`]) or a negative count
/// ([`WeightsError::Format`]); then the first tensor of `found` that is not expected
/// ([`WeightsError::Unexpected`]). Errors are named after `file`.
///
/// Returns, for each expected tensor, the value of a counter (`None` for values, and for an
/// optional counter that is absent).
pub(crate) fn validate<E: Float>(
    found: &impl Tensors,
    expected: &[(String, Want)],
    file: &str,
) -> Result<Vec<Option<u64>>, WeightsError> {
    let mut seen = HashSet::new();
    let mut counts = Vec::with_capacity(expected.len());
    for (name, want) in expected {
        if !seen.insert(name.as_str()) {
            return Err(WeightsError::Duplicate { file: file.into(), tensor: name.clone() });
        }
        let Some((dtype, shape)) = found.dtype_and_shape(name) else {
            if *want == (Want::Count { required: false }) {
                counts.push(None);
                continue;
            }
            return Err(WeightsError::Missing { file: file.into(), tensor: name.clone() });
        };
        check_tensor(name, want, (dtype, &shape), float_dtype::<E>(), file)?;
        counts.push(match want {
            Want::Values(_) => None,
            Want::Count { .. } => Some(found.count(name, file)?),
        });
    }
    if let Some(extra) = found.first_unexpected(&seen) {
        return Err(WeightsError::Unexpected { file: file.into(), tensor: extra });
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::Entry;

    fn want(name: &str, want: Want) -> (String, Want) {
        (name.to_string(), want)
    }

    #[test]
    fn optional_counters_may_be_absent_required_ones_not() {
        let mut state = StateDict::<f32>::new();
        state.entries.push(Entry::values("w", vec![2], vec![1.0, 2.0]));
        let optional =
            [want("w", Want::Values(vec![2])), want("n", Want::Count { required: false })];
        assert_eq!(validate::<f32>(&state, &optional, "f").unwrap(), [None, None]);
        let required =
            [want("w", Want::Values(vec![2])), want("n", Want::Count { required: true })];
        let err = validate::<f32>(&state, &required, "f").unwrap_err();
        assert_eq!(err.to_string(), r#"f: missing tensor "n" (in the model, not in the file)"#);
        state.entries.push(Entry::count("n", 4));
        assert_eq!(validate::<f32>(&state, &required, "f").unwrap(), [None, Some(4)]);
    }

    #[test]
    fn first_failure_in_expected_order_then_unexpected_in_found_order() {
        let mut state = StateDict::<f64>::new();
        state.entries.push(Entry::values("z", vec![1], vec![0.0]));
        state.entries.push(Entry::count("a", 1));
        state.entries.push(Entry::values("b", vec![3], vec![0.0; 3]));
        let err = validate::<f64>(&state, &[want("b", Want::Values(vec![1, 3]))], "f").unwrap_err();
        assert!(matches!(err, WeightsError::ShapeMismatch { ref tensor, .. } if tensor == "b"));
        let err = validate::<f64>(&state, &[want("a", Want::Values(vec![]))], "f").unwrap_err();
        assert_eq!(err.to_string(), r#"f: tensor "a": expected dtype F64, found I64"#);
        let err = validate::<f64>(&state, &[want("b", Want::Values(vec![3]))], "f").unwrap_err();
        assert!(matches!(err, WeightsError::Unexpected { ref tensor, .. } if tensor == "z"));
        let twice = [want("b", Want::Values(vec![3])), want("b", Want::Values(vec![3]))];
        let err = validate::<f64>(&state, &twice, "f").unwrap_err();
        assert!(matches!(err, WeightsError::Duplicate { ref tensor, .. } if tensor == "b"));
    }
}
