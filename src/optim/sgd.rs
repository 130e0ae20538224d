//! Stochastic gradient descent: the hyperparameters, their check, and the update.

use super::checkpoint::Slots;
use super::{Optimizer, each_param};
use crate::Float;
use crate::module::Params;
use crate::weights::{StateDict, WeightsError};

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// exactly as PyTorch computes it (the update is written out at [`Sgd::step`]).
///
/// ```
/// use typed_cnn::prelude::*;
/// let mut fc = Linear::<1, 1, f64>::from_parts(vec![1.0], vec![0.0]).unwrap();
/// let grads = Linear::<1, 1, f64>::from_parts(vec![2.0], vec![-1.0]).unwrap();
/// Sgd::new(0.5).step(&mut fc, &grads);
/// assert_eq!((fc.weight()[0], fc.bias()[0]), (0.0, 0.5));
/// ```
#[derive(Clone, PartialEq)]
pub struct Sgd<E = f32> {
    /// The learning rate.
    pub lr: f64,
    /// The momentum factor μ (0: none).
    pub momentum: f64,
    /// The dampening of new gradients in the momentum (PyTorch's `dampening`, 0 by default).
    pub dampening: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 penalty added to the gradient (`g + wd·p`).
    pub weight_decay: f64,
    pub(crate) state: Slots<E>,
    pub(crate) steps: u64,
}

impl<E: Float> Sgd<E> {
    /// Plain SGD with learning rate `lr`: no momentum, no weight decay.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let sgd = Sgd::<f32>::new(0.25);
    /// assert_eq!((sgd.lr, sgd.momentum, sgd.nesterov, sgd.weight_decay), (0.25, 0.0, false, 0.0));
    /// ```
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            state: Slots::default(),
            steps: 0,
        }
    }
    /// With momentum μ.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Sgd::<f32>::new(0.01).momentum(0.9).momentum, 0.9);
    /// ```
    pub fn momentum(mut self, mu: f64) -> Self {
        self.momentum = mu;
        self
    }
    /// With Nesterov momentum on or off (needs a momentum; PyTorch also requires dampening 0).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert!(Sgd::<f32>::new(0.01).momentum(0.9).nesterov(true).nesterov);
    /// ```
    pub fn nesterov(mut self, on: bool) -> Self {
        self.nesterov = on;
        self
    }
    /// With dampening of new gradients in the momentum.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Sgd::<f32>::new(0.01).momentum(0.9).dampening(0.1).dampening, 0.1);
    /// ```
    pub fn dampening(mut self, d: f64) -> Self {
        self.dampening = d;
        self
    }
    /// With L2 weight decay `wd` (added to the gradient, PyTorch's `weight_decay`).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Sgd::<f32>::new(0.01).weight_decay(5e-4).weight_decay, 5e-4);
    /// ```
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = wd;
        self
    }

    /// **Panics** with PyTorch's rule if a hyperparameter is invalid.
    #[track_caller]
    fn check(&self) {
        let Self { lr, momentum, dampening, nesterov, weight_decay, .. } = *self;
        assert!(lr >= 0.0, "Sgd: invalid learning rate {lr}");
        assert!(momentum >= 0.0, "Sgd: invalid momentum {momentum}");
        assert!(weight_decay >= 0.0, "Sgd: invalid weight decay {weight_decay}");
        assert!(
            !nesterov || (momentum > 0.0 && dampening == 0.0),
            "Sgd: Nesterov momentum needs a momentum and zero dampening \
             (momentum {momentum}, dampening {dampening})"
        );
    }
}

impl<E: Float> Optimizer<E> for Sgd<E> {
    /// One step.
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
    ///
    /// The loop is PyTorch's `torch.optim.SGD`, for each parameter value `p` with gradient `g`
    /// and momentum buffer `v`:
    ///
    /// ```text
    /// g ← g + wd·p
    /// v ← g                          (the first step with momentum)
    /// v ← μ·v + (1 − dampening)·g    (later steps)
    /// p ← p − lr·(g + μ·v)           (Nesterov)
    /// p ← p − lr·v                   (momentum)
    /// p ← p − lr·g                   (no momentum: no v)
    /// ```
    #[track_caller]
    fn step<M: Params<E>>(&mut self, model: &mut M, grads: &M) {
        self.check();
        let lr = E::from_f64(self.lr);
        let wd = E::from_f64(self.weight_decay);
        let mu = E::from_f64(self.momentum);
        let keep_new = E::from_f64(1.0 - self.dampening);
        // PyTorch's rule: the first step *with a momentum buffer* sets it to g.
        let (first, use_momentum, nesterov) =
            (self.state.names.is_empty(), self.momentum != 0.0, self.nesterov);
        if use_momentum {
            self.state.ensure(model, 1);
        }
        let state = &mut self.state;
        each_param(model, grads, |i, p, g| {
            if use_momentum {
                let v = &mut state.get(i, p.len())[0];
                for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
                    let g = g + wd * *p;
                    *v = if first { g } else { mu * *v + keep_new * g };
                    *p -= lr * if nesterov { g + mu * *v } else { *v };
                }
            } else {
                for (p, &g) in p.iter_mut().zip(g) {
                    *p -= lr * (g + wd * *p);
                }
            }
        });
        model.update_buffers(grads);
        self.steps += 1;
    }

    /// The checkpoint: the momentum buffers (`"momentum_buffer.{parameter}"`, none before the
    /// first step with momentum), the step count (`"step"`) and the hyperparameters (metadata), in
    /// the safetensors format of [`weights`](crate::weights); [`Optimizer::save`] and
    /// [`Optimizer::load`] write and read them as files.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<2, 1>::init(&mut rand::rng());
    /// let mut sgd = Sgd::new(0.1).momentum(0.9);
    /// let grads = fc.zeros_like();
    /// sgd.step(&mut fc, &grads);
    /// let names: Vec<_> = sgd.state_dict().entries.into_iter().map(|e| e.name).collect();
    /// assert_eq!(names, ["momentum_buffer.weight", "momentum_buffer.bias", "step"]);
    /// ```
    fn state_dict(&self) -> StateDict<E> {
        self.checkpoint()
    }

    /// Restores a state made by [`Optimizer::state_dict`] for `model`: the hyperparameters, the
    /// step count and the momentum buffers, each checked against the model's parameters. On an
    /// error (named after `file`) the optimizer is unchanged.
    ///
    /// # Errors
    /// [`WeightsError`] naming the tensor or metadata entry that is missing, unexpected or of the
    /// wrong shape.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<2, 1>::init(&mut rand::rng());
    /// let mut sgd = Sgd::new(0.1).momentum(0.9);
    /// let grads = fc.zeros_like();
    /// sgd.step(&mut fc, &grads);
    /// let mut resumed = Sgd::new(1.0);
    /// resumed.load_state_dict(&fc, &sgd.state_dict(), "checkpoint").unwrap();
    /// assert_eq!(resumed, sgd);
    /// let other = Linear::<3, 1>::init(&mut rand::rng());
    /// let err = resumed.load_state_dict(&other, &sgd.state_dict(), "checkpoint").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"checkpoint: tensor "momentum_buffer.weight": expected shape [1, 3], found [1, 2]"#
    /// );
    /// ```
    fn load_state_dict<M: Params<E>>(
        &mut self,
        model: &M,
        state: &StateDict<E>,
        file: &str,
    ) -> Result<(), WeightsError> {
        self.restore(model, state, file)
    }

    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn steps(&self) -> u64 {
        self.steps
    }
}

/// The hyperparameters and the step count; the state tensors only by number (a real model's
/// would be millions of values).
impl<E> core::fmt::Debug for Sgd<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sgd")
            .field("lr", &self.lr)
            .field("momentum", &self.momentum)
            .field("dampening", &self.dampening)
            .field("nesterov", &self.nesterov)
            .field("weight_decay", &self.weight_decay)
            .field("steps", &self.steps)
            .field("state_tensors", &self.state.bufs.iter().map(Vec::len).sum::<usize>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::optim::one;
    use crate::prelude::*;

    /// Hand-worked, p₀ = 1, lr 0.1, μ 0.9, gradients 1 then 2 (fixed, not from a loss):
    /// step 1: v = 1, p = 1 − 0.1 = 0.9; step 2: v = 0.9·1 + 2 = 2.9, p = 0.9 − 0.29 = 0.61.
    /// Nesterov: step 1: v = 1, p = 1 − 0.1·(1 + 0.9) = 0.81; step 2: v = 2.9,
    /// p = 0.81 − 0.1·(2 + 0.9·2.9) = 0.81 − 0.461 = 0.349.
    #[test]
    fn sgd_momentum_and_nesterov_by_hand() {
        for (nesterov, expect) in [(false, [0.9, 0.61]), (true, [0.81, 0.349])] {
            let mut p = one(1.0);
            let mut opt = Sgd::new(0.1).momentum(0.9).nesterov(nesterov);
            for (g, e) in [1.0, 2.0].into_iter().zip(expect) {
                opt.step(&mut p, &one(g));
                assert!((p.weight()[0] - e).abs() < 1e-12, "nesterov {nesterov}: {p:?} vs {e}");
            }
        }
    }

    /// Weight decay 0.5, p = 2, g = 1, lr 0.1: g' = 1 + 0.5·2 = 2, p = 2 − 0.2 = 1.8. With
    /// dampening 0.5 and μ 0.5, second step g = 1 at p = 1.8: g' = 1.9,
    /// v = 0.5·2 + 0.5·1.9 = 1.95, p = 1.8 − 0.195 = 1.605.
    #[test]
    fn sgd_weight_decay_and_dampening_by_hand() {
        let mut p = one(2.0);
        let mut opt = Sgd::new(0.1).momentum(0.5).dampening(0.5).weight_decay(0.5);
        opt.step(&mut p, &one(1.0));
        assert!((p.weight()[0] - 1.8).abs() < 1e-12);
        opt.step(&mut p, &one(1.0));
        assert!((p.weight()[0] - 1.605).abs() < 1e-12, "{p:?}");
        assert_eq!(Optimizer::<f64>::steps(&opt), 2);
    }

    /// PyTorch sets the momentum buffer to g on the first step that has one, even after steps
    /// without momentum: dampening 0.5, p = 0, one step with μ = 0 and g = 1 (p = −1), then
    /// μ = 0.9 and g = 1: v = 1 (not 0.5), p = −1 − 1 = −2.
    #[test]
    fn momentum_buffer_starts_at_the_first_step_that_has_one() {
        let mut p = one(0.0);
        let mut opt = Sgd::new(1.0).dampening(0.5);
        opt.step(&mut p, &one(1.0));
        opt.momentum = 0.9;
        opt.step(&mut p, &one(1.0));
        assert_eq!(p.weight()[0], -2.0);
        // That state round-trips through a checkpoint.
        let mut back = Sgd::new(0.0);
        back.load_state_dict(&p, &opt.state_dict(), "ckpt").unwrap();
        assert_eq!(back, opt);
    }

    #[test]
    fn invalid_hyperparameters_panic_like_pytorch() {
        let run =
            |f: fn(&mut Linear<1, 1, f64>)| std::panic::catch_unwind(move || f(&mut one(1.0)));
        assert!(run(|p| Sgd::new(0.1).nesterov(true).step(p, &one(1.0))).is_err());
        assert!(
            run(|p| Sgd::new(0.1).momentum(0.9).nesterov(true).dampening(0.1).step(p, &one(1.0)))
                .is_err()
        );
        assert!(run(|p| Sgd::new(0.1).momentum(0.9).nesterov(true).step(p, &one(1.0))).is_ok());
    }
}
