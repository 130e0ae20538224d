//! Weight files: round trips of LeNet in f32 and f64, the strict-loading errors with their exact
//! messages, corrupt and truncated files, buffers, and a file written by hand in Python
//! (`tests/fixtures/make_tiny.py`, standard library only) whose outputs were computed there.

use std::path::PathBuf;

use rand::SeedableRng;
use rand::rngs::StdRng;
use typed_cnn::prelude::*;
use typed_cnn::weights::{self, Entry, EntryData, StateDict, WeightsError};
use typed_cnn::{Buffer, BufferFn, BufferFnMut, BufferMut, ParamFn, ParamFnMut};

/// LeNet-5 for 28×28 input, as in tests/networks.rs.
type LeNet = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);

/// The same network in f64.
type LeNet64 = (
    (Conv2d<1, 6, 5, 1, 0, Exact, f64>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5, 1, 0, Exact, f64>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120, f64>, Relu, Linear<120, 84, f64>, Relu, Linear<84, 10, f64>),
);

/// LeNet with 3×3 first convolutions (only its parameters are used: loading checks shapes).
type LeNetK3 = (
    (Conv2d<1, 6, 3>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);

/// LeNet with 5 classes: every tensor but the last two matches LeNet.
type LeNet5Classes = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 5>),
);

/// The network of `tests/fixtures/tiny.safetensors`.
type Tiny = (Conv2d<1, 2, 3>, Relu, Flatten, Linear<8, 3>);

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A path in the temporary directory, unique to this test process and `name`.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("typed_cnn_{}_{name}.safetensors", std::process::id()))
}

/// The expected LeNet tensors, written out by hand from PyTorch's `nn.Sequential` naming.
const LENET_TENSORS: [(&str, &[usize]); 10] = [
    ("0.0.weight", &[6, 1, 5, 5]),
    ("0.0.bias", &[6]),
    ("1.0.weight", &[16, 6, 5, 5]),
    ("1.0.bias", &[16]),
    ("3.0.weight", &[120, 256]),
    ("3.0.bias", &[120]),
    ("3.2.weight", &[84, 120]),
    ("3.2.bias", &[84]),
    ("3.4.weight", &[10, 84]),
    ("3.4.bias", &[10]),
];

#[test]
fn lenet_f32_round_trip_through_a_file() {
    let trained = LeNet::init(&mut rng(1));
    let path = temp_path("lenet32");
    weights::save(&trained, &path).unwrap();

    let mut fresh = LeNet::init(&mut rng(2));
    assert_ne!(fresh, trained);
    weights::load(&mut fresh, &path).unwrap();
    assert_eq!(fresh, trained);

    let x = Tensor::<4, 1, 28, 28>::uniform(&mut rng(3), 0.0, 1.0);
    assert_eq!(fresh.forward(x.clone()), trained.forward(x));

    // The file's names, shapes and dtypes, read back without a model.
    let state = weights::load_state_dict::<f32>(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut names: Vec<(&str, &[usize])> =
        state.entries.iter().map(|e| (e.name.as_str(), e.shape.as_slice())).collect();
    names.sort();
    let mut expected = LENET_TENSORS.to_vec();
    expected.sort();
    assert_eq!(names, expected);
    assert_eq!(state.metadata.get("format").map(String::as_str), Some("pt"));
    let conv1 = trained.0.0.weight();
    assert_eq!(state.get("0.0.weight").unwrap().data, EntryData::Values(conv1.to_vec()));
}

#[test]
fn lenet_f64_round_trip_through_bytes() {
    let trained = LeNet64::init(&mut rng(4));
    let bytes = weights::to_bytes(&trained).unwrap();
    // 156 + 2416 + 30 840 + 10 164 + 850 = 44 426 parameters of 8 bytes after the header.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 8 + header_len + 44_426 * 8);
    assert_eq!(Params::<f64>::param_count(&trained), 44_426);

    let mut fresh = LeNet64::init(&mut rng(5));
    weights::from_bytes(&mut fresh, &bytes, "lenet64.safetensors").unwrap();
    assert_eq!(fresh, trained);
    let x = Tensor::<2, 1, 28, 28, f64>::uniform(&mut rng(6), 0.0, 1.0);
    assert_eq!(fresh.forward(x.clone()), trained.forward(x));

    let state = weights::state_dict_from_bytes::<f64>(&bytes, "lenet64.safetensors").unwrap();
    assert_eq!(state.entries.len(), 10);
    // An f64 file is not an f32 state dict.
    let err = weights::state_dict_from_bytes::<f32>(&bytes, "lenet64.safetensors").unwrap_err();
    assert!(matches!(err, WeightsError::Dtype { .. }), "{err}");
}

/// Loads `bytes` into a copy of `model`, expects an error, and checks the model is unchanged.
fn load_fails<M: Params<f32> + Clone + PartialEq + std::fmt::Debug>(
    model: &M,
    bytes: &[u8],
) -> WeightsError {
    let mut target = model.clone();
    let err = weights::from_bytes(&mut target, bytes, "weights.safetensors").unwrap_err();
    assert_eq!(&target, model, "a failed load changed the model ({err})");
    err
}

#[test]
fn shape_mismatch_names_the_tensor_and_both_shapes() {
    let bytes = weights::to_bytes(&LeNet::init(&mut rng(1))).unwrap();
    let err = load_fails(&LeNetK3::init(&mut rng(2)), &bytes);
    assert!(matches!(err, WeightsError::ShapeMismatch { .. }));
    assert_eq!(
        err.to_string(),
        concat!(
            r#"weights.safetensors: tensor "0.0.weight": "#,
            "expected shape [6, 1, 3, 3], found [6, 1, 5, 5]"
        )
    );
}

#[test]
fn a_mismatch_in_the_last_layer_leaves_the_first_layers_unchanged() {
    // Everything up to "3.4.weight" would load: all-or-nothing means nothing does.
    let bytes = weights::to_bytes(&LeNet::init(&mut rng(1))).unwrap();
    let model = LeNet5Classes::init(&mut rng(2));
    let err = load_fails(&model, &bytes);
    assert_eq!(
        err.to_string(),
        r#"weights.safetensors: tensor "3.4.weight": expected shape [5, 84], found [10, 84]"#
    );
}

#[test]
fn dtype_mismatch_names_expected_and_found() {
    let bytes = weights::to_bytes(&LeNet::init(&mut rng(1))).unwrap();
    let mut model = LeNet64::init(&mut rng(2));
    let before = model.clone();
    let err = weights::from_bytes(&mut model, &bytes, "weights.safetensors").unwrap_err();
    assert_eq!(model, before);
    assert_eq!(
        err.to_string(),
        r#"weights.safetensors: tensor "0.0.weight": expected dtype F64, found F32"#
    );
}

#[test]
fn missing_and_unexpected_tensors() {
    let net = LeNet::init(&mut rng(1));

    let mut state = StateDict::from_model(&net);
    state.entries.retain(|e| e.name != "3.2.bias");
    let err = load_fails(&net, &weights::state_dict_to_bytes(&state).unwrap());
    assert!(matches!(err, WeightsError::Missing { .. }));
    assert_eq!(
        err.to_string(),
        r#"weights.safetensors: missing tensor "3.2.bias" (in the model, not in the file)"#
    );

    let mut state = StateDict::from_model(&LeNet::init(&mut rng(2)));
    state.entries.push(Entry::values("4.weight", vec![2], vec![1.0, 2.0]));
    let err = load_fails(&net, &weights::state_dict_to_bytes(&state).unwrap());
    assert!(matches!(err, WeightsError::Unexpected { .. }));
    assert_eq!(
        err.to_string(),
        r#"weights.safetensors: unexpected tensor "4.weight" (in the file, not in the model)"#
    );
}

#[test]
fn conv_without_bias_against_a_file_with_bias_and_back() {
    type Net = (Conv2d<1, 2, 3>, Relu);
    type NetNoBias = (Conv2d<1, 2, 3, 1, 0, Exact, f32, NoBias>, Relu);
    let with_bias = Net::init(&mut rng(1));
    let without: NetNoBias = Init::init(&mut rng(2));

    let err = load_fails(&without, &weights::to_bytes(&with_bias).unwrap());
    assert_eq!(
        err.to_string(),
        r#"weights.safetensors: unexpected tensor "0.bias" (in the file, not in the model)"#
    );
    let err = load_fails(&with_bias, &weights::to_bytes(&without).unwrap());
    assert_eq!(
        err.to_string(),
        r#"weights.safetensors: missing tensor "0.bias" (in the model, not in the file)"#
    );

    // Without bias on both sides: only the weight is stored, and it loads.
    let mut other: NetNoBias = Init::init(&mut rng(3));
    let bytes = weights::to_bytes(&without).unwrap();
    let names: Vec<String> = weights::state_dict_from_bytes::<f32>(&bytes, "conv")
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["0.weight"]);
    weights::from_bytes(&mut other, &bytes, "conv").unwrap();
    assert_eq!(other, without);
}

/// A valid file of the tiny net, for the corruption tests.
fn tiny_bytes() -> (Tiny, Vec<u8>) {
    let net = Tiny::init(&mut rng(7));
    let bytes = weights::to_bytes(&net).unwrap();
    (net, bytes)
}

fn format_message(err: WeightsError) -> String {
    assert!(matches!(err, WeightsError::Format { .. }), "not a format error: {err}");
    err.to_string()
}

#[test]
fn truncated_files_are_errors_at_every_cut() {
    let (_, bytes) = tiny_bytes();
    let target = Tiny::init(&mut rng(8));
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let cuts = [0, 1, 7, 8, 9, 8 + header_len / 2, 8 + header_len, 8 + header_len + 1];
    for cut in cuts.into_iter().chain(bytes.len() - 5..bytes.len()) {
        let message = format_message(load_fails(&target, &bytes[..cut]));
        assert!(message.starts_with("weights.safetensors: not a valid safetensors file: "));
        // The model-free reader rejects the same bytes.
        assert!(weights::state_dict_from_bytes::<f32>(&bytes[..cut], "w").is_err(), "cut {cut}");
    }

    let available = 0;
    assert_eq!(
        format_message(load_fails(&target, &bytes[..8])),
        format!(
            "weights.safetensors: not a valid safetensors file: the header length field says \
             {header_len} bytes, but only {available} bytes follow it"
        )
    );
    assert_eq!(
        format_message(load_fails(&target, &bytes[..5])),
        "weights.safetensors: not a valid safetensors file: 5 bytes, too short for the 8-byte \
         header length"
    );
    // Cut inside the data: the header promises more bytes than there are, and the tensor
    // whose range runs past the end is named.
    let message = format_message(load_fails(&target, &bytes[..bytes.len() - 1]));
    assert!(
        message.starts_with("weights.safetensors: not a valid safetensors file: tensor \"")
            && message.contains(": expected a range within the "),
        "{message}"
    );
}

#[test]
fn corrupt_header_length_and_garbage_json_are_errors() {
    let (_, bytes) = tiny_bytes();
    let target = Tiny::init(&mut rng(8));
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;

    let mut huge = bytes.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        format_message(load_fails(&target, &huge)),
        format!(
            "weights.safetensors: not a valid safetensors file: the header length field says \
             18446744073709551615 bytes, but only {} bytes follow it",
            bytes.len() - 8
        )
    );

    // A header length that fits in the file but ends inside the data: the JSON is cut off.
    let mut longer = bytes.clone();
    longer[..8].copy_from_slice(&(header_len as u64 + 4).to_le_bytes());
    let message = format_message(load_fails(&target, &longer));
    assert!(message.contains("not a valid safetensors file: "), "{message}");

    // The right length, garbage inside.
    let mut garbage = bytes.clone();
    garbage[8..8 + header_len].fill(b'x');
    let message = format_message(load_fails(&target, &garbage));
    assert!(
        message.starts_with(
            "weights.safetensors: not a valid safetensors file: invalid JSON in header: "
        ),
        "{message}"
    );

    // Invalid UTF-8.
    let mut latin1 = bytes.clone();
    latin1[9] = 0xff;
    let message = format_message(load_fails(&target, &latin1));
    assert!(message.contains("invalid UTF-8 in header"), "{message}");
}

/// A file written byte by byte: `header` JSON (padded to 8 bytes) and `data`.
fn handmade(header: &str, data: &[u8]) -> Vec<u8> {
    let mut text = header.as_bytes().to_vec();
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend(text);
    bytes.extend(data);
    bytes
}

#[test]
fn offsets_beyond_the_data_and_inconsistent_sizes_are_errors() {
    type One = Linear<2, 1>;
    let target = One::from_parts(vec![1.0, 2.0], vec![3.0]).unwrap();
    let ok = concat!(
        r#"{"weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"#,
        r#""bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    );
    let data: Vec<u8> = [5.0f32, 6.0, 7.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    // The hand-made file itself is fine.
    let mut loaded = target.clone();
    weights::from_bytes(&mut loaded, &handmade(ok, &data), "h").unwrap();
    assert_eq!((loaded.weight(), loaded.bias()), (&[5.0, 6.0][..], &[7.0][..]));

    // Offsets past the end of the data.
    let beyond = ok.replace("[8,12]", "[8,16]");
    let message = format_message(load_fails(&target, &handmade(&beyond, &data)));
    assert_eq!(
        message,
        "weights.safetensors: not a valid safetensors file: tensor \"bias\": data_offsets [8, 16]: \
         expected a range within the 12 bytes of data after the header"
    );
    // A shape that does not match its byte range.
    let short = ok.replace("\"shape\":[1]", "\"shape\":[2]");
    let message = format_message(load_fails(&target, &handmade(&short, &data)));
    assert_eq!(
        message,
        "weights.safetensors: not a valid safetensors file: tensor \"bias\": shape [2] needs 8 \
         bytes, but its data_offsets [8, 12] hold 4"
    );
    // Offsets that overflow.
    let overflow = ok.replace("[8,12]", "[8,18446744073709551615]");
    assert!(weights::from_bytes(&mut target.clone(), &handmade(&overflow, &data), "h").is_err());
    // The same name twice (JSON allows it; safetensors keeps one and finds a gap in the data).
    let twice = ok.replace(r#""bias""#, r#""weight""#);
    let message = format_message(load_fails(&target, &handmade(&twice, &data)));
    assert!(message.starts_with("weights.safetensors: not a valid safetensors file: "));
    // A valid but empty file: everything is missing.
    let err = load_fails(&target, &handmade("{}", &[]));
    assert!(matches!(err, WeightsError::Missing { .. }), "{err}");
    // A shape whose size overflows usize.
    let big = ok.replace("[1,2]", "[4294967296,4294967296,4294967296]");
    let message = format_message(load_fails(&target, &handmade(&big, &data)));
    assert!(message.contains("needs more than 2^64 bytes"), "{message}");
}

#[test]
fn io_errors_name_the_path() {
    let path = temp_path("does_not_exist");
    let mut net = Tiny::init(&mut rng(1));
    let err = weights::load(&mut net, &path).unwrap_err();
    assert!(matches!(err, WeightsError::Io { .. }));
    assert!(err.to_string().starts_with(&format!("{}: ", path.display())), "{err}");
    assert!(std::error::Error::source(&err).is_some());

    // Errors found in a file's content start with its path too.
    let path = temp_path("k5");
    weights::save(&LeNet::init(&mut rng(1)), &path).unwrap();
    let err = weights::load(&mut LeNetK3::init(&mut rng(2)), &path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            r#"{}: tensor "0.0.weight": expected shape [6, 1, 3, 3], found [6, 1, 5, 5]"#,
            path.display()
        )
    );
}

#[test]
fn duplicate_names_cannot_be_saved() {
    let mut state = StateDict::<f32>::new();
    state.entries.push(Entry::count("step", 1));
    state.entries.push(Entry::count("step", 2));
    let err = weights::state_dict_to_bytes(&state).unwrap_err();
    assert!(matches!(err, WeightsError::Duplicate { .. }));
    assert_eq!(err.to_string(), r#"<bytes>: tensor name "step" occurs twice"#);
}

/// A stand-in for batch norm's state (not a real layer): one float buffer and a counter, visited
/// as `running_mean` and `num_batches_tracked`, plus a `weight` parameter.
#[derive(Clone, Debug, PartialEq)]
struct Stats {
    weight: Vec<f32>,
    running_mean: Vec<f32>,
    num_batches_tracked: u64,
}

impl Params<f32> for Stats {
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, f32>) {
        f(&format!("{prefix}.weight"), &[self.weight.len()], &self.weight);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, f32>) {
        f(&format!("{prefix}.weight"), &[self.weight.len()], &mut self.weight);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut typed_cnn::PairFn<'_, f32>) {
        f(&mut self.weight, &grads.weight);
    }
    fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut BufferFn<'a, '_, f32>) {
        f(&format!("{prefix}.running_mean"), &[2], Buffer::Values(&self.running_mean));
        f(&format!("{prefix}.num_batches_tracked"), &[], Buffer::Count(self.num_batches_tracked));
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut BufferFnMut<'_, f32>) {
        f(&format!("{prefix}.running_mean"), &[2], BufferMut::Values(&mut self.running_mean));
        let count = BufferMut::Count(&mut self.num_batches_tracked);
        f(&format!("{prefix}.num_batches_tracked"), &[], count);
    }
}

impl typed_cnn::ZerosLike for Stats {
    fn zeros_like_impl(&self) -> Self {
        Self { weight: vec![0.0; 2], running_mean: vec![0.0; 2], num_batches_tracked: 0 }
    }
}

fn stats(seed: u64) -> (Conv2d<1, 2, 3>, Stats) {
    let s = seed as f32;
    let bn =
        Stats { weight: vec![s, -s], running_mean: vec![0.5 * s, 0.25], num_batches_tracked: seed };
    (Conv2d::init(&mut rng(seed)), bn)
}

#[test]
fn buffers_are_saved_loaded_and_a_missing_counter_is_tolerated() {
    let a = stats(3);
    let bytes = weights::to_bytes(&a).unwrap();
    let state = weights::state_dict_from_bytes::<f32>(&bytes, "bn").unwrap();
    let count = state.get("1.num_batches_tracked").unwrap();
    assert_eq!((count.shape.as_slice(), &count.data), (&[][..], &EntryData::Count(3)));
    let mean = state.get("1.running_mean").unwrap();
    assert_eq!(mean.data, EntryData::Values(vec![1.5, 0.25]));
    // The header stores the counter as PyTorch does: an I64 scalar.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(header.contains(r#""1.num_batches_tracked":{"dtype":"I64","shape":[],"#), "{header}");

    let mut b = stats(5);
    weights::from_bytes(&mut b, &bytes, "bn").unwrap();
    assert_eq!(b, a);

    // Without the counter (as PyTorch allows): the rest loads, the counter keeps its value.
    let mut state = StateDict::from_model(&a);
    state.entries.retain(|e| e.name != "1.num_batches_tracked");
    let mut c = stats(6);
    weights::from_bytes(&mut c, &weights::state_dict_to_bytes(&state).unwrap(), "bn").unwrap();
    assert_eq!(c.1.num_batches_tracked, 6);
    assert_eq!((&c.0, &c.1.weight, &c.1.running_mean), (&a.0, &a.1.weight, &a.1.running_mean));

    // But not without a float buffer.
    let mut state = StateDict::from_model(&a);
    state.entries.retain(|e| e.name != "1.running_mean");
    let err = load_fails(&stats(6), &weights::state_dict_to_bytes(&state).unwrap());
    assert!(err.to_string().contains(r#"missing tensor "1.running_mean""#), "{err}");
}

#[test]
fn counters_must_be_non_negative_i64_scalars() {
    let target = stats(1);
    // A float where the counter should be.
    let mut state = StateDict::from_model(&stats(2));
    for e in &mut state.entries {
        if e.name == "1.num_batches_tracked" {
            *e = Entry::values(e.name.clone(), vec![], vec![2.0]);
        }
    }
    let err = load_fails(&target, &weights::state_dict_to_bytes(&state).unwrap());
    assert_eq!(
        err.to_string(),
        r#"weights.safetensors: tensor "1.num_batches_tracked": expected dtype I64, found F32"#
    );

    // A negative count, written by hand: `{"c": I64 [] = -1}`.
    let header = r#"{"c":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#;
    let bytes = handmade(header, &(-1i64).to_le_bytes());
    let err = weights::state_dict_from_bytes::<f32>(&bytes, "neg").unwrap_err();
    assert_eq!(err.to_string(), r#"neg: tensor "c": negative count -1"#);
    // An I64 vector is not a count.
    let header = r#"{"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#;
    let err = weights::state_dict_from_bytes::<f32>(&handmade(header, &[0; 8]), "v").unwrap_err();
    assert_eq!(err.to_string(), r#"v: tensor "c": expected shape [], found [1]"#);
}

// ---------------------------------------------------------------------------------------------
// A file written independently of the library: tests/fixtures/make_tiny.py (Python standard
// library only: `struct` and `json`). The weights and the expected outputs below are the
// script's; see its docstring for the printed values and a hand computation of one feature.

const TINY: &[u8] = include_bytes!("fixtures/tiny.safetensors");

/// The script's inputs: x0[h][w] = (4h + w)/16 − 0.5 and x1[h][w] = ((4h + w)·7 mod 16)/8 − 1.
fn tiny_inputs() -> Tensor<2, 1, 4, 4> {
    Tensor::<2, 1, 4, 4>::from_fn(|n, _, h, w| {
        let i = (h * 4 + w) as f32;
        if n == 0 { i / 16.0 - 0.5 } else { ((h * 4 + w) * 7 % 16) as f32 / 8.0 - 1.0 }
    })
}

#[test]
fn tiny_fixture_weights_are_where_pytorch_puts_them() {
    let mut net = Tiny::init(&mut rng(1));
    weights::from_bytes(&mut net, TINY, "tiny.safetensors").unwrap();
    // conv (COUT, CIN, K, K) row-major: w[c][0][i][j] = 0.1·(9c + 3i + j − 9)
    let conv = net.0.weight();
    assert_eq!(conv.len(), 18);
    for (k, &w) in conv.iter().enumerate() {
        assert_eq!(w, (0.1 * (k as f64 - 9.0)) as f32, "conv weight {k}");
    }
    assert_eq!(conv[0], -0.9); // [0][0][0][0]
    assert_eq!(conv[9 + 3 + 2], (0.1f64 * 5.0) as f32); // [1][0][1][2]
    assert_eq!(net.0.bias(), Some(&[0.5, -0.25][..]));
    // linear (OUT, IN): w[o][f] = 0.05·(8o + f − 12)
    assert_eq!(net.3.weight()[0], (0.05f64 * -12.0) as f32);
    assert_eq!(net.3.weight()[2 * 8 + 7], (0.05f64 * 11.0) as f32);
    assert_eq!(net.3.bias(), [0.1, 0.0, -0.1]);
}

#[test]
fn tiny_fixture_output_matches_the_python_loops() {
    let mut net = Tiny::init(&mut rng(1));
    weights::from_bytes(&mut net, TINY, "tiny.safetensors").unwrap();
    let y: Tensor2<2, 3> = net.forward(tiny_inputs());
    // From make_tiny.py (float64 loops over the stored float32 weights).
    let expected = [
        [-2.70625004847534, -0.5412500056996941, 1.6237500165868552],
        [-1.3049999886006114, -0.2949999987334011, 0.7149999887123706],
    ];
    for (n, row) in expected.iter().enumerate() {
        for (o, &e) in row.iter().enumerate() {
            let got = y.get(n, o) as f64;
            assert!((got - e).abs() < 1e-5, "y[{n}][{o}] = {got}, expected {e}");
        }
    }
    // The first feature, computed by hand in the script: 1.33125 + 0.5.
    let conv_out = net.0.forward(tiny_inputs());
    assert!((conv_out.get(0, 0, 0, 0) - 1.83125).abs() < 1e-6);
}

#[test]
fn tiny_fixture_is_strict_too() {
    // f64 model, f32 file.
    let mut net64: (Conv2d<1, 2, 3, 1, 0, Exact, f64>, Relu, Flatten, Linear<8, 3, f64>) =
        Init::init(&mut rng(1));
    let err = weights::from_bytes(&mut net64, TINY, "tiny.safetensors").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"tiny.safetensors: tensor "0.weight": expected dtype F64, found F32"#
    );
    // The same file saved again by the library holds the same tensors and metadata.
    let mut net = Tiny::init(&mut rng(1));
    weights::from_bytes(&mut net, TINY, "tiny.safetensors").unwrap();
    let resaved = weights::to_bytes(&net).unwrap();
    let mut a = weights::state_dict_from_bytes::<f32>(TINY, "tiny").unwrap();
    let mut b = weights::state_dict_from_bytes::<f32>(&resaved, "resaved").unwrap();
    a.entries.sort_by(|x, y| x.name.cmp(&y.name));
    b.entries.sort_by(|x, y| x.name.cmp(&y.name));
    assert_eq!(a, b);
}

/// Writes files for `tests/fixtures/check_with_safetensors.py` (the Python `safetensors`
/// package's view of our files; not run by CI): `cargo test --test weights -- --ignored`, with
/// the directory in `TYPED_CNN_EXPORT_DIR` (default: the temporary directory).
#[test]
#[ignore = "writes files for a manual check with Python's safetensors package"]
fn export_for_python_check() {
    let dir =
        std::env::var_os("TYPED_CNN_EXPORT_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    weights::save(&LeNet::init(&mut rng(1)), dir.join("lenet_f32.safetensors")).unwrap();
    weights::save(&LeNet64::init(&mut rng(1)), dir.join("lenet_f64.safetensors")).unwrap();
    weights::save(&stats(3), dir.join("stats.safetensors")).unwrap();
    let mut tiny = Tiny::init(&mut rng(1));
    weights::from_bytes(&mut tiny, TINY, "tiny.safetensors").unwrap();
    weights::save(&tiny, dir.join("tiny_resaved.safetensors")).unwrap();
    println!("wrote to {}", dir.display());
}
