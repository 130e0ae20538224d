//! `Forward`, `Params`, `ZerosLike` and `Init` for tuples of up to 12 layers: a network is a tuple
//! of layers, nested for blocks; members run in order forward and in reverse order backward,
//! and parameters are named by their index path (`"2.1.weight"`), as `nn.Sequential` names them.
//!
//! Tuples of 13 to 16 members get a `Forward` impl whose bound ([`TupleLimit`]) never holds, so
//! that such a network is reported with the limit and the way around it rather than as a layer
//! that "cannot take an input", and `Init`, so that building one is not the first error.

use rand::Rng;

use super::{
    BufferFn, BufferFnMut, Forward, Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike, join,
};
use crate::Float;

/// The longest tuple network: 12 members, as for the standard library's tuple traits.
///
/// A longer tuple (up to 16) is an error at its first use as a network, with this trait's
/// message. Nest tuples instead:
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// type Net = (Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu);
/// // a tuple network has at most 12 layers, and this one has 13
/// let _ = Net::default().forward(Tensor2::<1, 4>::zeros());
/// ```
///
/// ```
/// use typed_cnn::prelude::*;
/// // The same 13 layers as two blocks: (12 layers), then 1
/// type Net = ((Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu, Relu), Relu);
/// let _ = Net::init(&mut rand::rng());
/// ```
#[diagnostic::on_unimplemented(
    message = "a tuple network has at most 12 layers, and this one has {N}",
    label = "a tuple of {N} layers",
    note = "declare a numbered network of any length, named `0`, `1`, … as one `nn.Sequential`: `typed_cnn::network! {{ struct Features(Conv2d<1, 8, 3>, Relu, …); }}`",
    note = "or group the layers into nested tuples of at most 12 (blocks): `((conv, relu, pool), (conv, relu, pool), flatten, (linear, relu, linear))`",
    note = "each level of nesting adds an index to the weights' names, as in PyTorch's nested `nn.Sequential`: `1.0.weight` is member 0 of block 1"
)]
pub trait TupleLimit<const N: usize> {
    /// The output and cache of a too-long tuple: never a type, so that the error above is the
    /// only one (no follow-on mismatch with the output a user expects).
    type Never;
    /// No type has this trait, so a body that calls this cannot run.
    fn absurd<T>() -> T;
}

/// Backward through members `$r…` (in the order given, the last being member 0) computing input
/// gradients for all but member 0, whose parameters alone are updated.
macro_rules! tuple_backward_params {
    ($s:ident, $cache:ident, $dy:ident, $grads:ident; 0) => {
        $s.0.backward_params_impl($cache.0, $dy, &mut $grads.0)
    };
    ($s:ident, $cache:ident, $dy:ident, $grads:ident; $first:tt $($rest:tt)+) => {
        let $dy = $s.$first.backward_impl($cache.$first, $dy, &mut $grads.$first);
        tuple_backward_params!($s, $cache, $dy, $grads; $($rest)+)
    };
}

/// `tuple_impls!([A 0 In X0, B 1 X0 X1] [1 0] X1;)`: member `A` at index 0 maps `In` to `X0`, …;
/// the second list is the indices in reverse (the backward order); the last name is the output.
macro_rules! tuple_impls {
    ($([$($T:ident $i:tt $Xin:ident $Xout:ident),+] [$($r:tt)+] $Last:ident;)+) => {$(
        impl<In, $($T, $Xout),+> Forward<In> for ($($T,)+)
        where
            $($T: Forward<$Xin, Output = $Xout>),+
        {
            type Output = $Last;
            type Cache = ($(<$T as Forward<$Xin>>::Cache,)+);

            fn forward_impl(&self, x: In) -> Self::Output {
                $(let x = self.$i.forward_impl(x);)+
                x
            }

            #[allow(non_snake_case, reason = "each member's cache is named after its type")]
            fn train_impl(&self, x: In) -> (Self::Output, Self::Cache) {
                $(let (x, $T) = self.$i.train_impl(x);)+
                (x, ($($T,)+))
            }

            fn backward_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) -> In {
                $(let dy = self.$r.backward_impl(cache.$r, dy, &mut grads.$r);)+
                dy
            }

            fn backward_params_impl(&self, cache: Self::Cache, dy: Self::Output, grads: &mut Self) {
                tuple_backward_params!(self, cache, dy, grads; $($r)+);
            }
        }

        impl<E: Float, $($T: Params<E>),+> Params<E> for ($($T,)+) {
            fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
                $(self.$i.visit(&join(prefix, stringify!($i)), f);)+
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
                $(self.$i.visit_mut(&join(prefix, stringify!($i)), f);)+
            }
            fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
                $(self.$i.visit_with_grads(&grads.$i, f);)+
            }
            fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut BufferFn<'a, '_, E>) {
                $(self.$i.visit_buffers(&join(prefix, stringify!($i)), f);)+
            }
            fn visit_buffers_mut(&mut self, prefix: &str, f: &mut BufferFnMut<'_, E>) {
                $(self.$i.visit_buffers_mut(&join(prefix, stringify!($i)), f);)+
            }
            fn update_buffers(&mut self, stats: &Self) {
                $(self.$i.update_buffers(&stats.$i);)+
            }
        }

        impl<$($T: ZerosLike),+> ZerosLike for ($($T,)+) {
            fn zeros_like_impl(&self) -> Self {
                ($(self.$i.zeros_like_impl(),)+)
            }
        }

        impl<$($T: Init),+> Init for ($($T,)+) {
            fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
                ($($T::init(rng),)+)
            }
        }
    )+};
}

tuple_impls! {
    [A 0 In X0] [0] X0;
    [A 0 In X0, B 1 X0 X1] [1 0] X1;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2] [2 1 0] X2;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3] [3 2 1 0] X3;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4] [4 3 2 1 0] X4;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5] [5 4 3 2 1 0] X5;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6]
        [6 5 4 3 2 1 0] X6;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7]
        [7 6 5 4 3 2 1 0] X7;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7,
        J 8 X7 X8] [8 7 6 5 4 3 2 1 0] X8;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7,
        J 8 X7 X8, K 9 X8 X9] [9 8 7 6 5 4 3 2 1 0] X9;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7,
        J 8 X7 X8, K 9 X8 X9, L 10 X9 X10] [10 9 8 7 6 5 4 3 2 1 0] X10;
    [A 0 In X0, B 1 X0 X1, C 2 X1 X2, D 3 X2 X3, F 4 X3 X4, G 5 X4 X5, H 6 X5 X6, I 7 X6 X7,
        J 8 X7 X8, K 9 X8 X9, L 10 X9 X10, M 11 X10 X11] [11 10 9 8 7 6 5 4 3 2 1 0] X11;
}

/// `too_long_tuples!(13 [A B …])`: for a tuple of that many members, `Forward` under a bound that
/// never holds (see [`TupleLimit`]), and `Init`, so that `Net::init(…)` builds it and its first
/// forward gives the message. (`Params` and `ZerosLike` cannot do the same: a tuple would then
/// have two candidate impls, this one and the one for `NoParams` layers, and the compiler would
/// report their own messages, which name the limit in a note.)
macro_rules! too_long_tuples {
    ($($n:literal [$($T:ident)+];)+) => {$(
        impl<In, $($T),+> Forward<In> for ($($T,)+)
        where
            ($($T,)+): TupleLimit<$n>,
        {
            type Output = <Self as TupleLimit<$n>>::Never;
            type Cache = <Self as TupleLimit<$n>>::Never;
            fn forward_impl(&self, _: In) -> Self::Output {
                <Self as TupleLimit<$n>>::absurd()
            }
            fn train_impl(&self, _: In) -> (Self::Output, Self::Cache) {
                <Self as TupleLimit<$n>>::absurd()
            }
            fn backward_impl(&self, _: Self::Cache, _: Self::Output, _: &mut Self) -> In {
                <Self as TupleLimit<$n>>::absurd()
            }
        }

        impl<$($T: Init),+> Init for ($($T,)+) {
            fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
                ($($T::init(rng),)+)
            }
        }
    )+};
}

too_long_tuples! {
    13 [A B C D F G H I J K L M N];
    14 [A B C D F G H I J K L M N O];
    15 [A B C D F G H I J K L M N O P];
    16 [A B C D F G H I J K L M N O P Q];
}
