//! Named networks: [`network!`](crate::network!) declares a struct whose fields are layers (or
//! blocks, or other networks), named as the attributes of a PyTorch module are, and how its
//! forward runs through them. This module holds what the macro builds on: [`Field`] (one field
//! of a network), [`Path`] (a forward route through the fields) and the route's pieces
//! [`Leaf`], [`Then`], [`Add`], [`Cat`] and [`Skip`]. Code never names them; they show in
//! compiler messages.

use core::marker::PhantomData;
use core::ops::Add as TypeAdd;
use typenum::{And, Eq, IsEqual, Sum};

use crate::Float;
use crate::infer::tuples::max;
use crate::infer::{ElemOf, Infer, Layout};
#[cfg(feature = "std")]
use crate::layers::concat::{stack, unstack};
#[cfg(feature = "std")]
use crate::layers::residual::{add_into, retype};
#[cfg(feature = "std")]
use crate::module::Forward;
use crate::shape::{BranchesMatch, ConcatSizesMatch, Decimal, Shape, ShapeEq, Show};
use crate::tensor::{T4, TensorData};

/// One field of network `S`: its layer, by shared and by mutable reference.
/// [`network!`](crate::network!) implements it for a marker type per field.
pub trait Field<S> {
    /// The field's type.
    type Layer;
    /// The field in `s`.
    fn get(s: &S) -> &Self::Layer;
    /// The field in `s`, mutably (the gradient value's, in backward).
    fn get_mut(s: &mut S) -> &mut Self::Layer;
}

/// A route of the forward pass through the fields of network `S`, on input `In`: what
/// [`network!`](crate::network!)'s `forward:` clause becomes. It mirrors [`Forward`], with the
/// network passed in (`grads` is the network's gradient value).
#[cfg(feature = "std")]
#[diagnostic::on_unimplemented(
    message = "this route through the fields of `{S}` cannot take an input of type `{In}`",
    label = "the route does not accept that input"
)]
pub trait Path<S, In> {
    /// The output type.
    type Output;
    /// What backward needs from the training forward.
    type Cache;
    /// Inference.
    fn forward(s: &S, x: In) -> Self::Output;
    /// Training forward.
    fn train(s: &S, x: In) -> (Self::Output, Self::Cache);
    /// Backward: accumulates parameter gradients into `grads`, returns `dL/dx`.
    fn backward(s: &S, cache: Self::Cache, dy: Self::Output, grads: &mut S) -> In;
    /// Backward without the input gradient (the first layers of a network).
    fn backward_params(s: &S, cache: Self::Cache, dy: Self::Output, grads: &mut S) {
        let _ = Self::backward(s, cache, dy, grads);
    }
}

/// One field, as a layer: `conv1` in a `forward:` clause.
pub struct Leaf<F>(PhantomData<F>);

#[cfg(feature = "std")]
impl<S, In, F> Path<S, In> for Leaf<F>
where
    F: Field<S>,
    F::Layer: Forward<In>,
{
    type Output = <F::Layer as Forward<In>>::Output;
    type Cache = <F::Layer as Forward<In>>::Cache;
    fn forward(s: &S, x: In) -> Self::Output {
        F::get(s).forward_impl(x)
    }
    fn train(s: &S, x: In) -> (Self::Output, Self::Cache) {
        F::get(s).train_impl(x)
    }
    fn backward(s: &S, cache: Self::Cache, dy: Self::Output, grads: &mut S) -> In {
        F::get(s).backward_impl(cache, dy, F::get_mut(grads))
    }
    fn backward_params(s: &S, cache: Self::Cache, dy: Self::Output, grads: &mut S) {
        F::get(s).backward_params_impl(cache, dy, F::get_mut(grads))
    }
}

/// `A -> B`: `A`, then `B` on its output.
pub struct Then<A, B>(PhantomData<(A, B)>);

#[cfg(feature = "std")]
impl<S, In, A, B> Path<S, In> for Then<A, B>
where
    A: Path<S, In>,
    B: Path<S, A::Output>,
{
    type Output = B::Output;
    type Cache = (A::Cache, B::Cache);
    fn forward(s: &S, x: In) -> Self::Output {
        B::forward(s, A::forward(s, x))
    }
    fn train(s: &S, x: In) -> (Self::Output, Self::Cache) {
        let (h, ca) = A::train(s, x);
        let (y, cb) = B::train(s, h);
        (y, (ca, cb))
    }
    fn backward(s: &S, (ca, cb): Self::Cache, dy: Self::Output, grads: &mut S) -> In {
        let dh = B::backward(s, cb, dy, grads);
        A::backward(s, ca, dh, grads)
    }
    fn backward_params(s: &S, (ca, cb): Self::Cache, dy: Self::Output, grads: &mut S) {
        let dh = B::backward(s, cb, dy, grads);
        A::backward_params(s, ca, dh, grads)
    }
}

/// `identity`: the input itself (the skip of a residual sum).
pub struct Skip;

#[cfg(feature = "std")]
impl<S, In: TensorData> Path<S, In> for Skip {
    type Output = In;
    type Cache = ();
    fn forward(_: &S, x: In) -> In {
        x
    }
    fn train(_: &S, x: In) -> (In, ()) {
        (x, ())
    }
    fn backward(_: &S, _: (), dy: In, _: &mut S) -> In {
        dy
    }
}

/// `(A + B)`: both routes on the same input, summed, as [`Sum`](crate::layers::Sum) does; their
/// outputs must have the same shape.
pub struct Add<A, B>(PhantomData<(A, B)>);

#[cfg(feature = "std")]
impl<S, In, A, B> Path<S, In> for Add<A, B>
where
    In: TensorData,
    A: Path<S, In>,
    B: Path<S, In>,
    A::Output: TensorData<Elem = In::Elem> + ShapeEq<B::Output>,
    B::Output: TensorData<Elem = In::Elem>,
    <A::Output as ShapeEq<B::Output>>::Output:
        BranchesMatch<<A::Output as TensorData>::ShapeType, <B::Output as TensorData>::ShapeType>,
{
    type Output = A::Output;
    type Cache = (A::Cache, B::Cache);
    fn forward(s: &S, x: In) -> Self::Output {
        let mut y = A::forward(s, x.clone());
        add_into(&mut y, &retype(B::forward(s, x)));
        y
    }
    fn train(s: &S, x: In) -> (Self::Output, Self::Cache) {
        let (mut y, ca) = A::train(s, x.clone());
        let (z, cb) = B::train(s, x);
        add_into(&mut y, &retype(z));
        (y, (ca, cb))
    }
    fn backward(s: &S, (ca, cb): Self::Cache, dy: Self::Output, grads: &mut S) -> In {
        let dxb = B::backward(s, cb, retype(dy.clone()), grads);
        let mut dx = A::backward(s, ca, dy, grads);
        add_into(&mut dx, &dxb);
        dx
    }
}

/// `cat(A, B)`: both routes on the same input, their channels stacked (`torch.cat(…, 1)`), as
/// [`Concat`](crate::layers::Concat) does; they must agree on `(N, H, W)`.
pub struct Cat<A, B>(PhantomData<(A, B)>);

#[cfg(feature = "std")]
impl<S, In, A, B, E, const N: usize, C1, H1, W1, C2, H2, W2> Path<S, In> for Cat<A, B>
where
    In: TensorData<Elem = E>,
    E: Float,
    A: Path<S, In, Output = T4<E, N, C1, H1, W1>>,
    B: Path<S, In, Output = T4<E, N, C2, H2, W2>>,
    C1: typenum::Unsigned + Decimal + TypeAdd<C2>,
    C2: typenum::Unsigned + Decimal,
    H1: typenum::Unsigned + Decimal + IsEqual<H2>,
    W1: typenum::Unsigned + Decimal + IsEqual<W2>,
    H2: typenum::Unsigned + Decimal,
    W2: typenum::Unsigned + Decimal,
    Sum<C1, C2>: typenum::Unsigned + Decimal,
    Eq<H1, H2>: core::ops::BitAnd<Eq<W1, W2>>,
    And<Eq<H1, H2>, Eq<W1, W2>>: ConcatSizesMatch<
            Shape<N, Show<C1>, Show<H1>, Show<W1>>,
            Shape<N, Show<C2>, Show<H2>, Show<W2>>,
        >,
{
    type Output = T4<E, N, Sum<C1, C2>, H1, W1>;
    type Cache = (A::Cache, B::Cache);
    fn forward(s: &S, x: In) -> Self::Output {
        let a = A::forward(s, x.clone());
        stack::<E, N, _>(a.as_slice(), B::forward(s, x).as_slice())
    }
    fn train(s: &S, x: In) -> (Self::Output, Self::Cache) {
        let (a, ca) = A::train(s, x.clone());
        let (b, cb) = B::train(s, x);
        (stack::<E, N, _>(a.as_slice(), b.as_slice()), (ca, cb))
    }
    fn backward(s: &S, (ca, cb): Self::Cache, dy: Self::Output, grads: &mut S) -> In {
        let pa = C1::USIZE * H1::USIZE * W1::USIZE;
        let (da, db) = unstack::<E, N, A::Output, B::Output>(dy.as_slice(), pa);
        let dxb = B::backward(s, cb, db, grads);
        let mut dx = A::backward(s, ca, da, grads);
        add_into(&mut dx, &dxb);
        dx
    }
}

/// A route through the fields of network `S` on input `In`, for inference without allocation
/// ([`Infer`]): what [`network!`](crate::network!)'s `forward:` clause becomes, as [`Path`] is
/// for `Forward`. Intermediates go to the workspace (`WORK` elements); a route whose input is a
/// buffer of its own runs an element-wise first step over it (`infer_owned`), so a
/// `conv -> bn -> relu` chain keeps one intermediate, not three.
#[diagnostic::on_unimplemented(
    message = "this route through the fields of `{S}` cannot take an input of type `{In}`",
    label = "the route does not accept that input"
)]
pub trait InferPath<S, In: Layout> {
    /// The output type.
    type Output: Layout<Elem = In::Elem>;
    /// Workspace for [`InferPath::infer`].
    const WORK: usize;
    /// Workspace for [`InferPath::infer_owned`].
    const WORK_OWNED: usize;
    /// Whether the route is one element-wise field (it can run over its input).
    const IN_PLACE: bool;
    /// Parameter values of the fields on the route (a field on it twice counts twice).
    const WEIGHTS: usize;
    /// `y` from `x`.
    fn infer(s: &S, x: &[In::Elem], y: &mut [In::Elem], work: &mut [In::Elem]);
    /// `y` from `x`, which the route may overwrite.
    fn infer_owned(s: &S, x: &mut [In::Elem], y: &mut [In::Elem], work: &mut [In::Elem]) {
        Self::infer(s, x, y, work);
    }
    /// Over `xy`, for a route with `IN_PLACE`.
    fn infer_in_place(s: &S, xy: &mut [In::Elem]) {
        let _ = (s, xy);
        unreachable!("infer_in_place of a route whose IN_PLACE is false")
    }
}

impl<S, In: Layout, F> InferPath<S, In> for Leaf<F>
where
    F: Field<S>,
    F::Layer: Infer<In>,
{
    type Output = <F::Layer as Infer<In>>::Output;
    const WORK: usize = <F::Layer as Infer<In>>::WORK;
    const WORK_OWNED: usize = Self::WORK;
    const IN_PLACE: bool = <F::Layer as Infer<In>>::IN_PLACE;
    const WEIGHTS: usize = <F::Layer as Infer<In>>::WEIGHTS;
    fn infer(s: &S, x: &[In::Elem], y: &mut [In::Elem], work: &mut [In::Elem]) {
        F::get(s).infer_into(x, y, work);
    }
    fn infer_in_place(s: &S, xy: &mut [In::Elem]) {
        F::get(s).infer_in_place(xy);
    }
}

impl<S, In: Layout, A, B> InferPath<S, In> for Then<A, B>
where
    A: InferPath<S, In>,
    B: InferPath<S, A::Output>,
{
    type Output = B::Output;
    const WORK: usize = <A::Output as Layout>::LEN + max(A::WORK, B::WORK_OWNED);
    const WORK_OWNED: usize = if A::IN_PLACE { B::WORK_OWNED } else { Self::WORK };
    const IN_PLACE: bool = false;
    const WEIGHTS: usize = A::WEIGHTS + B::WEIGHTS;
    fn infer(s: &S, x: &[In::Elem], y: &mut [In::Elem], work: &mut [In::Elem]) {
        let (mid, rest) = work.split_at_mut(<A::Output as Layout>::LEN);
        A::infer(s, x, mid, &mut rest[..A::WORK]);
        B::infer_owned(s, mid, y, &mut rest[..B::WORK_OWNED]);
    }
    fn infer_owned(s: &S, x: &mut [In::Elem], y: &mut [In::Elem], work: &mut [In::Elem]) {
        if A::IN_PLACE {
            // element-wise: over the input, which is then B's own
            A::infer_in_place(s, x);
            B::infer_owned(s, x, y, &mut work[..B::WORK_OWNED]);
        } else {
            Self::infer(s, x, y, work);
        }
    }
}

impl<S, In: Layout> InferPath<S, In> for Skip {
    type Output = In;
    const WORK: usize = 0;
    const WORK_OWNED: usize = 0;
    const IN_PLACE: bool = true;
    const WEIGHTS: usize = 0;
    fn infer(_: &S, x: &[In::Elem], y: &mut [In::Elem], _: &mut [In::Elem]) {
        y.copy_from_slice(x);
    }
    fn infer_in_place(_: &S, _: &mut [In::Elem]) {}
}

impl<S, In, A, B> InferPath<S, In> for Add<A, B>
where
    In: Layout + TensorData<Elem = ElemOf<In>>,
    A: InferPath<S, In>,
    B: InferPath<S, In>,
    A::Output: TensorData<Elem = ElemOf<In>> + ShapeEq<B::Output>,
    B::Output: TensorData<Elem = ElemOf<In>>,
    <A::Output as ShapeEq<B::Output>>::Output:
        BranchesMatch<<A::Output as TensorData>::ShapeType, <B::Output as TensorData>::ShapeType>,
{
    type Output = A::Output;
    const WORK: usize = <B::Output as Layout>::LEN + max(A::WORK, B::WORK);
    const WORK_OWNED: usize = Self::WORK;
    const IN_PLACE: bool = false;
    const WEIGHTS: usize = A::WEIGHTS + B::WEIGHTS;
    fn infer(s: &S, x: &[ElemOf<In>], y: &mut [ElemOf<In>], work: &mut [ElemOf<In>]) {
        let (z, inner) = work.split_at_mut(<B::Output as Layout>::LEN);
        A::infer(s, x, y, &mut inner[..A::WORK]);
        B::infer(s, x, z, &mut inner[..B::WORK]);
        y.iter_mut().zip(&*z).for_each(|(a, &b)| *a += b);
    }
}

impl<S, In, A, B, E, const N: usize, C1, H1, W1, C2, H2, W2> InferPath<S, In> for Cat<A, B>
where
    In: Layout<Elem = E>,
    E: Float,
    A: InferPath<S, In, Output = T4<E, N, C1, H1, W1>>,
    B: InferPath<S, In, Output = T4<E, N, C2, H2, W2>>,
    C1: typenum::Unsigned + Decimal + TypeAdd<C2>,
    C2: typenum::Unsigned + Decimal,
    H1: typenum::Unsigned + Decimal + IsEqual<H2>,
    W1: typenum::Unsigned + Decimal + IsEqual<W2>,
    H2: typenum::Unsigned + Decimal,
    W2: typenum::Unsigned + Decimal,
    Sum<C1, C2>: typenum::Unsigned + Decimal,
    Eq<H1, H2>: core::ops::BitAnd<Eq<W1, W2>>,
    And<Eq<H1, H2>, Eq<W1, W2>>: ConcatSizesMatch<
            Shape<N, Show<C1>, Show<H1>, Show<W1>>,
            Shape<N, Show<C2>, Show<H2>, Show<W2>>,
        >,
{
    type Output = T4<E, N, Sum<C1, C2>, H1, W1>;
    const WORK: usize =
        <A::Output as Layout>::LEN + <B::Output as Layout>::LEN + max(A::WORK, B::WORK);
    const WORK_OWNED: usize = Self::WORK;
    const IN_PLACE: bool = false;
    const WEIGHTS: usize = A::WEIGHTS + B::WEIGHTS;
    fn infer(s: &S, x: &[E], y: &mut [E], work: &mut [E]) {
        let (la, lb) = (<A::Output as Layout>::LEN, <B::Output as Layout>::LEN);
        let (a, rest) = work.split_at_mut(la);
        let (b, inner) = rest.split_at_mut(lb);
        A::infer(s, x, a, &mut inner[..A::WORK]);
        B::infer(s, x, b, &mut inner[..B::WORK]);
        crate::infer::stack_images(N, a, b, y);
    }
}

/// Its tokens with the `std` feature, nothing without: the parts of
/// [`network!`](crate::network!)'s expansion that need `std` (training, `Default`).
#[cfg(feature = "std")]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_std {
    ($($t:tt)*) => { $($t)* };
}

/// Its tokens with the `std` feature, nothing without: the parts of
/// [`network!`](crate::network!)'s expansion that need `std` (training, `Default`).
#[cfg(not(feature = "std"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_std {
    ($($t:tt)*) => {};
}

/// Declares a network as a struct whose fields are its layers, named as the attributes of the
/// PyTorch module it mirrors, so that the module's state dict loads under the same names; with
/// `forward:`, the route its forward takes through them.
///
/// Two forms:
///
/// - **Named fields** (a PyTorch module with attributes): `struct Net { conv1: …, bn1: …, … }`.
///   Parameters are named `conv1.weight`, `bn1.running_mean`, …; a field that is a tuple or a
///   tuple struct adds its indices (`downsample.0.weight`). Without a `forward:` clause the
///   fields run in order.
/// - **Numbered fields** (an `nn.Sequential` of any length, up to 128 members):
///   `struct Features(A, B, C, …);` runs its members in order, named `0`, `1`, … as PyTorch
///   numbers them (VGG-16's `features` has 31; a plain tuple stops at 12).
///
/// The `forward:` clause is a route through the fields: `a -> b` runs `a` then `b`;
/// `(p + q)` runs both routes on the same input and adds their outputs (a residual or
/// projection shortcut: shapes must agree, checked at compile time like
/// [`Sum`](crate::layers::Sum)); `cat(p, q)` stacks their channels like
/// [`Concat`](crate::layers::Concat); `identity` is the input itself (so no field may be named
/// `identity` or `cat`). Gradients of the routes add where they split.
///
/// A network without `forward:` gets a direct impl, as a tuple has; a route costs the compiler
/// more per field, so keep routes to the blocks that branch and chain the blocks by field order
/// (a crate training ResNet-18 declared this way checks in about 2.5 s after an edit).
///
/// The struct derives `Clone`, `Debug`, `Default` (all weights zero, ready for
/// [`weights::load`](crate::weights::load)) and `PartialEq`, and gets [`Forward`] (generic over
/// the input, so each field's own shape checks report a mistake), [`Params`](crate::Params)
/// (field names), [`ZerosLike`](crate::ZerosLike) and [`Init`](crate::Init) (fields in
/// order). Generics are written as usual: `const` parameters and type parameters with one bound
/// and an optional default (`E: Float = f32`).
///
/// torchvision's `BasicBlock` with a projection shortcut (`downsample` is an `nn.Sequential` of a
/// 1×1 convolution and a batch norm, so a tuple):
///
/// ```
/// use typed_cnn::prelude::*;
///
/// typed_cnn::network! {
///     /// A ResNet basic block that halves the size and changes the channels.
///     pub struct DownBlock<const CIN: usize, const COUT: usize, E: Float = f32> {
///         conv1: Conv2d<CIN, COUT, 3, 2, 1, Floor, E, NoBias>,
///         bn1: BatchNorm2d<COUT, E>,
///         relu: Relu,
///         conv2: Conv2d<COUT, COUT, 3, 1, 1, Exact, E, NoBias>,
///         bn2: BatchNorm2d<COUT, E>,
///         downsample: (Conv2d<CIN, COUT, 1, 2, 0, Floor, E, NoBias>, BatchNorm2d<COUT, E>),
///     }
///     forward: (conv1 -> bn1 -> relu -> conv2 -> bn2 + downsample) -> relu
/// }
///
/// let block = DownBlock::<8, 16>::init(&mut rand::rng());
/// let y: Tensor<2, 16, 4, 4> = block.forward(Tensor::<2, 8, 8, 8>::zeros());
/// # let _ = y;
/// let mut names = Vec::new();
/// block.visit("layer2.0", &mut |name, _, _| names.push(name.to_string()));
/// assert_eq!(names[0], "layer2.0.conv1.weight");
/// assert_eq!(names.last().unwrap(), "layer2.0.downsample.1.bias");
/// ```
///
/// A sequential longer than a tuple allows, numbered as PyTorch numbers it:
///
/// ```
/// use typed_cnn::prelude::*;
///
/// typed_cnn::network! {
///     pub struct Features(
///         Conv2d<1, 4, 3, 1, 1>, Relu, Conv2d<4, 4, 3, 1, 1>, Relu, MaxPool2d<2>,
///         Conv2d<4, 8, 3, 1, 1>, Relu, Conv2d<8, 8, 3, 1, 1>, Relu, MaxPool2d<2>,
///         Conv2d<8, 8, 3, 1, 1>, Relu, Conv2d<8, 8, 3, 1, 1>, Relu, MaxPool2d<2>,
///     );
/// }
/// let features = Features::init(&mut rand::rng());
/// let y: Tensor<1, 8, 2, 2> = features.forward(Tensor::<1, 1, 16, 16>::zeros());
/// # let _ = y;
/// let mut names = Vec::new();
/// features.visit("features", &mut |name, _, _| names.push(name.to_string()));
/// assert_eq!(names.last().unwrap(), "features.12.bias");
/// ```
///
/// A route whose branches disagree is a compile error with both shapes:
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// typed_cnn::network! {
///     struct Block {
///         conv: Conv2d<4, 8, 3, 2, 1, Floor>, // 8 channels at half the size
///     }
///     forward: (conv + identity)              // beside the input: 4 channels, full size
/// }
/// let _ = Block::default().forward(Tensor::<1, 4, 8, 8>::zeros());
/// ```
#[macro_export]
macro_rules! network {
    // ---- entry: a struct with generics, munched into declaration, impl and argument lists
    ($(#[$m:meta])* $vis:vis struct $name:ident < $($rest:tt)*) => {
        $crate::network!(@generics {$(#[$m])* $vis $name} [] [] [] $($rest)*);
    };
    ($(#[$m:meta])* $vis:vis struct $name:ident $($rest:tt)*) => {
        $crate::network!(@body {$(#[$m])* $vis $name} [] [] [] $($rest)*);
    };

    // ---- generics: `const C: ty [= default]` and `T [: Bound] [= Default]`
    (@generics $h:tt [$($d:tt)*] [$($i:tt)*] [$($a:tt)*]
        const $c:ident : $t:ty $(= $def:tt)? , $($rest:tt)*) => {
        $crate::network!(@generics $h [$($d)* const $c: $t $(= $def)?,] [$($i)* const $c: $t,]
            [$($a)* $c,] $($rest)*);
    };
    (@generics $h:tt [$($d:tt)*] [$($i:tt)*] [$($a:tt)*]
        const $c:ident : $t:ty $(= $def:tt)? > $($rest:tt)*) => {
        $crate::network!(@body $h [$($d)* const $c: $t $(= $def)?,] [$($i)* const $c: $t,]
            [$($a)* $c,] $($rest)*);
    };
    (@generics $h:tt [$($d:tt)*] [$($i:tt)*] [$($a:tt)*]
        $T:ident $(: $b:path)? $(= $def:ty)? , $($rest:tt)*) => {
        $crate::network!(@generics $h [$($d)* $T $(: $b)? $(= $def)?,] [$($i)* $T $(: $b)?,]
            [$($a)* $T,] $($rest)*);
    };
    (@generics $h:tt [$($d:tt)*] [$($i:tt)*] [$($a:tt)*]
        $T:ident $(: $b:path)? $(= $def:ty)? > $($rest:tt)*) => {
        $crate::network!(@body $h [$($d)* $T $(: $b)? $(= $def)?,] [$($i)* $T $(: $b)?,]
            [$($a)* $T,] $($rest)*);
    };
    // a trailing comma before `>`
    (@generics $h:tt $d:tt $i:tt $a:tt > $($rest:tt)*) => {
        $crate::network!(@body $h $d $i $a $($rest)*);
    };
    (@generics $h:tt $d:tt $i:tt $a:tt $($rest:tt)*) => {
        ::core::compile_error!(
            "network!: generics are `const NAME: usize` (with an optional default) or a type \
             parameter with at most one bound and an optional default (`E: Float = f32`)"
        );
    };

    // ---- named fields
    (@body {$(#[$m:meta])* $vis:vis $name:ident} [$($d:tt)*] $i:tt [$($a:tt)*]
        { $($(#[$fm:meta])* $fvis:vis $f:ident : $T:ty),+ $(,)? }
        $(forward: $($fwd:tt)+)?
    ) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name<$($d)*> {
            $($(#[$fm])* $fvis $f: $T,)+
        }

        const _: () = {
            $crate::network!(@fields [$($($fwd)+)?] $i [$name<$($a)*>] $($f: $T),+);
            $crate::network!(@forward $i [$name<$($a)*>] [$($f: $T),+] $($($fwd)+)?);
            $crate::network!(@params $i [$name<$($a)*>] { $($f: $T),+ });
        };
    };
    // the fields' markers, which a route needs (a chain does not)
    (@fields [] $i:tt $S:tt $($f:ident : $T:ty),+) => {};
    (@fields [$($fwd:tt)+] $i:tt $S:tt $($f:ident : $T:ty),+) => {
        $($crate::network!(@field $i $S $f $T);)+
    };
    (@field [$($i:tt)*] [$S:ty] $f:ident $T:ty) => {
        #[allow(non_camel_case_types)]
        pub struct $f;
        impl<$($i)*> $crate::network::Field<$S> for $f {
            type Layer = $T;
            fn get(s: &$S) -> &$T {
                &s.$f
            }
            fn get_mut(s: &mut $S) -> &mut $T {
                &mut s.$f
            }
        }
    };

    // ---- numbered fields: a sequential
    (@body {$(#[$m:meta])* $vis:vis $name:ident} [$($d:tt)*] $i:tt [$($a:tt)*]
        ( $($(#[$fm:meta])* $fvis:vis $T:ty),+ $(,)? ) ;
    ) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name<$($d)*>($($(#[$fm])* $fvis $T,)+);

        $crate::network!(@number $i [$name<$($a)*>] []
            [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
             32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59
             60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87
             88 89 90 91 92 93 94 95 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111
             112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127]
            [$($T),+]);
    };
    (@body $h:tt $d:tt $i:tt $a:tt $($rest:tt)*) => {
        ::core::compile_error!(
            "network!: expected `struct Name { field: Layer, … }` (with an optional \
             `forward: a -> (b + c) -> …` after it) or `struct Name(Layer, Layer, …);`"
        );
    };

    // pairs each member type with its index
    (@number $i:tt $S:tt [$($done:tt)*] [$n0:tt $n1:tt $n2:tt $n3:tt $n4:tt $n5:tt $n6:tt $n7:tt $($ns:tt)*]
        [$T0:ty, $T1:ty, $T2:ty, $T3:ty, $T4:ty, $T5:ty, $T6:ty, $T7:ty $(, $Ts:ty)*]) => {
        $crate::network!(@number $i $S
            [$($done)* ($n0 $T0) ($n1 $T1) ($n2 $T2) ($n3 $T3) ($n4 $T4) ($n5 $T5) ($n6 $T6) ($n7 $T7)]
            [$($ns)*] [$($Ts),*]);
    };
    (@number $i:tt $S:tt [$($done:tt)*] [$n:tt $($ns:tt)*] [$T:ty $(, $Ts:ty)*]) => {
        $crate::network!(@number $i $S [$($done)* ($n $T)] [$($ns)*] [$($Ts),*]);
    };
    (@number $i:tt $S:tt [$(($n:tt $T:ty))+] [$($ns:tt)*] []) => {
        const _: () = {
            $crate::network!(@forward $i $S [$($n: $T),+]);
            $crate::network!(@params $i $S { $($n: $T),+ });
        };
    };
    (@number $i:tt $S:tt $done:tt [] [$($Ts:ty),+]) => {
        ::core::compile_error!(
            "network!: a numbered network has at most 128 members; nest numbered networks (each \
             level of nesting adds an index to the names, as nested `nn.Sequential`s do)"
        );
    };

    // ---- forward: a route of `forward:` goes through `Path`; a chain of fields (no `forward:`)
    // gets a direct impl, as a tuple's, which the compiler checks far faster than a route
    // (a crate training ResNet-18 checked in 23 s with its top level as a route, 2.5 s direct)
    (@forward $i:tt $S:tt [$($f:tt : $T:ty),+] $($fwd:tt)+) => {
        $crate::network!(@path_forward $i $S $crate::network!(@path [] $($fwd)+));
    };
    (@forward $i:tt $S:tt [$f0:tt : $T0:ty $(, $f:tt : $T:ty)*]) => {
        // the first field apart: its backward skips the input gradient in `backward_params`
        $crate::network!(@chain $i $S [($f0 [$T0] __In __X0)] [] __X0 [$($f: $T),*]
            [__X1 __X2 __X3 __X4 __X5 __X6 __X7 __X8 __X9 __X10 __X11 __X12 __X13 __X14 __X15
             __X16 __X17 __X18 __X19 __X20 __X21 __X22 __X23 __X24 __X25 __X26 __X27 __X28 __X29
             __X30 __X31 __X32 __X33 __X34 __X35 __X36 __X37 __X38 __X39 __X40 __X41 __X42 __X43
             __X44 __X45 __X46 __X47 __X48 __X49 __X50 __X51 __X52 __X53 __X54 __X55 __X56 __X57
             __X58 __X59 __X60 __X61 __X62 __X63 __X64 __X65 __X66 __X67 __X68 __X69 __X70 __X71
             __X72 __X73 __X74 __X75 __X76 __X77 __X78 __X79 __X80 __X81 __X82 __X83 __X84 __X85
             __X86 __X87 __X88 __X89 __X90 __X91 __X92 __X93 __X94 __X95 __X96 __X97 __X98 __X99
             __X100 __X101 __X102 __X103 __X104 __X105 __X106 __X107 __X108 __X109 __X110 __X111
             __X112 __X113 __X114 __X115 __X116 __X117 __X118 __X119 __X120 __X121 __X122 __X123
             __X124 __X125 __X126 __X127]);
    };
    // pairs each field with its input and output type parameters, 4 at a time
    (@chain $i:tt $S:tt [$($acc:tt)*] [$($rev:tt)*] $prev:ident
        [$f0:tt : $T0:ty, $f1:tt : $T1:ty, $f2:tt : $T2:ty, $f3:tt : $T3:ty $(, $fs:tt : $Ts:ty)*]
        [$x0:ident $x1:ident $x2:ident $x3:ident $($xs:ident)*]) => {
        $crate::network!(@chain $i $S
            [$($acc)* ($f0 [$T0] $prev $x0) ($f1 [$T1] $x0 $x1) ($f2 [$T2] $x1 $x2) ($f3 [$T3] $x2 $x3)]
            [($f3 [$T3] $x2 $x3) ($f2 [$T2] $x1 $x2) ($f1 [$T1] $x0 $x1) ($f0 [$T0] $prev $x0) $($rev)*]
            $x3 [$($fs : $Ts),*] [$($xs)*]);
    };
    (@chain $i:tt $S:tt [$($acc:tt)*] [$($rev:tt)*] $prev:ident
        [$f0:tt : $T0:ty $(, $fs:tt : $Ts:ty)*] [$x0:ident $($xs:ident)*]) => {
        $crate::network!(@chain $i $S [$($acc)* ($f0 [$T0] $prev $x0)] [($f0 [$T0] $prev $x0) $($rev)*]
            $x0 [$($fs : $Ts),*] [$($xs)*]);
    };
    (@chain [$($i:tt)*] [$S:ty]
        [($f0:tt [$T0:ty] $X0in:ident $X0:ident) $(($f:tt [$T:ty] $Xin:ident $X:ident))*]
        [$(($rf:tt [$rT:ty] $rXin:ident $rX:ident))*] $last:ident [] [$($xs:ident)*]) => {
        impl<$($i)* __In, $X0, $($X,)*> $crate::infer::Infer<__In> for $S
        where
            __In: $crate::infer::Layout,
            $X0: $crate::infer::Layout<Elem = $crate::infer::ElemOf<__In>>,
            $($X: $crate::infer::Layout<Elem = $crate::infer::ElemOf<__In>>,)*
            $T0: $crate::infer::Infer<__In, Output = $X0>,
            $($T: $crate::infer::Infer<$Xin, Output = $X>,)*
        {
            type Output = $last;
            const WORK: usize = {
                let [p, q] = $crate::infer::__private::buffers_but_last(
                    &[<$X0 as $crate::infer::Layout>::LEN, $(<$X as $crate::infer::Layout>::LEN,)*],
                    &[<$T0 as $crate::infer::Infer<__In>>::IN_PLACE,
                        $(<$T as $crate::infer::Infer<$Xin>>::IN_PLACE,)*],
                );
                #[allow(unused_mut)]
                let mut inner = <$T0 as $crate::infer::Infer<__In>>::WORK;
                $(inner = $crate::infer::__private::max(inner, <$T as $crate::infer::Infer<$Xin>>::WORK);)*
                p + q + inner
            };
            const WEIGHTS: usize = <$T0 as $crate::infer::Infer<__In>>::WEIGHTS
                $(+ <$T as $crate::infer::Infer<$Xin>>::WEIGHTS)*;

            fn infer_into(
                &self,
                x: &[$crate::infer::ElemOf<__In>],
                y: &mut [$crate::infer::ElemOf<__In>],
                work: &mut [$crate::infer::ElemOf<__In>],
            ) {
                use $crate::infer::__private::{At, buffers_but_last, step_or_last};
                let lens = [<$X0 as $crate::infer::Layout>::LEN, $(<$X as $crate::infer::Layout>::LEN,)*];
                let [p, q] = buffers_but_last(
                    &lens,
                    &[<$T0 as $crate::infer::Infer<__In>>::IN_PLACE,
                        $(<$T as $crate::infer::Infer<$Xin>>::IN_PLACE,)*],
                );
                let (p_buf, rest) = work.split_at_mut(p);
                let (q_buf, inner) = rest.split_at_mut(q);
                let mut at = At::Input;
                #[allow(unused_mut)]
                let mut k = 1;
                step_or_last::<$T0, __In>(&self.$f0, &mut at, k == lens.len(), x, p_buf, q_buf, y, inner);
                $(
                    k += 1;
                    step_or_last::<$T, $Xin>(&self.$f, &mut at, k == lens.len(), x, p_buf, q_buf, y, inner);
                )*
                let _ = k;
            }
        }

        $crate::__if_std! {
        impl<$($i)* __In, $X0, $($X,)*> $crate::Forward<__In> for $S
        where
            $T0: $crate::Forward<__In, Output = $X0>,
            $($T: $crate::Forward<$Xin, Output = $X>,)*
        {
            type Output = $last;
            type Cache = (<$T0 as $crate::Forward<__In>>::Cache, $(<$T as $crate::Forward<$Xin>>::Cache,)*);
            fn forward_impl(&self, x: __In) -> $last {
                let x = self.$f0.forward_impl(x);
                $(let x = self.$f.forward_impl(x);)*
                x
            }
            #[allow(non_snake_case, reason = "each field's cache is named after its output type")]
            fn train_impl(&self, x: __In) -> ($last, Self::Cache) {
                let (x, $X0) = self.$f0.train_impl(x);
                $(let (x, $X) = self.$f.train_impl(x);)*
                (x, ($X0, $($X,)*))
            }
            #[allow(non_snake_case, reason = "each field's cache is named after its output type")]
            fn backward_impl(&self, cache: Self::Cache, dy: $last, grads: &mut Self) -> __In {
                let ($X0, $($X,)*) = cache;
                $(let dy = <$rT as $crate::Forward<$rXin>>::backward_impl(
                    &self.$rf, $rX, dy, &mut grads.$rf,
                );)*
                <$T0 as $crate::Forward<__In>>::backward_impl(&self.$f0, $X0, dy, &mut grads.$f0)
            }
            #[allow(non_snake_case, reason = "each field's cache is named after its output type")]
            fn backward_params_impl(&self, cache: Self::Cache, dy: $last, grads: &mut Self) {
                let ($X0, $($X,)*) = cache;
                $(let dy = <$rT as $crate::Forward<$rXin>>::backward_impl(
                    &self.$rf, $rX, dy, &mut grads.$rf,
                );)*
                <$T0 as $crate::Forward<__In>>::backward_params_impl(
                    &self.$f0, $X0, dy, &mut grads.$f0,
                )
            }
        }
        }
    };

    (@path_forward [$($i:tt)*] [$S:ty] $P:ty) => {
        impl<$($i)* __In: $crate::infer::Layout> $crate::infer::Infer<__In> for $S
        where
            $P: $crate::network::InferPath<$S, __In>,
        {
            type Output = <$P as $crate::network::InferPath<$S, __In>>::Output;
            const WORK: usize = <$P as $crate::network::InferPath<$S, __In>>::WORK;
            const WEIGHTS: usize = <$P as $crate::network::InferPath<$S, __In>>::WEIGHTS;
            fn infer_into(
                &self,
                x: &[$crate::infer::ElemOf<__In>],
                y: &mut [$crate::infer::ElemOf<__In>],
                work: &mut [$crate::infer::ElemOf<__In>],
            ) {
                <$P as $crate::network::InferPath<$S, __In>>::infer(self, x, y, work)
            }
        }

        $crate::__if_std! {
        impl<$($i)* __In> $crate::Forward<__In> for $S
        where
            $P: $crate::network::Path<$S, __In>,
        {
            type Output = <$P as $crate::network::Path<$S, __In>>::Output;
            type Cache = <$P as $crate::network::Path<$S, __In>>::Cache;
            fn forward_impl(&self, x: __In) -> Self::Output {
                <$P as $crate::network::Path<$S, __In>>::forward(self, x)
            }
            fn train_impl(&self, x: __In) -> (Self::Output, Self::Cache) {
                <$P as $crate::network::Path<$S, __In>>::train(self, x)
            }
            fn backward_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) -> __In {
                <$P as $crate::network::Path<$S, __In>>::backward(self, cache, dy, grads)
            }
            fn backward_params_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) {
                <$P as $crate::network::Path<$S, __In>>::backward_params(self, cache, dy, grads)
            }
        }
        }
    };
    (@params [$($i:tt)*] [$S:ty] { $($f:tt : $T:ty),+ }) => {
        impl<$($i)*> $crate::infer::View for $S
        where
            $($T: $crate::infer::View,)+
        {
            fn view_at(
                file: &$crate::infer::SafeTensors,
                prefix: &$crate::infer::Name,
            ) -> ::core::result::Result<Self, $crate::infer::ViewError> {
                ::core::result::Result::Ok(Self {
                    $($f: <$T as $crate::infer::View>::view_at(file, &prefix.join(stringify!($f)))?,)+
                })
            }
        }

        $crate::__if_std! {
        impl<$($i)*> ::core::default::Default for $S
        where
            $($T: ::core::default::Default,)+
        {
            /// Every field's `Default`: zero weights, ready for
            /// [`weights::load`](crate::weights::load).
            fn default() -> Self {
                Self { $($f: ::core::default::Default::default(),)+ }
            }
        }

        impl<$($i)* __E: $crate::Float> $crate::Params<__E> for $S
        where
            $($T: $crate::Params<__E>,)+
        {
            fn visit<'a>(&'a self, prefix: &str, f: &mut $crate::ParamFn<'a, '_, __E>) {
                $(self.$f.visit(&$crate::__private::join(prefix, stringify!($f)), f);)+
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut $crate::ParamFnMut<'_, __E>) {
                $(self.$f.visit_mut(&$crate::__private::join(prefix, stringify!($f)), f);)+
            }
            fn visit_with_grads(&mut self, grads: &Self, f: &mut $crate::PairFn<'_, __E>) {
                $(self.$f.visit_with_grads(&grads.$f, f);)+
            }
            fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut $crate::BufferFn<'a, '_, __E>) {
                $(self.$f.visit_buffers(&$crate::__private::join(prefix, stringify!($f)), f);)+
            }
            fn visit_buffers_mut(&mut self, prefix: &str, f: &mut $crate::BufferFnMut<'_, __E>) {
                $(self.$f.visit_buffers_mut(&$crate::__private::join(prefix, stringify!($f)), f);)+
            }
            fn update_buffers(&mut self, stats: &Self) {
                $(self.$f.update_buffers(&stats.$f);)+
            }
        }

        impl<$($i)*> $crate::ZerosLike for $S
        where
            $($T: $crate::ZerosLike,)+
        {
            fn zeros_like_impl(&self) -> Self {
                Self { $($f: self.$f.zeros_like_impl(),)+ }
            }
        }

        impl<$($i)*> $crate::Init for $S
        where
            $($T: $crate::Init,)+
        {
            fn init<R: $crate::__private::Rng + ?Sized>(rng: &mut R) -> Self {
                Self { $($f: <$T as $crate::Init>::init(rng),)+ }
            }
        }
        }
    };

    // ---- routes
    // a path: terms joined by `->`
    (@path [$($t:tt)*] -> $($rest:tt)+) => {
        $crate::network::Then<$crate::network!(@term $($t)*), $crate::network!(@path [] $($rest)+)>
    };
    (@path [$($t:tt)*] $x:tt $($rest:tt)*) => { $crate::network!(@path [$($t)* $x] $($rest)*) };
    (@path [$($t:tt)+]) => { $crate::network!(@term $($t)+) };
    // a term: a field, `identity`, `(p + q)`, `(p)` or `cat(p, q)`
    (@term identity) => { $crate::network::Skip };
    (@term $f:ident) => { $crate::network::Leaf<$f> };
    (@term ($($g:tt)+)) => { $crate::network!(@sum [] $($g)+) };
    (@term cat ($($g:tt)+)) => { $crate::network!(@cat [] $($g)+) };
    (@term $($t:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "network!: in `forward:`, expected a field name, `identity`, `(a + b)` or `cat(a, b)` \
             between the arrows, found `", ::core::stringify!($($t)*), "`"
        ))
    };
    (@sum [$($l:tt)*] + $($r:tt)+) => {
        $crate::network::Add<$crate::network!(@path [] $($l)*), $crate::network!(@sum [] $($r)+)>
    };
    (@sum [$($l:tt)*] $x:tt $($r:tt)*) => { $crate::network!(@sum [$($l)* $x] $($r)*) };
    (@sum [$($l:tt)+]) => { $crate::network!(@path [] $($l)+) };
    (@cat [$($l:tt)*] , $($r:tt)+) => {
        $crate::network::Cat<$crate::network!(@path [] $($l)*), $crate::network!(@cat [] $($r)+)>
    };
    (@cat [$($l:tt)*] $x:tt $($r:tt)*) => { $crate::network!(@cat [$($l)* $x] $($r)*) };
    (@cat [$($l:tt)+]) => { $crate::network!(@path [] $($l)+) };
}
