//! The layers. Every file holds one concept: its struct, forward, backward and tests, with
//! forward and backward side by side. Index arithmetic lives in [`crate::kernels`], not here.

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
