//! Named networks: [`network!`](crate::network!) declares a struct whose fields are layers (or
//! blocks, or other networks), named as the attributes of a PyTorch module are, and how its
//! forward runs through them. This module holds what the macro builds on: [`Field`] (one field
//! of a network), [`Path`] and [`InferPath`] (a forward route through the fields, for training
//! and for inference without allocation) and the route's pieces [`Leaf`], [`Then`], [`Add`],
//! [`Cat`] and [`Skip`] (in `route.rs`). Code never names them; they show in compiler messages.

mod route;

#[cfg(feature = "std")]
pub use route::Path;
pub use route::{Add, Cat, InferPath, Leaf, Skip, Then};

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
/// The struct derives `Clone`, `Debug` and `PartialEq`, and gets `Default` (all weights zero,
/// ready for [`weights::load`](crate::weights::load)), [`Forward`](crate::Forward) (generic over
/// the input, so each field's own shape checks report a mistake), [`Params`](crate::Params)
/// (field names), [`ZerosLike`](crate::ZerosLike) and [`Init`](crate::Init) (fields in order),
/// and, with or without `std`, [`Infer`](crate::infer::Infer) (allocation-free inference) and
/// [`View`](crate::infer::View) (weights in place, by field names). Generics are written as usual: `const` parameters and type parameters with one bound
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
