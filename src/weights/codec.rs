//! The safetensors encoding: dtypes, little-endian values, serialization with its checks, and
//! parsing with the header pre-check (data offsets checked before safetensors parses).

use std::collections::HashSet;
use std::fmt;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use super::{EntryData, StateDict, WeightsError};
use crate::Float;

/// The safetensors dtype of `E`.
pub(super) fn float_dtype<E: Float>() -> Dtype {
    if E::DTYPE == "F32" { Dtype::F32 } else { Dtype::F64 }
}

/// `values` as little-endian bytes of `E`'s dtype.
pub(super) fn encode<E: Float>(values: &[E]) -> Vec<u8> {
    if E::DTYPE == "F32" {
        // Exact: an `f32` converted to `f64` and back is itself.
        values.iter().flat_map(|v| (v.to_f64() as f32).to_le_bytes()).collect()
    } else {
        values.iter().flat_map(|v| v.to_f64().to_le_bytes()).collect()
    }
}

/// Little-endian bytes of `E`'s dtype into `out` (`bytes.len()` is `out.len()` times the size).
pub(super) fn decode_into<E: Float>(bytes: &[u8], out: &mut [E]) {
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
pub(super) fn float_size<E: Float>() -> usize {
    float_dtype::<E>().bitsize() / 8
}

/// Serializes a state dict (checking names for duplicates and shapes against lengths).
pub(super) fn serialize<E: Float>(
    state: &StateDict<E>,
    file: &str,
) -> Result<Vec<u8>, WeightsError> {
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
pub(super) fn invalid(file: &str, what: impl fmt::Display) -> WeightsError {
    WeightsError::Format {
        file: file.into(),
        message: format!("not a valid safetensors file: {what}"),
    }
}

/// Checks the header length against the size before safetensors reads the header, then parses.
pub(super) fn parse<'a>(bytes: &'a [u8], file: &str) -> Result<SafeTensors<'a>, WeightsError> {
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

/// The value of a counter tensor (already checked to be an `I64` scalar): a negative one is a
/// [`WeightsError::Format`] error.
pub(super) fn read_count(
    view: &TensorView<'_>,
    name: &str,
    file: &str,
) -> Result<u64, WeightsError> {
    let raw = i64::from_le_bytes(view.data().try_into().expect("8 bytes, checked"));
    u64::try_from(raw).map_err(|_| WeightsError::Format {
        file: file.into(),
        message: format!("tensor \"{name}\": negative count {raw}"),
    })
}

#[cfg(test)]
mod tests {
    use crate::weights::{WeightsError, state_dict_from_bytes};

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
