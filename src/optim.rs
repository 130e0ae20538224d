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

use crate::Float;
use std::path::Path;

use crate::module::Params;
use crate::weights::{self, Entry, EntryData, StateDict, WeightsError};

/// An optimizer: updates a model from gradients of the model's own type.
pub trait Optimizer<E: Float> {
    /// One update of `model` with `grads` (made by [`Params::zeros_like`], filled by backward),
    /// followed by [`Params::update_buffers`].
    ///
    /// **Panics** if `grads` does not have the model's tensors, or if the model's tensors changed
    /// since the optimizer's state was made (a different model).
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

/// Per-parameter state tensors, `kinds` of them per parameter (momentum, Adam's moments), in
/// visitor order, made on the first step. Names and shapes are kept to check that later steps see
/// the same model and to name the tensors of a checkpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Slots<E> {
    pub(crate) names: Vec<String>,
    pub(crate) shapes: Vec<Vec<usize>>,
    pub(crate) bufs: Vec<Vec<Box<[E]>>>,
}

impl<E: Float> Slots<E> {
    /// Makes zero state for every parameter of `model` unless it exists.
    fn ensure<M: Params<E>>(&mut self, model: &M, kinds: usize) {
        if !self.names.is_empty() {
            return;
        }
        model.visit("", &mut |name, shape, values| {
            self.names.push(name.to_string());
            self.shapes.push(shape.to_vec());
            self.bufs.push((0..kinds).map(|_| vec![E::ZERO; values.len()].into()).collect());
        });
    }

    /// The state of parameter number `i` (in visitor order), checked against its length.
    #[track_caller]
    fn get(&mut self, i: usize, len: usize) -> &mut [Box<[E]>] {
        let known = self.names.get(i).map(|n| (n.as_str(), self.bufs[i][0].len()));
        assert!(
            known.is_some_and(|(_, l)| l == len),
            "optimizer: parameter {i} has {len} values, but the state was made for {known:?}; \
             use one optimizer per model"
        );
        &mut self.bufs[i]
    }

    /// The checkpoint: `"{kind}.{parameter}"` tensors, the step count as `"step"`, and the
    /// hyperparameters as metadata.
    fn to_state(&self, kinds: &[&str], steps: u64, hyper: &[(&str, String)]) -> StateDict<E> {
        let mut state = StateDict::new();
        for (k, kind) in kinds.iter().enumerate() {
            for ((name, shape), bufs) in self.names.iter().zip(&self.shapes).zip(&self.bufs) {
                state.entries.push(Entry::values(
                    format!("{kind}.{name}"),
                    shape.clone(),
                    bufs[k].to_vec(),
                ));
            }
        }
        state.entries.push(Entry::count("step", steps));
        for (key, value) in hyper {
            state.metadata.insert(key.to_string(), value.clone());
        }
        state
    }

    /// Reads a checkpoint made by [`Slots::to_state`] for `model`: every `"{kind}.{parameter}"`
    /// tensor with the parameter's shape, a `"step"` count and nothing else. Returns the state
    /// and the step count; `self` is not touched.
    fn from_state<M: Params<E>>(
        model: &M,
        kinds: &[&str],
        state: &StateDict<E>,
        file: &str,
    ) -> Result<(Self, u64), WeightsError> {
        let mut slots = Slots::default();
        model.visit("", &mut |name, shape, _| {
            slots.names.push(name.to_string());
            slots.shapes.push(shape.to_vec());
        });
        let steps = match state.get("step").map(|e| &e.data) {
            Some(EntryData::Count(n)) => *n,
            Some(EntryData::Values(_)) => {
                return Err(WeightsError::Dtype {
                    file: file.to_string(),
                    tensor: "step".to_string(),
                    expected: "I64".to_string(),
                    found: E::DTYPE.to_string(),
                });
            }
            None => return Err(missing(file, "step")),
        };
        // Before the first step (or, for SGD, before momentum was used) there is no state; with
        // state, every parameter has every kind.
        let with_state = state.entries.iter().any(|e| {
            kinds.iter().any(|k| e.name.strip_prefix(k).is_some_and(|r| r.starts_with('.')))
        });
        let mut expected: Vec<String> = vec!["step".to_string()];
        for (name, shape) in slots.names.iter().zip(&slots.shapes) {
            let mut bufs = Vec::new();
            for kind in kinds.iter().filter(|_| with_state) {
                let tensor = format!("{kind}.{name}");
                let entry = state.get(&tensor).ok_or_else(|| missing(file, &tensor))?;
                match &entry.data {
                    EntryData::Values(v) if entry.shape == *shape => bufs.push(v.clone().into()),
                    EntryData::Values(_) => {
                        return Err(WeightsError::ShapeMismatch {
                            file: file.to_string(),
                            tensor,
                            expected: shape.clone(),
                            found: entry.shape.clone(),
                        });
                    }
                    EntryData::Count(_) => {
                        return Err(WeightsError::Dtype {
                            file: file.to_string(),
                            tensor,
                            expected: E::DTYPE.to_string(),
                            found: "I64".to_string(),
                        });
                    }
                }
                expected.push(format!("{kind}.{name}"));
            }
            slots.bufs.push(bufs);
        }
        if let Some(extra) = state.entries.iter().find(|e| !expected.contains(&e.name)) {
            return Err(WeightsError::Unexpected {
                file: file.to_string(),
                tensor: extra.name.clone(),
            });
        }
        if !with_state {
            slots = Slots::default();
        }
        Ok((slots, steps))
    }
}

fn missing(file: &str, tensor: &str) -> WeightsError {
    WeightsError::Missing { file: file.to_string(), tensor: tensor.to_string() }
}

/// Reads hyperparameter `key` from a checkpoint's metadata.
fn hyper(state: &StateDict<impl Float>, key: &str, file: &str) -> Result<f64, WeightsError> {
    let text = state.metadata.get(key).ok_or_else(|| WeightsError::Format {
        file: file.to_string(),
        message: format!("the optimizer checkpoint has no `{key}` in its metadata"),
    })?;
    text.parse().map_err(|_| WeightsError::Format {
        file: file.to_string(),
        message: format!("metadata `{key}`: expected a number, found `{text}`"),
    })
}

/// Checks the checkpoint's `optimizer` metadata.
fn check_kind(state: &StateDict<impl Float>, kind: &str, file: &str) -> Result<(), WeightsError> {
    match state.metadata.get("optimizer") {
        Some(k) if k == kind => Ok(()),
        found => Err(WeightsError::Format {
            file: file.to_string(),
            message: format!("expected a `{kind}` optimizer checkpoint, found {found:?}"),
        }),
    }
}

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// exactly as PyTorch computes it:
///
/// `g ← g + wd·p`; with momentum μ: `v ← g` on the first step, then `v ← μ·v + (1 − dampening)·g`;
/// `g ← g + μ·v` (Nesterov) or `g ← v`; finally `p ← p − lr·g`.
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

    /// One step; the same as [`Optimizer::step`], callable without importing the trait.
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
    #[track_caller]
    pub fn step<M: Params<E>>(&mut self, model: &mut M, grads: &M) {
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
        let mut i = 0;
        model.visit_with_grads(grads, &mut |p, g| {
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
            i += 1;
        });
        model.update_buffers(grads);
        self.steps += 1;
    }
}

/// Checkpoints: the momentum buffers (`"momentum_buffer.{parameter}"`), the step count
/// (`"step"`) and the hyperparameters (metadata), in the safetensors format of [`weights`];
/// [`Optimizer::save`] and [`Optimizer::load`] write and read them as files.
impl<E: Float> Sgd<E> {
    const KINDS: &[&str] = &["momentum_buffer"];

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

    /// The optimizer's state as named tensors.
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
    pub fn state_dict(&self) -> StateDict<E> {
        let hyper = [
            ("optimizer", "sgd".to_string()),
            ("lr", self.lr.to_string()),
            ("momentum", self.momentum.to_string()),
            ("dampening", self.dampening.to_string()),
            ("nesterov", self.nesterov.to_string()),
            ("weight_decay", self.weight_decay.to_string()),
        ];
        // Without momentum (so far) there are no buffers, and none are written.
        self.state.to_state(Self::KINDS, self.steps, &hyper)
    }

    /// Restores a state made by [`Sgd::state_dict`] for `model`: the hyperparameters, the step
    /// count and the momentum buffers, each checked against the model's parameters. On an error
    /// (named after `file`) the optimizer is unchanged.
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
    pub fn load_state_dict<M: Params<E>>(
        &mut self,
        model: &M,
        state: &StateDict<E>,
        file: &str,
    ) -> Result<(), WeightsError> {
        check_kind(state, "sgd", file)?;
        let momentum = hyper(state, "momentum", file)?;
        let (slots, steps) = Slots::from_state(model, Self::KINDS, state, file)?;
        let nesterov = match state.metadata.get("nesterov").map(String::as_str) {
            Some("true") => true,
            Some("false") => false,
            found => {
                return Err(WeightsError::Format {
                    file: file.to_string(),
                    message: format!(
                        "metadata `nesterov`: expected true or false, found {found:?}"
                    ),
                });
            }
        };
        *self = Self {
            lr: hyper(state, "lr", file)?,
            momentum,
            dampening: hyper(state, "dampening", file)?,
            nesterov,
            weight_decay: hyper(state, "weight_decay", file)?,
            state: slots,
            steps,
        };
        Ok(())
    }
}

impl<E: Float> Optimizer<E> for Sgd<E> {
    fn step<M: Params<E>>(&mut self, model: &mut M, grads: &M) {
        Sgd::step(self, model, grads);
    }
    fn state_dict(&self) -> StateDict<E> {
        Sgd::state_dict(self)
    }
    fn load_state_dict<M: Params<E>>(
        &mut self,
        model: &M,
        state: &StateDict<E>,
        file: &str,
    ) -> Result<(), WeightsError> {
        Sgd::load_state_dict(self, model, state, file)
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

/// Adam, and AdamW with decoupled weight decay, as PyTorch computes them (step t from 1):
///
/// Adam: `g ← g + wd·p` (L2); AdamW: `p ← p·(1 − lr·wd)`. Then
/// `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
/// `p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)`.
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

    /// One step; the same as [`Optimizer::step`], callable without importing the trait.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<1, 1, f64>::from_parts(vec![2.0], vec![0.0]).unwrap();
    /// let zero = fc.zeros_like();
    /// Adam::adamw(0.5).weight_decay(0.1).step(&mut fc, &zero);
    /// assert_eq!(fc.weight()[0], 2.0 * (1.0 - 0.5 * 0.1)); // only the decoupled decay acts
    /// ```
    #[track_caller]
    pub fn step<M: Params<E>>(&mut self, model: &mut M, grads: &M) {
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
        let mut i = 0;
        model.visit_with_grads(grads, &mut |p, g| {
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
            i += 1;
        });
        model.update_buffers(grads);
        self.steps += 1;
    }
}

/// Checkpoints: the moments (`"exp_avg.{parameter}"`, `"exp_avg_sq.{parameter}"`), the step
/// count (`"step"`) and the hyperparameters (metadata), in the safetensors format of [`weights`];
/// [`Optimizer::save`] and [`Optimizer::load`] write and read them as files.
impl<E: Float> Adam<E> {
    const KINDS: &[&str] = &["exp_avg", "exp_avg_sq"];

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

    fn kind(&self) -> &'static str {
        if self.decoupled { "adamw" } else { "adam" }
    }

    /// The optimizer's state as named tensors.
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
    pub fn state_dict(&self) -> StateDict<E> {
        let hyper = [
            ("optimizer", self.kind().to_string()),
            ("lr", self.lr.to_string()),
            ("beta1", self.betas.0.to_string()),
            ("beta2", self.betas.1.to_string()),
            ("eps", self.eps.to_string()),
            ("weight_decay", self.weight_decay.to_string()),
        ];
        self.state.to_state(Self::KINDS, self.steps, &hyper)
    }

    /// Restores a state made by [`Adam::state_dict`] for `model` (Adam into Adam, AdamW into
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
    pub fn load_state_dict<M: Params<E>>(
        &mut self,
        model: &M,
        state: &StateDict<E>,
        file: &str,
    ) -> Result<(), WeightsError> {
        check_kind(state, self.kind(), file)?;
        let (slots, steps) = Slots::from_state(model, Self::KINDS, state, file)?;
        *self = Self {
            lr: hyper(state, "lr", file)?,
            betas: (hyper(state, "beta1", file)?, hyper(state, "beta2", file)?),
            eps: hyper(state, "eps", file)?,
            weight_decay: hyper(state, "weight_decay", file)?,
            decoupled: self.decoupled,
            state: slots,
            steps,
        };
        Ok(())
    }
}

impl<E: Float> Optimizer<E> for Adam<E> {
    fn step<M: Params<E>>(&mut self, model: &mut M, grads: &M) {
        Adam::step(self, model, grads);
    }
    fn state_dict(&self) -> StateDict<E> {
        Adam::state_dict(self)
    }
    fn load_state_dict<M: Params<E>>(
        &mut self,
        model: &M,
        state: &StateDict<E>,
        file: &str,
    ) -> Result<(), WeightsError> {
        Adam::load_state_dict(self, model, state, file)
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

/// A learning-rate schedule: the rate for epoch (or step) `t`, counted from 0.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::optim::{LrSchedule, StepLr};
/// let mut opt = Sgd::<f32>::new(0.1);
/// let schedule = StepLr { base_lr: 0.1, step_size: 2, gamma: 0.5 };
/// for epoch in 0..5 {
///     opt.lr = schedule.lr(epoch); // 0.1, 0.1, 0.05, 0.05, 0.025
/// }
/// assert_eq!(opt.lr, 0.025);
/// ```
pub trait LrSchedule {
    /// The learning rate at `t`.
    fn lr(&self, t: usize) -> f64;
}

/// `base_lr · gamma^⌊t / step_size⌋`, PyTorch's `StepLR`.
///
/// ```
/// use typed_cnn::optim::{LrSchedule, StepLr};
/// let s = StepLr { base_lr: 1.0, step_size: 3, gamma: 0.1 };
/// assert_eq!([s.lr(0), s.lr(2), s.lr(3), s.lr(6)], [1.0, 1.0, 0.1, 1.0 * 0.1 * 0.1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    /// The rate at `t = 0`.
    pub base_lr: f64,
    /// How many epochs between decays (at least 1).
    pub step_size: usize,
    /// The factor of each decay.
    pub gamma: f64,
}

impl LrSchedule for StepLr {
    fn lr(&self, t: usize) -> f64 {
        let k = t / self.step_size.max(1);
        self.base_lr * self.gamma.powi(i32::try_from(k).unwrap_or(i32::MAX))
    }
}

/// `eta_min + (base_lr − eta_min)·(1 + cos(π·t/t_max))/2`, PyTorch's `CosineAnnealingLR`
/// (closed form) for `t < t_max`; from `t_max` on the rate stays at `eta_min` (PyTorch's would
/// rise again along the cosine: a deliberate difference).
///
/// ```
/// use typed_cnn::optim::{CosineLr, LrSchedule};
/// let s = CosineLr { base_lr: 0.1, t_max: 10, eta_min: 0.0 };
/// assert_eq!(s.lr(0), 0.1);
/// assert!((s.lr(5) - 0.05).abs() < 1e-15); // half way: the mean of the two
/// assert_eq!(s.lr(10), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineLr {
    /// The rate at `t = 0`.
    pub base_lr: f64,
    /// The length of the half cosine.
    pub t_max: usize,
    /// The final rate.
    pub eta_min: f64,
}

impl LrSchedule for CosineLr {
    fn lr(&self, t: usize) -> f64 {
        if t >= self.t_max {
            return self.eta_min;
        }
        let frac = t as f64 / self.t_max as f64;
        self.eta_min
            + (self.base_lr - self.eta_min) * (1.0 + (core::f64::consts::PI * frac).cos()) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn one(w: f64) -> Linear<1, 1, f64> {
        Linear::from_parts(vec![w], vec![0.0]).unwrap()
    }

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
    #[should_panic(expected = "use one optimizer per model")]
    fn state_belongs_to_one_model() {
        let mut opt = Sgd::new(0.1).momentum(0.9);
        let mut a = one(1.0);
        opt.step(&mut a, &one(1.0));
        let mut b = Linear::<2, 1, f64>::from_parts(vec![1.0, 1.0], vec![0.0]).unwrap();
        let g = b.zeros_like();
        opt.step(&mut b, &g);
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
        assert!(run(|p| Adam::new(0.1).betas(1.0, 0.999).step(p, &one(1.0))).is_err());
        assert!(run(|p| Adam::new(-0.1).step(p, &one(1.0))).is_err());
        assert!(run(|p| Sgd::new(0.1).nesterov(true).step(p, &one(1.0))).is_err());
        assert!(
            run(|p| Sgd::new(0.1).momentum(0.9).nesterov(true).dampening(0.1).step(p, &one(1.0)))
                .is_err()
        );
        assert!(run(|p| Sgd::new(0.1).momentum(0.9).nesterov(true).step(p, &one(1.0))).is_ok());
    }

    #[test]
    fn schedules_by_hand() {
        let cos = CosineLr { base_lr: 1.0, t_max: 4, eta_min: 0.2 };
        // t = 1: 0.2 + 0.8·(1 + cos(π/4))/2 = 0.2 + 0.4·(1 + 0.70710678) = 0.88284271
        assert!((cos.lr(1) - 0.882_842_712_474_619).abs() < 1e-12);
        assert_eq!(cos.lr(9), 0.2);
        assert_eq!(CosineLr { base_lr: 1.0, t_max: 0, eta_min: 0.5 }.lr(0), 0.5);
        // StepLr, γ = 0.1 every 2: 1, 1, 0.1, 0.1, 0.01
        let s = StepLr { base_lr: 1.0, step_size: 2, gamma: 0.1 };
        let got: Vec<f64> = (0..5).map(|t| s.lr(t)).collect();
        assert_eq!(got, [1.0, 1.0, 0.1, 0.1, 0.1f64.powi(2)]);
        let step = StepLr { base_lr: 0.5, step_size: 0, gamma: 0.5 }; // step_size 0 acts as 1
        assert_eq!(step.lr(2), 0.125);
    }
}
