//! typed-cnn (work in progress)
#![deny(unsafe_code)]

mod element;
pub mod gradcheck;
pub mod kernels;
pub mod layers;
pub mod loss;
mod module;
pub mod optim;
pub mod shape;
mod tensor;
#[cfg(test)]
mod testing;

pub use element::Float;
pub use module::{Forward, Init, Module, Out, Params, Trace, zip_params};
pub use tensor::{LengthError, T2, T4, Tensor, Tensor2, TensorData};

/// Everything a network definition and a training loop need, in one import.
pub mod prelude {
    pub use crate::layers::*;
    pub use crate::loss::{Labels, cross_entropy, mse};
    pub use crate::module::{Forward, Init, Module, Params};
    pub use crate::optim::Sgd;
    pub use crate::shape::{Exact, Floor};
    pub use crate::{Float, T2, T4, Tensor, Tensor2};
}
