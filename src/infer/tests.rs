//! `Infer` against `Module::forward` (the `std` path, itself tested against PyTorch), `View`
//! against the weight files `weights::to_bytes` writes, the memory constants against LeNet's
//! hand-computed numbers, and the safetensors reader against broken files.

use super::safetensors::leak_aligned;
use super::*;
use crate::models::LeNet5;
use crate::prelude::*;
use crate::testing::{assert_close, seeded};
use crate::{BufferMut, TensorData};

fn file_of<E: Float, M: Params<E>>(net: &M) -> SafeTensors {
    SafeTensors::leak(&crate::weights::to_bytes(net).unwrap()).unwrap()
}

type In1 = Tensor<1, 1, 28, 28>;

/// LeNet-5 in `f64`.
type LeNet64 = (
    (Conv2d<1, 6, 5, 1, 0, Exact, f64>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5, 1, 0, Exact, f64>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120, f64>, Relu, Linear<120, 84, f64>, Relu, Linear<84, 10, f64>),
);

#[test]
fn lenet_memory_constants_are_the_hand_computed_ones() {
    // weights: 6·25 + 6, 16·6·25 + 16, 120·256 + 120, 84·120 + 84, 10·84 + 10
    let weights = 156 + 2416 + 30_840 + 10_164 + 850;
    assert_eq!(weights, 44_426);
    assert_eq!(<LeNet5 as Infer<In1>>::WEIGHTS, weights);
    assert_eq!(<LeNet5 as Infer<In1>>::WEIGHT_BYTES, 4 * weights);
    // Workspace, by hand: the output (10), then the outer chain's two buffers, block 1's
    // output 6·12·12 = 864 and block 2's 16·4·4 = 256 (Flatten stays in it), then the largest
    // inner need: block 1's conv output 6·24·24 = 3456 (ReLU over it, pooling into 864).
    let workspace = 10 + 864 + 256 + 3456;
    assert_eq!(<LeNet5 as Infer<In1>>::WORKSPACE_LEN, workspace);
    assert_eq!(<LeNet5 as Infer<In1>>::ACTIVATION_BYTES, 4 * workspace);
    assert_eq!(<LeNet5 as Infer<In1>>::INPUT_BYTES, 4 * 784);
    // a batch of 4 needs 4 times as much of everything but the weights
    type In4 = Tensor<4, 1, 28, 28>;
    assert_eq!(<LeNet5 as Infer<In4>>::WORKSPACE_LEN, 4 * workspace);
    assert_eq!(<LeNet5 as Infer<In4>>::WEIGHTS, weights);
    // the classifier alone: 120 (P) and 84 (Q), the ReLUs over them
    type Head = (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>);
    assert_eq!(<Head as Infer<Tensor2<1, 256>>>::WORK, 120 + 84);
}

#[test]
fn lenet_viewed_in_place_infers_what_forward_computes() {
    let mut rng = seeded(5);
    let net64: LeNet64 = Init::init(&mut rng);
    let file = file_of::<f64, _>(&net64);
    let viewed = LeNet64::view(&file).unwrap();
    // in place: the first conv's weights are the file's bytes, not a copy
    let w = file.tensor(&Name::root().join("0").join("0").join("weight")).unwrap();
    assert_eq!(viewed.0.0.weight().as_ptr().cast::<u8>(), w.data.as_ptr());
    assert_eq!(viewed, net64);

    let x = Tensor::<3, 1, 28, 28, f64>::uniform(&mut rng, 0.0, 1.0);
    let want = net64.forward(x.clone());
    let mut ws = vec![0.0; <LeNet64 as Infer<Tensor<3, 1, 28, 28, f64>>>::WORKSPACE_LEN];
    let got = viewed.infer::<Tensor<3, 1, 28, 28, f64>>(x.as_slice(), &mut ws).unwrap();
    for (g, w) in got.iter().zip(want.as_slice()) {
        assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "got {g}, forward {w}");
    }

    // f32: the same network's weights rounded, against the f64 forward
    let net32: LeNet5 = Init::init(&mut seeded(5));
    let file32 = file_of::<f32, _>(&net32);
    let viewed32 = LeNet5::view(&file32).unwrap();
    let exact: Vec<f64> = {
        let mut w64 = Vec::new();
        net32.visit("", &mut |_, _, v| w64.extend(v.iter().map(|&x| f64::from(x))));
        let mut n64 = LeNet64::default();
        let mut at = 0;
        n64.visit_mut("", &mut |_, _, v| {
            v.copy_from_slice(&w64[at..at + v.len()]);
            at += v.len();
        });
        n64.forward(x.clone()).as_slice().to_vec()
    };
    let mut ws32 = [0.0f32; 3 * 4586];
    let x32 = x.cast::<f32>();
    let got32 = viewed32.infer::<Tensor<3, 1, 28, 28>>(x32.as_slice(), &mut ws32).unwrap();
    assert_close(got32, &exact);
}

/// Every kind of block: batch norm with running statistics, a residual, a concatenation, a
/// projection sum with stride-2 floor-mode grouped and 1×1 branches, depthwise and dilated
/// convolutions, pooling, and the activations; two images.
type Zoo = (
    (Conv2d<3, 8, 3, 1, 1, Exact, f64>, BatchNorm2d<8, f64>, Relu),
    Residual<(Conv2d<8, 8, 3, 1, 1, Exact, f64, NoBias>, Relu6)>,
    Concat<Identity, (DepthwiseConv2d<8, 3, 1, 1, Exact, f64>, Hardswish)>,
    Sum<
        (GroupedConv2d<16, 16, 3, 4, 2, 1, Floor, f64>, Sigmoid),
        (Conv2d<16, 16, 1, 2, 0, Floor, f64>, Tanh),
    >,
    (AvgPool2d<3, 2>, Silu, DilatedConv2d<16, 4, 3, 2, 1, 2, Exact, f64>, Gelu, LeakyRelu),
    (MaxPool2d<2, 1, 1>, GlobalAvgPool2d, Flatten, Dropout, Linear<4, 5, f64>, LogSoftmax),
);
type ZooIn = Tensor<2, 3, 9, 9, f64>;

#[test]
fn every_block_infers_what_forward_computes() {
    let mut rng = seeded(9);
    let mut net: Zoo = Init::init(&mut rng);
    // running statistics away from (0, 1), so that they matter
    net.visit_buffers_mut("", &mut |_, _, b| {
        if let BufferMut::Values(v) = b {
            v.iter_mut().enumerate().for_each(|(i, x)| *x = 0.5 + 0.1 * i as f64);
        }
    });
    let viewed = Zoo::view(&file_of::<f64, _>(&net)).unwrap();
    let x = ZooIn::uniform(&mut rng, -1.0, 1.0);
    let want = net.forward(x.clone());
    let mut ws = vec![f64::NAN; <Zoo as Infer<ZooIn>>::WORKSPACE_LEN];
    let got = viewed.infer::<ZooIn>(x.as_slice(), &mut ws).unwrap();
    assert_eq!(got.len(), 10);
    for (g, w) in got.iter().zip(want.as_slice()) {
        assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "got {g}, forward {w}");
    }
    assert_eq!(<Zoo as Infer<ZooIn>>::WEIGHTS, Params::<f64>::param_count(&net) + 2 * 8);
}

#[test]
fn wrong_lengths_are_errors_that_name_the_need() {
    let net = LeNet5::view(&file_of::<f32, _>(&LeNet5::init(&mut seeded(1)))).unwrap();
    let mut ws = vec![0.0f32; 4586];
    let err = net.infer::<In1>(&[0.0; 783], &mut ws).unwrap_err();
    assert_eq!(err, InferError { what: "input", expected: 784, found: 783 });
    let err = net.infer::<In1>(&[0.0; 784], &mut ws[..4585]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the workspace has 4585 elements, the network needs at least 4586 (Infer::WORKSPACE_LEN)"
    );
    assert!(net.infer::<In1>(&[0.0; 784], &mut ws).is_ok());
}

#[test]
fn view_errors_name_the_tensor_and_the_numbers() {
    let file = file_of::<f32, _>(&LeNet5::init(&mut seeded(2)));
    // another network: the first conv has 8 filters
    type Other = ((Conv2d<1, 8, 5>, Relu, MaxPool2d<2>), Flatten);
    let err = Other::view(&file).unwrap_err();
    assert_eq!(err.name(), "0.0.weight");
    assert_eq!(
        err.to_string(),
        "tensor `0.0.weight` has shape [6, 1, 5, 5] in the file, the layer's is [8, 1, 5, 5]"
    );
    // f64 weights asked of an f32 file
    let err = <((Conv2d<1, 6, 5, 1, 0, Exact, f64>,),)>::view(&file).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `0.0.weight` is not of dtype F64, the network's element type"
    );
    // a name the file does not have (a tuple of one conv names it `0.weight`, not `0.0.weight`)
    let err = <(Conv2d<1, 6, 5>,)>::view(&file).unwrap_err();
    assert_eq!(err.to_string(), "the weight file has no tensor `0.weight`");
    assert_eq!(err.kind, ViewErrorKind::Missing);
}

#[test]
fn misaligned_weights_are_refused_not_copied() {
    let bytes = crate::weights::to_bytes(&LeNet5::init(&mut seeded(3))).unwrap();
    // the same bytes one past an aligned address
    let shifted = leak_aligned(&[&[0u8][..], &bytes].concat());
    let file = SafeTensors::parse(&shifted[1..]).unwrap();
    let err = LeNet5::view(&file).unwrap_err();
    assert!(matches!(err.kind, ViewErrorKind::Misaligned { .. }), "{err}");
    assert!(err.to_string().contains("include_weights!"), "{err}");
}

/// A file of `header` (padded with spaces to a multiple of 8 bytes, as safetensors writes it)
/// and 8 bytes of data.
fn file_with_header(header: &str) -> Vec<u8> {
    let mut header = header.to_string();
    while !header.len().is_multiple_of(8) {
        header.push(' ');
    }
    let mut f = (header.len() as u64).to_le_bytes().to_vec();
    f.extend_from_slice(header.as_bytes());
    f.extend_from_slice(&[0; 8]);
    f
}

#[test]
fn header_with_metadata_escapes_and_spaces_is_read() {
    let header = r#" { "__metadata__" : {"format": "pt", "nested": [1, {"a": null}, true, -2.5e3]},
        "a\u002eb\"c" : {"dtype":"F32", "shape":[2], "data_offsets":[0, 8], "extra": "x"} }   "#;
    let file = SafeTensors::parse(leak_aligned(&file_with_header(header))).unwrap();
    assert_eq!(file.len(), 1);
    let t = file.tensor(&Name::root().join("a").join("b\"c")).unwrap();
    assert_eq!((t.dtype(), t.shape(), t.data.len()), ("F32", &[2][..], 8));
    assert!(file.values::<f32>(&Name::root().join("a").join("b\"c"), &[2]).is_ok());
}

#[test]
fn broken_headers_are_format_errors_with_the_offset() {
    let cases = [
        (r#"[]"#, "the header is not a JSON object"),
        (
            r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 9]}}"#,
            "a tensor's data_offsets run outside the data",
        ),
        (
            r#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#,
            "a tensor's byte length is not its shape's",
        ),
        (r#"{"w": {"dtype": "F32", "shape": [2]}}"#, "a tensor lacks dtype, shape or data_offsets"),
        (
            r#"{"w": {"dtype": "F32", "shape": [1,1,1,1,1,1,1,1,2], "data_offsets": [0, 8]}}"#,
            "a tensor has more than 8 dimensions",
        ),
        (
            r#"{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#,
            "expected a non-negative integer",
        ),
        (
            r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}} x"#,
            "bytes after the header's object",
        ),
        (r#"{"w\q": {}}"#, "a bad escape in a string"),
    ];
    for (header, reason) in cases {
        let err = SafeTensors::parse(leak_aligned(&file_with_header(header))).unwrap_err();
        match err.kind {
            ViewErrorKind::Format { reason: r, at } => {
                assert_eq!(r, reason, "{header}");
                assert!(at <= 16 + header.len(), "{header}: offset {at}");
            }
            other => panic!("{header}: {other:?}"),
        }
    }
    let huge = [255u8; 8];
    let err = SafeTensors::parse(leak_aligned(&huge)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a safetensors file: the header length runs past the end of the file (at byte 0)"
    );
}

#[test]
fn every_truncation_and_byte_flip_of_a_real_file_is_refused_or_read_never_a_panic() {
    let bytes = crate::weights::to_bytes(&(Linear::<3, 2>::init(&mut seeded(4)), Relu)).unwrap();
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for cut in 0..bytes.len() {
        let r = SafeTensors::parse(leak_aligned(&bytes[..cut]));
        // a cut inside the header or data is an error; only the whole file is read
        assert!(r.is_err(), "cut at {cut} of {} (header ends at {header_end})", bytes.len());
    }
    let mut rng = crate::testing::Rng::new(11);
    for _ in 0..2000 {
        let mut b = bytes.clone();
        let i = ((rng.uniform() + 1.0) / 2.0 * header_end as f64) as usize % header_end;
        b[i] = ((rng.uniform() + 1.0) * 128.0) as u8;
        if let Ok(file) = SafeTensors::parse(leak_aligned(&b)) {
            let _ = <(Linear<3, 2>, Relu)>::view(&file); // an error or a network, no panic
        }
    }
}

crate::network! {
    /// A route with every kind of step: a chain through batch norm and an element-wise field
    /// (run over its input), a residual sum, a concatenation, a tuple field.
    struct Routed {
        conv1: Conv2d<3, 8, 3, 1, 1, Exact, f64>,
        bn1: BatchNorm2d<8, f64>,
        relu: Relu,
        conv2: Conv2d<8, 8, 3, 1, 1, Exact, f64>,
        conv3: (Conv2d<8, 16, 3, 2, 1, Floor, f64>, Tanh),
        side: Conv2d<8, 4, 1, 2, 0, Floor, f64>,
    }
    forward: conv1 -> bn1 -> relu -> (conv2 -> relu + identity) -> cat(conv3 -> relu, side)
}

crate::network! {
    /// A numbered chain (no route): the tuple's two buffers, any length.
    struct Numbered(Routed, MaxPool2d<2, 1>, Conv2d<20, 6, 1, 1, 0, Exact, f64>, Relu, Flatten,
        Linear<96, 3, f64>);
}

/// `forward` and `infer` of a network viewed in its own weight file, in f64, on 2 images.
fn infer_matches_forward<M, I>(mut net: M)
where
    M: Params<f64> + Forward<I> + Infer<I> + View,
    I: Layout<Elem = f64> + TensorData<Elem = f64>,
    <M as Forward<I>>::Output: TensorData<Elem = f64>,
{
    net.visit_buffers_mut("", &mut |_, _, b| {
        if let BufferMut::Values(v) = b {
            v.iter_mut().enumerate().for_each(|(i, x)| *x = 0.75 + 0.01 * (i % 50) as f64);
        }
    });
    let viewed = M::view(&file_of::<f64, _>(&net)).unwrap();
    let mut rng = crate::testing::Rng::new(17);
    let x: Vec<f64> = (0..I::LEN).map(|_| rng.uniform()).collect();
    let want = net.forward(I::from_storage(x.clone().into()));
    let mut ws = vec![f64::NAN; <M as Infer<I>>::WORKSPACE_LEN];
    let got = viewed.infer::<I>(&x, &mut ws).unwrap();
    assert_eq!(got.len(), want.data().len());
    for (g, w) in got.iter().zip(want.data()) {
        assert!((g - w).abs() <= 1e-11 * (1.0 + w.abs()), "got {g}, forward {w}");
    }
    assert_eq!(<M as Infer<I>>::WEIGHTS, Params::<f64>::param_count(&net) + buffer_values(&net));
}

/// Batch norm's running mean and variance: read by inference, not parameters.
fn buffer_values<M: Params<f64>>(net: &M) -> usize {
    let mut n = 0;
    net.visit_buffers("", &mut |_, _, b| {
        if let crate::Buffer::Values(v) = b {
            n += v.len();
        }
    });
    n
}

#[test]
fn declared_networks_infer_what_forward_computes() {
    infer_matches_forward::<Routed, Tensor<2, 3, 9, 9, f64>>(Init::init(&mut seeded(21)));
    infer_matches_forward::<Numbered, Tensor<2, 3, 9, 9, f64>>(Init::init(&mut seeded(22)));
}

/// The upsampling layers: a transposed convolution with output padding, bilinear, nearest.
type Decoder = (
    ConvTranspose2d<4, 3, 3, 2, 1, 1, f64>,
    UpsampleBilinear<2>,
    Relu,
    Upsample<2>,
    Conv2d<3, 2, 1, 1, 0, Exact, f64>,
);

#[test]
fn the_upsampling_layers_infer_what_forward_computes() {
    infer_matches_forward::<Decoder, Tensor<2, 4, 3, 5, f64>>(Init::init(&mut seeded(25)));
}

#[test]
fn the_zoo_infers_what_forward_computes() {
    use crate::models::{MobileNetV2, ResNet18, UNet};
    infer_matches_forward::<UNet<3, 2, f64>, Tensor<1, 3, 16, 12, f64>>(Init::init(&mut seeded(
        26,
    )));
    infer_matches_forward::<ResNet18<10, f64>, Tensor<1, 3, 32, 32, f64>>(Init::init(&mut seeded(
        23,
    )));
    infer_matches_forward::<MobileNetV2<10, f64>, Tensor<1, 3, 32, 32, f64>>(Init::init(
        &mut seeded(24),
    ));
}

#[test]
fn a_route_runs_element_wise_steps_over_its_intermediate() {
    // By hand, for one 3×9×9 image: conv1's output (8·81 = 648), which bn1 and relu then run
    // over; then the residual's output (648), which the concatenation reads, and the larger of
    // what the two blocks need inside: the residual `(conv2 -> relu + identity)` computes
    // conv2 → relu through conv2's output (648) and the identity into a buffer of its own (648);
    // the concatenation keeps both branch outputs (16·25 + 4·25 = 500), and its conv3 → relu
    // branch conv3's output (400) beside the buffer of the (conv, tanh) tuple (400).
    type I = Tensor<1, 3, 9, 9, f64>;
    let residual = 648 + 648;
    let concat = 500 + 400 + 400;
    assert_eq!(<Routed as Infer<I>>::WORK, 648 + 648 + residual.max(concat));
    // without running bn1 and relu over conv1's output it would be 3·648 + …
}
