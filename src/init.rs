//! Weight initialization schemes, applied to any network through the [`Params`] visitor.
//!
//! [`Init::init`](crate::Init::init) builds a network with PyTorch's defaults (for `Conv2d` and
//! `Linear`: weights and biases from `U(±1/√fan_in)`; batch norm γ = 1, β = 0). [`reinit`]
//! then redraws it with another [`Scheme`]:
//!
//! | scheme | weights | PyTorch |
//! |---|---|---|
//! | `HeNormal` | `N(0, 2/fan_in)` | `kaiming_normal_(w, nonlinearity="relu")` |
//! | `HeUniform` | `U(±√(6/fan_in))` | `kaiming_uniform_(w, nonlinearity="relu")` |
//! | `XavierNormal` | `N(0, 2/(fan_in + fan_out))` | `xavier_normal_(w)` |
//! | `XavierUniform` | `U(±√(6/(fan_in + fan_out)))` | `xavier_uniform_(w)` |
//!
//! Weights are the tensors of rank 2 or more (`(OUT, IN)` or `(COUT, CIN, K, K)`), with
//! `fan_in = IN·K·K` and `fan_out = OUT·K·K` as PyTorch computes them. Biases (tensors named
//! `…bias` of rank 1) are set to zero, the usual companion of these schemes; other rank-1
//! parameters (batch norm's γ) are left alone. Everything is drawn from the caller's generator,
//! so a seed reproduces the weights bit for bit.

use rand::Rng;

use crate::Float;
use crate::module::Params;
pub use crate::param::Fill;

/// An initialization scheme for [`reinit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// He (Kaiming) normal, for ReLU networks: `N(0, 2/fan_in)`.
    HeNormal,
    /// He (Kaiming) uniform, for ReLU networks: `U(±√(6/fan_in))`.
    HeUniform,
    /// Xavier (Glorot) normal: `N(0, 2/(fan_in + fan_out))`.
    XavierNormal,
    /// Xavier (Glorot) uniform: `U(±√(6/(fan_in + fan_out)))`.
    XavierUniform,
}

/// `(fan_in, fan_out)` of a weight of shape `(OUT, IN, …kernel)`, as PyTorch computes them.
/// A missing dimension counts as 1 (PyTorch refuses tensors of rank < 2; [`reinit`] never asks).
///
/// ```
/// use typed_cnn::init::fans;
/// assert_eq!(fans(&[16, 6, 5, 5]), (150, 400)); // Conv2d<6, 16, 5>: 6·25 in, 16·25 out
/// assert_eq!(fans(&[10, 84]), (84, 10)); // Linear<84, 10>
/// ```
pub fn fans(shape: &[usize]) -> (usize, usize) {
    let receptive: usize = shape.iter().skip(2).product();
    let out = shape.first().copied().unwrap_or(1);
    let inp = shape.get(1).copied().unwrap_or(1);
    (inp * receptive, out * receptive)
}

/// Redraws every weight of `model` with `scheme` and zeroes every bias (see the
/// [module documentation](self)).
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::init::{Scheme, reinit};
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut net: (Conv2d<1, 6, 5>, Relu, Flatten, Linear<3456, 10>) = Init::init(&mut StdRng::seed_from_u64(0));
/// reinit(&mut net, Scheme::HeUniform, &mut StdRng::seed_from_u64(1));
/// let bound = (6.0f32 / 25.0).sqrt(); // fan_in of the convolution = 1·5·5
/// assert!(net.0.weight().iter().all(|w| w.abs() <= bound));
/// assert!(net.0.bias().unwrap().iter().all(|&b| b == 0.0));
/// ```
pub fn reinit<E: Float, M: Params<E>, R: Rng + ?Sized>(model: &mut M, scheme: Scheme, rng: &mut R) {
    model.visit_mut("", &mut |name, shape, values| {
        if shape.len() < 2 {
            if name.ends_with("bias") {
                values.fill(E::ZERO);
            }
            return;
        }
        let (fan_in, fan_out) = fans(shape);
        let (fan_in, fan_sum) = (fan_in.max(1) as f64, (fan_in + fan_out).max(1) as f64);
        match scheme {
            Scheme::HeNormal => normal(values, (2.0 / fan_in).sqrt(), rng),
            Scheme::HeUniform => uniform(values, (6.0 / fan_in).sqrt(), rng),
            Scheme::XavierNormal => normal(values, (2.0 / fan_sum).sqrt(), rng),
            Scheme::XavierUniform => uniform(values, (6.0 / fan_sum).sqrt(), rng),
        }
    });
}

fn uniform<E: Float, R: Rng + ?Sized>(values: &mut [E], bound: f64, rng: &mut R) {
    values.iter_mut().for_each(|v| *v = E::from_f64(rng.random_range(-bound..=bound)));
}

/// Box–Muller: two uniforms give two independent standard normals; both are used.
fn normal<E: Float, R: Rng + ?Sized>(values: &mut [E], std: f64, rng: &mut R) {
    for pair in values.chunks_mut(2) {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * core::f64::consts::PI * u2;
        for (v, z) in pair.iter_mut().zip([r * theta.cos(), r * theta.sin()]) {
            *v = E::from_f64(std * z);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::testing::seeded;

    /// The sample moments of 60,000 weights agree with the scheme's variance to within a few
    /// standard errors (the standard error of a variance estimate is about σ²·√(2/n) ≈ 0.6 %).
    #[test]
    fn variances_match_the_schemes() {
        // Linear<300, 200>: fan_in 300, fan_out 200.
        let cases = [
            (Scheme::HeNormal, 2.0 / 300.0),
            (Scheme::HeUniform, 2.0 / 300.0), // U(±b) has variance b²/3 = 6/300/3
            (Scheme::XavierNormal, 2.0 / 500.0),
            (Scheme::XavierUniform, 2.0 / 500.0),
        ];
        for (scheme, var) in cases {
            let mut fc = Linear::<300, 200, f64>::init(&mut seeded(1));
            reinit(&mut fc, scheme, &mut seeded(2));
            let w = fc.weight();
            let n = w.len() as f64;
            let mean = w.iter().sum::<f64>() / n;
            let sample_var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            assert!(mean.abs() < 4.0 * (var / n).sqrt(), "{scheme:?}: mean {mean}");
            assert!((sample_var / var - 1.0).abs() < 0.03, "{scheme:?}: var {sample_var} vs {var}");
            assert!(fc.bias().iter().all(|&b| b == 0.0));
        }
    }

    #[test]
    fn same_seed_same_weights_and_batchnorm_gamma_untouched() {
        let make = |seed| {
            let mut net = <(Conv2d<2, 4, 3>, BatchNorm2d<4>)>::init(&mut seeded(0));
            reinit(&mut net, Scheme::HeNormal, &mut seeded(seed));
            net
        };
        assert_eq!(make(5), make(5));
        assert_ne!(make(5), make(6));
        assert_eq!(make(5).1.weight(), [1.0; 4]);
    }
}
