//! Optimizers and learning-rate schedules, written once for every network through the
//! [`Params`] visitor: no optimizer has per-layer code.
//!
//! | typed-cnn | PyTorch |
//! |---|---|
//! | `Sgd::new(lr)` | `torch.optim.SGD(params, lr)` |
//! | `Sgd::new(lr).momentum(0.9).nesterov(true).weight_decay(5e-4)` | `SGD(params, lr, momentum=0.9, nesterov=True, weight_decay=5e-4)` |
//! | `Adam::new(lr)` | `torch.optim.Adam(params, lr)` (β = (0.9, 0.999), eps 1e-8) |
//! | `Adam::adamw(lr)` | `torch.optim.AdamW(params, lr)` (weight decay 0.01, decoupled) |
//! | `StepLr`, `CosineLr` | `lr_scheduler.StepLR`, `lr_scheduler.CosineAnnealingLR` |
//!
//! Every [`Optimizer::step`] ends by calling [`Params::update_buffers`], which folds the batch
//! statistics that backward gathered in the gradient value into batch norm's running statistics.
//!
//! A training step:
//! ```
//! use typed_cnn::prelude::*;
//! use rand::{SeedableRng, rngs::StdRng};
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut net: (Linear<4, 8>, Relu, Linear<8, 3>) = Init::init(&mut rng);
//! let mut opt = Sgd::new(0.1).momentum(0.9);
//! let x = Tensor2::<16, 4>::uniform(&mut rng, -1.0, 1.0);
//! let labels = Labels::<16, 3>::new((0..16).map(|i| i % 3).collect()).unwrap();
//! let mut grads = net.zeros_like();
//! let mut losses = Vec::new();
//! for _ in 0..20 {
//!     let (logits, trace) = net.forward_train(x.clone());
//!     let (loss, dy) = cross_entropy(&logits, &labels);
//!     grads.zero();
//!     net.backward_params(trace, dy, &mut grads);
//!     opt.step(&mut net, &grads);
//!     losses.push(loss);
//! }
//! assert!(losses[19] < losses[0]);
//! ```

mod adam;
mod checkpoint;
mod schedule;
mod sgd;

use std::path::Path;

use crate::Float;
use crate::module::Params;
use crate::weights::{self, StateDict, WeightsError};

pub use adam::Adam;
pub use schedule::{CosineLr, LrSchedule, StepLr};
pub use sgd::Sgd;

/// An optimizer: updates a model from gradients of the model's own type.
pub trait Optimizer<E: Float> {
    /// One update of `model` with `grads` (made by [`crate::Module::zeros_like`], filled by backward),
    /// followed by [`Params::update_buffers`].
    ///
    /// **Panics** if the model's tensors changed since the optimizer's state was made (a
    /// different model), or if a hand-written [`Params`] impl pairs a parameter with a gradient
    /// of another length. (`grads` has the model's own type, so it holds the model's tensors.)
    fn step<M: Params<E>>(&mut self, model: &mut M, grads: &M);
    /// The current learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate (what a schedule does between epochs).
    fn set_lr(&mut self, lr: f64);
    /// How many steps have been taken.
    fn steps(&self) -> u64;
    /// The optimizer's state as named tensors: per-parameter tensors named
    /// `"{kind}.{parameter}"`, the step count as `"step"`, hyperparameters as metadata.
    fn state_dict(&self) -> StateDict<E>;
    /// Restores a state made by [`Optimizer::state_dict`] for `model`, checked against the
    /// model's parameters; errors name `file`. On an error the optimizer is unchanged.
    ///
    /// # Errors
    /// [`WeightsError`] naming the tensor or metadata entry that is missing, unexpected or of
    /// the wrong shape, or an optimizer kind that does not match.
    fn load_state_dict<M: Params<E>>(
        &mut self,
        model: &M,
        state: &StateDict<E>,
        file: &str,
    ) -> Result<(), WeightsError>;

    /// Saves [`Optimizer::state_dict`] to a safetensors file, to resume training later.
    ///
    /// # Errors
    /// [`WeightsError::Io`] if the file cannot be written.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<2, 1>::init(&mut rand::rng());
    /// let mut sgd = Sgd::new(0.1).momentum(0.9).nesterov(true);
    /// let grads = fc.zeros_like();
    /// sgd.step(&mut fc, &grads);
    /// let path = std::env::temp_dir().join(format!("typed_cnn_sgd_{}.safetensors", std::process::id()));
    /// sgd.save(&path).unwrap();
    /// let mut resumed = Sgd::new(0.5);
    /// resumed.load(&fc, &path).unwrap();
    /// assert_eq!(resumed, sgd);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    fn save(&self, path: impl AsRef<Path>) -> Result<(), WeightsError> {
        weights::save_state_dict(&self.state_dict(), path)
    }

    /// Loads a file written by [`Optimizer::save`] for `model` (see
    /// [`Optimizer::load_state_dict`]).
    ///
    /// # Errors
    /// [`WeightsError`] if the file cannot be read, is not a valid safetensors file or does not
    /// fit the model.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let fc = Linear::<2, 1>::init(&mut rand::rng());
    /// let err = Adam::new(0.1).load(&fc, "no/such/checkpoint.safetensors").unwrap_err();
    /// assert!(err.to_string().starts_with("no/such/checkpoint.safetensors: "));
    /// ```
    fn load<M: Params<E>>(
        &mut self,
        model: &M,
        path: impl AsRef<Path>,
    ) -> Result<(), WeightsError> {
        let path = path.as_ref();
        let state = weights::load_state_dict(path)?;
        self.load_state_dict(model, &state, &path.display().to_string())
    }
}

/// Calls `f(i, param, grad)` for parameter number `i` of `model` (in [`Params::visit`] order)
/// and its gradient: what every optimizer step loops over.
///
/// **Panics** if a gradient's length differs from its parameter's: possible only with a
/// hand-written [`Params`] impl whose `visit_with_grads` pairs the wrong tensors.
#[track_caller]
fn each_param<E: Float, M: Params<E>>(
    model: &mut M,
    grads: &M,
    mut f: impl FnMut(usize, &mut [E], &[E]),
) {
    let mut i = 0;
    model.visit_with_grads(grads, &mut |p, g| {
        assert_eq!(
            p.len(),
            g.len(),
            "optimizer: parameter {i} has {} values but its gradient {}; check the layer's \
             `visit_with_grads`",
            p.len(),
            g.len()
        );
        f(i, p, g);
        i += 1;
    });
}

/// A one-parameter layer `y = w·x`, for hand-worked tests.
#[cfg(test)]
fn one(w: f64) -> crate::layers::Linear<1, 1, f64> {
    crate::layers::Linear::from_parts(vec![w], vec![0.0]).unwrap()
}
