//! typed-cnn against real PyTorch: a batch-norm residual network's state dict written by PyTorch
//! loads strictly, and its eval output, train output, input and parameter gradients and running
//! statistics match PyTorch's; four optimizers' steps match `torch.optim`.
//!
//! The fixtures are made by `tests/fixtures/make_torch_reference.py` (see its header for how to
//! run it) with torch 2.15.0 (CPU), safetensors 0.8.0, all in float64. The tolerance is
//! `gradcheck::assert_close`'s: `|got − exp| ≤ 1e-4·|exp| + 1e-5·max(1, max|exp|)`.

use std::collections::BTreeSet;

use typed_cnn::Buffer;
use typed_cnn::gradcheck::assert_close;
use typed_cnn::optim::Optimizer;
use typed_cnn::prelude::*;
use typed_cnn::weights::{self, StateDict};

mod torch_support;
use torch_support::{count, fixture, values};

/// The PyTorch network of the fixture script, with its `nn.Sequential` names.
type Net = (
    (Conv2d<1, 4, 3, 1, 1, Exact, f64>, BatchNorm2d<4, f64>, Relu),
    Residual<(
        Conv2d<4, 4, 3, 1, 1, Exact, f64>,
        BatchNorm2d<4, f64>,
        Relu,
        Conv2d<4, 4, 3, 1, 1, Exact, f64>,
        BatchNorm2d<4, f64>,
    )>,
    MaxPool2d<2>,
    Flatten,
    Linear<64, 3, f64>,
);

/// Any initial values: the strict load must overwrite every one of them.
fn torch_net() -> Net {
    let mut net: Net = Init::init(&mut rand::rng());
    weights::load(&mut net, fixture("torch_bn_resnet.safetensors"))
        .expect("PyTorch's state dict loads strictly into the typed-cnn network");
    net
}

fn expected() -> StateDict<f64> {
    weights::load_state_dict(fixture("torch_bn_resnet_expected.safetensors")).unwrap()
}

#[test]
fn torch_state_dict_loads_strictly_with_its_values() {
    let net = torch_net();
    let file = weights::load_state_dict::<f64>(fixture("torch_bn_resnet.safetensors")).unwrap();
    let mut seen = BTreeSet::new();
    net.visit("", &mut |name, _, v| {
        assert_close(v, &values(&file, name));
        seen.insert(name.to_string());
    });
    net.visit_buffers("", &mut |name, _, b| {
        match b {
            Buffer::Values(v) => assert_close(v, &values(&file, name)),
            Buffer::Count(c) => assert_eq!(c, count(&file, name), "{name}"),
        }
        seen.insert(name.to_string());
    });
    let in_file: BTreeSet<String> = file.entries.iter().map(|e| e.name.clone()).collect();
    assert_eq!(seen, in_file);
}

#[test]
fn eval_output_matches_torch() {
    let (net, exp) = (torch_net(), expected());
    let x = Tensor::<2, 1, 8, 8, f64>::from_vec(values(&exp, "input")).unwrap();
    let y: Tensor2<2, 3, f64> = net.forward(x);
    assert_close(y.as_slice(), &values(&exp, "eval_output"));
}

#[test]
fn train_output_gradients_and_running_stats_match_torch() {
    let (mut net, exp) = (torch_net(), expected());
    let x = Tensor::<2, 1, 8, 8, f64>::from_vec(values(&exp, "input")).unwrap();
    let (y, trace) = net.forward_train(x);
    assert_close(y.as_slice(), &values(&exp, "train_output"));

    let dy = Tensor2::<2, 3, f64>::from_vec(values(&exp, "upstream")).unwrap();
    let mut grads = net.zeros_like();
    let dx = net.backward(trace, dy, &mut grads);
    assert_close(dx.as_slice(), &values(&exp, "grad_input"));

    let mut checked = BTreeSet::new();
    grads.visit("", &mut |name, _, g| {
        assert_close(g, &values(&exp, &format!("grad.{name}")));
        checked.insert(format!("grad.{name}"));
    });
    let torch_grads: BTreeSet<String> =
        exp.entries.iter().map(|e| e.name.clone()).filter(|n| n.starts_with("grad.")).collect();
    assert_eq!(checked, torch_grads, "every parameter gradient is compared");

    // PyTorch updated the running statistics during its train forward; typed-cnn folds them in
    // at the optimizer step, which with lr 0 leaves the parameters as they are.
    let mut before = Vec::new();
    net.visit_buffers("", &mut |name, _, b| {
        if let Buffer::Count(c) = b {
            before.push((name.to_string(), c));
        }
    });
    let params_before = net.clone();
    Sgd::new(0.0).step(&mut net, &grads);
    let mut checked = BTreeSet::new();
    net.visit_buffers("", &mut |name, _, b| {
        let key = format!("after.{name}");
        match b {
            Buffer::Values(v) => assert_close(v, &values(&exp, &key)),
            Buffer::Count(c) => {
                assert_eq!(c, count(&exp, &key), "{key}");
                let initial = before.iter().find(|(n, _)| n == name).unwrap().1;
                assert_eq!(c, initial + 1, "{name}: one batch tracked");
            }
        }
        checked.insert(key);
    });
    let torch_after: BTreeSet<String> =
        exp.entries.iter().map(|e| e.name.clone()).filter(|n| n.starts_with("after.")).collect();
    assert_eq!(checked, torch_after, "every buffer is compared");
    let mut unchanged = Vec::new();
    params_before.visit("", &mut |_, _, v| unchanged.extend_from_slice(v));
    let mut now = Vec::new();
    net.visit("", &mut |_, _, v| now.extend_from_slice(v));
    assert_eq!(now, unchanged, "a step with lr 0 changes no parameter");
}

/// Three steps of `opt` on a `Linear<3, 2, f64>` from `init.*` with the gradients `grad<k>.*`;
/// the result must be PyTorch's `<name>.*`.
fn check_optimizer(name: &str, mut opt: impl Optimizer<f64>) {
    let exp = weights::load_state_dict::<f64>(fixture("torch_optim_expected.safetensors")).unwrap();
    let mut fc =
        Linear::<3, 2, f64>::from_parts(values(&exp, "init.weight"), values(&exp, "init.bias"))
            .unwrap();
    for k in 0..3 {
        let grads = Linear::<3, 2, f64>::from_parts(
            values(&exp, &format!("grad{k}.weight")),
            values(&exp, &format!("grad{k}.bias")),
        )
        .unwrap();
        opt.step(&mut fc, &grads);
    }
    assert_eq!(opt.steps(), 3);
    assert_close(fc.weight(), &values(&exp, &format!("{name}.weight")));
    assert_close(fc.bias(), &values(&exp, &format!("{name}.bias")));
}

#[test]
fn sgd_nesterov_with_weight_decay_matches_torch() {
    check_optimizer("sgd_nesterov", Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(0.01));
}

#[test]
fn sgd_momentum_with_dampening_matches_torch() {
    check_optimizer("sgd_dampening", Sgd::new(0.1).momentum(0.9).dampening(0.1));
}

#[test]
fn adam_with_l2_weight_decay_matches_torch() {
    check_optimizer("adam", Adam::new(0.01).weight_decay(0.1));
}

#[test]
fn adamw_matches_torch() {
    check_optimizer("adamw", Adam::adamw(0.01).weight_decay(0.1));
}
