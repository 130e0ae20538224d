//! `ConvTranspose2d` against PyTorch 2.15's `nn.ConvTranspose2d` (fixture by
//! `tests/fixtures/make_torch_transposed.py`): output, input gradient, weight and bias gradients
//! in f64 within `1e-9·|exp| + 1e-12`, the output in f32 within the brief's tolerance.

use typed_cnn::gradcheck::assert_close;
use typed_cnn::prelude::*;

mod torch_support;
use torch_support::{close64, load, values};

#[test]
fn stride_2_padding_1_output_padding_1_with_bias() {
    let f = load("torch_transposed.safetensors");
    let mut up = ConvTranspose2d::<3, 2, 3, 2, 1, 1, f64>::default();
    up.weight_mut().copy_from_slice(&values(&f, "a.weight"));
    up.bias_mut().unwrap().copy_from_slice(&values(&f, "a.bias"));
    let x = Tensor::<2, 3, 4, 5, f64>::from_slice(&values(&f, "a.x")).unwrap();
    let (y, trace): (Tensor<2, 2, 8, 10, f64>, _) = up.forward_train(x.clone());
    close64(y.as_slice(), &values(&f, "a.y"), "a.y");
    let mut grads = up.zeros_like();
    let dx = up.backward(trace, T4::from_slice(&values(&f, "a.r")).unwrap(), &mut grads);
    close64(dx.as_slice(), &values(&f, "a.dx"), "a.dx");
    close64(grads.weight(), &values(&f, "a.dweight"), "a.dweight");
    close64(grads.bias().unwrap(), &values(&f, "a.dbias"), "a.dbias");

    let mut up32 = ConvTranspose2d::<3, 2, 3, 2, 1, 1>::default();
    up32.weight_mut().iter_mut().zip(up.weight()).for_each(|(d, &s)| *d = s as f32);
    up32.bias_mut().unwrap().iter_mut().zip(up.bias().unwrap()).for_each(|(d, &s)| *d = s as f32);
    assert_close(up32.forward(x.cast::<f32>()).as_slice(), &values(&f, "a.y"));
}

#[test]
fn kernel_2_stride_2_without_bias() {
    let f = load("torch_transposed.safetensors");
    let mut up = ConvTranspose2d::<2, 3, 2, 2, 0, 0, f64, NoBias>::default();
    up.weight_mut().copy_from_slice(&values(&f, "b.weight"));
    let x = Tensor::<1, 2, 3, 2, f64>::from_slice(&values(&f, "b.x")).unwrap();
    let (y, trace): (Tensor<1, 3, 6, 4, f64>, _) = up.forward_train(x);
    close64(y.as_slice(), &values(&f, "b.y"), "b.y");
    let mut grads = up.zeros_like();
    let dx = up.backward(trace, T4::from_slice(&values(&f, "b.r")).unwrap(), &mut grads);
    close64(dx.as_slice(), &values(&f, "b.dx"), "b.dx");
    close64(grads.weight(), &values(&f, "b.dweight"), "b.dweight");
    // PyTorch's state-dict names and shapes
    let mut names = Vec::new();
    up.visit("up", &mut |n, s, _| names.push(format!("{n} {s:?}")));
    assert_eq!(names, ["up.weight [2, 3, 2, 2]"]);
}
