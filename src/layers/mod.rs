//! The layers. Every file holds one concept: its struct, forward, backward and tests, with
//! forward and backward side by side.
//!
//! **The rule between layers and kernels**: a layer holds the type-level glue (its shape bounds,
//! output type, cache type and parameters) and calls **one kernel** of [`crate::kernels`] for
//! anything with index arithmetic over windows or a GEMM: convolution, pooling and the fully
//! connected layers do exactly that. Element-wise and per-channel math whose loops are one line
//! stays in the layer file beside its backward: the activations, softmax, dropout's mask, batch
//! norm's per-channel statistics, and the residual sum.
//!
//! Storage is never given back by hand: tensors and parameters own a [`crate::Storage`], which
//! returns its buffer to the pool when dropped.

/// How the crate's layers take their input: each has one [`Forward`](crate::Forward) impl, generic over the input
/// `In: LayerInput<Layer>`, and one `LayerInput` impl per rank of input, the one it computes on
/// and the other, whose bound reports a rank mistake with the input's sizes in decimal
/// ([`FlatInput`](crate::shape::FlatInput), [`ImageInput`]).
///
/// One `Forward` impl matters to the compiler: with one impl per rank, a bound that fails
/// whatever the input (a kernel of 0, a size outside the table) would rule out the right impl
/// before the input is known, and the compiler would then take the input to be of the other
/// rank and report a type mismatch. Layers of your own implement [`Forward`](crate::Forward) directly.
#[cfg(feature = "std")]
#[diagnostic::on_unimplemented(
    message = "`{L}` cannot take an input of type `{Self}`",
    label = "this layer does not accept that input",
    note = "`Linear` takes 2-D `(N, F)` input (put `Flatten` before it); convolution and pooling take 4-D `(N, C, H, W)`"
)]
pub trait LayerInput<L>: Sized {
    /// The layer's output on this input.
    type Output;
    /// What backward needs from the training forward.
    type Cache;
    /// [`Forward::forward_impl`](crate::Forward::forward_impl).
    fn forward(layer: &L, x: Self) -> Self::Output;
    /// [`Forward::train_impl`](crate::Forward::train_impl).
    fn train(layer: &L, x: Self) -> (Self::Output, Self::Cache);
    /// [`Forward::backward_impl`](crate::Forward::backward_impl).
    fn backward(layer: &L, cache: Self::Cache, dy: Self::Output, grads: &mut L) -> Self;
    /// [`Forward::backward_params_impl`](crate::Forward::backward_params_impl).
    fn backward_params(layer: &L, cache: Self::Cache, dy: Self::Output, grads: &mut L) {
        let _ = Self::backward(layer, cache, dy, grads);
    }
}

/// `forward_by_input!([generics,] Layer<…>)`: the layer's one [`Forward`](crate::Forward) impl, generic over the
/// input, calling its [`LayerInput`] impls.
#[cfg(feature = "std")]
macro_rules! forward_by_input {
    ([$($g:tt)*] $L:ty) => {
        impl<$($g)* In: $crate::layers::LayerInput<$L>> $crate::module::Forward<In> for $L {
            type Output = <In as $crate::layers::LayerInput<$L>>::Output;
            type Cache = <In as $crate::layers::LayerInput<$L>>::Cache;
            fn forward_impl(&self, x: In) -> Self::Output {
                In::forward(self, x)
            }
            fn train_impl(&self, x: In) -> (Self::Output, Self::Cache) {
                In::train(self, x)
            }
            #[track_caller]
            fn backward_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) -> In {
                In::backward(self, cache, dy, grads)
            }
            #[track_caller]
            fn backward_params_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) {
                In::backward_params(self, cache, dy, grads)
            }
        }
    };
}

/// Without `std` there is no `Forward`: the layers' invocations expand to nothing.
#[cfg(not(feature = "std"))]
macro_rules! forward_by_input {
    ($($t:tt)*) => {};
}

mod activation;
pub(crate) mod concat;
mod conv;
mod conv_hw;
mod dropout;
mod flatten;
mod grouped;
mod linear;
pub mod norm;
mod pool;
pub(crate) mod residual;
mod softmax;
mod transposed;
mod upsample;
mod weight_bias;

pub use activation::{Gelu, Hardswish, LeakyRelu, Relu, Relu6, Sigmoid, Silu, Tanh};
pub use concat::{Concat, Identity};
pub use conv::Conv2d;
pub use conv_hw::{Conv2dHW, DilatedConv2d};
pub use dropout::Dropout;
pub use flatten::{FlatSize, Flatten};
pub use grouped::{DepthwiseConv2d, GroupedConv2d};
pub use linear::{FlatLinear, Linear};
pub use norm::BatchNorm2d;
pub use pool::{AvgPool2d, GlobalAvgPool2d, MaxPool2d};
pub use residual::{Residual, Sum};
pub use softmax::{LogSoftmax, Softmax};
pub use transposed::{
    ConvTranspose2d, TransposedFits, TransposedOut, TransposedSide, TransposedSpan,
};
pub use upsample::{Upsample, UpsampleBilinear};

use crate::Float;
use crate::param::BiasMode;
use crate::shape::{Decimal, ImageInput, Show};
use crate::tensor::T2;

/// [`LayerInput`] (with `std`) and [`Infer`](crate::infer::Infer) of a 2-D input `(N, features)` for the layers that take images `(N, C, H, W)`:
/// the rank mistake, reported with the feature count in decimal (see [`ImageInput`]) instead of
/// as a layer that "cannot take an input" of some binary type.
macro_rules! image_layers {
    ($([$($g:tt)*] $L:ty;)+) => {$(
        forward_by_input!([$($g)*] $L);

        impl<$($g)* XE: Float, const N: usize, XF: Decimal + typenum::Unsigned> $crate::infer::Infer<T2<XE, N, XF>>
            for $L
        where
            Show<XF>: ImageInput<$L>,
        {
            type Output = $crate::infer::Unreachable<XE>;
            fn infer_into(&self, _: &[XE], _: &mut [XE], _: &mut [XE]) {
                <Show<XF> as ImageInput<$L>>::absurd()
            }
        }

        #[cfg(feature = "std")]
        impl<$($g)* XE: Float, const N: usize, XF: Decimal> LayerInput<$L> for T2<XE, N, XF>
        where
            Show<XF>: ImageInput<$L>,
        {
            type Output = <Show<XF> as ImageInput<$L>>::Never;
            type Cache = <Show<XF> as ImageInput<$L>>::Never;
            fn forward(_: &$L, _: Self) -> Self::Output {
                <Show<XF> as ImageInput<$L>>::absurd()
            }
            fn train(_: &$L, _: Self) -> (Self::Output, Self::Cache) {
                <Show<XF> as ImageInput<$L>>::absurd()
            }
            fn backward(_: &$L, _: Self::Cache, _: Self::Output, _: &mut $L) -> Self {
                <Show<XF> as ImageInput<$L>>::absurd()
            }
        }
    )+};
}

image_layers! {
    [const CIN: usize, const COUT: usize, const K: usize, const S: usize, const P: usize, M, E: Float, B: BiasMode,]
        Conv2d<CIN, COUT, K, S, P, M, E, B>;
    [const CIN: usize, const COUT: usize, const KH: usize, const KW: usize, const SH: usize, const SW: usize, const PH: usize, const PW: usize, const DH: usize, const DW: usize, M, E: Float, B: BiasMode,]
        Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>;
    [const K: usize, const S: usize, const P: usize, M,] MaxPool2d<K, S, P, M>;
    [const K: usize, const S: usize, const P: usize, M,] AvgPool2d<K, S, P, M>;
    [const C: usize, E: Float,] BatchNorm2d<C, E>;
    [] GlobalAvgPool2d;
    [const F: usize,] Upsample<F>;
    [const F: usize,] UpsampleBilinear<F>;
}
