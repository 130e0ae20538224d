//! Fully connected layers `y = x·Wᵀ + b` on GEMM: `Linear<IN, OUT>` and `FlatLinear<C, H, W, OUT>`
//! (the same layer with `C·H·W` in-features, for counts the size table does not hold).
//!
//! Weights are `(OUT, IN)` row-major, as PyTorch stores them.

use core::marker::PhantomData;
use core::ops::Mul;
#[cfg(feature = "std")]
use rand::Rng;
use typenum::{Eq, IsEqual, Prod, Unsigned};

use crate::Float;
use crate::infer::{Infer, Name, SafeTensors, View, ViewError};
use crate::kernels::embedded;
#[cfg(feature = "std")]
use crate::kernels::linear;
#[cfg(feature = "std")]
use crate::layers::LayerInput;
#[cfg(feature = "std")]
use crate::module::{Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike, join};
#[cfg(feature = "std")]
use crate::param::Fill;
#[cfg(feature = "std")]
use crate::param::NoBias;
use crate::param::{Bias, BiasMode};
use crate::runtime::Storage;
use crate::shape::{Decimal, Dim, Dims, FeaturesMatch, FlatInput, Num, Show, Size};
use crate::tensor::{T2, T4};

macro_rules! dense_layer {
    (
        $(#[$doc:meta])*
        $name:ident < $(const $p:ident),* >, in = $in_expr:expr
    ) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq)]
        pub struct $name<$(const $p: usize),*, E: Float = f32, B: BiasMode = Bias> {
            weight: Storage<E>,
            /// `Some` exactly when `B` is [`Bias`].
            bias: Option<Storage<E>>,
            mode: PhantomData<B>,
        }

        #[cfg(feature = "std")]
        impl<$(const $p: usize),*, E: Float, B: BiasMode> Default for $name<$($p),*, E, B> {
            /// Zero weights and biases (to load weights into).
            fn default() -> Self {
                let bias = B::ON.then(|| Storage::zeros(OUT));
                Self { weight: Storage::zeros(OUT * Self::IN), bias, mode: PhantomData }
            }
        }

        impl<$(const $p: usize),*, E: Float, B: BiasMode> $name<$($p),*, E, B> {
            /// The number of input features.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// assert_eq!(<Linear<256, 120>>::IN, 256);
            /// assert_eq!(<FlatLinear<64, 12, 12, 128>>::IN, 9216); // 64·12·12
            /// ```
            pub const IN: usize = $in_expr;

            /// The weights, `(OUT, IN)` row-major.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// let fc = Linear::<2, 1>::from_parts(vec![0.5, -1.0], vec![0.0]).unwrap();
            /// assert_eq!(fc.weight(), [0.5, -1.0]); // (OUT, IN) = (1, 2)
            /// ```
            pub fn weight(&self) -> &[E] {
                &self.weight
            }
            /// The weights, mutable.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// let mut fc = Linear::<2, 1>::from_parts(vec![0.0, 0.0], vec![0.0]).unwrap();
            /// fc.weight_mut().copy_from_slice(&[2.0, 3.0]);
            /// let y = fc.forward(Tensor2::<1, 2>::from_slice(&[1.0, 1.0]).unwrap());
            /// assert_eq!(y.as_slice(), [5.0]); // 2·1 + 3·1
            /// ```
            #[cfg(feature = "std")]
            pub fn weight_mut(&mut self) -> &mut [E] {
                &mut self.weight
            }

            /// The same layer without bias: the type changes to [`NoBias`].
            ///
            /// **PyTorch equivalent**: `torch.nn.Linear(IN, OUT, bias=False)`.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// let fc = Linear::<2, 1>::from_parts(vec![2.0, 3.0], vec![10.0]).unwrap().without_bias();
            /// assert_eq!(fc.forward(Tensor2::<1, 2>::filled(1.0)).as_slice(), [5.0]); // no + 10
            /// assert_eq!(Params::<f32>::param_count(&fc), 2);
            /// ```
            #[cfg(feature = "std")]
            pub fn without_bias(self) -> $name<$($p),*, E, NoBias> {
                $name { weight: self.weight, bias: None, mode: PhantomData }
            }

            #[cfg(feature = "std")]
            fn check_weight(weight: Vec<E>) -> Result<Storage<E>, crate::LengthError> {
                if weight.len() == OUT * Self::IN {
                    Ok(weight.into())
                } else {
                    let (shape, expected) = (vec![OUT, Self::IN], OUT * Self::IN);
                    Err(crate::LengthError { shape, expected, found: weight.len() })
                }
            }
        }

        impl<$(const $p: usize),*, E: Float> $name<$($p),*, E> {
            /// A layer with the given weights `(OUT, IN)` and biases `(OUT)`, row-major.
            ///
            /// # Errors
            /// [`crate::LengthError`] if a length does not match the layer's type.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// let w = vec![1., 0., 2., -1., 0., 3.]; // 3×2: [[1, 0], [2, −1], [0, 3]]
            /// let fc = Linear::<2, 3, f64>::from_parts(w, vec![0.5, 0., -1.]).unwrap();
            /// let y = fc.forward(Tensor2::<1, 2, f64>::from_slice(&[1., 2.]).unwrap());
            /// assert_eq!(y.as_slice(), [1.5, 0., 5.]); // [1 + 0.5, 2 − 2 + 0, 6 − 1]
            /// let err = Linear::<2, 3>::from_parts(vec![0.0; 5], vec![0.0; 3]).unwrap_err();
            /// assert_eq!((err.expected, err.found), (6, 5));
            /// ```
            #[cfg(feature = "std")]
            pub fn from_parts(weight: Vec<E>, bias: Vec<E>) -> Result<Self, crate::LengthError> {
                let weight = Self::check_weight(weight)?;
                if bias.len() != OUT {
                    return Err(crate::LengthError { shape: vec![OUT], expected: OUT, found: bias.len() });
                }
                Ok(Self { weight, bias: Some(bias.into()), mode: PhantomData })
            }
            /// The biases, `(OUT)`.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// let fc = Linear::<2, 3>::init(&mut rand::rng());
            /// assert_eq!(fc.bias().len(), 3);
            /// // PyTorch's init bound 1/√IN = 1/√2 ≈ 0.70711
            /// assert!(fc.bias().iter().all(|b| b.abs() < 0.7072));
            /// ```
            pub fn bias(&self) -> &[E] {
                self.bias.as_deref().expect("a Linear with Bias has one")
            }
            /// The biases, mutable.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// let mut fc = Linear::<1, 2>::from_parts(vec![1.0, -1.0], vec![0.0, 0.0]).unwrap();
            /// fc.bias_mut()[1] = 10.0;
            /// let y = fc.forward(Tensor2::<1, 1>::filled(4.0));
            /// assert_eq!(y.as_slice(), [4.0, 6.0]); // 1·4 + 0, −1·4 + 10
            /// ```
            #[cfg(feature = "std")]
            pub fn bias_mut(&mut self) -> &mut [E] {
                self.bias.as_deref_mut().expect("a Linear with Bias has one")
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $p: usize),*, E: Float> $name<$($p),*, E, NoBias> {
            /// A layer without bias with the given weights `(OUT, IN)`, row-major.
            ///
            /// # Errors
            /// [`crate::LengthError`] if the length does not match the layer's type.
            ///
            /// ```
            /// use typed_cnn::prelude::*;
            /// let fc = Linear::<2, 1, f32, NoBias>::from_weight(vec![2.0, 3.0]).unwrap();
            /// assert_eq!(fc.forward(Tensor2::<1, 2>::filled(1.0)).as_slice(), [5.0]);
            /// ```
            pub fn from_weight(weight: Vec<E>) -> Result<Self, crate::LengthError> {
                Ok(Self { weight: Self::check_weight(weight)?, bias: None, mode: PhantomData })
            }
        }

        impl<$(const $p: usize),*, E: Float, B: BiasMode> View for $name<$($p),*, E, B> {
            fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
                let weight = Storage::from_static(file.values(&prefix.join("weight"), &[OUT, Self::IN])?);
                let bias = if B::ON {
                    Some(Storage::from_static(file.values(&prefix.join("bias"), &[OUT])?))
                } else {
                    None
                };
                Ok(Self { weight, bias, mode: PhantomData })
            }
        }

        impl<$(const $p: usize),*, E: Float, B: BiasMode> core::fmt::Debug for $name<$($p),*, E, B> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}({} → {}, bias={})", stringify!($name), Self::IN, OUT, B::ON)
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $p: usize),*, E: Float, B: BiasMode> Init for $name<$($p),*, E, B> {
            /// PyTorch's default init: `U(±1/√IN)` for weights and biases.
            fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
                let mut layer = Self::default();
                Fill::PyTorch { fan_in: Self::IN }.apply(&mut layer.weight, rng);
                if let Some(bias) = &mut layer.bias {
                    Fill::PyTorch { fan_in: Self::IN }.apply(bias, rng);
                }
                layer
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $p: usize),*, E: Float, B: BiasMode> Params<E> for $name<$($p),*, E, B> {
            fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
                f(&join(prefix, "weight"), &[OUT, Self::IN], &self.weight);
                if let Some(b) = &self.bias {
                    f(&join(prefix, "bias"), &[OUT], b);
                }
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
                f(&join(prefix, "weight"), &[OUT, Self::IN], &mut self.weight);
                if let Some(b) = &mut self.bias {
                    f(&join(prefix, "bias"), &[OUT], b);
                }
            }
            fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
                f(&mut self.weight, &grads.weight);
                // `B` decides for both: a bias is there in both or in neither.
                if let (Some(b), Some(g)) = (&mut self.bias, &grads.bias) {
                    f(b, g);
                }
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $p: usize),*, E: Float, B: BiasMode> ZerosLike for $name<$($p),*, E, B> {
            fn zeros_like_impl(&self) -> Self {
                Self::default()
            }
        }
    };
}

dense_layer! {
    /// Fully connected layer `y = x·Wᵀ + b`, computed as one GEMM per batch.
    ///
    /// **PyTorch equivalent**: `torch.nn.Linear(IN, OUT)`; weights `(OUT, IN)`.
    ///
    /// # Shapes
    /// - input: `(N, IN)`, output: `(N, OUT)`
    ///
    /// `IN` and `OUT` are sizes of the [size table](crate::shape::Size) (0 to 4096, and the
    /// multiples of 16 up to 16,384, such as PyTorch's MNIST net's 9216); for other in-feature
    /// counts, as after a large `Flatten`, use [`FlatLinear`].
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let fc = Linear::<256, 120>::init(&mut rand::rng());
    /// let y: Tensor2<8, 120> = fc.forward(Tensor2::<8, 256>::zeros());
    /// # let _ = y;
    /// ```
    /// A wrong input size does not compile:
    /// ```compile_fail,E0277
    /// use typed_cnn::prelude::*;
    /// let fc = Linear::<256, 120>::init(&mut rand::rng());
    /// let _ = fc.forward(Tensor2::<8, 400>::zeros());
    /// ```
    Linear<const IN, const OUT>, in = IN
}

dense_layer! {
    /// [`Linear`] whose in-features are `C·H·W`, the output of [`crate::layers::Flatten`] on a
    /// `(C, H, W)` input: use it where `C·H·W` is a number `Linear<IN, OUT>` cannot spell (the
    /// [size table](crate::shape::Size) holds 0 to 4096 and the multiples of 16 up to 16,384),
    /// such as 5000 = 8·25·25, or to state the shape the features come from, as here for
    /// PyTorch's MNIST example, `Linear(9216, 128)` after 64 channels of 12×12.
    ///
    /// **PyTorch equivalent**: `torch.nn.Linear(C*H*W, OUT)`; weights `(OUT, C·H·W)`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let fc = FlatLinear::<64, 12, 12, 128>::init(&mut rand::rng());
    /// let x = Flatten.forward(Tensor::<2, 64, 12, 12>::zeros()); // 9216 features
    /// let y: Tensor2<2, 128> = fc.forward(x);
    /// # let _ = y;
    /// ```
    FlatLinear<const C, const H, const W, const OUT>, in = C * H * W
}

macro_rules! dense_forward_impl {
    ($name:ident < $(const $p:ident),* >, expected = $expected:ty, show = $show:ty, where $($bounds:tt)*) => {
        forward_by_input!([$(const $p: usize,)* E: Float, B: BiasMode,] $name<$($p),*, E, B>);

        impl<$(const $p: usize),*, E: Float, B: BiasMode, const N: usize, F>
            Infer<T2<E, N, F>> for $name<$($p),*, E, B>
        where
            F: Unsigned + Decimal + IsEqual<$expected>,
            Eq<F, $expected>: FeaturesMatch<$name<$($p),*, E, B>, $show, Show<F>>,
            Dims<OUT>: Size,
            $($bounds)*
        {
            type Output = T2<E, N, Num<OUT>>;
            const WEIGHTS: usize = OUT * Self::IN + if B::ON { OUT } else { 0 };

            fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
                embedded::linear(N, Self::IN, OUT, x, &self.weight, self.bias.as_deref(), y);
            }
        }

        #[cfg(feature = "std")]

        impl<$(const $p: usize),*, E: Float, B: BiasMode, const N: usize, F>
            LayerInput<$name<$($p),*, E, B>> for T2<E, N, F>
        where
            F: Unsigned + Decimal + IsEqual<$expected>,
            Eq<F, $expected>: FeaturesMatch<$name<$($p),*, E, B>, $show, Show<F>>,
            Dims<OUT>: Size,
            $($bounds)*
        {
            type Output = T2<E, N, Num<OUT>>;
            type Cache = T2<E, N, F>;

            fn forward(layer: &$name<$($p),*, E, B>, x: Self) -> Self::Output {
                let mut y = Self::Output::overwritten();
                linear::forward(N, $name::<$($p),*, E, B>::IN, OUT, x.as_slice(), &layer.weight, layer.bias.as_deref(), y.as_mut_slice());
                y
            }

            fn train(layer: &$name<$($p),*, E, B>, x: Self) -> (Self::Output, Self::Cache) {
                (Self::forward(layer, x.clone()), x)
            }

            fn backward(
                layer: &$name<$($p),*, E, B>,
                x: Self::Cache,
                dy: Self::Output,
                grads: &mut $name<$($p),*, E, B>,
            ) -> Self {
                let mut dx = T2::zeros();
                linear::backward(
                    N,
                    $name::<$($p),*, E, B>::IN,
                    OUT,
                    x.as_slice(),
                    &layer.weight,
                    dy.as_slice(),
                    Some(dx.as_mut_slice()),
                    &mut grads.weight,
                    grads.bias.as_deref_mut(),
                );
                dx
            }
        }

        // A 4-D input: the rank mistake, reported with its sizes (see `FlatInput`).
        impl<$(const $p: usize),*, E: Float, B: BiasMode, const N: usize, XC, XH, XW>
            Infer<T4<E, N, XC, XH, XW>> for $name<$($p),*, E, B>
        where
            XC: Decimal + Unsigned,
            XH: Decimal + Unsigned,
            XW: Decimal + Unsigned,
            Show<XW>: FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>,
            Dims<OUT>: Size,
            $($bounds)*
        {
            type Output = crate::infer::Unreachable<E>;
            fn infer_into(&self, _: &[E], _: &mut [E], _: &mut [E]) {
                <Show<XW> as FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>>::absurd()
            }
        }

        #[cfg(feature = "std")]
        impl<$(const $p: usize),*, E: Float, B: BiasMode, const N: usize, XC, XH, XW>
            LayerInput<$name<$($p),*, E, B>> for T4<E, N, XC, XH, XW>
        where
            XC: Decimal,
            XH: Decimal,
            XW: Decimal,
            Show<XW>: FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>,
            Dims<OUT>: Size,
            $($bounds)*
        {
            type Output = <Show<XW> as FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>>::Never;
            type Cache = <Show<XW> as FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>>::Never;
            fn forward(_: &$name<$($p),*, E, B>, _: Self) -> Self::Output {
                <Show<XW> as FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>>::absurd()
            }
            fn train(_: &$name<$($p),*, E, B>, _: Self) -> (Self::Output, Self::Cache) {
                <Show<XW> as FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>>::absurd()
            }
            fn backward(
                _: &$name<$($p),*, E, B>,
                _: Self::Cache,
                _: Self::Output,
                _: &mut $name<$($p),*, E, B>,
            ) -> Self {
                <Show<XW> as FlatInput<$name<$($p),*, E, B>, Show<XC>, Show<XH>>>::absurd()
            }
        }
    };
}

dense_forward_impl!(
    Linear<const IN, const OUT>,
    expected = Num<IN>,
    show = Dim<IN>,
    where Dims<IN>: Size,
);
dense_forward_impl!(
    FlatLinear<const C, const H, const W, const OUT>,
    expected = Prod<Prod<Num<C>, Num<H>>, Num<W>>,
    show = (Dim<C>, Dim<H>, Dim<W>),
    where Dims<C>: Size, Dims<H>: Size, Dims<W>: Size, Num<C>: Mul<Num<H>>,
        Prod<Num<C>, Num<H>>: Mul<Num<W>>,
);

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::kernels::linear::naive::{linear_backward_naive, linear_forward_naive};
    use crate::prelude::*;
    use crate::testing::{assert_close, seeded};

    #[test]
    fn linear_backward_matches_finite_differences() {
        let mut rng = seeded(3);
        let fc = Linear::<5, 3, f64>::init(&mut rng);
        let x = Tensor2::<4, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&fc, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn linear_gemm_matches_naive_kernel() {
        let mut rng = seeded(4);
        let fc = Linear::<7, 5, f64>::init(&mut rng);
        let x = Tensor2::<3, 7, f64>::uniform(&mut rng, -1.0, 1.0);
        let dy = Tensor2::<3, 5, f64>::uniform(&mut rng, -1.0, 1.0);

        let mut y = vec![0.0; 15];
        linear_forward_naive(3, 7, 5, x.as_slice(), fc.weight(), fc.bias(), &mut y);
        let (got, trace) = fc.forward_train(x.clone());
        assert_close(got.as_slice(), &y);

        let (mut dx, mut dw, mut db) = (vec![0.0; 21], vec![0.0; 35], vec![0.0; 5]);
        linear_backward_naive(
            3,
            7,
            5,
            x.as_slice(),
            fc.weight(),
            dy.as_slice(),
            &mut dx,
            &mut dw,
            &mut db,
        );
        let mut grads = fc.zeros_like();
        let got_dx = fc.backward(trace, dy, &mut grads);
        assert_close(got_dx.as_slice(), &dx);
        assert_close(grads.weight(), &dw);
        assert_close(grads.bias(), &db);
    }

    #[test]
    fn linear_hand_worked() {
        // y = x·Wᵀ + b with x = [1, 2], W = [[1, 0], [2, -1], [0, 3]], b = [0.5, 0, -1]:
        // y = [1 + 0.5, 2 - 2, 6 - 1] = [1.5, 0, 5].
        let fc = Linear::<2, 3, f64>::from_parts(vec![1., 0., 2., -1., 0., 3.], vec![0.5, 0., -1.])
            .unwrap();
        let y = fc.forward(Tensor2::<1, 2, f64>::from_slice(&[1., 2.]).unwrap());
        assert_eq!(y.as_slice(), [1.5, 0.0, 5.0]);
    }

    #[test]
    fn flat_linear_backward_matches_finite_differences() {
        let mut rng = seeded(16);
        let net = (Flatten, FlatLinear::<2, 3, 2, 4, f64>::init(&mut rng));
        let x = Tensor::<3, 2, 3, 2, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&net, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn flat_linear_takes_nine_thousand_features() {
        let mut rng = seeded(5);
        let fc = FlatLinear::<64, 12, 12, 3, f64>::init(&mut rng);
        assert_eq!(Params::<f64>::param_count(&fc), 9216 * 3 + 3);
        let x = Flatten.forward(Tensor::<1, 64, 12, 12, f64>::uniform(&mut rng, -1.0, 1.0));
        let mut y = vec![0.0; 3];
        linear_forward_naive(1, 9216, 3, x.as_slice(), fc.weight(), fc.bias(), &mut y);
        assert_close(fc.forward(x).as_slice(), &y);
    }

    #[test]
    fn from_parts_rejects_wrong_lengths() {
        let err = Linear::<2, 3, f32>::from_parts(vec![0.0; 5], vec![0.0; 3]).unwrap_err();
        assert_eq!(err.to_string(), "a tensor of shape [3, 2] holds 6 elements, but 5 were given");
    }
}
