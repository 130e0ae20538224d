//! `WeightBias`: the parameters of a convolution, a weight tensor and a bias that the type's
//! [`BiasMode`] says is there or not, with the plumbing every conv layer needs around them
//! (checked construction, PyTorch's init, the `Params` visits, zeros for gradients).

use core::marker::PhantomData;
#[cfg(feature = "std")]
use rand::Rng;

use crate::Float;
use crate::infer::{Name, SafeTensors, ViewError};
#[cfg(feature = "std")]
use crate::module::{PairFn, ParamFn, ParamFnMut, join};
use crate::param::BiasMode;
#[cfg(feature = "std")]
use crate::param::{Fill, NoBias};
use crate::runtime::Storage;

/// A weight of a shape the layer states and, with [`crate::param::Bias`], `COUT` biases.
pub(crate) struct WeightBias<E: Float, B> {
    pub(crate) weight: Storage<E>,
    pub(crate) bias: Option<Storage<E>>,
    mode: PhantomData<B>,
}

impl<E: Float, B: BiasMode> WeightBias<E, B> {
    /// The weight of `shape` (`{prefix}.weight`) and, if `B` has one, the bias of `[cout]`
    /// (`{prefix}.bias`), viewed in place in `file`.
    pub(crate) fn view(
        file: &SafeTensors,
        prefix: &Name,
        shape: &[usize],
        cout: usize,
    ) -> Result<Self, ViewError> {
        let weight = Storage::from_static(file.values(&prefix.join("weight"), shape)?);
        let bias = if B::ON {
            Some(Storage::from_static(file.values(&prefix.join("bias"), &[cout])?))
        } else {
            None
        };
        Ok(Self { weight, bias, mode: PhantomData })
    }

    /// The number of values: the weights and the bias.
    pub(crate) const fn count(weights: usize, cout: usize) -> usize {
        weights + if B::ON { cout } else { 0 }
    }
}

#[cfg(feature = "std")]
impl<E: Float, B: BiasMode> WeightBias<E, B> {
    /// Zero weights, `shape.iter().product()` of them, and zero biases (`cout`) if `B` has them.
    pub(crate) fn zeros(shape: &[usize], cout: usize) -> Self {
        let bias = B::ON.then(|| Storage::zeros(cout));
        Self { weight: Storage::zeros(shape.iter().product()), bias, mode: PhantomData }
    }

    /// Given weights and biases, their lengths checked against `shape` and `cout`: a bias given to
    /// a [`NoBias`] layer counts as a tensor of shape `[0]`, a missing one as 0 values of `[cout]`.
    pub(crate) fn from_parts(
        weight: Vec<E>,
        bias: Option<Vec<E>>,
        shape: &[usize],
        cout: usize,
    ) -> Result<Self, crate::LengthError> {
        let wrong = |shape: Vec<usize>, found: usize| {
            let expected = shape.iter().product();
            Err(crate::LengthError { shape, expected, found })
        };
        if weight.len() != shape.iter().product::<usize>() {
            return wrong(shape.to_vec(), weight.len());
        }
        match (&bias, B::ON) {
            (Some(b), true) if b.len() != cout => return wrong(vec![cout], b.len()),
            (None, true) => return wrong(vec![cout], 0),
            (Some(b), false) => return wrong(vec![0], b.len()),
            _ => {}
        }
        Ok(Self { weight: weight.into(), bias: bias.map(Storage::from), mode: PhantomData })
    }

    /// PyTorch's default init, `U(±1/√fan_in)` for weights and biases.
    pub(crate) fn init<R: Rng + ?Sized>(
        shape: &[usize],
        cout: usize,
        fan_in: usize,
        rng: &mut R,
    ) -> Self {
        let mut parts = Self::zeros(shape, cout);
        let fill = Fill::PyTorch { fan_in };
        fill.apply(&mut parts.weight, rng);
        if let Some(bias) = &mut parts.bias {
            fill.apply(bias, rng);
        }
        parts
    }

    /// The same weights without the bias.
    pub(crate) fn without_bias(self) -> WeightBias<E, NoBias> {
        WeightBias { weight: self.weight, bias: None, mode: PhantomData }
    }

    /// Zeros of the same lengths (a gradient).
    pub(crate) fn zeros_like(&self) -> Self {
        let bias = self.bias.as_ref().map(|b| Storage::zeros(b.len()));
        Self { weight: Storage::zeros(self.weight.len()), bias, mode: PhantomData }
    }

    /// `Params::visit`: `{prefix}.weight` of `shape`, `{prefix}.bias` of `[cout]`.
    pub(crate) fn visit<'a>(&'a self, prefix: &str, shape: &[usize], f: &mut ParamFn<'a, '_, E>) {
        f(&join(prefix, "weight"), shape, &self.weight);
        if let Some(b) = &self.bias {
            f(&join(prefix, "bias"), &[b.len()], b);
        }
    }

    /// `Params::visit_mut`.
    pub(crate) fn visit_mut(&mut self, prefix: &str, shape: &[usize], f: &mut ParamFnMut<'_, E>) {
        f(&join(prefix, "weight"), shape, &mut self.weight);
        if let Some(b) = &mut self.bias {
            let len = b.len();
            f(&join(prefix, "bias"), &[len], b);
        }
    }

    /// `Params::visit_with_grads`: `B` decides for both, a bias is there in both or in neither.
    pub(crate) fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
        f(&mut self.weight, &grads.weight);
        if let (Some(b), Some(g)) = (&mut self.bias, &grads.bias) {
            f(b, g);
        }
    }
}

impl<E: Float, B> Clone for WeightBias<E, B> {
    fn clone(&self) -> Self {
        Self { weight: self.weight.clone(), bias: self.bias.clone(), mode: PhantomData }
    }
}

impl<E: Float, B> PartialEq for WeightBias<E, B> {
    fn eq(&self, other: &Self) -> bool {
        self.weight == other.weight && self.bias == other.bias
    }
}

/// `weight`, `weight_mut`, `bias` and `bias_mut` for a layer whose parameters are a
/// `parts: WeightBias<E, B>` field, inside its inherent impl; `$layout` is the weights' shape as
/// the docs show it, e.g. `"(COUT, CIN/G, K, K)"`.
macro_rules! accessors {
    ($layout:literal) => {
        #[doc = concat!("The weights, `", $layout, "` row-major (PyTorch's layout for this layer).")]
        pub fn weight(&self) -> &[E] {
            &self.parts.weight
        }
        /// The weights, mutable.
        #[cfg(feature = "std")]
        pub fn weight_mut(&mut self) -> &mut [E] {
            &mut self.parts.weight
        }
        /// The biases `(COUT)`, if the layer has them.
        pub fn bias(&self) -> Option<&[E]> {
            self.parts.bias.as_deref()
        }
        /// The biases, mutable.
        #[cfg(feature = "std")]
        pub fn bias_mut(&mut self) -> Option<&mut [E]> {
            self.parts.bias.as_deref_mut()
        }
    };
}
pub(crate) use accessors;
