//! typed-cnn's ReLU6, Hardswish, SiLU and GELU (exact and tanh) against PyTorch: outputs and
//! derivatives on 41 points from −8 to 8 (none on a kink), in f64 to `1e-9·|exp| + 1e-12` (issue
//! 12's f64 standard; both sides compute GELU's `1 + erf(x/√2)` for negative x with cancellation,
//! which leaves differences near 1e-12 relative, and PyTorch's tanh-form derivative is exactly 0
//! where ours is 5e-15) and in f32 within the brief's tolerance (`gradcheck::assert_close`).
//!
//! The fixture is written by `tests/fixtures/make_torch_activations.py` (torch 2.15.0, float64).

use typed_cnn::ZerosLike;
use typed_cnn::gradcheck::assert_close;
use typed_cnn::prelude::*;

mod torch_support;
use torch_support::{close64, load, values};

type X<E> = Tensor2<1, 41, E>;

/// Output and dy/dx (backward of an all-ones dy) of `act` on the fixture's x, in `E`.
fn run<E: Float, A>(act: &A, x: &[f64]) -> (Vec<f64>, Vec<f64>)
where
    A: Trainable<X<E>, Output = X<E>> + ZerosLike,
{
    let x = X::<E>::from_slice(&x.iter().map(|&v| E::from_f64(v)).collect::<Vec<_>>()).unwrap();
    let (y, trace) = act.forward_train(x);
    let dx = act.backward(trace, T2::filled(E::ONE), &mut act.zeros_like());
    let f64s = |v: &[E]| v.iter().map(|e| e.to_f64()).collect();
    (f64s(y.as_slice()), f64s(dx.as_slice()))
}

fn check<A>(act: A, name: &str)
where
    A: Trainable<X<f64>, Output = X<f64>> + Trainable<X<f32>, Output = X<f32>> + ZerosLike,
{
    let state = load("torch_activations.safetensors");
    let x = values(&state, "x");
    let (ey, ed) = (values(&state, &format!("{name}.y")), values(&state, &format!("{name}.dydx")));
    // f64: the same function as PyTorch's, to rounding
    let (y, d) = run::<f64, _>(&act, &x);
    close64(&y, &ey, &format!("{name} y"));
    close64(&d, &ed, &format!("{name} dy/dx"));
    // f32: within the brief's tolerance of PyTorch's f64
    let (y, d) = run::<f32, _>(&act, &x);
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let d32: Vec<f32> = d.iter().map(|&v| v as f32).collect();
    assert_close(&y32, &ey);
    assert_close(&d32, &ed);
}

#[test]
fn relu6_matches_pytorch() {
    check(Relu6, "relu6");
}

#[test]
fn hardswish_matches_pytorch() {
    check(Hardswish, "hardswish");
}

#[test]
fn silu_matches_pytorch() {
    check(Silu, "silu");
}

#[test]
fn gelu_matches_pytorch() {
    check(Gelu::default(), "gelu");
}

#[test]
fn gelu_tanh_matches_pytorch() {
    check(Gelu { approximate: true }, "gelu_tanh");
}
