//! Optimizers, written once for every network through the [`Params`] visitor.

use crate::Float;
use crate::module::{Params, zip_params};

/// Plain stochastic gradient descent: `p ← p − lr·g`.
///
/// **PyTorch equivalent**: `torch.optim.SGD(params, lr)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let mut fc = Linear::<1, 1, f64>::from_parts(vec![1.0], vec![0.0]).unwrap();
/// let grads = Linear::<1, 1, f64>::from_parts(vec![2.0], vec![-1.0]).unwrap();
/// Sgd::new(0.5).step(&mut fc, &grads);
/// assert_eq!((fc.weight()[0], fc.bias()[0]), (0.0, 0.5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// The learning rate.
    pub lr: f64,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        Self { lr }
    }

    /// One step on `model` with the gradients `grads` (a value of the model's type).
    pub fn step<E: Float, M: Params<E>>(&self, model: &mut M, grads: &M) {
        let lr = E::from_f64(self.lr);
        zip_params(model, grads, |_, p, g| {
            p.iter_mut().zip(g).for_each(|(p, &g)| *p -= lr * g);
        });
    }
}
