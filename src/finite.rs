//! Stopping a training run at the first NaN or infinity, with the step and the layer.
//!
//! A NaN in a loss or gradient does not stop arithmetic: the optimizer would write it into the
//! weights and every later step would train on garbage. [`check_finite`] is the guard a
//! training loop calls between backward and the optimizer step:
//!
//! ```
//! use typed_cnn::prelude::*;
//! use typed_cnn::finite::check_finite;
//! let mut net: (Linear<2, 2>, Relu, Linear<2, 2>) = Init::init(&mut rand::rng());
//! let mut grads = net.zeros_like();
//! let mut opt = Sgd::new(0.1);
//! let labels = Labels::<1, 2>::new(vec![1]).unwrap();
//! for step in 0..3u64 {
//!     let x = Tensor2::<1, 2>::from_slice(&[1.0, if step == 2 { f32::NAN } else { 0.5 }]).unwrap();
//!     let (logits, trace) = net.forward_train(x);
//!     let (loss, dy) = cross_entropy(&logits, &labels);
//!     grads.zero();
//!     net.backward_params(trace, dy, &mut grads);
//!     if let Err(e) = check_finite(step, loss, &grads) {
//!         assert_eq!(e.to_string(), "step 2: the loss is NaN");
//!         break; // stop instead of stepping with NaN
//!     }
//!     opt.step(&mut net, &grads);
//! }
//! ```

use core::fmt;

use crate::Float;
use crate::module::Params;

/// What [`check_finite`] found.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NonFinite {
    /// The loss itself.
    Loss(f64),
    /// A gradient: the parameter tensor nearest the loss (first in backward order) with a
    /// non-finite value, the first such value in it, and how many tensors are affected.
    Gradient {
        /// The parameter's name, `"3.4.weight"`: the layer that produced it.
        tensor: String,
        /// The flat index of the first non-finite value in it.
        index: usize,
        /// That value (NaN, +∞ or −∞).
        value: f64,
        /// How many parameter tensors have a non-finite gradient.
        tensors: usize,
    },
}

/// A NaN or infinite loss or gradient at a training step.
///
/// ```
/// use typed_cnn::finite::{NonFinite, NonFiniteError};
/// let e = NonFiniteError { step: 7, found: NonFinite::Loss(f64::INFINITY) };
/// assert_eq!(e.to_string(), "step 7: the loss is inf");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NonFiniteError {
    /// The step the caller passed to [`check_finite`].
    pub step: u64,
    /// What was not finite.
    pub found: NonFinite,
}

impl fmt::Display for NonFiniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.found {
            NonFinite::Loss(v) => write!(f, "step {}: the loss is {v}", self.step),
            NonFinite::Gradient { tensor, index, value, tensors } => write!(
                f,
                "step {}: the gradient of `{tensor}` is {value} at index {index} (the first \
                 non-finite gradient in backward order; {tensors} parameter tensor(s) affected)",
                self.step
            ),
        }
    }
}

impl std::error::Error for NonFiniteError {}

/// Checks the loss and every parameter gradient of step `step`.
///
/// # Errors
/// [`NonFiniteError`] naming the step and either the loss or the parameter tensor nearest the
/// loss whose gradient holds a NaN or infinity: backward runs from the last layer to the first,
/// so that is the layer where the non-finite value appeared (the layers before it only received
/// it).
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::finite::check_finite;
/// let net: (Linear<2, 2, f64>, Relu, Linear<2, 2, f64>) = Init::init(&mut rand::rng());
/// let mut grads = net.zeros_like();
/// assert!(check_finite(0, 0.5, &grads).is_ok());
/// // Non-finite gradients in both linear layers: the one nearer the loss (index 2) is reported.
/// grads.visit_mut("", &mut |name, _, g| if name.ends_with("weight") { g[1] = f64::NAN });
/// let err = check_finite(3, 0.5, &grads).unwrap_err();
/// assert!(err.to_string().starts_with("step 3: the gradient of `2.weight` is NaN at index 1"));
/// ```
pub fn check_finite<E: Float, M: Params<E>>(
    step: u64,
    loss: E,
    grads: &M,
) -> Result<(), NonFiniteError> {
    if !loss.is_finite() {
        return Err(NonFiniteError { step, found: NonFinite::Loss(loss.to_f64()) });
    }
    // Visit order is forward order; the last hit is the first in backward order.
    let mut last: Option<(String, usize, f64)> = None;
    let mut tensors = 0;
    grads.visit("", &mut |name, _, values| {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            tensors += 1;
            last = Some((name.to_string(), i, values[i].to_f64()));
        }
    });
    match last {
        None => Ok(()),
        Some((tensor, index, value)) => Err(NonFiniteError {
            step,
            found: NonFinite::Gradient { tensor, index, value, tensors },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::testing::seeded;

    /// Weights of f32::MAX overflow the first layer's output to +∞ (2·MAX + 2·MAX); the loss
    /// is then NaN (∞ − ∞ in the shifted softmax) and is reported with the step.
    #[test]
    fn overflow_in_a_layer_is_reported_with_the_step() {
        let mut net = <(Linear<2, 2>, Relu, Linear<2, 2>)>::init(&mut seeded(1));
        net.0
            .visit_mut("", &mut |name, _, v| v.fill(if name == "weight" { f32::MAX } else { 0.0 }));
        let x = Tensor2::<1, 2>::filled(2.0);
        let (logits, trace) = net.forward_train(x);
        let (loss, dy) = cross_entropy(&logits, &Labels::<1, 2>::new(vec![0]).unwrap());
        let mut grads = net.zeros_like();
        net.backward_params(trace, dy, &mut grads);
        let err = check_finite(41, loss, &grads).unwrap_err();
        assert_eq!(err.step, 41);
        assert!(matches!(err.found, NonFinite::Loss(v) if !v.is_finite()), "{err}");
    }

    #[test]
    fn infinite_gradient_names_the_tensor_and_counts() {
        let net = <(Linear<2, 3>, Tanh, Linear<3, 2>)>::init(&mut seeded(2));
        let mut grads = net.zeros_like();
        grads.visit_mut("", &mut |name, _, g| {
            if name == "0.bias" {
                g[2] = f32::NEG_INFINITY;
            }
        });
        let err = check_finite(5, 0.25f32, &grads).unwrap_err();
        assert_eq!(
            err.found,
            NonFinite::Gradient {
                tensor: "0.bias".into(),
                index: 2,
                value: f64::NEG_INFINITY,
                tensors: 1
            }
        );
    }
}
