//! typed-cnn's Concat, Identity, Upsample, Sum (a projection shortcut with batch norm), ReLU6,
//! Hardswish, SiLU and GELU against PyTorch, in one network: PyTorch's state dict loads strictly,
//! and the eval output, train output, input gradient and every parameter gradient match.
//!
//! The fixtures are made by `tests/fixtures/make_torch_blocks.py` (torch 2.15.0, float64; its
//! header gives the PyTorch network). f64 within `1e-9·|exp| + 1e-12`; f32 (the same weights,
//! cast) within the brief's tolerance (`gradcheck::assert_close`).

use std::collections::BTreeSet;

use typed_cnn::BufferMut;
use typed_cnn::gradcheck::assert_close;
use typed_cnn::prelude::*;
use typed_cnn::weights::{self, EntryData, StateDict};

mod torch_support;
use torch_support::{close64, fixture, load, values};

type Net<E> = (
    (Conv2d<2, 4, 3, 1, 1, Exact, E>, Relu),
    Concat<Identity, (MaxPool2d<2>, Conv2d<4, 8, 3, 1, 1, Exact, E>, Relu6, Upsample<2>)>,
    Sum<
        (
            Conv2d<12, 8, 3, 2, 1, Floor, E>,
            BatchNorm2d<8, E>,
            Hardswish,
            Conv2d<8, 8, 3, 1, 1, Exact, E>,
        ),
        (Conv2d<12, 8, 1, 2, 0, Floor, E>, BatchNorm2d<8, E>),
    >,
    Silu,
    Gelu,
    Flatten,
    Linear<128, 3, E>,
);

fn expected() -> StateDict<f64> {
    load("torch_blocks_expected.safetensors")
}

/// The network with PyTorch's weights (a strict load: no tensor missing, none unexpected).
fn torch_net() -> Net<f64> {
    let mut net = Net::<f64>::default();
    weights::load(&mut net, fixture("torch_blocks.safetensors"))
        .expect("PyTorch's state dict loads strictly into the typed network");
    net
}

/// The same weights in f32 (the file is f64, and loading checks the dtype).
fn torch_net_f32() -> Net<f32> {
    let file = load("torch_blocks.safetensors");
    let mut net = Net::<f32>::default();
    net.visit_mut("", &mut |name, _, v| {
        let src = values(&file, name);
        v.iter_mut().zip(src).for_each(|(d, s)| *d = s as f32);
    });
    net.visit_buffers_mut("", &mut |name, _, b| match b {
        BufferMut::Values(v) => {
            v.iter_mut().zip(values(&file, name)).for_each(|(d, s)| *d = s as f32);
        }
        BufferMut::Count(c) => match &file.get(name).unwrap().data {
            EntryData::Count(n) => *c = *n,
            EntryData::Values(_) => panic!("`{name}` should be a count"),
        },
    });
    net
}

#[test]
fn names_match_pytorch() {
    let net = Net::<f64>::default();
    let mut ours = BTreeSet::new();
    net.visit("", &mut |n, _, _| {
        ours.insert(n.to_string());
    });
    net.visit_buffers("", &mut |n, _, _| {
        ours.insert(n.to_string());
    });
    let file = load("torch_blocks.safetensors");
    let theirs: BTreeSet<String> = file.entries.iter().map(|e| e.name.clone()).collect();
    assert_eq!(ours, theirs);
    assert!(ours.contains("1.1.1.weight") && ours.contains("2.1.1.running_var"));
}

#[test]
fn eval_and_train_outputs_and_gradients_match_pytorch_f64() {
    let (net, exp) = (torch_net(), expected());
    let x = || Tensor::<2, 2, 8, 8, f64>::from_vec(values(&exp, "input")).unwrap();
    let y: Tensor2<2, 3, f64> = net.forward(x());
    close64(y.as_slice(), &values(&exp, "eval_output"), "eval_output");

    let (y, trace) = net.forward_train(x());
    close64(y.as_slice(), &values(&exp, "train_output"), "train_output");
    let dy = Tensor2::<2, 3, f64>::from_vec(values(&exp, "upstream")).unwrap();
    let mut grads = net.zeros_like();
    let dx = net.backward(trace, dy, &mut grads);
    close64(dx.as_slice(), &values(&exp, "grad_input"), "grad_input");
    let mut checked = BTreeSet::new();
    grads.visit("", &mut |name, _, g| {
        close64(g, &values(&exp, &format!("grad.{name}")), name);
        checked.insert(format!("grad.{name}"));
    });
    let torch: BTreeSet<String> =
        exp.entries.iter().map(|e| e.name.clone()).filter(|n| n.starts_with("grad.")).collect();
    assert_eq!(checked, torch, "every parameter gradient is compared");
}

#[test]
fn outputs_and_input_gradient_match_pytorch_f32() {
    let (net, exp) = (torch_net_f32(), expected());
    let x: Vec<f32> = values(&exp, "input").iter().map(|&v| v as f32).collect();
    let x = || Tensor::<2, 2, 8, 8>::from_vec(x.clone()).unwrap();
    let y: Tensor2<2, 3> = net.forward(x());
    assert_close(y.as_slice(), &values(&exp, "eval_output"));
    let (y, trace) = net.forward_train(x());
    assert_close(y.as_slice(), &values(&exp, "train_output"));
    let dy: Vec<f32> = values(&exp, "upstream").iter().map(|&v| v as f32).collect();
    let dx = net.backward(trace, T2::from_vec(dy).unwrap(), &mut net.zeros_like());
    assert_close(dx.as_slice(), &values(&exp, "grad_input"));
}
