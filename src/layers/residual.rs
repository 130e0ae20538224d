//! `Residual<M>`: `y = M(x) + x`, for a branch `M` whose output shape equals its input shape;
//! `Sum<F, G>`: `y = F(x) + G(x)`, two branches of the same output shape (a projection shortcut).
//!
//! The shape checks are traits with their own messages; the gradients of the paths add.

#[cfg(feature = "std")]
use crate::Float;
use crate::infer::{
    ElemOf, Infer, Layout, Name, SafeTensors, View, ViewError, add_assign, tuples::max,
};
#[cfg(feature = "std")]
use crate::module::{Forward, Init, ParamFn, ParamFnMut, Params};
use crate::shape::{BranchesMatch, ResidualKeepsShape, ShapeEq};
use crate::tensor::TensorData;

/// A residual block `y = M(x) + x`: the branch `M` (a layer or a tuple of layers) must map its
/// input shape to itself, which the compiler checks.
///
/// **PyTorch equivalent**: a module whose `forward` returns `self.branch(x) + x`.
///
/// ```
/// use typed_cnn::prelude::*;
/// type Block = Residual<(Conv2d<8, 8, 3, 1, 1>, Relu, Conv2d<8, 8, 3, 1, 1>)>;
/// let block = Block::init(&mut rand::rng());
/// let y: Tensor<2, 8, 7, 6> = block.forward(Tensor::<2, 8, 7, 6>::zeros());
/// # let _ = y;
/// ```
/// A branch that changes the shape does not compile:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// type Block = Residual<(Conv2d<8, 8, 3>, Relu)>; // no padding: 7×6 becomes 5×4
/// let _ = Block::init(&mut rand::rng()).forward(Tensor::<2, 8, 7, 6>::zeros());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Residual<M>(pub M);

/// `y = M(x) + x`: the branch into the output, then the input added (as the forward below).
impl<M, In> Infer<In> for Residual<M>
where
    In: TensorData + Layout<Elem = <In as TensorData>::Elem>,
    M: Infer<In>,
    M::Output: TensorData<Elem = <In as TensorData>::Elem> + ShapeEq<In>,
    <M::Output as ShapeEq<In>>::Output:
        ResidualKeepsShape<In::ShapeType, <M::Output as TensorData>::ShapeType>,
{
    type Output = In;
    const WORK: usize = M::WORK;
    const WEIGHTS: usize = M::WEIGHTS;

    fn infer_into(&self, x: &[ElemOf<In>], y: &mut [ElemOf<In>], work: &mut [ElemOf<In>]) {
        self.0.infer_into(x, y, work);
        add_assign(y, x);
    }
}

impl<M: View> View for Residual<M> {
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
        Ok(Residual(M::view_at(file, &prefix.join("0"))?))
    }
}

/// `y = F(x) + G(x)`: `F` into the output, `G` into the workspace, then added.
impl<F, G, In> Infer<In> for Sum<F, G>
where
    In: TensorData + Layout<Elem = <In as TensorData>::Elem>,
    F: Infer<In>,
    G: Infer<In>,
    F::Output: TensorData<Elem = <In as TensorData>::Elem> + ShapeEq<G::Output>,
    G::Output: TensorData<Elem = <In as TensorData>::Elem>,
    <F::Output as ShapeEq<G::Output>>::Output:
        BranchesMatch<<F::Output as TensorData>::ShapeType, <G::Output as TensorData>::ShapeType>,
{
    type Output = F::Output;
    const WORK: usize = <G::Output as Layout>::LEN + max(F::WORK, G::WORK);
    const WEIGHTS: usize = F::WEIGHTS + G::WEIGHTS;

    fn infer_into(&self, x: &[ElemOf<In>], y: &mut [ElemOf<In>], work: &mut [ElemOf<In>]) {
        let (z, inner) = work.split_at_mut(<G::Output as Layout>::LEN);
        self.0.infer_into(x, y, &mut inner[..F::WORK]);
        self.1.infer_into(x, z, &mut inner[..G::WORK]);
        add_assign(y, z);
    }
}

impl<F: View, G: View> View for Sum<F, G> {
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
        Ok(Sum(F::view_at(file, &prefix.join("0"))?, G::view_at(file, &prefix.join("1"))?))
    }
}

#[cfg(feature = "std")]
impl<M, In> Forward<In> for Residual<M>
where
    In: TensorData,
    M: Forward<In>,
    M::Output: TensorData<Elem = In::Elem> + ShapeEq<In>,
    <M::Output as ShapeEq<In>>::Output:
        ResidualKeepsShape<In::ShapeType, <M::Output as TensorData>::ShapeType>,
{
    type Output = In;
    type Cache = M::Cache;

    fn forward_impl(&self, x: In) -> In {
        let mut y: In = retype(self.0.forward_impl(x.clone()));
        add_into(&mut y, &x);
        y
    }

    fn train_impl(&self, x: In) -> (In, M::Cache) {
        let (y, cache) = self.0.train_impl(x.clone());
        let mut y: In = retype(y);
        add_into(&mut y, &x);
        (y, cache)
    }

    fn backward_impl(&self, cache: M::Cache, dy: In, grads: &mut Self) -> In {
        // The branch and the skip both receive dy; their input gradients add.
        let mut dx = self.0.backward_impl(cache, retype(dy.clone()), &mut grads.0);
        add_into(&mut dx, &dy);
        dx
    }
}

/// Moves the storage of one tensor type into another of the same shape, which the
/// `ResidualKeepsShape` bound has proven (`ShapeEq` compares without unifying the types).
#[cfg(feature = "std")]
pub(crate) fn retype<A: TensorData, B: TensorData<Elem = A::Elem>>(x: A) -> B {
    B::from_storage(x.into_storage())
}

#[cfg(feature = "std")]
pub(crate) fn add_into<T: TensorData>(acc: &mut T, x: &T) {
    add_assign(acc.data_mut(), x.data());
}

/// Two branches on the same input, summed: `y = F(x) + G(x)`. Their outputs must have the same
/// shape, which the compiler checks; backward sends `dy` into both and adds their input
/// gradients. [`Residual<M>`] is the case `G = identity`.
///
/// Parameters are named `0.…` (F) and `1.…` (G), as an `nn.Sequential` of the two branches.
///
/// **PyTorch equivalent**: torchvision's `BasicBlock` with a `downsample`: a module whose
/// `forward` returns `self.branch(x) + self.shortcut(x)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// // ResNet's stride-2 block: 3×3 convs on one side, a 1×1 stride-2 projection on the other
/// // (with PyTorch's floor rule, as torchvision relies on it for even sizes)
/// type Down = Sum<
///     (Conv2d<16, 32, 3, 2, 1, Floor>, BatchNorm2d<32>, Relu, Conv2d<32, 32, 3, 1, 1>, BatchNorm2d<32>),
///     (Conv2d<16, 32, 1, 2, 0, Floor>, BatchNorm2d<32>),
/// >;
/// let block = Down::init(&mut rand::rng());
/// let y: Tensor<2, 32, 4, 4> = block.forward(Tensor::<2, 16, 8, 8>::zeros());
/// # let _ = y;
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sum<F, G>(pub F, pub G);

#[cfg(feature = "std")]
impl<F, G, In> Forward<In> for Sum<F, G>
where
    In: TensorData,
    F: Forward<In>,
    G: Forward<In>,
    F::Output: TensorData<Elem = In::Elem> + ShapeEq<G::Output>,
    G::Output: TensorData<Elem = In::Elem>,
    <F::Output as ShapeEq<G::Output>>::Output:
        BranchesMatch<<F::Output as TensorData>::ShapeType, <G::Output as TensorData>::ShapeType>,
{
    type Output = F::Output;
    type Cache = (F::Cache, G::Cache);

    fn forward_impl(&self, x: In) -> F::Output {
        let mut y = self.0.forward_impl(x.clone());
        add_into(&mut y, &retype(self.1.forward_impl(x)));
        y
    }

    fn train_impl(&self, x: In) -> (F::Output, Self::Cache) {
        let (mut y, cf) = self.0.train_impl(x.clone());
        let (z, cg) = self.1.train_impl(x);
        add_into(&mut y, &retype(z));
        (y, (cf, cg))
    }

    fn backward_impl(&self, (cf, cg): Self::Cache, dy: F::Output, grads: &mut Self) -> In {
        // Both branches receive dy; their input gradients add.
        let dg = self.1.backward_impl(cg, retype(dy.clone()), &mut grads.1);
        let mut dx = self.0.backward_impl(cf, dy, &mut grads.0);
        add_into(&mut dx, &dg);
        dx
    }
}

#[cfg(feature = "std")]
impl<E: Float, F: Params<E>, G: Params<E>> Params<E> for Sum<F, G> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        self.0.visit(&crate::module::join(prefix, "0"), f);
        self.1.visit(&crate::module::join(prefix, "1"), f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        self.0.visit_mut(&crate::module::join(prefix, "0"), f);
        self.1.visit_mut(&crate::module::join(prefix, "1"), f);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut crate::module::PairFn<'_, E>) {
        self.0.visit_with_grads(&grads.0, f);
        self.1.visit_with_grads(&grads.1, f);
    }
    fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut crate::module::BufferFn<'a, '_, E>) {
        self.0.visit_buffers(&crate::module::join(prefix, "0"), f);
        self.1.visit_buffers(&crate::module::join(prefix, "1"), f);
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut crate::module::BufferFnMut<'_, E>) {
        self.0.visit_buffers_mut(&crate::module::join(prefix, "0"), f);
        self.1.visit_buffers_mut(&crate::module::join(prefix, "1"), f);
    }
    fn update_buffers(&mut self, stats: &Self) {
        self.0.update_buffers(&stats.0);
        self.1.update_buffers(&stats.1);
    }
}

#[cfg(feature = "std")]
impl<F: crate::module::ZerosLike, G: crate::module::ZerosLike> crate::module::ZerosLike
    for Sum<F, G>
{
    fn zeros_like_impl(&self) -> Self {
        Sum(self.0.zeros_like_impl(), self.1.zeros_like_impl())
    }
}

#[cfg(feature = "std")]
impl<F: Init, G: Init> Init for Sum<F, G> {
    fn init<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        let f = F::init(rng);
        Sum(f, G::init(rng))
    }
}

#[cfg(feature = "std")]
impl<E: Float, M: Params<E>> Params<E> for Residual<M> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        self.0.visit(&crate::module::join(prefix, "0"), f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        self.0.visit_mut(&crate::module::join(prefix, "0"), f);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut crate::module::PairFn<'_, E>) {
        self.0.visit_with_grads(&grads.0, f);
    }
    fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut crate::module::BufferFn<'a, '_, E>) {
        self.0.visit_buffers(&crate::module::join(prefix, "0"), f);
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut crate::module::BufferFnMut<'_, E>) {
        self.0.visit_buffers_mut(&crate::module::join(prefix, "0"), f);
    }
    fn update_buffers(&mut self, stats: &Self) {
        self.0.update_buffers(&stats.0);
    }
}

#[cfg(feature = "std")]
impl<M: crate::module::ZerosLike> crate::module::ZerosLike for Residual<M> {
    fn zeros_like_impl(&self) -> Self {
        Residual(self.0.zeros_like_impl())
    }
}

#[cfg(feature = "std")]
impl<M: Init> Init for Residual<M> {
    fn init<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        Residual(M::init(rng))
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::seeded;

    #[test]
    fn residual_backward_matches_finite_differences() {
        let mut rng = seeded(11);
        let block = Residual::<(
            Conv2d<2, 2, 3, 1, 1, Exact, f64>,
            Tanh,
            Conv2d<2, 2, 1, 1, 0, Exact, f64>,
        )>::init(&mut rng);
        let x = Tensor::<2, 2, 4, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&block, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn sum_backward_matches_finite_differences() {
        // A stride-2 projection block: both branches change channels and size alike.
        let mut rng = seeded(12);
        let block = Sum::<
            (Conv2d<2, 3, 3, 2, 1, Exact, f64>, Tanh, Conv2d<3, 3, 3, 1, 1, Exact, f64>),
            Conv2d<2, 3, 1, 2, 0, Exact, f64>,
        >::init(&mut rng);
        let x = Tensor::<2, 2, 5, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&block, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn sum_of_hand_branches() {
        // F = LeakyRelu(0.5), G = Relu on [−2, 4]: y = (−1 + 0, 4 + 4), dx = (0.5 + 0, 1 + 1)·dy
        let x = Tensor2::<1, 2, f64>::from_slice(&[-2.0, 4.0]).unwrap();
        let block = Sum(LeakyRelu::new(0.5), Relu);
        let (y, trace) = block.forward_train(x);
        assert_eq!(y.as_slice(), [-1.0, 8.0]);
        let dx = block.backward(trace, T2::filled(3.0), &mut block.zeros_like());
        assert_eq!(dx.as_slice(), [1.5, 6.0]);
        // and a residual is the sum with an identity branch (Relu on positive input)
        let x = Tensor2::<1, 2, f64>::from_slice(&[1.0, 2.0]).unwrap();
        assert_eq!(
            Sum(Tanh, Relu).forward(x.clone()).as_slice(),
            Residual(Tanh).forward(x).as_slice()
        );
    }

    #[test]
    fn sum_names_its_branches_0_and_1() {
        let block = Sum::<Conv2d<1, 2, 3>, (Conv2d<1, 2, 3>, BatchNorm2d<2>)>::default();
        let mut names = Vec::new();
        block.visit("layer1.0", &mut |n, _, _| names.push(n.to_string()));
        assert_eq!(
            names,
            [
                "layer1.0.0.weight",
                "layer1.0.0.bias",
                "layer1.0.1.0.weight",
                "layer1.0.1.0.bias",
                "layer1.0.1.1.weight",
                "layer1.0.1.1.bias"
            ]
        );
    }

    #[test]
    fn residual_of_identity_like_branch_doubles() {
        // Branch = Relu on positive inputs is the identity, so y = 2x and dx = 2·dy.
        let x = Tensor2::<1, 3, f64>::from_slice(&[1., 2., 3.]).unwrap();
        let block = Residual(Relu);
        let (y, trace) = block.forward_train(x);
        assert_eq!(y.as_slice(), [2., 4., 6.]);
        let dx = block.backward(trace, T2::filled(1.0), &mut Residual(Relu));
        assert_eq!(dx.as_slice(), [2., 2., 2.]);
    }
}
