//! # typed-cnn: convolutional networks whose shapes are checked by the compiler
//!
//! Tensors carry their batch size and `(C, H, W)` in their type. Every layer computes its output
//! type from its input type at compile time, on **stable Rust** (typenum arithmetic behind plain
//! `usize` const generics), so wiring a layer to the wrong shape is an error at `cargo check`, with
//! a message naming the layer and the sizes, not a panic at run time.
//!
//! ```
//! use typed_cnn::prelude::*;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! /// LeNet-5 for 28×28 digits: a network is a tuple of layers (nested for blocks).
//! type LeNet = (
//!     (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),  // (N, 1, 28, 28) → (N, 6, 12, 12)
//!     (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>), //               → (N, 16, 4, 4)
//!     Flatten,                                 //               → (N, 256)
//!     (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
//! );
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut net = LeNet::init(&mut rng);                 // PyTorch's default init, seeded
//! let x = Tensor::<64, 1, 28, 28>::uniform(&mut rng, 0.0, 1.0);
//! let labels = Labels::<64, 10>::new((0..64).map(|i| i % 10).collect()).unwrap();
//!
//! // Inference: only the input type is written; the output type is inferred.
//! let logits: Tensor2<64, 10> = net.forward(x.clone());
//! assert_eq!(logits.shape(), [64, 10]);
//!
//! // One training step: forward keeping caches, fused softmax-CE gradient, backward, SGD.
//! let (logits, trace) = net.forward_train(x);
//! let (loss, dlogits) = cross_entropy(&logits, &labels);
//! let mut grads = net.zeros_like();                    // gradients have the model's type
//! let _dx = net.backward(trace, dlogits, &mut grads);  // returns dL/dx, accumulates grads
//! Sgd::new(0.01).step(&mut net, &grads);
//! assert!(loss.is_finite());
//! ```
//!
//! A layer wired to the wrong shape does not compile. Here the second convolution expects 5
//! channels where the first produces 6:
//!
//! ```compile_fail,E0277
//! use typed_cnn::prelude::*;
//! type Broken = ((Conv2d<1, 6, 5>, Relu), (Conv2d<5, 16, 5>, Relu));
//! let _ = Broken::init(&mut rand::rng()).forward(Tensor::<64, 1, 28, 28>::zeros());
//! // error[E0277]: `Conv2d<5, 16, 5>` expects 5 input channels, but the input has `Dim<6>` channels
//! ```
//!
//! Layers can also be called one at a time, with the intermediate shapes written out as
//! compiler-checked comments:
//!
//! ```
//! # use typed_cnn::prelude::*;
//! # let mut rng = rand::rng();
//! let (conv, pool) = (Conv2d::<1, 6, 5>::init(&mut rng), MaxPool2d::<2>::default());
//! let x = Tensor::<8, 1, 28, 28>::zeros();
//! let h: Tensor<8, 6, 24, 24> = conv.forward(x);
//! let h: Tensor<8, 6, 12, 12> = pool.forward(Relu.forward(h));
//! # let _ = h;
//! ```
//!
//! ## Training a real network
//!
//! [`data`] loads MNIST and the UCI digits into typed batches, [`optim`] has SGD (momentum,
//! Nesterov, weight decay), Adam and AdamW with step and cosine schedules, [`eval`] computes
//! accuracy and confusion matrices in fixed-size batches, and [`weights`] saves and loads
//! networks (and optimizer state) as safetensors files with PyTorch's names:
//!
//! ```no_run
//! use typed_cnn::prelude::*;
//! use typed_cnn::data::Digits;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! type Net = (
//!     (Conv2d<1, 8, 3, 1, 1>, Relu, MaxPool2d<2>),  // 8×8 → 4×4
//!     (Conv2d<8, 16, 3, 1, 1>, Relu, MaxPool2d<2>), // 4×4 → 2×2
//!     Flatten,
//!     Linear<64, 10>,                                // 16·2·2 = 64 features
//! );
//! let all = Digits::load("data/digits/digits.csv.gz")?;
//! let (train, test) = (all.subset(0..1500), all.subset(1500..all.len()));
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut net = Net::init(&mut rng);
//! let mut opt = Sgd::new(0.05).momentum(0.9);
//! let mut grads = net.zeros_like();
//! for _epoch in 0..30 {
//!     for batch in train.shuffled_batches::<32>(&mut rng) {
//!         let (logits, trace) = net.forward_train(batch.images);
//!         let (_loss, dlogits) = cross_entropy(&logits, &batch.labels);
//!         grads.zero();
//!         net.backward_params(trace, dlogits, &mut grads);
//!         opt.step(&mut net, &grads);
//!     }
//! }
//! println!("test accuracy {:.2}%", 100.0 * test.evaluate::<32>(&net).accuracy());
//! typed_cnn::weights::save(&net, "digits.safetensors")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Train and eval modes** are the two forward methods: [`Module::forward`] is eval mode
//! (batch norm uses its running statistics, dropout is the identity) and
//! [`Module::forward_train`] is train mode, so inference cannot use batch statistics by
//! accident. Forward and backward take `&self`; batch norm's running statistics are gathered by
//! backward into the gradient value and folded in by the optimizer step
//! ([`Params::update_buffers`]); see [`layers::norm`].
//!
//! ## On a microcontroller, without `std`
//!
//! With `default-features = false` the crate is `#![no_std]` and allocates nothing: the same
//! network types run inference through [`infer::Infer`] (every buffer's length a constant of
//! the types: [`infer::Infer::WORKSPACE_LEN`], [`infer::Infer::WEIGHT_BYTES`]), their weights
//! viewed in place in a safetensors file in flash ([`infer::View`], [`include_weights!`]). The
//! `std` feature (on by default) adds training, the fast multi-threaded kernels, data loaders
//! and weight files; `Infer` and `View` work with it too. `examples/cortex-m` runs the `mnist`
//! example's LeNet-5 on a Cortex-M4F.
//!
//! ## Layers and their PyTorch equivalents
//!
//! | typed-cnn | PyTorch |
//! |---|---|
//! | `Conv2d<CIN, COUT, K, S, P>`, `Conv2d<CIN, COUT, K, S, P, M, E, NoBias>` | `nn.Conv2d(CIN, COUT, K, stride=S, padding=P)`, `…, bias=False)` |
//! | `Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW>` | `nn.Conv2d(CIN, COUT, (KH, KW), stride=(SH, SW), padding=(PH, PW), dilation=(DH, DW))` |
//! | `DilatedConv2d<CIN, COUT, K, D, S, P>` | `nn.Conv2d(CIN, COUT, K, stride=S, padding=P, dilation=D)` |
//! | `GroupedConv2d<CIN, COUT, K, G, S, P>`, `DepthwiseConv2d<C, K, S, P>` | `nn.Conv2d(CIN, COUT, K, S, P, groups=G)`, `groups=C` |
//! | `ConvTranspose2d<CIN, COUT, K, S, P, OP>` | `nn.ConvTranspose2d(CIN, COUT, K, S, P, output_padding=OP)` |
//! | `MaxPool2d<K, S, P>` | `nn.MaxPool2d(K, stride=S, padding=P)` |
//! | `AvgPool2d<K, S, P>::new(count_include_pad)` | `nn.AvgPool2d(K, S, P, count_include_pad=…)` |
//! | `GlobalAvgPool2d` | `nn.AdaptiveAvgPool2d(1)` |
//! | `Flatten` | `nn.Flatten()` |
//! | `Linear<IN, OUT>` (`Linear<IN, OUT, E, NoBias>`), `FlatLinear<C, H, W, OUT>` | `nn.Linear(IN, OUT)` (`bias=False`), `nn.Linear(C*H*W, OUT)` |
//! | `Relu`, `LeakyRelu`, `Sigmoid`, `Tanh` | `nn.ReLU()`, `nn.LeakyReLU()`, `nn.Sigmoid()`, `nn.Tanh()` |
//! | `Relu6`, `Hardswish`, `Silu`, `Gelu` (`approximate: true` for the tanh form) | `nn.ReLU6()`, `nn.Hardswish()`, `nn.SiLU()`, `nn.GELU()` (`approximate='tanh'`) |
//! | `Softmax`, `LogSoftmax` | `nn.Softmax(1)`, `nn.LogSoftmax(1)` |
//! | `Residual<M>` | `x + m(x)` |
//! | `Sum<F, G>` | `f(x) + g(x)` (a projection shortcut, torchvision's `downsample`) |
//! | `Concat<F, G>`, `Identity` | `torch.cat([f(x), g(x)], 1)`, `nn.Identity()` |
//! | `Upsample<F>`, `UpsampleBilinear<F>` | `nn.Upsample(scale_factor=F, mode='nearest')`, `mode='bilinear'` |
//! | `BatchNorm2d<C>` | `nn.BatchNorm2d(C)` |
//! | `Dropout` (`p` field, 0.5 by default) | `nn.Dropout(p)` |
//! | `cross_entropy`, `pixel_cross_entropy` (`PixelLabels`), `mse` | `F.cross_entropy` (on `(N, C)` and on `(N, C, H, W)` logits), `F.mse_loss` |
//!
//! Strides that do not tile the padded input are a compile error by default ([`shape::Exact`]);
//! PyTorch's floor rule is an explicit opt-in, the mode parameter `M` of `Conv2d`, `MaxPool2d`
//! and `AvgPool2d` ([`shape::Floor`]). Element types are `f32` and `f64` (the parameter `E` of
//! the layers with weights, `f32` by default); `f64` makes [`gradcheck`] exact enough to catch
//! real bugs. Whether a layer has a bias is part of its type too (the last parameter of `Conv2d`
//! and `Linear`: [`Bias`] by default, or [`NoBias`]), so `Default` and weight loading know which
//! tensors a network has.
//!
//! ## How it works
//! - **Shapes** ([`shape`]): output sizes `(H + 2P − K)/S + 1` are typenum computations; each
//!   rule a user can break is a marker trait with `#[diagnostic::on_unimplemented]`, and sizes are
//!   turned back into decimals (`Dim<24>`) for the message through a 1024-entry table. Sizes
//!   written in types go through the [size table](shape::Size): 0 to 4096 and the multiples of
//!   16 up to 16,384.
//! - **Kernels** ([`kernels`]): convolution is im2col + one `matrixmultiply` GEMM per image,
//!   backward two GEMMs and col2im, except where a kernel of ours is faster: direct kernels for
//!   small layers (vectorized along rows, or across 16 output channels) and Winograd's
//!   F(2×2, 3×3) for the forward of wide 3×3 layers, compiled for AVX-512, AVX2 and the baseline
//!   and picked at run time with identical results; the conv, linear and pooling kernels are
//!   tested against naive references at odd sizes and on random shape grids.
//!   `unsafe` is in three places only, each with a `// SAFETY:` comment: the GEMM call, the
//!   calls of the kernels' AVX-512/AVX2 builds after the CPU check, and lending a job to the
//!   worker threads.
//! - **Training**: no tape. [`Forward::train_impl`] returns what backward needs; backward
//!   accumulates into a gradient value of the model's own type; [`Params`] visits parameters in
//!   one fixed order for optimizers, zeroing and gradient checks.
//!
//! ## How the crate is layered
//! Read it bottom-up; each module uses only the modules before it in this order (a test,
//! `tests/module_order.rs`, checks every `crate::` path against it, so there is no cycle):
//!
//! Dependency order: `shape` → `gemm` → `element` → `runtime` → `tensor` → `infer` → `param` → `kernels` → `module` → `gradcheck` → `init` → `layers` → `network` → `models` → `loss` → `weights` → `optim` → `data` → `eval` → `finite`
//!
//! - [`shape`]: type-level sizes and the marker traits behind every compile-time message;
//!   `gemm`: the length-checked GEMM (`unsafe` inside); `element`: [`Float`] (`f32`, `f64`).
//! - `runtime`: the storage pool ([`Storage`], which every tensor and parameter owns and which
//!   gives its buffer back when dropped) and the threads ([`set_threads`]): persistent workers
//!   that lend a hand to each kernel call (`unsafe` inside, to lend them a borrowed job).
//! - `tensor`: [`Tensor`], [`Tensor2`]; [`infer`]: allocation-free inference ([`infer::Infer`],
//!   [`infer::View`], the no-alloc [`infer::SafeTensors`] reader); `param`: [`Param1`],
//!   [`Param2`], [`Param4`].
//! - [`kernels`]: run-time-sized compute, one folder per operation with its naive reference.
//! - `module`: the traits ([`Forward`], [`Module`], [`Params`], [`ZerosLike`], [`Init`],
//!   [`NoParams`], [`params!`]); [`layers`] hold the type-level glue and call one kernel each.
//! - [`network`](mod@network): [`network!`], named networks with PyTorch's module names; [`models`]: the model
//!   zoo (ResNet-18/34, MobileNetV2, a U-Net) declared with it.
//! - [`loss`], [`weights`], [`optim`], [`data`], [`eval`], [`finite`]: training around them.
//!
//! Minimum supported Rust version: 1.95 (stable).
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

// Alphabetical (rustfmt); the dependency order is in the crate docs above. Without the `std`
// feature only inference compiles: the shapes, the layer types, `infer` and its kernels.
#[cfg(feature = "std")]
pub mod data;
mod element;
#[cfg(feature = "std")]
pub mod eval;
#[cfg(feature = "std")]
pub mod finite;
#[cfg(feature = "std")]
mod gemm;
#[cfg(feature = "std")]
pub mod gradcheck;
pub mod infer;
#[cfg(feature = "std")]
pub mod init;
pub mod kernels;
pub mod layers;
#[cfg(feature = "std")]
pub mod loss;
pub mod models;
#[cfg(feature = "std")]
mod module;
pub mod network;
#[cfg(feature = "std")]
pub mod optim;
mod param;
mod runtime;
pub mod shape;
mod tensor;
#[cfg(test)]
mod testing;
#[cfg(feature = "std")]
pub mod weights;

/// The README's code, compiled and run as a doc test so that it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use element::Float;
#[cfg(feature = "std")]
pub use module::{
    __private, Buffer, BufferFn, BufferFnMut, BufferMut, Forward, Init, InputBatch, Module,
    ModuleMut, NoParams, Out, PairFn, ParamFn, ParamFnMut, Params, Trace, TrainCache, TrainRule,
    Trainable, TupleLimit, ZerosLike,
};
#[cfg(feature = "std")]
pub use param::ParamTensor;
pub use param::{Bias, BiasMode, NoBias, Param1, Param2, Param4};
pub use runtime::Storage;
#[cfg(feature = "std")]
pub use runtime::{CHUNKS, release_buffers, set_threads, threads};
#[cfg(feature = "std")]
pub use tensor::LengthError;
pub use tensor::{T2, T4, Tensor, Tensor2, TensorData};

/// The `rand` this crate was built with: [`Init::init`], the data loaders' shuffling and the
/// random tensors take its `Rng`. Use it through here (`typed_cnn::rand::rng()`,
/// `typed_cnn::rand::SeedableRng`) and a `rand` of another version in your own dependencies
/// cannot give you a generator these functions refuse.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::rand::{SeedableRng, rngs::StdRng};
/// let net = Linear::<4, 2>::init(&mut StdRng::seed_from_u64(7));
/// # let _ = net;
/// ```
#[cfg(feature = "std")]
pub use rand;

/// The `typenum` behind the shapes: sizes in types are its numbers (`T2<E, N, F>`'s `F` is one).
/// Code that is generic over such a number names [`typenum::Unsigned`] through here, with no
/// `typenum` dependency of its own. Sizes written in types never need it (see
/// [`shape::Size`]).
pub use typenum;

/// Everything a network definition and a training loop need, in one import (without the `std`
/// feature: the layers, the tensor types and [`infer`]'s traits).
pub mod prelude {
    pub use crate::infer::{Infer, InferExt, View};
    pub use crate::layers::*;
    #[cfg(feature = "std")]
    pub use crate::loss::{Labels, PixelLabels, cross_entropy, mse, pixel_cross_entropy};
    #[cfg(feature = "std")]
    pub use crate::module::{Forward, Init, Module, ModuleMut, Params, Trainable};
    #[cfg(feature = "std")]
    pub use crate::optim::{Adam, Optimizer, Sgd};
    pub use crate::param::{Bias, NoBias};
    pub use crate::shape::{Exact, Floor};
    pub use crate::{Float, T2, T4, Tensor, Tensor2};
}
