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

mod activation;
mod conv;
mod dropout;
mod flatten;
mod linear;
pub mod norm;
mod pool;
mod residual;
mod softmax;

pub use activation::{LeakyRelu, Relu, Sigmoid, Tanh};
pub use conv::Conv2d;
pub use dropout::Dropout;
pub use flatten::{FlatSize, Flatten};
pub use linear::{FlatLinear, Linear};
pub use norm::BatchNorm2d;
pub use pool::{AvgPool2d, GlobalAvgPool2d, MaxPool2d};
pub use residual::Residual;
pub use softmax::{LogSoftmax, Softmax};
