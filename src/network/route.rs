//! The routes of [`network!`](crate::network!)'s `forward:` clause: [`Leaf`] (a field),
//! [`Then`] (`a -> b`), [`Skip`] (`identity`), [`Add`] (`(a + b)`) and [`Cat`] (`cat(a, b)`), and
//! what they implement: [`Path`] for training (`std`) and [`InferPath`] for allocation-free
//! inference.

use core::marker::PhantomData;
use core::ops::Add as TypeAdd;
use typenum::{And, Eq, IsEqual, Sum};

use super::Field;
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
        crate::infer::add_assign(y, z);
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
