//! `Conv2dHW` (rectangular kernels, per-axis strides and paddings, dilation) against PyTorch
//! 2.15's `nn.Conv2d` with tuple arguments (fixture by `tests/fixtures/make_torch_conv_hw.py`):
//! output, input gradient, weight and bias gradients in f64 within `1e-9·|exp| + 1e-12`, the
//! output in f32 within the brief's tolerance.

use typed_cnn::gradcheck::assert_close;
use typed_cnn::prelude::*;
use typed_cnn::weights::StateDict;

mod torch_support;
use torch_support::{close64, load, values};

/// Loads `<name>.weight` (and `<name>.bias`) into `conv`, runs forward and backward on the
/// fixture's input and upstream gradient, and compares everything with PyTorch's.
macro_rules! check_layer {
    ($f:expr, $name:literal, $L:ty, $L32:ty, $x:ty, $y:ty) => {{
        let f: &StateDict<f64> = $f;
        let key = |k: &str| format!("{}.{k}", $name);
        let bias = f.get(&key("bias")).map(|_| values(f, &key("bias")));
        let conv = <$L>::from_parts(values(f, &key("weight")), bias.clone()).unwrap();
        let x = <$x>::from_slice(&values(f, &key("x"))).unwrap();
        let (y, trace): ($y, _) = conv.forward_train(x.clone());
        close64(y.as_slice(), &values(f, &key("y")), &key("y"));
        let mut grads = conv.zeros_like();
        let dx = conv.backward(trace, <$y>::from_slice(&values(f, &key("r"))).unwrap(), &mut grads);
        close64(dx.as_slice(), &values(f, &key("dx")), &key("dx"));
        close64(grads.weight(), &values(f, &key("dweight")), &key("dweight"));
        if let Some(db) = grads.bias() {
            close64(db, &values(f, &key("dbias")), &key("dbias"));
        }
        let to32 = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<f32>>();
        let conv32 = <$L32>::from_parts(to32(conv.weight()), bias.as_deref().map(to32)).unwrap();
        assert_close(conv32.forward(x.cast::<f32>()).as_slice(), &values(f, &key("y")));
    }};
}

#[test]
fn kernel_1x3_strides_2_1_paddings_1_2_dilations_1_2_floor() {
    let f = load("torch_conv_hw.safetensors");
    check_layer!(
        &f,
        "a",
        Conv2dHW<3, 4, 1, 3, 2, 1, 1, 2, 1, 2, Floor, f64>,
        Conv2dHW<3, 4, 1, 3, 2, 1, 1, 2, 1, 2, Floor>,
        Tensor<2, 3, 6, 7, f64>,
        Tensor<2, 4, 4, 7, f64>
    );
}

#[test]
fn dilated_3x3_padding_2_dilation_2_without_bias() {
    let f = load("torch_conv_hw.safetensors");
    check_layer!(
        &f,
        "b",
        DilatedConv2d<2, 3, 3, 2, 1, 2, Exact, f64, NoBias>,
        DilatedConv2d<2, 3, 3, 2, 1, 2, Exact, f32, NoBias>,
        Tensor<1, 2, 5, 6, f64>,
        Tensor<1, 3, 5, 6, f64>
    );
}

#[test]
fn kernel_5x1_strides_1_2_paddings_2_0() {
    let f = load("torch_conv_hw.safetensors");
    check_layer!(
        &f,
        "c",
        Conv2dHW<2, 2, 5, 1, 1, 2, 2, 0, 1, 1, Exact, f64>,
        Conv2dHW<2, 2, 5, 1, 1, 2, 2, 0>,
        Tensor<3, 2, 4, 7, f64>,
        Tensor<3, 2, 4, 4, f64>
    );
    // PyTorch's state-dict names and shapes
    let conv = Conv2dHW::<2, 2, 5, 1, 1, 2, 2, 0>::default();
    let mut names = Vec::new();
    conv.visit("conv", &mut |n, s, _| names.push(format!("{n} {s:?}")));
    assert_eq!(names, ["conv.weight [2, 2, 5, 1]", "conv.bias [2]"]);
}
