//! Inference that allocates nothing, with its memory sized by the compiler: the path that runs
//! a typed network on a microcontroller (`default-features = false`, `#![no_std]`), and the same
//! code on a desktop.
//!
//! - [`Infer`]: every layer and every tuple network of layers computes its output into a
//!   caller's buffer, with intermediate activations in a *workspace* whose length is an
//!   associated constant of the network type ([`Infer::WORKSPACE_LEN`]), so a program sizes a
//!   `static` (or stack) array for it at compile time. [`Infer::WEIGHT_BYTES`] and
//!   [`Infer::ACTIVATION_BYTES`] state the rest of its memory.
//! - [`View`]: the same network types, their weights viewed in place in a safetensors file
//!   image (`&'static [u8]`, e.g. `include_bytes!` in flash) instead of copied: a layer's
//!   parameters are a [`Storage`](crate::Storage) that owns a buffer or views `&'static` values.
//! - [`SafeTensors`]: the file's header read by a parser of ours that allocates nothing.
//!
//! The kernels are [`crate::kernels::embedded`]'s plain loops (no matrixmultiply, no threads).
//!
//! ```
//! use typed_cnn::prelude::*;
//! use typed_cnn::infer::SafeTensors;
//!
//! type Net = (Conv2d<1, 2, 3>, Relu, MaxPool2d<2>, Flatten, Linear<8, 3>);
//! type In = Tensor<1, 1, 6, 6>;
//! // A weight file, here made in memory and leaked; on a device, `include_weights!` puts one
//! // in flash and `SafeTensors::parse` reads it there.
//! let bytes = typed_cnn::weights::to_bytes(&Net::init(&mut rand::rng()))?;
//! let net = Net::view(&SafeTensors::leak(&bytes)?)?;
//! // Memory: a workspace of this many elements holds the output and every intermediate.
//! const LEN: usize = <Net as Infer<In>>::WORKSPACE_LEN;
//! let mut workspace = [0.0f32; LEN];
//! let x = [0.5f32; 36];
//! let logits = net.infer::<In>(&x, &mut workspace)?;
//! assert_eq!(logits.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod safetensors;
pub(crate) mod tuples;

/// What [`network!`](crate::network!)'s expansion calls; not an API.
#[doc(hidden)]
pub mod __private {
    pub use super::tuples::{At, buffers_but_last, max, step_or_last};
}

pub use error::{InferError, Name, ViewError, ViewErrorKind};
pub use safetensors::{SafeTensors, TensorInfo};

use crate::Float;
use crate::tensor::{T2, T4};

/// The element type and length of a tensor type, for [`Infer`]: the tensor types are used as
/// types only on this path (values are slices).
pub trait Layout {
    /// The element type.
    type Elem: Float;
    /// The number of elements, `N·C·H·W` or `N·F`.
    const LEN: usize;
}

impl<E: Float, const N: usize, C: typenum::Unsigned, H: typenum::Unsigned, W: typenum::Unsigned>
    Layout for T4<E, N, C, H, W>
{
    type Elem = E;
    const LEN: usize = N * C::USIZE * H::USIZE * W::USIZE;
}

impl<E: Float, const N: usize, F: typenum::Unsigned> Layout for T2<E, N, F> {
    type Elem = E;
    const LEN: usize = N * F::USIZE;
}

/// The output type of the impls that report a rank mistake (a `Linear` given an image, a
/// convolution given features): no value of it exists, and their bound never holds.
pub struct Unreachable<E> {
    #[allow(dead_code, reason = "uninhabited: it makes the type empty and is never read")]
    never: core::convert::Infallible,
    elem: core::marker::PhantomData<E>,
}

impl<E: Float> Layout for Unreachable<E> {
    type Elem = E;
    const LEN: usize = 0;
}

/// `y` = image by image, `a`'s values then `b`'s (the NCHW concatenation along the channels of
/// `n` images): [`Concat`](crate::layers::Concat)'s and a `network!` route's `cat(…)`.
pub(crate) fn stack_images<E: Copy>(n: usize, a: &[E], b: &[E], y: &mut [E]) {
    let (pa, pb) = (a.len() / n.max(1), b.len() / n.max(1));
    for i in 0..n {
        let out = &mut y[i * (pa + pb)..][..pa + pb];
        out[..pa].copy_from_slice(&a[i * pa..][..pa]);
        out[pa..].copy_from_slice(&b[i * pb..][..pb]);
    }
}

/// `acc += x`, element by element: the sum of a residual block, a projection shortcut and a
/// route's `(a + b)`, in inference and in training.
pub(crate) fn add_assign<E: Float>(acc: &mut [E], x: &[E]) {
    acc.iter_mut().zip(x).for_each(|(a, &b)| *a += b);
}

/// The element type of input `In`.
pub type ElemOf<In> = <In as Layout>::Elem;

/// Allocation-free inference of a layer or network on input type `In` (a tensor type, used for
/// its shape only; values are slices of `In::LEN` elements in PyTorch's layout).
///
/// The output type is computed from the input type by the same shape rules as
/// [`Forward`](crate::Forward) (a wrong network is the same compile error), and every buffer
/// length is a constant of the types:
///
/// ```
/// use typed_cnn::prelude::*;
/// type LeNet = (
///     (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
///     (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
///     Flatten,
///     (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
/// );
/// type In = Tensor<1, 1, 28, 28>;
/// assert_eq!(<LeNet as Infer<In>>::WEIGHT_BYTES, 44_426 * 4);
/// assert_eq!(<LeNet as Infer<In>>::WORKSPACE_LEN, 4_586); // 18,344 bytes
/// ```
///
/// A layer of your own implements it beside [`Forward`](crate::Forward) (and [`View`]), and
/// then infers inside tuple networks and `network!` declarations:
///
/// ```
/// use typed_cnn::infer::{Infer, Layout, View, Name, SafeTensors, ViewError};
/// use typed_cnn::prelude::*;
///
/// #[derive(Clone, Copy, Debug, Default, PartialEq)]
/// struct Double; // y = 2x, on any tensor type
/// impl<T: Layout> Infer<T> for Double {
///     type Output = T;
///     const IN_PLACE: bool = true; // element-wise: a network may run it over its input
///     fn infer_into(&self, x: &[T::Elem], y: &mut [T::Elem], _work: &mut [T::Elem]) {
///         y.iter_mut().zip(x).for_each(|(y, &x)| *y = x + x);
///     }
///     fn infer_in_place(&self, xy: &mut [T::Elem]) {
///         xy.iter_mut().for_each(|v| *v = *v + *v);
///     }
/// }
/// impl View for Double {
///     fn view_at(_: &SafeTensors, _: &Name) -> Result<Self, ViewError> {
///         Ok(Double)
///     }
/// }
///
/// let net = (Double, Relu, Double);
/// let mut ws = [0.0f32; <(Double, Relu, Double) as Infer<Tensor2<1, 2>>>::WORKSPACE_LEN];
/// assert_eq!(net.infer::<Tensor2<1, 2>>(&[1.5, -1.0], &mut ws).unwrap(), [6.0, 0.0]);
/// ```
///
/// # Panics
/// Never on any input: lengths are checked by [`InferExt::infer`], which returns an
/// [`InferError`] for a wrong one, and the kernels index only within the lengths the types
/// give. Values are not checked: a NaN in the input gives NaN outputs, as in PyTorch.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot infer from an input of type `{In}`",
    label = "this layer or network does not accept that input",
    note = "`Linear` takes 2-D `(N, F)` input (put `Flatten` before it); convolution and pooling take 4-D `(N, C, H, W)`",
    note = "a tuple network has at most 12 members (nest longer ones, or declare them with `typed_cnn::network!`); a layer of your own implements `Infer` itself"
)]
pub trait Infer<In: Layout>: Sized {
    /// The output type.
    type Output: Layout<Elem = In::Elem>;
    /// Elements of workspace this layer needs beyond its input and output (a block's
    /// intermediate activations); 0 for a single layer.
    const WORK: usize = 0;
    /// Whether [`Infer::infer_in_place`] computes the output over the input (element-wise
    /// layers and reshapes, whose output has the input's length): a network then keeps one
    /// buffer for both.
    const IN_PLACE: bool = false;
    /// The number of parameter and buffer values inference reads.
    const WEIGHTS: usize = 0;

    /// Elements of the workspace [`InferExt::infer`] takes: the output, then [`Infer::WORK`].
    const WORKSPACE_LEN: usize = <Self::Output as Layout>::LEN + Self::WORK;
    /// Bytes of weights (and batch-norm statistics) the network reads, in place.
    const WEIGHT_BYTES: usize = Self::WEIGHTS * size_of::<In::Elem>();
    /// Bytes of activations live at once at the peak: the workspace (the output and the
    /// intermediates a block keeps, two buffers for a chain of layers, more for residual and
    /// concatenating blocks). The input, the caller's, is not counted.
    const ACTIVATION_BYTES: usize = Self::WORKSPACE_LEN * size_of::<In::Elem>();
    /// Bytes of the input, `In::LEN` elements.
    const INPUT_BYTES: usize = In::LEN * size_of::<In::Elem>();

    /// Computes the output `y` (`Output::LEN` elements) from `x` (`In::LEN`), using `work`
    /// (at least [`Infer::WORK`] elements) for intermediates. Called by [`InferExt::infer`] and
    /// by networks, with the lengths right.
    fn infer_into(&self, x: &[In::Elem], y: &mut [In::Elem], work: &mut [In::Elem]);

    /// The output over the input (`In::LEN` elements), for layers with [`Infer::IN_PLACE`];
    /// networks call it only for those.
    fn infer_in_place(&self, xy: &mut [In::Elem]) {
        let _ = xy;
        unreachable!("infer_in_place of a layer whose IN_PLACE is false")
    }
}

/// [`Infer::infer_into`] with the lengths checked, the call a program makes (blanket-implemented;
/// in the prelude): the input type is named at the call, `net.infer::<In>(&x, &mut ws)`.
pub trait InferExt {
    /// Inference of input `x` (`In::LEN` values) with `workspace` (at least
    /// [`Infer::WORKSPACE_LEN`] elements) for everything it computes: returns the output, the
    /// workspace's first `Output::LEN` elements.
    ///
    /// # Errors
    /// [`InferError`] if `x` does not have `In::LEN` values or `workspace` is shorter than
    /// [`Infer::WORKSPACE_LEN`].
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let fc = Linear::<2, 1>::from_parts(vec![1.0, 2.0], vec![0.5]).unwrap();
    /// let mut ws = [0.0f32; 1];
    /// assert_eq!(fc.infer::<Tensor2<1, 2>>(&[3.0, 4.0], &mut ws).unwrap(), [11.5]);
    /// assert!(fc.infer::<Tensor2<1, 2>>(&[3.0], &mut ws).is_err());
    /// ```
    fn infer<'w, In: Layout>(
        &self,
        x: &[In::Elem],
        workspace: &'w mut [In::Elem],
    ) -> Result<&'w [In::Elem], InferError>
    where
        Self: Infer<In>,
    {
        if x.len() != In::LEN {
            return Err(InferError { what: "input", expected: In::LEN, found: x.len() });
        }
        let need = <Self as Infer<In>>::WORKSPACE_LEN;
        if workspace.len() < need {
            return Err(InferError { what: "workspace", expected: need, found: workspace.len() });
        }
        let out = <<Self as Infer<In>>::Output as Layout>::LEN;
        let (y, work) = workspace.split_at_mut(out);
        self.infer_into(x, y, &mut work[..<Self as Infer<In>>::WORK]);
        Ok(y)
    }
}

impl<M> InferExt for M {}

/// Construction of a layer or network whose parameters view a weight file in place: the
/// [`SafeTensors`] image's tensors, by PyTorch's names (`0.0.weight`, `3.4.bias`, the names
/// [`weights::save`](crate::weights::save) writes), each checked for its dtype and shape.
///
/// Layers without parameters are made with `Default`; batch norm reads `weight`, `bias`,
/// `running_mean` and `running_var` (not `num_batches_tracked`). Settings that a state dict
/// does not store take their defaults, as with [`weights::load`](crate::weights::load) into a
/// `Default` network: set them on the viewed network (`AvgPool2d`'s `count_include_pad`,
/// `LeakyRelu`'s slope, batch norm's `eps`, `Gelu`'s form are public fields or constructors).
pub trait View: Sized {
    /// This network with the weights of `file` under `prefix` (`""` for a whole file).
    ///
    /// # Errors
    /// [`ViewError`] naming the tensor: missing, of another dtype or shape, outside the file,
    /// or not aligned for the element type.
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError>;

    /// This network with the weights of `file`, viewed in place.
    ///
    /// # Errors
    /// As [`View::view_at`].
    fn view(file: &SafeTensors) -> Result<Self, ViewError> {
        Self::view_at(file, &Name::root())
    }
}

/// Places a file's bytes in the program image aligned to 16 bytes, as `&'static [u8]`, so that
/// [`View`] can view its `f32` and `f64` tensors in place: `include_bytes!` alone aligns to 1.
///
/// ```ignore
/// static WEIGHTS: &[u8] = typed_cnn::include_weights!("lenet.safetensors");
/// ```
#[macro_export]
macro_rules! include_weights {
    ($path:expr) => {{
        #[repr(C, align(16))]
        struct Aligned<T: ?Sized>(T);
        static ALIGNED: &Aligned<[u8]> = &Aligned(*include_bytes!($path));
        &ALIGNED.0
    }};
}

/// Layers without parameters: made with `Default`, whatever the file holds.
macro_rules! view_default {
    ($([$($g:tt)*] $L:ty;)+) => {$(
        impl<$($g)*> $crate::infer::View for $L {
            fn view_at(
                _: &$crate::infer::SafeTensors,
                _: &$crate::infer::Name,
            ) -> Result<Self, $crate::infer::ViewError> {
                Ok(<Self as Default>::default())
            }
        }
    )+};
}
pub(crate) use view_default;

#[cfg(all(test, feature = "std"))]
mod tests;
