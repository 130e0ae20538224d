//! The one-line forms that make a layer of your own trainable: [`NoParams`] for a layer without
//! parameters, [`params!`](crate::params) for one with parameters.

use rand::Rng;

use super::{Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike};
use crate::Float;

/// The one line a layer without parameters needs: `impl NoParams for MyLayer {}` gives it
/// [`Params`] (for every element type, visiting nothing), [`ZerosLike`] (a clone) and [`Init`]
/// (`Default`), so it can sit in any network, be trained and be saved.
///
/// ```
/// use typed_cnn::{NoParams, TensorData, prelude::*};
/// #[derive(Clone, Debug, Default, PartialEq)]
/// struct Double; // y = 2x, on any tensor type
/// impl NoParams for Double {}
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
/// let mut net: (Linear<2, 2>, Double) = Init::init(&mut rand::rng());
/// let (y, trace) = net.forward_train(Tensor2::<1, 2>::filled(1.0));
/// let mut grads = net.zeros_like();
/// net.backward(trace, y, &mut grads);
/// Sgd::new(0.1).step(&mut net, &grads);
/// ```
pub trait NoParams: Clone + Default {}

impl<E: Float, T: NoParams> Params<E> for T {
    fn visit<'a>(&'a self, _: &str, _: &mut ParamFn<'a, '_, E>) {}
    fn visit_mut(&mut self, _: &str, _: &mut ParamFnMut<'_, E>) {}
    fn visit_with_grads(&mut self, _: &Self, _: &mut PairFn<'_, E>) {}
}

impl<T: NoParams> ZerosLike for T {
    fn zeros_like_impl(&self) -> Self {
        self.clone()
    }
}

impl<T: NoParams> Init for T {
    fn init<R: Rng + ?Sized>(_: &mut R) -> Self {
        T::default()
    }
}

/// Declares the parameters of a layer and their initialization in one line: implements
/// [`Params`], [`ZerosLike`] and [`Init`] for a struct whose parameter fields are
/// [`crate::Param1`], [`crate::Param2`] or [`crate::Param4`] (shapes in their types) and which
/// derives `Clone` and `Default` (`Default` is then the layer with zero weights, ready for
/// [`crate::weights::load`]). Each field is named with its [`crate::init::Fill`], in the order
/// they are visited (and saved); the generics of the impl go in square brackets.
///
/// List **every** parameter field: one left out is not trained, not saved and stays at zero
/// after `init`. Fields that are not parameters (hyperparameters, a mode) are not listed.
/// Mistakes in the call itself are compile errors that say what to write: an empty list
/// ("a layer without parameters needs one line instead: `impl typed_cnn::NoParams for MyLayer
/// {}`"), or generics in angle brackets ("write the generics of the impl in square brackets"):
///
/// ```compile_fail
/// #[derive(Clone, Default)]
/// struct Identity;
/// typed_cnn::params!(impl[] Params<f32> for Identity {});
/// ```
/// ```compile_fail
/// use typed_cnn::{Param1, init::Fill, prelude::*};
/// #[derive(Clone, Default)]
/// struct Bias<const C: usize> { b: Param1<C> }
/// typed_cnn::params!(impl<const C: usize> Params<f32> for Bias<C> { b = Fill::Const(0.0) });
/// ```
///
/// A learnable scale `y = a·x` on any tensor, trained inside a tuple network and checked against
/// f64 finite differences:
///
/// ```
/// use typed_cnn::{Param1, TensorData, gradcheck::check_module, init::Fill, prelude::*};
///
/// #[derive(Clone, Debug, Default, PartialEq)]
/// struct Scale<E: Float = f32> {
///     a: Param1<1, E>,
/// }
/// typed_cnn::params!(impl[E: Float] Params<E> for Scale<E> { a = Fill::Const(1.0) });
///
/// impl<E: Float, T: TensorData<Elem = E>> Forward<T> for Scale<E> {
///     type Output = T;
///     type Cache = T; // the input, for a's gradient
///     fn forward_impl(&self, mut x: T) -> T {
///         x.data_mut().iter_mut().for_each(|v| *v *= self.a[0]);
///         x
///     }
///     fn train_impl(&self, x: T) -> (T, T) {
///         (self.forward_impl(x.clone()), x)
///     }
///     fn backward_impl(&self, x: T, dy: T, grads: &mut Self) -> T {
///         // dL/da = Σ dy·x, dL/dx = a·dy
///         grads.a[0] += dy.data().iter().zip(x.data()).fold(E::ZERO, |s, (&d, &x)| s + d * x);
///         self.forward_impl(dy)
///     }
/// }
///
/// // In a tuple network, with PyTorch-style names:
/// type Net = (Conv2d<1, 2, 3>, Scale);
/// let mut net = Net::init(&mut rand::rng());
/// let mut names = Vec::new();
/// net.visit("", &mut |name, shape, _| names.push(format!("{name} {shape:?}")));
/// assert_eq!(names, ["0.weight [2, 1, 3, 3]", "0.bias [2]", "1.a [1]"]);
/// assert_eq!(net.1.a[0], 1.0); // Fill::Const(1.0)
///
/// // Trained: one SGD step on L = ½‖y‖² (so dL/dy = y and dL/da = Σ y·conv = a·Σ conv² > 0)
/// // makes a smaller.
/// let (y, trace) = net.forward_train(Tensor::<4, 1, 5, 5>::filled(1.0));
/// let mut grads = net.zeros_like();
/// net.backward(trace, y, &mut grads);
/// Sgd::new(0.01).step(&mut net, &grads);
/// assert!(net.1.a[0] < 1.0);
///
/// // Its backward agrees with f64 finite differences (inputs and parameters).
/// let mut rng = rand::rng();
/// let layer = (Scale::<f64>::init(&mut rng), Linear::<3, 2, f64>::init(&mut rng));
/// check_module(&layer, Tensor2::<2, 3, f64>::uniform(&mut rng, -1.0, 1.0), 1e-6).assert_below(1e-6);
/// ```
#[macro_export]
macro_rules! params {
    (impl [$($g:tt)*] Params<$E:ty> for $T:ty { $($field:ident = $fill:expr),+ $(,)? }) => {
        impl<$($g)*> $crate::Params<$E> for $T {
            fn visit<'a>(&'a self, prefix: &str, f: &mut $crate::ParamFn<'a, '_, $E>) {
                $($crate::__private::visit_param(&self.$field, prefix, stringify!($field), f);)+
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut $crate::ParamFnMut<'_, $E>) {
                $($crate::__private::visit_param_mut(&mut self.$field, prefix, stringify!($field), f);)+
            }
            fn visit_with_grads(&mut self, grads: &Self, f: &mut $crate::PairFn<'_, $E>) {
                $(f(&mut self.$field, &grads.$field);)+
            }
        }
        impl<$($g)*> $crate::ZerosLike for $T {
            fn zeros_like_impl(&self) -> Self {
                let mut zeros = ::core::clone::Clone::clone(self);
                $(zeros.$field.fill(<$E as $crate::Float>::ZERO);)+
                zeros
            }
        }
        impl<$($g)*> $crate::Init for $T {
            fn init<R: $crate::__private::Rng + ?Sized>(rng: &mut R) -> Self {
                let mut layer = <Self as ::core::default::Default>::default();
                $($crate::__private::Fill::apply($fill, &mut layer.$field, rng);)+
                layer
            }
        }
    };
    (impl [$($g:tt)*] Params<$E:ty> for $T:ty { $(,)? }) => {
        ::core::compile_error!(
            "params!: no parameters listed; a layer without parameters needs one line instead: \
             `impl typed_cnn::NoParams for MyLayer {}` (with `#[derive(Clone, Default)]`)"
        );
    };
    (impl < $($rest:tt)*) => {
        ::core::compile_error!(
            "params!: write the generics of the impl in square brackets: \
             `params!(impl[const C: usize, E: Float] Params<E> for MyLayer<C, E> { a = Fill::Const(1.0) })`"
        );
    };
    ($($rest:tt)*) => {
        ::core::compile_error!(
            "params!: expected `impl[GENERICS] Params<E> for MyLayer { field = Fill::…, … }`, \
             each field a Param1/Param2/Param4 with its initialization"
        );
    };
}

/// What [`params!`](crate::params) expands to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use rand::Rng;

    pub use crate::param::Fill;

    use crate::Float;
    use crate::module::{ParamFn, ParamFnMut};
    use crate::param::ParamTensor;

    /// `prefix.name`, or `name` at the top level.
    pub fn join(prefix: &str, name: &str) -> String {
        crate::module::join(prefix, name)
    }

    pub fn visit_param<'a, E: Float, P: ParamTensor<E>>(
        p: &'a P,
        prefix: &str,
        name: &str,
        f: &mut ParamFn<'a, '_, E>,
    ) {
        f(&crate::module::join(prefix, name), P::SHAPE, p);
    }

    pub fn visit_param_mut<E: Float, P: ParamTensor<E>>(
        p: &mut P,
        prefix: &str,
        name: &str,
        f: &mut ParamFnMut<'_, E>,
    ) {
        f(&crate::module::join(prefix, name), P::SHAPE, p);
    }
}
