//! Adam and AdamW: the hyperparameters, their check, and the update.

use super::checkpoint::Slots;
use super::{Optimizer, each_param};
use crate::Float;
use crate::module::Params;
use crate::weights::{StateDict, WeightsError};

/// Adam, and AdamW with decoupled weight decay, as PyTorch computes them (the update is written
/// out at [`Adam::step`]).
///
/// ```
/// use typed_cnn::prelude::*;
/// let mut fc = Linear::<1, 1, f64>::from_parts(vec![1.0], vec![0.0]).unwrap();
/// let grads = Linear::<1, 1, f64>::from_parts(vec![4.0], vec![-0.5]).unwrap();
/// let mut adam = Adam::new(0.1);
/// adam.step(&mut fc, &grads);
/// // The first Adam step moves each parameter by lr·g/(|g| + eps): about lr against the gradient.
/// assert!((fc.weight()[0] - 0.9).abs() < 1e-7 && (fc.bias()[0] - 0.1).abs() < 1e-7);
/// ```
#[derive(Clone, PartialEq)]
pub struct Adam<E = f32> {
    /// The learning rate.
    pub lr: f64,
    /// The decay rates (β₁, β₂) of the first and second moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator for stability.
    pub eps: f64,
    /// The weight decay: an L2 term in the gradient (Adam) or decoupled (AdamW).
    pub weight_decay: f64,
    /// Decoupled weight decay (AdamW) instead of an L2 term.
    pub decoupled: bool,
    pub(crate) state: Slots<E>,
    pub(crate) steps: u64,
}

impl<E: Float> Adam<E> {
    /// Adam with learning rate `lr`, β = (0.9, 0.999), eps 1e-8, no weight decay.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let adam = Adam::<f32>::new(1e-3);
    /// assert_eq!((adam.betas, adam.eps, adam.weight_decay, adam.decoupled), ((0.9, 0.999), 1e-8, 0.0, false));
    /// ```
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            state: Slots::default(),
            steps: 0,
        }
    }
    /// AdamW with learning rate `lr`, β = (0.9, 0.999), eps 1e-8 and decoupled weight decay
    /// 0.01 (PyTorch's defaults).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let adamw = Adam::<f32>::adamw(1e-3);
    /// assert_eq!((adamw.weight_decay, adamw.decoupled), (0.01, true));
    /// ```
    pub fn adamw(lr: f64) -> Self {
        Self { weight_decay: 0.01, decoupled: true, ..Self::new(lr) }
    }
    /// With weight decay `wd` (L2 for Adam, decoupled for AdamW).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Adam::<f32>::new(1e-3).weight_decay(1e-4).weight_decay, 1e-4);
    /// ```
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.weight_decay = wd;
        self
    }
    /// With decay rates `(β₁, β₂)`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Adam::<f32>::new(1e-3).betas(0.8, 0.99).betas, (0.8, 0.99));
    /// ```
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.betas = (beta1, beta2);
        self
    }
    /// With `eps` added to the denominator.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(Adam::<f32>::new(1e-3).eps(1e-6).eps, 1e-6);
    /// ```
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// **Panics** with PyTorch's rule if a hyperparameter is invalid.
    #[track_caller]
    fn check(&self) {
        let Self { lr, betas: (b1, b2), eps, weight_decay, .. } = *self;
        assert!(lr >= 0.0, "Adam: invalid learning rate {lr}");
        assert!(eps >= 0.0, "Adam: invalid epsilon {eps}");
        assert!((0.0..1.0).contains(&b1), "Adam: invalid beta parameter at index 0: {b1}");
        assert!((0.0..1.0).contains(&b2), "Adam: invalid beta parameter at index 1: {b2}");
        assert!(weight_decay >= 0.0, "Adam: invalid weight decay {weight_decay}");
    }
}

impl<E: Float> Optimizer<E> for Adam<E> {
    /// One step.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<1, 1, f64>::from_parts(vec![2.0], vec![0.0]).unwrap();
    /// let zero = fc.zeros_like();
    /// Adam::adamw(0.5).weight_decay(0.1).step(&mut fc, &zero);
    /// assert_eq!(fc.weight()[0], 2.0 * (1.0 - 0.5 * 0.1)); // only the decoupled decay acts
    /// ```
    ///
    /// The loop is PyTorch's `torch.optim.Adam` and `AdamW`, for each parameter value `p` with
    /// gradient `g` and moments `m`, `v`, at step `t` counted from 1:
    ///
    /// ```text
    /// g ← g + wd·p                   (Adam: L2 penalty)
    /// p ← p·(1 − lr·wd)              (AdamW: decoupled decay, instead)
    /// m ← β₁·m + (1 − β₁)·g
    /// v ← β₂·v + (1 − β₂)·g²
    /// p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
    /// ```
    #[track_caller]
    fn step<M: Params<E>>(&mut self, model: &mut M, grads: &M) {
        self.check();
        // powf, not powi: the step count can pass i32::MAX on a long enough run.
        let t = (self.steps + 1) as f64;
        let (b1, b2) = self.betas;
        let step_size = E::from_f64(self.lr / (1.0 - b1.powf(t)));
        let sqrt_bc2 = E::from_f64((1.0 - b2.powf(t)).sqrt());
        let (eps, wd) = (E::from_f64(self.eps), E::from_f64(self.weight_decay));
        let decay = E::from_f64(1.0 - self.lr * self.weight_decay);
        let (b1e, b2e) = (E::from_f64(b1), E::from_f64(b2));
        let (nb1, nb2) = (E::from_f64(1.0 - b1), E::from_f64(1.0 - b2));
        let decoupled = self.decoupled;
        self.state.ensure(model, 2);
        let state = &mut self.state;
        each_param(model, grads, |i, p, g| {
            let [m, v] = state.get(i, p.len()) else { unreachable!("two moments") };
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let g = if decoupled {
                    *p *= decay;
                    g
                } else {
                    g + wd * *p
                };
                *m = b1e * *m + nb1 * g;
                *v = b2e * *v + nb2 * g * g;
                *p -= step_size * *m / (v.sqrt() / sqrt_bc2 + eps);
            }
        });
        model.update_buffers(grads);
        self.steps += 1;
    }

    /// The checkpoint: the moments (`"exp_avg.{parameter}"`, `"exp_avg_sq.{parameter}"`, none
    /// before the first step), the step count (`"step"`) and the hyperparameters (metadata), in
    /// the safetensors format of [`weights`](crate::weights); [`Optimizer::save`] and
    /// [`Optimizer::load`] write and read them as files.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<2, 1>::init(&mut rand::rng());
    /// let mut adam = Adam::new(1e-3);
    /// let grads = fc.zeros_like();
    /// adam.step(&mut fc, &grads);
    /// let state = adam.state_dict();
    /// assert_eq!(state.entries.len(), 5); // exp_avg and exp_avg_sq of weight and bias, step
    /// assert_eq!(state.get("exp_avg_sq.weight").unwrap().shape, [1, 2]);
    /// ```
    fn state_dict(&self) -> StateDict<E> {
        self.checkpoint()
    }

    /// Restores a state made by [`Optimizer::state_dict`] for `model` (Adam into Adam, AdamW into
    /// AdamW): hyperparameters, step count and moments, each checked against the model's
    /// parameters. On an error (named after `file`) the optimizer is unchanged.
    ///
    /// # Errors
    /// [`WeightsError`] naming the tensor or metadata entry that is missing, unexpected or of the
    /// wrong shape, or the optimizer kind that does not match.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<2, 1>::init(&mut rand::rng());
    /// let mut adamw = Adam::adamw(1e-3);
    /// let grads = fc.zeros_like();
    /// adamw.step(&mut fc, &grads);
    /// let mut resumed = Adam::adamw(0.5);
    /// resumed.load_state_dict(&fc, &adamw.state_dict(), "ckpt").unwrap();
    /// assert_eq!(resumed, adamw);
    /// let err = Adam::new(0.5).load_state_dict(&fc, &adamw.state_dict(), "ckpt").unwrap_err();
    /// assert!(err.to_string().contains("expected a `adam` optimizer checkpoint"));
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

/// The hyperparameters and the step count; the state tensors only by number.
impl<E> core::fmt::Debug for Adam<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct(if self.decoupled { "AdamW" } else { "Adam" })
            .field("lr", &self.lr)
            .field("betas", &self.betas)
            .field("eps", &self.eps)
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

    /// Adam, lr 0.1, p₀ = 1, g = 2 then g = −1 (β 0.9, 0.999, eps 1e-8).
    /// t = 1: m = 0.2, v = 0.004; m̂ = 2, v̂ = 4; p = 1 − 0.1·2/(2 + 1e-8) = 0.9 (to 1e-9).
    /// t = 2: m = 0.18 − 0.1 = 0.08, v = 0.003996 + 0.001 = 0.004996;
    /// m̂ = 0.08/0.19 = 0.421052…, v̂ = 0.004996/0.001999 = 2.499249…, √v̂ = 1.580901…;
    /// p = 0.9 − 0.1·0.421052/1.580901 = 0.9 − 0.026633… = 0.873366…
    #[test]
    fn adam_by_hand() {
        let mut p = one(1.0);
        let mut opt = Adam::new(0.1);
        opt.step(&mut p, &one(2.0));
        assert!((p.weight()[0] - 0.9).abs() < 1e-9);
        opt.step(&mut p, &one(-1.0));
        let m_hat: f64 = 0.08 / 0.19;
        let v_hat: f64 = 0.004996 / (1.0 - 0.999f64 * 0.999);
        let p1 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8); // step 1 exactly (0.9 + 5e-10)
        let expect = p1 - 0.1 * m_hat / (v_hat.sqrt() + 1e-8);
        assert!((expect - 0.873_366).abs() < 1e-6, "hand value {expect}");
        assert!((p.weight()[0] - expect).abs() < 1e-12, "{} vs {expect}", p.weight()[0]);
    }

    /// AdamW decays before the Adam update; Adam with L2 adds the decay to the gradient,
    /// which Adam's normalization then mostly cancels. lr 0.1, wd 0.5, p = 2, g = 0:
    /// AdamW: p = 2·(1 − 0.05) = 1.9, then g = 0 moves nothing → 1.9.
    /// Adam-L2: g' = 0 + 0.5·2 = 1 → first step moves by lr → 1.9 too, but with g = 1:
    /// AdamW: 1.9 − 0.1 = 1.8; Adam-L2: g' = 2 → 2 − 0.1 = 1.9.
    #[test]
    fn adamw_decouples_weight_decay() {
        let run = |mut opt: Adam<f64>, g: f64| {
            let mut p = one(2.0);
            opt.step(&mut p, &one(g));
            p.weight()[0]
        };
        assert!((run(Adam::adamw(0.1).weight_decay(0.5), 0.0) - 1.9).abs() < 1e-12);
        assert!((run(Adam::new(0.1).weight_decay(0.5), 0.0) - 1.9).abs() < 1e-7);
        assert!((run(Adam::adamw(0.1).weight_decay(0.5), 1.0) - 1.8).abs() < 1e-7);
        assert!((run(Adam::new(0.1).weight_decay(0.5), 1.0) - 1.9).abs() < 1e-7);
    }

    #[test]
    fn invalid_hyperparameters_panic_like_pytorch() {
        let run =
            |f: fn(&mut Linear<1, 1, f64>)| std::panic::catch_unwind(move || f(&mut one(1.0)));
        assert!(run(|p| Adam::new(0.1).betas(1.0, 0.999).step(p, &one(1.0))).is_err());
        assert!(run(|p| Adam::new(-0.1).step(p, &one(1.0))).is_err());
    }
}
