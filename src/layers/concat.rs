//! `Concat<F, G>`: two branches on the same input, their channels stacked (`torch.cat(…, 1)`), as
//! U-Net's skip connections and Inception/DenseNet blocks do; and `Identity`, the branch that
//! passes its input on (a skip).

use core::ops::Add;
use typenum::{And, Eq, IsEqual, Sum};

use crate::Float;
use crate::infer::tuples::max;
use crate::infer::{Infer, Layout, Name, SafeTensors, View, ViewError, view_default};
#[cfg(feature = "std")]
use crate::module::{BufferFn, BufferFnMut, Forward, Init, NoParams, PairFn, ParamFn, ParamFnMut};
#[cfg(feature = "std")]
use crate::module::{Params, ZerosLike, join};
use crate::shape::{ConcatSizesMatch, Decimal, Shape, Show};
use crate::tensor::T4;
#[cfg(feature = "std")]
use crate::tensor::TensorData;

/// The input, unchanged: the skip side of a [`Concat`] or a [`Sum`](super::Sum).
///
/// **PyTorch equivalent**: `torch.nn.Identity()`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let x = Tensor2::<1, 2>::from_slice(&[1.0, -2.0]).unwrap();
/// assert_eq!(Identity.forward(x.clone()), x);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

#[cfg(feature = "std")]
impl NoParams for Identity {}

view_default! { [] Identity; }

impl<T: Layout> Infer<T> for Identity {
    type Output = T;
    const IN_PLACE: bool = true;

    fn infer_into(&self, x: &[T::Elem], y: &mut [T::Elem], _: &mut [T::Elem]) {
        y.copy_from_slice(x);
    }

    fn infer_in_place(&self, _: &mut [T::Elem]) {}
}

#[cfg(feature = "std")]
impl<T: TensorData> Forward<T> for Identity {
    type Output = T;
    type Cache = ();
    fn forward_impl(&self, x: T) -> T {
        x
    }
    fn train_impl(&self, x: T) -> (T, ()) {
        (x, ())
    }
    fn backward_impl(&self, _: (), dy: T, _: &mut Self) -> T {
        dy
    }
}

/// Two branches on the same input, their outputs stacked along the channels:
/// `y = cat(F(x), G(x))`, `F`'s channels first. The branches must agree on `(N, H, W)`, which
/// the compiler checks; the output has the sum of their channels. Backward splits `dy` by
/// channel, sends each part into its branch and adds their input gradients.
///
/// Parameters are named `0.…` (F) and `1.…` (G).
///
/// **PyTorch equivalent**: a module whose `forward` returns
/// `torch.cat([self.f(x), self.g(x)], dim=1)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// // A U-Net-style level: the skip (Identity) beside a down-up path, 4 + 8 channels out
/// type Level = Concat<
///     Identity,
///     (MaxPool2d<2>, Conv2d<4, 8, 3, 1, 1>, Relu, Upsample<2>),
/// >;
/// let level = Level::init(&mut rand::rng());
/// let y: Tensor<2, 12, 8, 8> = level.forward(Tensor::<2, 4, 8, 8>::zeros());
/// # let _ = y;
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Concat<F, G>(pub F, pub G);

/// Both branches into the workspace, then stacked image by image into the output.
impl<F, G, In, E, const N: usize, C1, H1, W1, C2, H2, W2> Infer<In> for Concat<F, G>
where
    In: Layout<Elem = E>,
    E: Float,
    F: Infer<In, Output = T4<E, N, C1, H1, W1>>,
    G: Infer<In, Output = T4<E, N, C2, H2, W2>>,
    C1: typenum::Unsigned + Decimal + Add<C2>,
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
    const WORK: usize = <F::Output as Layout>::LEN
        + <G::Output as Layout>::LEN
        + max(<F as Infer<In>>::WORK, <G as Infer<In>>::WORK);
    const WEIGHTS: usize = <F as Infer<In>>::WEIGHTS + <G as Infer<In>>::WEIGHTS;

    fn infer_into(&self, x: &[E], y: &mut [E], work: &mut [E]) {
        let (la, lb) = (<F::Output as Layout>::LEN, <G::Output as Layout>::LEN);
        let (a, rest) = work.split_at_mut(la);
        let (b, inner) = rest.split_at_mut(lb);
        self.0.infer_into(x, a, &mut inner[..<F as Infer<In>>::WORK]);
        self.1.infer_into(x, b, &mut inner[..<G as Infer<In>>::WORK]);
        crate::infer::stack_images(N, a, b, y);
    }
}

impl<F: View, G: View> View for Concat<F, G> {
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
        Ok(Concat(F::view_at(file, &prefix.join("0"))?, G::view_at(file, &prefix.join("1"))?))
    }
}

#[cfg(feature = "std")]
impl<F, G, In, E, const N: usize, C1, H1, W1, C2, H2, W2> Forward<In> for Concat<F, G>
where
    In: TensorData<Elem = E>,
    E: Float,
    F: Forward<In, Output = T4<E, N, C1, H1, W1>>,
    G: Forward<In, Output = T4<E, N, C2, H2, W2>>,
    C1: typenum::Unsigned + Decimal + Add<C2>,
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
    type Cache = (F::Cache, G::Cache);

    fn forward_impl(&self, x: In) -> Self::Output {
        let a = self.0.forward_impl(x.clone());
        let b = self.1.forward_impl(x);
        stack::<E, N, _>(a.as_slice(), b.as_slice())
    }

    fn train_impl(&self, x: In) -> (Self::Output, Self::Cache) {
        let (a, ca) = self.0.train_impl(x.clone());
        let (b, cb) = self.1.train_impl(x);
        (stack::<E, N, _>(a.as_slice(), b.as_slice()), (ca, cb))
    }

    fn backward_impl(&self, (ca, cb): Self::Cache, dy: Self::Output, grads: &mut Self) -> In {
        let pa = C1::USIZE * H1::USIZE * W1::USIZE;
        let (da, db) =
            unstack::<E, N, T4<E, N, C1, H1, W1>, T4<E, N, C2, H2, W2>>(dy.as_slice(), pa);
        let dxb = self.1.backward_impl(cb, db, &mut grads.1);
        let mut dx = self.0.backward_impl(ca, da, &mut grads.0);
        crate::infer::add_assign(dx.data_mut(), dxb.data());
        dx
    }
}

/// The inverse of [`stack`]: each image of `y` split into its first `pa` values and the rest.
#[cfg(feature = "std")]
pub(crate) fn unstack<E: Float, const N: usize, A, B>(y: &[E], pa: usize) -> (A, B)
where
    A: TensorData<Elem = E>,
    B: TensorData<Elem = E>,
{
    let pb = y.len() / N.max(1) - pa;
    let (mut a, mut b) = (Vec::with_capacity(N * pa), Vec::with_capacity(N * pb));
    for image in y.chunks_exact((pa + pb).max(1)) {
        a.extend_from_slice(&image[..pa]);
        b.extend_from_slice(&image[pa..]);
    }
    (A::from_storage(a.into()), B::from_storage(b.into()))
}

/// Image by image, `a`'s channels then `b`'s: the NCHW concatenation along C.
#[cfg(feature = "std")]
pub(crate) fn stack<E: Float, const N: usize, T: TensorData<Elem = E>>(a: &[E], b: &[E]) -> T {
    let (pa, pb) = (a.len() / N.max(1), b.len() / N.max(1));
    let mut out = Vec::with_capacity(a.len() + b.len());
    for n in 0..N {
        out.extend_from_slice(&a[n * pa..(n + 1) * pa]);
        out.extend_from_slice(&b[n * pb..(n + 1) * pb]);
    }
    T::from_storage(out.into())
}

#[cfg(feature = "std")]
impl<E: Float, F: Params<E>, G: Params<E>> Params<E> for Concat<F, G> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        self.0.visit(&join(prefix, "0"), f);
        self.1.visit(&join(prefix, "1"), f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        self.0.visit_mut(&join(prefix, "0"), f);
        self.1.visit_mut(&join(prefix, "1"), f);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
        self.0.visit_with_grads(&grads.0, f);
        self.1.visit_with_grads(&grads.1, f);
    }
    fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut BufferFn<'a, '_, E>) {
        self.0.visit_buffers(&join(prefix, "0"), f);
        self.1.visit_buffers(&join(prefix, "1"), f);
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut BufferFnMut<'_, E>) {
        self.0.visit_buffers_mut(&join(prefix, "0"), f);
        self.1.visit_buffers_mut(&join(prefix, "1"), f);
    }
    fn update_buffers(&mut self, stats: &Self) {
        self.0.update_buffers(&stats.0);
        self.1.update_buffers(&stats.1);
    }
}

#[cfg(feature = "std")]
impl<F: ZerosLike, G: ZerosLike> ZerosLike for Concat<F, G> {
    fn zeros_like_impl(&self) -> Self {
        Concat(self.0.zeros_like_impl(), self.1.zeros_like_impl())
    }
}

#[cfg(feature = "std")]
impl<F: Init, G: Init> Init for Concat<F, G> {
    fn init<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        let f = F::init(rng);
        Concat(f, G::init(rng))
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::seeded;

    #[test]
    fn concat_stacks_channels_image_by_image() {
        // x: 2 images of 1 channel 1×2; F = identity, G = 2x (LeakyRelu(2) on positives: 2x)
        let x = Tensor::<2, 1, 1, 2, f64>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        let block = Concat(Identity, LeakyRelu::new(0.5));
        let (y, trace): (Tensor<2, 2, 1, 2, f64>, _) = block.forward_train(x);
        assert_eq!(y.as_slice(), [1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0]);
        // dy per image: (F's channel, G's channel); dx = dF + dG (both slopes 1 on positives)
        let dy = T4::from_slice(&[1.0, 2.0, 10.0, 20.0, 3.0, 4.0, 30.0, 40.0]).unwrap();
        let dx = block.backward(trace, dy, &mut block.zeros_like());
        assert_eq!(dx.as_slice(), [11.0, 22.0, 33.0, 44.0]);
    }

    #[test]
    fn concat_backward_matches_finite_differences() {
        let mut rng = seeded(13);
        let block = Concat::<
            (Conv2d<2, 3, 3, 1, 1, Exact, f64>, Tanh),
            (Conv2d<2, 1, 1, 1, 0, Exact, f64>, Sigmoid),
        >::init(&mut rng);
        let x = Tensor::<2, 2, 4, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&block, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn concat_names_its_branches_0_and_1() {
        let block = Concat::<Identity, Conv2d<1, 2, 1>>::default();
        let mut names = Vec::new();
        block.visit("up1", &mut |n, _, _| names.push(n.to_string()));
        assert_eq!(names, ["up1.1.weight", "up1.1.bias"]);
    }
}
