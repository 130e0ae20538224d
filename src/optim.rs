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
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let sgd = Sgd::new(0.25);
    /// assert_eq!(sgd, Sgd { lr: 0.25 });
    /// ```
    pub fn new(lr: f64) -> Self {
        Self { lr }
    }

    /// One step on `model` with the gradients `grads` (a value of the model's type).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<1, 1, f64>::from_parts(vec![1.0], vec![0.0]).unwrap();
    /// let (y, trace) = fc.forward_train(Tensor2::<1, 1, f64>::filled(2.0)); // y = 1·2 + 0
    /// let (_, dy) = mse(&y, &Tensor2::<1, 1, f64>::zeros()); // dL/dy = 2·(2 − 0) = 4
    /// let mut grads = fc.zeros_like();
    /// let _ = fc.backward(trace, dy, &mut grads); // dW = 4·2 = 8, db = 4
    /// Sgd::new(0.125).step(&mut fc, &grads);
    /// assert_eq!((fc.weight()[0], fc.bias()[0]), (0.0, -0.5)); // 1 − 0.125·8, 0 − 0.125·4
    /// ```
    pub fn step<E: Float, M: Params<E>>(&self, model: &mut M, grads: &M) {
        let lr = E::from_f64(self.lr);
        zip_params(model, grads, |_, p, g| {
            p.iter_mut().zip(g).for_each(|(p, &g)| *p -= lr * g);
        });
    }
}
