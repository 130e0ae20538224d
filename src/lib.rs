//! typed-cnn (work in progress)
#![deny(unsafe_code)]

mod element;
pub mod kernels;

pub use element::Float;
