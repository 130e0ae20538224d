//! Checkpoint I/O of the optimizers, apart from their update math: the per-parameter state
//! ([`Slots`]), its conversion to and from a [`StateDict`], the metadata helpers, and each
//! optimizer's `state_dict` / `load_state_dict`.

use std::collections::HashSet;

use super::{Adam, Sgd};
use crate::Float;
use crate::module::Params;
use crate::weights::{self, Entry, EntryData, StateDict, Want, WeightsError};

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
    pub(super) fn ensure<M: Params<E>>(&mut self, model: &M, kinds: usize) {
        if !self.names.is_empty() {
            return;
        }
        model.visit("", &mut |name, shape, values| {
            self.names.push(name.to_string());
            self.shapes.push(shape.to_vec());
            self.bufs.push((0..kinds).map(|_| vec![E::ZERO; values.len()].into()).collect());
        });
    }

    /// The state of parameter number `i` (in visitor order), checked against its length: the
    /// pairing is by position, so a different model shows as a different count or length.
    #[track_caller]
    pub(super) fn get(&mut self, i: usize, len: usize) -> &mut [Box<[E]>] {
        match self.bufs.get(i).map(|b| (self.names[i].as_str(), b[0].len())) {
            Some((_, l)) if l == len => &mut self.bufs[i],
            known => panic!(
                "optimizer: parameter {i} has {len} values, but the state was made for {}; \
                 use one optimizer per model",
                known
                    .map_or("fewer parameters".to_string(), |(n, l)| format!("`{n}` ({l} values)"))
            ),
        }
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
    /// tensor with the parameter's shape, a `"step"` count and nothing else, checked by the
    /// validator of model loading ([`weights::validate`]). Returns the state and the step count;
    /// `self` is not touched.
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
        // Before the first step (or, for SGD, before momentum was used) there is no state; with
        // state, every parameter has every kind.
        let with_state = state.entries.iter().any(|e| {
            kinds.iter().any(|k| e.name.strip_prefix(k).is_some_and(|r| r.starts_with('.')))
        });
        // In the order in which a problem is reported: the step count, then each parameter's
        // kinds. A visitor that repeats a parameter name (a layer bug) is checked once per name.
        let mut expected = vec![("step".to_string(), Want::Count { required: true })];
        let mut listed = HashSet::new();
        for (name, shape) in slots.names.iter().zip(&slots.shapes).filter(|_| with_state) {
            for kind in kinds {
                let tensor = format!("{kind}.{name}");
                if listed.insert(tensor.clone()) {
                    expected.push((tensor, Want::Values(shape.clone())));
                }
            }
        }
        let steps = weights::validate::<E>(state, &expected, file)?[0].expect("a required count");
        if !with_state {
            return Ok((Slots::default(), steps));
        }
        for name in &slots.names {
            let bufs = kinds.iter().map(|kind| match state.get(&format!("{kind}.{name}")) {
                Some(Entry { data: EntryData::Values(v), .. }) => v.clone().into(),
                _ => unreachable!("\"{kind}.{name}\": values, checked"),
            });
            slots.bufs.push(bufs.collect());
        }
        Ok((slots, steps))
    }
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

/// SGD's checkpoint: the momentum buffers (`"momentum_buffer.{parameter}"`), the step count
/// (`"step"`) and the hyperparameters (metadata).
impl<E: Float> Sgd<E> {
    const KINDS: &[&str] = &["momentum_buffer"];

    /// [`Optimizer::state_dict`](super::Optimizer::state_dict) for SGD.
    pub(super) fn checkpoint(&self) -> StateDict<E> {
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

    /// [`Optimizer::load_state_dict`](super::Optimizer::load_state_dict) for SGD.
    pub(super) fn restore<M: Params<E>>(
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

/// Adam's and AdamW's checkpoint: the moments (`"exp_avg.{parameter}"`,
/// `"exp_avg_sq.{parameter}"`), the step count (`"step"`) and the hyperparameters (metadata).
impl<E: Float> Adam<E> {
    const KINDS: &[&str] = &["exp_avg", "exp_avg_sq"];

    /// The `optimizer` metadata.
    fn kind(&self) -> &'static str {
        if self.decoupled { "adamw" } else { "adam" }
    }

    /// [`Optimizer::state_dict`](super::Optimizer::state_dict) for Adam and AdamW.
    pub(super) fn checkpoint(&self) -> StateDict<E> {
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

    /// [`Optimizer::load_state_dict`](super::Optimizer::load_state_dict) for Adam and AdamW.
    pub(super) fn restore<M: Params<E>>(
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

#[cfg(test)]
mod tests {
    use crate::optim::one;
    use crate::prelude::*;
    use crate::weights::{Entry, EntryData, StateDict};

    /// Before the first step (and for SGD, before the first step with momentum) a checkpoint
    /// holds only the step count, and loads as such.
    #[test]
    fn a_checkpoint_without_state_tensors_holds_only_the_step() {
        let mut p = one(1.0);
        let adam = Adam::<f64>::new(0.1);
        let names: Vec<_> = adam.state_dict().entries.into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["step"]);
        let mut back = Adam::new(0.5);
        back.load_state_dict(&p, &adam.state_dict(), "ckpt").unwrap();
        assert_eq!(back, adam);

        let mut sgd = Sgd::new(0.1);
        sgd.step(&mut p, &one(1.0));
        let state = sgd.state_dict();
        assert_eq!(state.entries, [Entry::count("step", 1)]);
        let mut back = Sgd::new(0.5).momentum(0.9);
        back.load_state_dict(&p, &state, "ckpt").unwrap();
        assert_eq!(back, sgd);
    }

    /// Every way a checkpoint can fail to fit the model, with the exact error; the optimizer is
    /// unchanged after each.
    #[test]
    fn checkpoint_errors_name_the_tensor_and_change_nothing() {
        let mut p = one(1.0);
        let mut adam = Adam::<f64>::new(0.1);
        adam.step(&mut p, &one(1.0));
        let edit = |f: &dyn Fn(&mut StateDict<f64>)| {
            let mut state = adam.state_dict();
            f(&mut state);
            let mut target = Adam::new(0.5);
            let err = target.load_state_dict(&p, &state, "ckpt").unwrap_err();
            assert_eq!(target, Adam::new(0.5));
            err.to_string()
        };
        let set = |name: &'static str, entry: Entry<f64>| {
            move |s: &mut StateDict<f64>| {
                *s.entries.iter_mut().find(|e| e.name == name).unwrap() = entry.clone();
            }
        };
        assert_eq!(
            edit(&|s| s.entries.retain(|e| e.name != "step")),
            r#"ckpt: missing tensor "step" (in the model, not in the file)"#
        );
        assert_eq!(
            edit(&set("step", Entry::values("step", vec![], vec![1.0]))),
            r#"ckpt: tensor "step": expected dtype I64, found F64"#
        );
        assert_eq!(
            edit(&|s| s.entries.retain(|e| e.name != "exp_avg_sq.bias")),
            r#"ckpt: missing tensor "exp_avg_sq.bias" (in the model, not in the file)"#
        );
        assert_eq!(
            edit(&set("exp_avg.weight", Entry::count("exp_avg.weight", 3))),
            r#"ckpt: tensor "exp_avg.weight": expected dtype F64, found I64"#
        );
        assert_eq!(
            edit(&set("exp_avg_sq.weight", Entry::values("exp_avg_sq.weight", vec![1], vec![0.0]))),
            r#"ckpt: tensor "exp_avg_sq.weight": expected shape [1, 1], found [1]"#
        );
        assert_eq!(
            edit(&|s| s.entries.push(Entry::values("exp_avg.extra", vec![1], vec![0.0]))),
            r#"ckpt: unexpected tensor "exp_avg.extra" (in the file, not in the model)"#
        );
        // The first problem in the model's order (step, then each parameter's kinds), then the
        // first unexpected entry in the checkpoint's order.
        assert_eq!(
            edit(&|s| {
                s.entries.retain(|e| e.name != "exp_avg.bias");
                s.entries.retain(|e| e.name != "exp_avg_sq.weight");
            }),
            r#"ckpt: missing tensor "exp_avg_sq.weight" (in the model, not in the file)"#
        );
        assert_eq!(
            edit(&|s| {
                s.entries.insert(0, Entry::count("zzz", 1));
                s.entries.push(Entry::count("aaa", 1));
            }),
            r#"ckpt: unexpected tensor "zzz" (in the file, not in the model)"#
        );
        assert_eq!(
            edit(&|s| s.metadata.remove("optimizer").map(drop).unwrap()),
            "ckpt: expected a `adam` optimizer checkpoint, found None"
        );
        assert_eq!(
            edit(&|s| drop(s.metadata.insert("eps".into(), "x".into()))),
            "ckpt: metadata `eps`: expected a number, found `x`"
        );
        let state = adam.state_dict();
        assert!(matches!(state.get("step").unwrap().data, EntryData::Count(1)));
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
}
