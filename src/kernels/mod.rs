//! Run-time-sized compute kernels: GEMM, im2col/col2im convolution, pooling.
//!
//! Sizes here are plain `usize`s (the type-level shapes are checked before a kernel is called), so
//! the kernels can be property-tested over many shapes. Every fast kernel has a naive direct-loop
//! reference in [`naive`] that the tests compare it against.

pub mod gemm;
