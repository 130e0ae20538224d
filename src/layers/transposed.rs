//! `ConvTranspose2d`: the transposed convolution (the adjoint of a convolution), which U-Net's
//! decoder and other upsampling paths use. Its output size `(H − 1)·S − 2P + K + OP` is computed
//! in the type; the kernels are [`crate::kernels::conv::transposed_forward`] and
//! [`crate::kernels::conv::transposed_backward`].

use core::marker::PhantomData;
use core::ops::{Add, Mul, Sub};
#[cfg(feature = "std")]
use rand::Rng;
use typenum::{
    Add1, B1, Diff, Eq, Gr, IsEqual, IsGreater, IsLess, Le, Max, Maximum, Prod, Sub1, Sum, U0, U1,
    Unsigned,
};

use crate::Float;
use crate::infer::{Infer, Name, SafeTensors, View, ViewError};
#[cfg(feature = "std")]
use crate::kernels::conv;
use crate::kernels::{Geom, embedded};
#[cfg(feature = "std")]
use crate::layers::LayerInput;
use crate::layers::weight_bias::WeightBias;
#[cfg(feature = "std")]
use crate::module::{Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike};
use crate::param::{Bias, BiasMode};
#[cfg(feature = "std")]
use crate::runtime::Storage;
use crate::shape::{
    ChannelsMatch, Decimal, Dims, Height, Num, OutputPaddingBelowStride, Show, Size, Width,
};
use crate::tensor::T4;

/// 2-D transposed convolution: each input pixel scatters a `K×K` window of weights into the
/// output, at stride `S`; the output is cropped by `P` on each side and extended by `OP` on the
/// bottom and right.
///
/// **PyTorch equivalent**: `torch.nn.ConvTranspose2d(CIN, COUT, K, stride=S, padding=P,
/// output_padding=OP)`; weights `(CIN, COUT, K, K)`, bias `(COUT)`. `OP` must be below `S`, as
/// PyTorch requires.
///
/// # Shapes
/// - input: `(N, CIN, H, W)`
/// - output: `(N, COUT, HO, WO)`, `HO = (H − 1)·S − 2P + K + OP`, the same for `WO`
///
/// ```
/// use typed_cnn::prelude::*;
/// // U-Net's up-convolution: 2×2, stride 2, doubling the size
/// let up = ConvTranspose2d::<64, 32, 2, 2>::init(&mut rand::rng());
/// let y: Tensor<1, 32, 56, 56> = up.forward(Tensor::<1, 64, 28, 28>::zeros());
/// # let _ = y;
/// // 3×3, stride 2, padding 1, output padding 1: also doubles (7 → 14)
/// let up = ConvTranspose2d::<8, 4, 3, 2, 1, 1>::init(&mut rand::rng());
/// let y: Tensor<1, 4, 14, 14> = up.forward(Tensor::<1, 8, 7, 7>::zeros());
/// # let _ = y;
/// ```
/// An output padding that is not below the stride does not compile:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let up = ConvTranspose2d::<8, 4, 3, 2, 1, 2>::init(&mut rand::rng());
/// let _ = up.forward(Tensor::<1, 8, 7, 7>::zeros());
/// ```
pub struct ConvTranspose2d<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize = 1,
    const P: usize = 0,
    const OP: usize = 0,
    E: Float = f32,
    B: BiasMode = Bias,
> {
    parts: WeightBias<E, B>,
    mode: PhantomData<B>,
}

/// `impl<const CIN, COUT, K, S, P, OP, E: Float, B: BiasMode> $trait for ConvTranspose2d<…>`.
macro_rules! transposed_impl {
    ($($trait:path)?; $($body:tt)*) => {
        impl<
            const CIN: usize,
            const COUT: usize,
            const K: usize,
            const S: usize,
            const P: usize,
            const OP: usize,
            E: Float,
            B: BiasMode,
        > $($trait for)? ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>
        {
            $($body)*
        }
    };
}

transposed_impl!(;
    /// The number of weights, `CIN·COUT·K·K`.
    pub const WEIGHT_LEN: usize = CIN * COUT * K * K;

    /// The weights' shape, `(CIN, COUT, K, K)`.
    pub const WEIGHT_SHAPE: [usize; 4] = [CIN, COUT, K, K];

    crate::layers::weight_bias::accessors!("(CIN, COUT, K, K)");

    /// A transposed convolution with the given weights `(CIN, COUT, K, K)` and biases `(COUT)`:
    /// `Some` for a layer with [`Bias`], `None` for one with [`crate::param::NoBias`].
    ///
    /// # Errors
    /// [`crate::LengthError`] if a length does not match the layer's type.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// // 1 → 1 channel, a 2×2 kernel, stride 2: each input pixel becomes x·[[1, 2], [3, 4]]
    /// let up = ConvTranspose2d::<1, 1, 2, 2, 0, 0, f64>::from_parts(vec![1., 2., 3., 4.], Some(vec![0.]));
    /// let y = up.unwrap().forward(Tensor::<1, 1, 1, 1, f64>::filled(2.0));
    /// assert_eq!(y.as_slice(), [2., 4., 6., 8.]);
    /// ```
    #[cfg(feature = "std")]
    pub fn from_parts(weight: Vec<E>, bias: Option<Vec<E>>) -> Result<Self, crate::LengthError> {
        let parts = WeightBias::from_parts(weight, bias, &Self::WEIGHT_SHAPE, COUT)?;
        Ok(Self { parts, mode: PhantomData })
    }
);

transposed_impl!(Clone;
    fn clone(&self) -> Self {
        Self { parts: self.parts.clone(), mode: PhantomData }
    }
);

transposed_impl!(PartialEq;
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
);

#[cfg(feature = "std")]
transposed_impl!(Default;
    /// Zero weights and biases (to load weights into).
    fn default() -> Self {
        Self { parts: WeightBias::zeros(&Self::WEIGHT_SHAPE, COUT), mode: PhantomData }
    }
);

transposed_impl!(core::fmt::Debug;
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ConvTranspose2d({CIN} → {COUT}, k={K}, s={S}, p={P}, op={OP}, bias={})", B::ON)
    }
);

#[cfg(feature = "std")]
transposed_impl!(Init;
    /// PyTorch's default init: `U(±1/√(COUT·K·K))` (PyTorch takes the fan-in of this layer's
    /// weight from its second dimension) for weights and biases.
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let parts = WeightBias::init(&Self::WEIGHT_SHAPE, COUT, COUT * K * K, rng);
        Self { parts, mode: PhantomData }
    }
);

#[cfg(feature = "std")]
transposed_impl!(ZerosLike;
    fn zeros_like_impl(&self) -> Self {
        Self { parts: self.parts.zeros_like(), mode: PhantomData }
    }
);

#[cfg(feature = "std")]
transposed_impl!(Params<E>;
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        self.parts.visit(prefix, &Self::WEIGHT_SHAPE, f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        self.parts.visit_mut(prefix, &Self::WEIGHT_SHAPE, f);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
        self.parts.visit_with_grads(&grads.parts, f);
    }
);

/// `(max(H, 1) − 1)·S + K + OP`: the output side before the padding `P` is cropped from both
/// ends (from `max(H, 1)`, so that an empty input reports only [`TransposedFits`]).
pub type TransposedSpan<H, const S: usize, const K: usize, const OP: usize> =
    Sum<Sum<Prod<Sub1<Maximum<H, U1>>, Num<S>>, Num<K>>, Num<OP>>;

/// The output side `(H − 1)·S + K + OP − 2P` of a transposed convolution, as a typenum number
/// (computed from `max(span, 2P + 1)`, so that a padding that crops everything reports only
/// [`TransposedFits`]).
///
/// ```
/// use typed_cnn::layers::TransposedOut;
/// use typed_cnn::shape::Num;
/// use typenum::Unsigned;
/// // 7 rows, kernel 3, stride 2, padding 1, output padding 1: 6·2 + 3 + 1 − 2 = 14
/// assert_eq!(<TransposedOut<Num<7>, 2, 3, 1, 1> as Unsigned>::USIZE, 14);
/// ```
pub type TransposedOut<H, const S: usize, const K: usize, const P: usize, const OP: usize> =
    Diff<Maximum<TransposedSpan<H, S, K, OP>, Add1<Sum<Num<P>, Num<P>>>>, Sum<Num<P>, Num<P>>>;

/// A side `H` (along axis `A` of layer `L`) of a transposed convolution's input whose output side
/// [`TransposedOut`] is at least 1: `H ≥ 1` and `(H − 1)·S + K + OP > 2P`, each reported with
/// [`TransposedFits`]' message.
pub trait TransposedSide<L, A, const S: usize, const K: usize, const P: usize, const OP: usize> {
    /// The output side.
    type Out: Unsigned + Decimal;
}

// Every bound but the two markers never fails: the arithmetic is guarded by the maxima.
impl<H, L, A, const S: usize, const K: usize, const P: usize, const OP: usize>
    TransposedSide<L, A, S, K, P, OP> for H
where
    Dims<S>: Size,
    Dims<K>: Size,
    Dims<P>: Size,
    Dims<OP>: Size,
    H: Decimal + IsGreater<U0> + Max<U1>,
    // H = 0: `TransposedFits` (an empty input has no output).
    Gr<H, U0>: TransposedFits<L, A, K, S, P, OP, Show<H>>,
    Maximum<H, U1>: Sub<B1>,
    Sub1<Maximum<H, U1>>: Mul<Num<S>>,
    Prod<Sub1<Maximum<H, U1>>, Num<S>>: Add<Num<K>>,
    Sum<Prod<Sub1<Maximum<H, U1>>, Num<S>>, Num<K>>: Add<Num<OP>>,
    Num<P>: Add<Num<P>>,
    Sum<Num<P>, Num<P>>: Add<B1>,
    // (H − 1)·S + K + OP ≤ 2P: `TransposedFits`.
    TransposedSpan<H, S, K, OP>: IsGreater<Sum<Num<P>, Num<P>>> + Max<Add1<Sum<Num<P>, Num<P>>>>,
    Gr<TransposedSpan<H, S, K, OP>, Sum<Num<P>, Num<P>>>:
        TransposedFits<L, A, K, S, P, OP, Show<H>>,
    Maximum<TransposedSpan<H, S, K, OP>, Add1<Sum<Num<P>, Num<P>>>>: Sub<Sum<Num<P>, Num<P>>>,
    TransposedOut<H, S, K, P, OP>: Unsigned + Decimal,
{
    type Out = TransposedOut<H, S, K, P, OP>;
}

/// Marker: a transposed convolution's output side `(H − 1)·S + K + OP − 2P` is at least 1 for the
/// input side `HD` (implemented for `True`).
///
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // 1 row, kernel 2, padding 1: (1 − 1)·1 + 2 − 2 = 0 rows out
/// let up = ConvTranspose2d::<1, 1, 2, 1, 1>::init(&mut rand::rng());
/// let _ = up.forward(Tensor::<1, 1, 1, 5>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{L}` on an input {A} of `{HD}` gives no output: (H − 1)·{S} + {K} + {OP} − 2·{P} is below 1",
    label = "the padding crops the whole output",
    note = "a transposed convolution's output side is (H − 1)·S + K + OP − 2P (PyTorch's rule); use less padding, a larger kernel or stride, or a larger input"
)]
pub trait TransposedFits<L, A, const K: usize, const S: usize, const P: usize, const OP: usize, HD>
{
}
impl<L, A, const K: usize, const S: usize, const P: usize, const OP: usize, HD>
    TransposedFits<L, A, K, S, P, OP, HD> for B1
{
}

impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OP: usize,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> Infer<T4<E, N, C, H, W>> for ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    Dims<OP>: Size,
    Dims<S>: Size,
    Num<OP>: IsLess<Num<S>>,
    Le<Num<OP>, Num<S>>:
        OutputPaddingBelowStride<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, OP, S>,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>: ChannelsMatch<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, CIN, Show<C>>,
    H: Unsigned
        + Decimal
        + TransposedSide<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, Height, S, K, P, OP>,
    W: Unsigned
        + Decimal
        + TransposedSide<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, Width, S, K, P, OP>,
{
    type Output =
        T4<
            E,
            N,
            Num<COUT>,
            <H as TransposedSide<
                ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
                Height,
                S,
                K,
                P,
                OP,
            >>::Out,
            <W as TransposedSide<
                ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
                Width,
                S,
                K,
                P,
                OP,
            >>::Out,
        >;
    const WEIGHTS: usize = WeightBias::<E, B>::count(Self::WEIGHT_LEN, COUT);

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        let g = Self::geometry(H::USIZE, W::USIZE);
        embedded::conv_transpose2d(&g, N, CIN, x, self.weight(), self.bias(), y);
    }
}

transposed_impl!(View;
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
        let parts = WeightBias::view(file, prefix, &Self::WEIGHT_SHAPE, COUT)?;
        Ok(Self { parts, mode: PhantomData })
    }
);

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OP: usize,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> LayerInput<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>> for T4<E, N, C, H, W>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    Dims<OP>: Size,
    Dims<S>: Size,
    Num<OP>: IsLess<Num<S>>,
    Le<Num<OP>, Num<S>>:
        OutputPaddingBelowStride<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, OP, S>,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>: ChannelsMatch<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, CIN, Show<C>>,
    H: Unsigned
        + Decimal
        + TransposedSide<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, Height, S, K, P, OP>,
    W: Unsigned
        + Decimal
        + TransposedSide<ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, Width, S, K, P, OP>,
{
    type Output =
        T4<
            E,
            N,
            Num<COUT>,
            <H as TransposedSide<
                ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
                Height,
                S,
                K,
                P,
                OP,
            >>::Out,
            <W as TransposedSide<
                ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
                Width,
                S,
                K,
                P,
                OP,
            >>::Out,
        >;
    /// The input, for the weight gradient.
    type Cache = Storage<E>;

    fn forward(layer: &ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>, x: Self) -> Self::Output {
        let mut y = Self::Output::overwritten();
        layer.forward_slices(N, H::USIZE, W::USIZE, x.as_slice(), y.as_mut_slice());
        y
    }

    fn train(
        layer: &ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
        x: Self,
    ) -> (Self::Output, Self::Cache) {
        let mut y = Self::Output::overwritten();
        layer.forward_slices(N, H::USIZE, W::USIZE, x.as_slice(), y.as_mut_slice());
        (y, x.into_storage())
    }

    #[track_caller]
    fn backward(
        layer: &ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
        x: Self::Cache,
        dy: Self::Output,
        grads: &mut ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
    ) -> Self {
        let mut dx = T4::zeros();
        let size = (N, H::USIZE, W::USIZE);
        layer.backward_slices(size, &x, dy.as_slice(), grads, Some(dx.as_mut_slice()));
        dx
    }

    #[track_caller]
    fn backward_params(
        layer: &ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
        x: Self::Cache,
        dy: Self::Output,
        grads: &mut ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>,
    ) {
        layer.backward_slices((N, H::USIZE, W::USIZE), &x, dy.as_slice(), grads, None);
    }
}

transposed_impl!(;
    /// The output seen as the input of the convolution this layer is the adjoint of.
    fn geometry(h: usize, w: usize) -> Geom {
        let (ho, wo) = ((h - 1) * S + K + OP - 2 * P, (w - 1) * S + K + OP - 2 * P);
        Geom::new(COUT, ho, wo, K, S, P)
    }

    #[cfg(feature = "std")]
    fn forward_slices(&self, n: usize, h: usize, w: usize, x: &[E], y: &mut [E]) {
        let g = Self::geometry(h, w);
        conv::transposed_forward(&g, n, CIN, x, self.weight(), self.bias(), y);
    }

    #[cfg(feature = "std")]
    fn backward_slices(
        &self,
        (n, h, w): (usize, usize, usize),
        x: &[E],
        dy: &[E],
        grads: &mut Self,
        dx: Option<&mut [E]>,
    ) {
        let g = Self::geometry(h, w);
        let (dweight, dbias) = (&mut grads.parts.weight, grads.parts.bias.as_deref_mut());
        conv::transposed_backward(&g, n, CIN, x, self.weight(), dy, dx, dweight, dbias);
    }
);

forward_by_input!(
    [const CIN: usize, const COUT: usize, const K: usize, const S: usize, const P: usize,
     const OP: usize, E: Float, B: BiasMode,]
    ConvTranspose2d<CIN, COUT, K, S, P, OP, E, B>
);

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::{assert_close, seeded};

    /// The definition, in f64 loops: every input pixel scatters its weighted window.
    fn naive(
        (n, cin, h, w): (usize, usize, usize, usize),
        (cout, k, s, p, op): (usize, usize, usize, usize, usize),
        x: &[f64],
        weight: &[f64],
        bias: &[f64],
    ) -> Vec<f64> {
        let (ho, wo) = ((h - 1) * s + k + op - 2 * p, (w - 1) * s + k + op - 2 * p);
        let mut y = vec![0.0; n * cout * ho * wo];
        for img in 0..n {
            for o in 0..cout {
                for v in &mut y[(img * cout + o) * ho * wo..(img * cout + o + 1) * ho * wo] {
                    *v = bias[o];
                }
                for c in 0..cin {
                    for i in 0..h {
                        for j in 0..w {
                            for a in 0..k {
                                for b in 0..k {
                                    let (yy, xx) = (
                                        (i * s + a) as isize - p as isize,
                                        (j * s + b) as isize - p as isize,
                                    );
                                    if yy < 0 || xx < 0 || yy >= ho as isize || xx >= wo as isize {
                                        continue;
                                    }
                                    y[((img * cout + o) * ho + yy as usize) * wo + xx as usize] += x
                                        [((img * cin + c) * h + i) * w + j]
                                        * weight[((c * cout + o) * k + a) * k + b];
                                }
                            }
                        }
                    }
                }
            }
        }
        y
    }

    #[test]
    fn transposed_forward_matches_the_definition() {
        let mut rng = seeded(31);
        let up = ConvTranspose2d::<3, 2, 3, 2, 1, 1, f64>::init(&mut rng);
        let x = Tensor::<2, 3, 4, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        let y = up.forward(x.clone());
        assert_eq!(y.shape(), [2, 2, 8, 10]);
        let want =
            naive((2, 3, 4, 5), (2, 3, 2, 1, 1), x.as_slice(), up.weight(), up.bias().unwrap());
        assert_close(y.as_slice(), &want);
        let up = ConvTranspose2d::<2, 3, 2, 2, 0, 0, f64, NoBias>::init(&mut rng);
        let x = Tensor::<1, 2, 3, 2, f64>::uniform(&mut rng, -1.0, 1.0);
        let want = naive((1, 2, 3, 2), (3, 2, 2, 0, 0), x.as_slice(), up.weight(), &[0.0; 3]);
        assert_close(up.forward(x).as_slice(), &want);
    }

    #[test]
    fn transposed_by_hand() {
        // 1 → 1 channel, kernel [[1, 2], [3, 4]], stride 2: each pixel v becomes [[v, 2v], [3v, 4v]]
        let mut up = ConvTranspose2d::<1, 1, 2, 2, 0, 0, f64, NoBias>::default();
        up.weight_mut().copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        let x = Tensor::<1, 1, 1, 2, f64>::from_slice(&[1.0, 10.0]).unwrap();
        let (y, trace) = up.forward_train(x);
        assert_eq!(y.as_slice(), [1.0, 2.0, 10.0, 20.0, 3.0, 4.0, 30.0, 40.0]);
        let mut grads = up.zeros_like();
        let dx = up.backward(trace, T4::filled(1.0), &mut grads);
        assert_eq!(dx.as_slice(), [10.0, 10.0]); // 1 + 2 + 3 + 4 per pixel
        assert_eq!(grads.weight(), [11.0, 11.0, 11.0, 11.0]); // Σ x under each tap
    }

    #[test]
    fn transposed_backward_matches_finite_differences() {
        let mut rng = seeded(32);
        let up = ConvTranspose2d::<2, 3, 3, 2, 1, 1, f64>::init(&mut rng);
        check_module(&up, Tensor::<2, 2, 3, 4, f64>::uniform(&mut rng, -1.0, 1.0), 1e-6)
            .assert_below(1e-6);
        let up = ConvTranspose2d::<3, 2, 3, 1, 1, 0, f64>::init(&mut rng);
        check_module(&up, Tensor::<1, 3, 4, 3, f64>::uniform(&mut rng, -1.0, 1.0), 1e-6)
            .assert_below(1e-6);
    }
}
