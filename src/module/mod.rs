//! The layer traits: [`Forward`] (implemented by every layer and by tuples of layers),
//! [`Module`] (the user-facing `forward`/`forward_train`/`backward`/`zeros_like` calls),
//! [`Params`] (the one parameter visitor), [`ZerosLike`] (gradient values), [`Init`]
//! (construction from a seeded generator), and the one-line forms that give a layer of your own
//! all three: [`NoParams`] and [`params!`](crate::params).
//!
//! Networks are tuples, nested for blocks. There is no tape: each layer does its own backward,
//! and a tuple runs its members' backwards in reverse order.

use core::ops::BitAnd;
use rand::Rng;
use typenum::{And, B0, B1, Gr, IsGreater, U0, U1};

use crate::Float;
use crate::shape::{Dims, Num, Size};

/// A layer (or a network) that maps an input of type `In` to [`Forward::Output`].
///
/// This is the trait layers implement; users call the methods of [`Module`] instead, whose
/// bounds sit on the methods so that a shape error in the middle of a tuple network reports the
/// failing layer's own message; with the bound on a trait impl instead, rustc reports only
/// "no method named `forward` found".
///
/// Gradients have the model's own type: `backward_impl` accumulates (`+=`) parameter gradients
/// into `grads`, a value shaped like `self` (made by [`Module::zeros_like`]), and returns the
/// gradient with respect to the input.
///
/// A layer of your own implements `Forward` and is then called through [`Module`]; one more
/// line makes it trainable inside a network: [`NoParams`] for a layer without parameters (shown
/// there), [`params!`](crate::params) for one with parameters (a learnable scale, trained and
/// gradient-checked, is its example).
/// ```
/// use typed_cnn::{TensorData, prelude::*};
/// struct Double; // y = 2x, on any tensor type
/// impl<T: TensorData> Forward<T> for Double {
///     type Output = T;
///     type Cache = ();
///     fn forward_impl(&self, mut x: T) -> T {
///         x.data_mut().iter_mut().for_each(|v| *v += *v);
///         x
///     }
///     fn train_impl(&self, x: T) -> (T, ()) { (self.forward_impl(x), ()) }
///     fn backward_impl(&self, _: (), dy: T, _: &mut Self) -> T { self.forward_impl(dy) } // 2·dy
/// }
/// let y = Double.forward(Tensor2::<1, 2>::from_slice(&[1.0, -3.0]).unwrap());
/// assert_eq!(y.as_slice(), [2.0, -6.0]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take an input of type `{In}`",
    label = "this layer does not accept that input",
    note = "`Linear` takes 2-D `(N, F)` input (put `Flatten` before it); convolution and pooling take 4-D `(N, C, H, W)`"
)]
pub trait Forward<In>: Sized {
    /// The output type, computed from the input type and the layer's hyper-parameters.
    type Output;
    /// What backward needs from the training forward (inputs, im2col columns, argmax indices…).
    type Cache;
    /// Inference: computes the output and keeps nothing for backward.
    fn forward_impl(&self, x: In) -> Self::Output;
    /// Training forward: the output and the cache that [`Forward::backward_impl`] consumes.
    fn train_impl(&self, x: In) -> (Self::Output, Self::Cache);
    /// Backward: accumulates parameter gradients into `grads` and returns `dL/dx`.
    fn backward_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) -> In;
    /// Backward without the input gradient, for the first layer of a network (whose input is
    /// data): accumulates parameter gradients only. The default computes `dL/dx` and drops it;
    /// layers that can skip that work (convolution) override it.
    fn backward_params_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) {
        let _ = self.backward_impl(cache, dy, grads);
    }
}

/// The output type of network `M` on input `In`.
///
/// ```
/// use typed_cnn::{Out, prelude::*};
/// type Block = (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>);
/// // (28 − 5 + 1)/2 = 12
/// let _: Out<Block, Tensor<8, 1, 28, 28>> = Tensor::<8, 6, 12, 12>::zeros();
/// ```
pub type Out<M, In> = <M as Forward<In>>::Output;

/// What a training forward of `M` on `In` keeps for its backward. Its type names the input type,
/// so [`Module::backward`] infers it.
///
/// ```
/// use typed_cnn::{Trace, prelude::*};
/// let x = Tensor2::<1, 2>::from_slice(&[-1.0, 2.0]).unwrap();
/// let (_, trace): (_, Trace<Relu, Tensor2<1, 2>>) = Relu.forward_train(x);
/// let dx = Relu.backward(trace, T2::filled(5.0), &mut Relu);
/// assert_eq!(dx.as_slice(), [0.0, 5.0]); // ReLU passes dy where x > 0
/// ```
pub struct Trace<M: Forward<In>, In> {
    // `None` only after `backward` took it. An `Option` behind a `Drop` impl of our own, so
    // that the compiler's drop checks of a trace stop at `Trace<M, In>` instead of walking the
    // whole network's cache type (for ResNet-18, some 0.3 s of every `cargo check`).
    cache: Option<M::Cache>,
}

impl<M: Forward<In>, In> Trace<M, In> {
    /// The cache, taken out for `backward`.
    fn take(mut self) -> M::Cache {
        self.cache.take().expect("a trace holds its cache until backward takes it")
    }
}

impl<M: Forward<In>, In> Drop for Trace<M, In> {
    fn drop(&mut self) {
        drop(self.cache.take());
    }
}

impl<M: Forward<In>, In> core::fmt::Debug for Trace<M, In> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Trace { .. }")
    }
}

/// The user-facing calls of every layer and network (blanket-implemented).
///
/// ```
/// use typed_cnn::prelude::*;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let net: (Linear<4, 3>, Relu, Linear<3, 2>) = Init::init(&mut rng);
/// let x = Tensor2::<5, 4>::uniform(&mut rng, -1.0, 1.0);
///
/// let y: Tensor2<5, 2> = net.forward(x.clone()); // inference: no caches
/// let (y2, trace) = net.forward_train(x);         // training: keeps what backward needs
/// assert_eq!(y, y2);
/// let mut grads = net.zeros_like();
/// let dx: Tensor2<5, 4> = net.backward(trace, T2::filled(1.0), &mut grads);
/// # let _ = dx;
/// ```
///
/// A network held through `&mut` (a training function that also steps the optimizer) is called
/// the same way: [`ModuleMut`], in the prelude, forwards these methods to the network.
pub trait Module: Sized {
    /// Inference forward: allocates the output and nothing for backward.
    fn forward<In>(&self, x: In) -> Out<Self, In>
    where
        Self: Forward<In>,
    {
        self.forward_impl(x)
    }

    /// Training forward: the output and a [`Trace`] for [`Module::backward`].
    ///
    /// The network must be [`Trainable`] on this input: how a rule of training mode (batch norm's
    /// `N·H·W > 1`) is checked when the program is compiled.
    fn forward_train<In>(&self, x: In) -> (Out<Self, In>, Trace<Self, In>)
    where
        Self: Trainable<In>,
    {
        let (y, cache) = self.train_impl(x);
        (y, Trace { cache: Some(cache) })
    }

    /// Backward from the output gradient `dy`: accumulates (`+=`) parameter gradients into
    /// `grads` and returns the input gradient `dL/dx`.
    fn backward<In>(&self, trace: Trace<Self, In>, dy: Out<Self, In>, grads: &mut Self) -> In
    where
        Self: Forward<In>,
    {
        self.backward_impl(trace.take(), dy, grads)
    }

    /// A gradient value for this model: the same type and structure with every parameter (and
    /// every buffer) zero; backward accumulates into it.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let net: (Linear<2, 3>, Relu) = Init::init(&mut rand::rng());
    /// let grads = net.zeros_like();
    /// assert!(grads.0.weight().iter().all(|&g| g == 0.0));
    /// let relu_grads = Relu.zeros_like(); // no element type to annotate
    /// # let _ = relu_grads;
    /// ```
    fn zeros_like(&self) -> Self
    where
        Self: ZerosLike,
    {
        self.zeros_like_impl()
    }

    /// Backward for training: like [`Module::backward`], but without the input gradient, which
    /// a training step does not need; the first layer skips computing it (for a convolution,
    /// a GEMM and a col2im per image).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let net: (Conv2d<1, 2, 3>, Relu) = Init::init(&mut rand::rng());
    /// let (y, trace) = net.forward_train(Tensor::<4, 1, 5, 5>::filled(1.0));
    /// let (mut a, mut b) = (net.zeros_like(), net.zeros_like());
    /// net.backward_params(trace, T4::filled(1.0), &mut a);
    /// let (_, trace) = net.forward_train(Tensor::<4, 1, 5, 5>::filled(1.0));
    /// let _dx = net.backward(trace, T4::filled(1.0), &mut b);
    /// assert_eq!(a, b); // the same parameter gradients
    /// # let _ = y;
    /// ```
    fn backward_params<In>(&self, trace: Trace<Self, In>, dy: Out<Self, In>, grads: &mut Self)
    where
        Self: Forward<In>,
    {
        self.backward_params_impl(trace.take(), dy, grads)
    }
}

impl<T> Module for T {}

/// [`Module`]'s methods on a network held through `&mut`: `model.forward_train(x)` with
/// `model: &mut Net` calls `Net`'s. It is in the prelude; code never names it.
///
/// Without it, `Module` (implemented for every type) would be looked up on `&mut Net` itself,
/// which is not a layer: the call would report that `&mut Net` "cannot take an input".
///
/// ```
/// use typed_cnn::prelude::*;
/// type Net = (Flatten, Linear<4, 3>);
///
/// /// One training step, with the network borrowed mutably for the optimizer.
/// fn step(model: &mut Net, opt: &mut Sgd, x: Tensor<2, 1, 2, 2>, labels: &Labels<2, 3>) -> f32 {
///     let (logits, trace) = model.forward_train(x);
///     let (loss, dlogits) = cross_entropy(&logits, labels);
///     let mut grads = model.zeros_like();
///     model.backward_params(trace, dlogits, &mut grads);
///     opt.step(model, &grads);
///     loss
/// }
/// let mut net = Net::init(&mut rand::rng());
/// let labels = Labels::<2, 3>::new(vec![0, 2]).unwrap();
/// let loss = step(&mut net, &mut Sgd::new(0.1), T4::filled(1.0), &labels);
/// assert!((loss - 3f32.ln()).abs() < 1.0);
/// ```
pub trait ModuleMut {
    /// The network behind the reference.
    type Net: Module;

    /// [`Module::forward`] of the network.
    fn forward<In>(self, x: In) -> Out<Self::Net, In>
    where
        Self::Net: Forward<In>;

    /// [`Module::forward_train`] of the network.
    fn forward_train<In>(self, x: In) -> (Out<Self::Net, In>, Trace<Self::Net, In>)
    where
        Self::Net: Trainable<In>;

    /// [`Module::backward`] of the network.
    fn backward<In>(
        self,
        trace: Trace<Self::Net, In>,
        dy: Out<Self::Net, In>,
        grads: &mut Self::Net,
    ) -> In
    where
        Self::Net: Forward<In>;

    /// [`Module::backward_params`] of the network.
    fn backward_params<In>(
        self,
        trace: Trace<Self::Net, In>,
        dy: Out<Self::Net, In>,
        grads: &mut Self::Net,
    ) where
        Self::Net: Forward<In>;

    /// [`Module::zeros_like`] of the network.
    fn zeros_like(self) -> Self::Net
    where
        Self::Net: ZerosLike;
}

impl<M> ModuleMut for &mut M {
    type Net = M;

    fn forward<In>(self, x: In) -> Out<M, In>
    where
        M: Forward<In>,
    {
        Module::forward(&*self, x)
    }

    fn forward_train<In>(self, x: In) -> (Out<M, In>, Trace<M, In>)
    where
        M: Trainable<In>,
    {
        Module::forward_train(&*self, x)
    }

    fn backward<In>(self, trace: Trace<M, In>, dy: Out<M, In>, grads: &mut M) -> In
    where
        M: Forward<In>,
    {
        Module::backward(&*self, trace, dy, grads)
    }

    fn backward_params<In>(self, trace: Trace<M, In>, dy: Out<M, In>, grads: &mut M)
    where
        M: Forward<In>,
    {
        Module::backward_params(&*self, trace, dy, grads)
    }

    fn zeros_like(self) -> M
    where
        M: ZerosLike,
    {
        Module::zeros_like(&*self)
    }
}

/// A network that can be trained on input `In`: [`Forward`], and batch norm's train-mode rule
/// (more than one value per channel) holds. The bound of [`Module::forward_train`], implemented
/// for every such network: generic code that trains a network `M` writes `M: Trainable<In>`
/// where inference needs only `M: Forward<In>`.
///
/// The rule is checked by [`TrainRule`] from the input's batch alone when it holds more than
/// one sample: every batch norm then sees `N·H·W ≥ N > 1` values per channel (no layer of the
/// crate changes the batch size or shrinks a non-empty image to nothing), and the compiler need
/// not compute the network's cache type at all, which for ResNet-18 is a third of a crate's
/// `cargo check`. With a batch of one, every layer's cache must be [`TrainCache`]. The batch size
/// is a number of the [size table](crate::shape::Size) (any up to 4096).
///
/// ```
/// use typed_cnn::prelude::*;
/// let net: (Conv2d<3, 4, 3>, BatchNorm2d<4>, Relu) = Init::init(&mut rand::rng());
/// let _ = net.forward_train(Tensor::<2, 3, 3, 3>::zeros()); // 2 images of 1×1 after the conv
/// let _ = net.forward_train(Tensor::<1, 3, 4, 4>::zeros()); // 1 image of 2×2
/// ```
/// One image whose planes are 1×1 at the batch norm is a compile error:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let net: (Conv2d<3, 4, 3>, BatchNorm2d<4>, Relu) = Init::init(&mut rand::rng());
/// let _ = net.forward_train(Tensor::<1, 3, 3, 3>::zeros());
/// ```
pub trait Trainable<In>: Forward<In> {}
impl<M: Forward<In>, In: InputBatch> Trainable<In> for M where In::Several: TrainRule<M, In> {}

/// The batch of a network's input, for [`Trainable`]: `Several` is typenum's `True` when it holds
/// more than one sample and (for images) the images are not empty. Implemented for the tensor
/// types.
pub trait InputBatch {
    /// `True` or `False`.
    type Several;
}

impl<E: Float, const N: usize, C, H, W> InputBatch for crate::T4<E, N, C, H, W>
where
    Dims<N>: Size,
    Num<N>: IsGreater<U1>,
    H: IsGreater<U0>,
    W: IsGreater<U0>,
    Gr<Num<N>, U1>: BitAnd<Gr<H, U0>>,
    And<Gr<Num<N>, U1>, Gr<H, U0>>: BitAnd<Gr<W, U0>>,
{
    type Several = And<And<Gr<Num<N>, U1>, Gr<H, U0>>, Gr<W, U0>>;
}

impl<E: Float, const N: usize, F> InputBatch for crate::T2<E, N, F>
where
    Dims<N>: Size,
    Num<N>: IsGreater<U1>,
{
    type Several = Gr<Num<N>, U1>;
}

/// Batch norm's train-mode rule for network `M` on input `In`, given whether the batch holds
/// several samples (see [`Trainable`]): nothing to check for `True`; for `False` the network's
/// cache must be [`TrainCache`], which each batch norm's cache is only with `N·H·W > 1`.
pub trait TrainRule<M, In> {}
impl<M, In> TrainRule<M, In> for B1 {}
impl<M: Forward<In>, In> TrainRule<M, In> for B0 where M::Cache: TrainCache {}

/// A layer's [`Forward::Cache`] that may be trained: [`Module::forward_train`] asks it of the
/// whole network's cache when the batch holds one sample (see [`Trainable`]), so that a rule of
/// training mode is checked at `cargo check`.
///
/// One layer has such a rule: [`BatchNorm2d`](crate::layers::BatchNorm2d) in train mode needs
/// more than one value per channel (`N·H·W > 1`), as PyTorch demands at run time, while its
/// eval mode takes any input (ResNet-18 on 32×32 images has 1×1 planes, and an inference batch
/// of 1). Its cache carries the check; every other cache has this trait. With several samples
/// the rule holds whatever the sizes, and the caches are not asked.
///
/// Implemented for the caches the crate's layers use and for `()`, numbers, `bool`, tuples,
/// `Vec`, `Box`, `Option`, arrays and the tensor types. A layer of your own whose cache is a
/// struct of its own adds one line: `impl TrainCache for MyCache {}`.
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let bn = BatchNorm2d::<4>::default();
/// let _ = bn.forward(Tensor::<1, 4, 1, 1>::zeros()); // eval mode: fine
/// let _ = bn.forward_train(Tensor::<1, 4, 1, 1>::zeros()); // one value per channel
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a layer's cache without `TrainCache`, so its network cannot be trained",
    label = "no `TrainCache` for this cache type",
    note = "a layer whose cache is a struct of its own adds one line: `impl typed_cnn::TrainCache for MyCache {{}}`",
    note = "generic code that trains a network `M` bounds it with `M: Trainable<In>` rather than `M: Forward<In>`"
)]
pub trait TrainCache {}

macro_rules! train_cache {
    ($($t:ty),*) => {$(impl TrainCache for $t {})*};
}
train_cache!((), bool, u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64);
impl<T> TrainCache for Vec<T> {}
impl<T: ?Sized> TrainCache for Box<T> {}
impl<T: TrainCache> TrainCache for Option<T> {}
impl<T, const N: usize> TrainCache for [T; N] {}
impl<T: ?Sized> TrainCache for core::marker::PhantomData<T> {}
impl<E: Float> TrainCache for crate::Storage<E> {}
impl<E: Float, const N: usize, F> TrainCache for crate::T2<E, N, F> {}
impl<E: Float, const N: usize, C, H, W> TrainCache for crate::T4<E, N, C, H, W> {}

macro_rules! train_cache_tuples {
    ($(($($T:ident),+);)+) => {$(
        impl<$($T: TrainCache),+> TrainCache for ($($T,)+) {}
    )+};
}
train_cache_tuples! {
    (A); (A, B); (A, B, C); (A, B, C, D); (A, B, C, D, F); (A, B, C, D, F, G);
    (A, B, C, D, F, G, H); (A, B, C, D, F, G, H, I); (A, B, C, D, F, G, H, I, J);
    (A, B, C, D, F, G, H, I, J, K); (A, B, C, D, F, G, H, I, J, K, L);
    (A, B, C, D, F, G, H, I, J, K, L, M);
}

/// `TrainCache` for the flat tuples of 13 to 128 caches that a [`network!`](crate::network!) chain
/// of that many fields has: one impl per length, each built from the previous list plus one.
macro_rules! train_cache_long_tuples {
    ([$($done:ident)+] $next:ident $($rest:ident)*) => {
        impl<$($done: TrainCache,)+ $next: TrainCache> TrainCache for ($($done,)+ $next,) {}
        train_cache_long_tuples!([$($done)+ $next] $($rest)*);
    };
    ([$($done:ident)+]) => {};
}
train_cache_long_tuples! {
    [A B C D F G H I J K L M] T12 T13 T14 T15 T16 T17 T18 T19 T20 T21 T22 T23 T24 T25 T26 T27 T28
    T29 T30 T31 T32 T33 T34 T35 T36 T37 T38 T39 T40 T41 T42 T43 T44 T45 T46 T47 T48 T49 T50 T51
    T52 T53 T54 T55 T56 T57 T58 T59 T60 T61 T62 T63 T64 T65 T66 T67 T68 T69 T70 T71 T72 T73 T74
    T75 T76 T77 T78 T79 T80 T81 T82 T83 T84 T85 T86 T87 T88 T89 T90 T91 T92 T93 T94 T95 T96 T97
    T98 T99 T100 T101 T102 T103 T104 T105 T106 T107 T108 T109 T110 T111 T112 T113 T114 T115 T116
    T117 T118 T119 T120 T121 T122 T123 T124 T125 T126 T127
}

/// The callback of [`Params::visit`]: `(name, shape, values)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let fc = Linear::<2, 3>::init(&mut rand::rng());
/// let mut seen = Vec::new();
/// fc.visit("fc", &mut |name, shape, values| {
///     seen.push((name.to_string(), shape.to_vec(), values.len()))
/// });
/// assert_eq!(seen[0], ("fc.weight".to_string(), vec![3, 2], 6)); // (OUT, IN), 3·2 values
/// assert_eq!(seen[1], ("fc.bias".to_string(), vec![3], 3));
/// ```
pub type ParamFn<'a, 'f, E> = dyn FnMut(&str, &[usize], &'a [E]) + 'f;
/// The callback of [`Params::visit_mut`]: `(name, shape, values)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// let mut fc = Linear::<2, 1>::init(&mut rand::rng());
/// fc.visit_mut("", &mut |name, _, values| values.fill(if name == "bias" { 0.0 } else { 1.0 }));
/// let y = fc.forward(Tensor2::<1, 2>::from_slice(&[3.0, 4.0]).unwrap());
/// assert_eq!(y.as_slice(), [7.0]); // 1·3 + 1·4 + 0
/// ```
pub type ParamFnMut<'f, E> = dyn FnMut(&str, &[usize], &mut [E]) + 'f;

/// The parameter visitor: every parameter tensor, in one fixed order, with its PyTorch-style name
/// (`"0.weight"`, `"2.1.bias"`: the tuple index path, as `nn.Sequential` names them) and shape.
///
/// Optimizers, gradient zeroing, the gradient check and weight files all go through it,
/// so none of them has per-layer code.
///
/// ```
/// use typed_cnn::prelude::*;
/// let net: (Linear<4, 3>, Relu, Linear<3, 2>) = Init::init(&mut rand::rng());
/// let mut names = Vec::new();
/// net.visit("", &mut |name, shape, _| names.push(format!("{name} {shape:?}")));
/// assert_eq!(names, ["0.weight [3, 4]", "0.bias [3]", "2.weight [2, 3]", "2.bias [2]"]);
/// assert_eq!(Params::<f32>::param_count(&net), 3 * 4 + 3 + 2 * 3 + 2); // 23
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not declare its parameters (of element type `{E}`)",
    label = "this layer or network has no `Params<{E}>`",
    note = "a layer without parameters needs one line, `impl NoParams for MyLayer {{}}`; a layer with parameters declares them with `typed_cnn::params!`; a network needs this of each of its layers, and a tuple network has at most 12 (nest longer ones, or declare them with `typed_cnn::network!`)"
)]
pub trait Params<E: Float>: ZerosLike {
    /// Calls `f(name, shape, values)` for every parameter tensor, in order.
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>);
    /// Calls `f(name, shape, values)` for every parameter tensor, in order, mutably.
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>);
    /// Calls `f(param, grad)` for every parameter tensor of `self` and the matching tensor of
    /// `grads` (a value of the same type, made by [`Module::zeros_like`]), in the order of
    /// [`Params::visit`]: what an optimizer step needs. The pairing follows the structure, so it
    /// builds no names and allocates nothing.
    ///
    /// **Panics** if `grads` does not hold the same tensors as `self` (possible only where the
    /// structure is run-time state: a layer with a bias against gradients without one).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut fc = Linear::<2, 1, f64>::from_parts(vec![1.0, 2.0], vec![0.0]).unwrap();
    /// let grads = Linear::<2, 1, f64>::from_parts(vec![0.5, 0.5], vec![1.0]).unwrap();
    /// fc.visit_with_grads(&grads, &mut |p, g| p.iter_mut().zip(g).for_each(|(p, g)| *p -= g));
    /// assert_eq!((fc.weight(), fc.bias()), (&[0.5, 1.5][..], &[-1.0][..]));
    /// ```
    fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>);

    /// The number of scalar parameters.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2d::<3, 10, 5>::init(&mut rand::rng());
    /// assert_eq!(Params::<f32>::param_count(&conv), 10 * 3 * 5 * 5 + 10); // 760
    /// ```
    fn param_count(&self) -> usize {
        let mut count = 0;
        self.visit("", &mut |_, _, v| count += v.len());
        count
    }

    /// Sets every parameter and buffer to zero (use on a gradient value between steps; in a
    /// gradient value, batch norm's buffers hold the batch statistics gathered by backward).
    fn zero(&mut self) {
        self.visit_mut("", &mut |_, _, v| v.fill(E::ZERO));
        self.visit_buffers_mut("", &mut |_, _, b| match b {
            BufferMut::Values(v) => v.fill(E::ZERO),
            BufferMut::Count(c) => *c = 0,
        });
    }

    /// Calls `f(name, shape, buffer)` for every buffer: state saved with the weights but not
    /// trained by gradients, such as [`crate::layers::BatchNorm2d`]'s running statistics.
    /// Layers without buffers visit nothing (the default).
    fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut BufferFn<'a, '_, E>) {
        let _ = (prefix, f);
    }
    /// Calls `f(name, shape, buffer)` for every buffer, mutably.
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut BufferFnMut<'_, E>) {
        let _ = (prefix, f);
    }
    /// Folds the batch statistics that backward gathered into `stats` (a gradient value) into
    /// this model's running buffers. Every optimizer's `step` calls it after the parameter
    /// update; layers without buffers do nothing (the default).
    fn update_buffers(&mut self, stats: &Self) {
        let _ = stats;
    }
}

/// One buffer as [`Params::visit_buffers`] shows it: float values, or a counter (PyTorch's
/// `num_batches_tracked`, an `int64` scalar in a state dict).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Buffer<'a, E> {
    /// Float values, such as a running mean.
    Values(&'a [E]),
    /// A counter.
    Count(u64),
}

/// One buffer as [`Params::visit_buffers_mut`] shows it.
#[derive(Debug, PartialEq)]
pub enum BufferMut<'a, E> {
    /// Float values, such as a running mean.
    Values(&'a mut [E]),
    /// A counter.
    Count(&'a mut u64),
}

/// The callback of [`Params::visit_buffers`]: `(name, shape, buffer)`.
pub type BufferFn<'a, 'f, E> = dyn FnMut(&str, &[usize], Buffer<'a, E>) + 'f;
/// The callback of [`Params::visit_buffers_mut`]: `(name, shape, buffer)`.
pub type BufferFnMut<'f, E> = dyn FnMut(&str, &[usize], BufferMut<'_, E>) + 'f;
/// The callback of [`Params::visit_with_grads`]: `(param, grad)`.
pub type PairFn<'f, E> = dyn FnMut(&mut [E], &[E]) + 'f;

/// A value of the same type and structure with every parameter zero: the gradient value of a
/// model (gradients have the model's own type).
///
/// It has no element-type parameter, so it needs no annotation even on a layer without
/// parameters (where [`Params`] could be `Params<f32>` or `Params<f64>`):
///
/// ```
/// use typed_cnn::prelude::*;
/// let grads = (Relu, Flatten).zeros_like();
/// assert_eq!(grads, (Relu, Flatten));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not declare its parameters, so it has no gradient value",
    label = "no `zeros_like` for this layer or network",
    note = "a layer without parameters needs one line, `impl NoParams for MyLayer {{}}`; a layer with parameters declares them with `typed_cnn::params!`; a network needs this of each of its layers, and a tuple network has at most 12 (nest longer ones, or declare them with `typed_cnn::network!`)"
)]
pub trait ZerosLike: Sized + Clone {
    /// The same structure with every parameter (and every buffer) zero. Users call
    /// [`Module::zeros_like`], whose bound on the method gives a readable message when a layer
    /// of the network lacks this trait.
    fn zeros_like_impl(&self) -> Self;
}

/// Construction with PyTorch's default initialization from a seeded generator.
///
/// Tuples of `Init` layers are `Init`, so a whole network is built in one call:
/// `let net: LeNet = Init::init(&mut rng);`.
///
/// ```
/// use typed_cnn::prelude::*;
/// use rand::{SeedableRng, rngs::StdRng};
/// let a: (Conv2d<1, 2, 3>, Relu) = Init::init(&mut StdRng::seed_from_u64(7));
/// let b: (Conv2d<1, 2, 3>, Relu) = Init::init(&mut StdRng::seed_from_u64(7));
/// assert_eq!(a, b); // same seed, same weights
/// assert!(a.0.weight().iter().all(|w| w.abs() <= 1.0 / 3.0)); // bound 1/√(CIN·K·K) = 1/3
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be initialized with `init`",
    label = "no `Init` for this layer or network",
    note = "a layer without parameters gets `Init` from `impl NoParams for MyLayer {{}}` (with `Default`); a layer with parameters from `typed_cnn::params!`; a network needs it of each of its layers, and a tuple network has at most 12 (nest longer ones, or declare them with `typed_cnn::network!`)"
)]
pub trait Init: Sized {
    /// A freshly initialized layer or network.
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self;
}

/// `prefix.name`, or `name` at the top level.
pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

mod declare;
mod tuples;

pub use declare::{__private, NoParams};
pub use tuples::TupleLimit;
