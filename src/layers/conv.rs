//! `Conv2d`: 2-D cross-correlation with stride, zero padding and optional bias, as im2col + GEMM.
//!
//! The output size `(H + 2P − K)/S + 1` is computed in the type; the kernels in
//! [`crate::kernels::conv`] do the arithmetic. Square kernels, equal stride and padding on both axes.

use core::marker::PhantomData;
#[cfg(feature = "std")]
use rand::Rng;
use typenum::{Eq, IsEqual, Unsigned};

use crate::Float;
use crate::infer::{Infer, Name, SafeTensors, View, ViewError};
#[cfg(feature = "std")]
use crate::kernels::conv::{self, Source};
use crate::kernels::{Geom, embedded};
#[cfg(feature = "std")]
use crate::layers::LayerInput;
use crate::layers::weight_bias::WeightBias;
#[cfg(feature = "std")]
use crate::module::{Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike};
#[cfg(feature = "std")]
use crate::param::NoBias;
use crate::param::{Bias, BiasMode};
#[cfg(feature = "std")]
use crate::runtime::Storage;
use crate::shape::{
    ChannelsMatch, Decimal, Dims, Exact, Height, Num, Show, Size, Width, Window, WindowOut,
};
use crate::tensor::T4;

/// 2-D convolution (cross-correlation), computed as im2col followed by one GEMM per image.
///
/// **PyTorch equivalent**: `torch.nn.Conv2d(CIN, COUT, K, stride=S, padding=P)`; weights
/// `(COUT, CIN, K, K)`, bias `(COUT)`. `M` is the stride mode: [`Exact`] (default: a stride that
/// does not tile the padded input is a compile error) or [`crate::shape::Floor`] (PyTorch's rule).
///
/// # Shapes
/// - input: `(N, CIN, H, W)`
/// - output: `(N, COUT, HO, WO)` with `HO = (H + 2P − K)/S + 1`, same for `WO`
///
/// ```
/// use typed_cnn::prelude::*;
/// let conv = Conv2d::<1, 6, 5>::init(&mut rand::rng());
/// let y: Tensor<8, 6, 24, 20> = conv.forward(Tensor::<8, 1, 28, 24>::zeros());
/// # let _ = y;
/// ```
/// A wrong output size does not compile:
/// ```compile_fail,E0308
/// use typed_cnn::prelude::*;
/// let conv = Conv2d::<1, 6, 5>::init(&mut rand::rng());
/// let _: Tensor<8, 6, 25, 20> = conv.forward(Tensor::<8, 1, 28, 24>::zeros());
/// ```
#[derive(PartialEq)]
pub struct Conv2d<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize = 1,
    const P: usize = 0,
    M = Exact,
    E: Float = f32,
    B: BiasMode = Bias,
> {
    parts: WeightBias<E, B>,
    mode: PhantomData<M>,
}

impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    /// The number of weights, `COUT·CIN·K·K`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(<Conv2d<6, 16, 5>>::WEIGHT_LEN, 2400); // 16·6·5·5
    /// ```
    pub const WEIGHT_LEN: usize = COUT * CIN * K * K;

    /// The weights' shape, `(COUT, CIN, K, K)`.
    pub const WEIGHT_SHAPE: [usize; 4] = [COUT, CIN, K, K];

    /// A convolution with the given weights `(COUT, CIN, K, K)` and biases `(COUT)`: `Some`
    /// for a layer with [`Bias`] (the default), `None` for one with [`NoBias`].
    ///
    /// # Errors
    /// [`crate::LengthError`] if a length does not match the layer's type; a bias given to a
    /// [`NoBias`] layer counts as a tensor of shape `[0]`, a missing one as 0 values of `[COUT]`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// type NoBiasConv = Conv2d<1, 1, 2, 1, 0, Exact, f64, NoBias>;
    /// let conv = NoBiasConv::from_parts(vec![3., -1., 4., 2.], None).unwrap();
    /// let x = Tensor::<1, 1, 3, 3, f64>::from_slice(&[2., -3., 4., 1., -1., 2., -1., 2., 3.]).unwrap();
    /// assert_eq!(conv.forward(x).as_slice(), [11., -13., 4., 9.]);
    /// assert!(Conv2d::<1, 1, 2, 1, 0, Exact, f64>::from_parts(vec![0.0; 4], None).is_err());
    /// ```
    #[cfg(feature = "std")]
    pub fn from_parts(weight: Vec<E>, bias: Option<Vec<E>>) -> Result<Self, crate::LengthError> {
        let parts = WeightBias::from_parts(weight, bias, &Self::WEIGHT_SHAPE, COUT)?;
        Ok(Self { parts, mode: PhantomData })
    }

    /// The same layer without bias, as convolutions before batch norm usually are: the type
    /// changes to [`NoBias`].
    ///
    /// **PyTorch equivalent**: `torch.nn.Conv2d(…, bias=False)`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv: Conv2d<3, 8, 3, 1, 0, Exact, f32, NoBias> =
    ///     Conv2d::<3, 8, 3>::init(&mut rand::rng()).without_bias();
    /// assert_eq!(Params::<f32>::param_count(&conv), 8 * 3 * 3 * 3);
    /// ```
    #[cfg(feature = "std")]
    pub fn without_bias(self) -> Conv2d<CIN, COUT, K, S, P, M, E, NoBias> {
        Conv2d { parts: self.parts.without_bias(), mode: PhantomData }
    }

    /// The weights, `(COUT, CIN, K, K)` row-major.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2d::<1, 2, 1>::from_parts(vec![0.5, -1.0], Some(vec![0.0, 3.0])).unwrap();
    /// assert_eq!(conv.weight(), [0.5, -1.0]); // (COUT, CIN, K, K) = (2, 1, 1, 1)
    /// ```
    pub fn weight(&self) -> &[E] {
        &self.parts.weight
    }
    /// The weights, mutable.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut conv = Conv2d::<1, 1, 2>::init(&mut rand::rng()).without_bias();
    /// conv.weight_mut().fill(1.0); // each output is now the sum of its 2×2 window
    /// let x = Tensor::<1, 1, 3, 3>::from_fn(|_, _, h, w| (h * 3 + w + 1) as f32); // 1..=9
    /// assert_eq!(conv.forward(x).as_slice(), [12., 16., 24., 28.]); // 1 + 2 + 4 + 5 = 12, …
    /// ```
    #[cfg(feature = "std")]
    pub fn weight_mut(&mut self) -> &mut [E] {
        &mut self.parts.weight
    }
    /// The biases `(COUT)`, if the layer has them.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2d::<1, 2, 1>::from_parts(vec![1.0, 1.0], Some(vec![0.5, -0.5])).unwrap();
    /// assert_eq!(conv.bias(), Some(&[0.5, -0.5][..]));
    /// assert_eq!(conv.without_bias().bias(), None);
    /// ```
    pub fn bias(&self) -> Option<&[E]> {
        self.parts.bias.as_deref()
    }
    /// The biases, mutable.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let mut conv = Conv2d::<1, 1, 1>::from_parts(vec![2.0], Some(vec![0.0])).unwrap();
    /// conv.bias_mut().unwrap()[0] = 1.0;
    /// let y = conv.forward(Tensor::<1, 1, 1, 2>::from_slice(&[3.0, -1.0]).unwrap());
    /// assert_eq!(y.as_slice(), [7.0, -1.0]); // 2·3 + 1, 2·(−1) + 1
    /// ```
    #[cfg(feature = "std")]
    pub fn bias_mut(&mut self) -> Option<&mut [E]> {
        self.parts.bias.as_deref_mut()
    }
}

impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> Clone for Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    fn clone(&self) -> Self {
        Self { parts: self.parts.clone(), mode: PhantomData }
    }
}

impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> core::fmt::Debug for Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Conv2d({CIN} → {COUT}, k={K}, s={S}, p={P}, bias={})", B::ON)
    }
}

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> Init for Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    /// PyTorch's default init: `U(±1/√(CIN·K·K))` for weights and biases.
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let parts = WeightBias::init(&Self::WEIGHT_SHAPE, COUT, CIN * K * K, rng);
        Self { parts, mode: PhantomData }
    }
}

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> Default for Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    /// Zero weights and biases (to load weights into).
    fn default() -> Self {
        Self { parts: WeightBias::zeros(&Self::WEIGHT_SHAPE, COUT), mode: PhantomData }
    }
}

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> Params<E> for Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        self.parts.visit(prefix, &Self::WEIGHT_SHAPE, f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        self.parts.visit_mut(prefix, &Self::WEIGHT_SHAPE, f);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
        self.parts.visit_with_grads(&grads.parts, f);
    }
}

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> ZerosLike for Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    fn zeros_like_impl(&self) -> Self {
        Self { parts: self.parts.zeros_like(), mode: PhantomData }
    }
}

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> LayerInput<Conv2d<CIN, COUT, K, S, P, M, E, B>> for T4<E, N, C, H, W>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>: ChannelsMatch<Conv2d<CIN, COUT, K, S, P, M, E, B>, CIN, Show<C>>,
    H: Unsigned + Window<Conv2d<CIN, COUT, K, S, P, M, E, B>, Height, K, S, P, M>,
    W: Unsigned + Window<Conv2d<CIN, COUT, K, S, P, M, E, B>, Width, K, S, P, M>,
{
    type Output = T4<
        E,
        N,
        Num<COUT>,
        WindowOut<H, Conv2d<CIN, COUT, K, S, P, M, E, B>, Height, K, S, P, M>,
        WindowOut<W, Conv2d<CIN, COUT, K, S, P, M, E, B>, Width, K, S, P, M>,
    >;
    /// The im2col columns of every image, `N·CIN·K·K·HO·WO`, computed once in the training
    /// forward and read by backward; or the input itself where [`conv::keeps_input`] says so
    /// (1×1 kernels, and few output channels on a small window).
    type Cache = Storage<E>;

    fn forward(layer: &Conv2d<CIN, COUT, K, S, P, M, E, B>, x: Self) -> Self::Output {
        let g = Geom::new(CIN, H::USIZE, W::USIZE, K, S, P);
        let mut y = Self::Output::overwritten();
        conv::forward(
            &g,
            N,
            COUT,
            x.as_slice(),
            layer.weight(),
            layer.bias(),
            y.as_mut_slice(),
            None,
        );
        y
    }

    fn train(layer: &Conv2d<CIN, COUT, K, S, P, M, E, B>, x: Self) -> (Self::Output, Self::Cache) {
        let g = Geom::new(CIN, H::USIZE, W::USIZE, K, S, P);
        let mut y = Self::Output::overwritten();
        if conv::keeps_input(&g, COUT) {
            // the columns are the input itself, or the kernels need none: keep the input
            conv::forward(
                &g,
                N,
                COUT,
                x.as_slice(),
                layer.weight(),
                layer.bias(),
                y.as_mut_slice(),
                None,
            );
            return (y, x.into_storage());
        }
        let mut cols = Storage::uninit(N * CIN * K * K * g.ho * g.wo);
        let keep = Some(&mut cols[..]);
        conv::forward(
            &g,
            N,
            COUT,
            x.as_slice(),
            layer.weight(),
            layer.bias(),
            y.as_mut_slice(),
            keep,
        );
        (y, cols)
    }

    #[track_caller]
    fn backward(
        layer: &Conv2d<CIN, COUT, K, S, P, M, E, B>,
        cols: Self::Cache,
        dy: Self::Output,
        grads: &mut Conv2d<CIN, COUT, K, S, P, M, E, B>,
    ) -> Self {
        let mut dx = T4::zeros();
        let size = (N, H::USIZE, W::USIZE);
        layer.backward_into(size, cols, dy.into_storage(), grads, Some(dx.as_mut_slice()));
        dx
    }

    /// No input gradient: no `Wᵀ·dY` GEMM and no col2im.
    #[track_caller]
    fn backward_params(
        layer: &Conv2d<CIN, COUT, K, S, P, M, E, B>,
        cols: Self::Cache,
        dy: Self::Output,
        grads: &mut Conv2d<CIN, COUT, K, S, P, M, E, B>,
    ) {
        layer.backward_into((N, H::USIZE, W::USIZE), cols, dy.into_storage(), grads, None);
    }
}

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    /// The backward pass for an input of `(n, h, w)` images: parameter gradients into `grads`,
    /// the input gradient into `dx` if given.
    #[track_caller]
    fn backward_into(
        &self,
        (n, h, w): (usize, usize, usize),
        cols: Storage<E>,
        dy: Storage<E>,
        grads: &mut Self,
        dx: Option<&mut [E]>,
    ) {
        let g = Geom::new(CIN, h, w, K, S, P);
        let source =
            if conv::keeps_input(&g, COUT) { Source::Input(&cols) } else { Source::Cols(&cols) };
        conv::backward(
            &g,
            n,
            COUT,
            source,
            self.weight(),
            &dy,
            dx,
            &mut grads.parts.weight,
            grads.parts.bias.as_deref_mut(),
        );
    }
}

impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> Infer<T4<E, N, C, H, W>> for Conv2d<CIN, COUT, K, S, P, M, E, B>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>: ChannelsMatch<Conv2d<CIN, COUT, K, S, P, M, E, B>, CIN, Show<C>>,
    H: Unsigned + Window<Conv2d<CIN, COUT, K, S, P, M, E, B>, Height, K, S, P, M>,
    W: Unsigned + Window<Conv2d<CIN, COUT, K, S, P, M, E, B>, Width, K, S, P, M>,
{
    type Output = T4<
        E,
        N,
        Num<COUT>,
        WindowOut<H, Conv2d<CIN, COUT, K, S, P, M, E, B>, Height, K, S, P, M>,
        WindowOut<W, Conv2d<CIN, COUT, K, S, P, M, E, B>, Width, K, S, P, M>,
    >;
    const WEIGHTS: usize = WeightBias::<E, B>::count(COUT * CIN * K * K, COUT);

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        let g = Geom::new(CIN, H::USIZE, W::USIZE, K, S, P);
        embedded::conv2d_sized::<E, K, K>(&g, N, COUT, 1, x, self.weight(), self.bias(), y);
    }
}

impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    M,
    E: Float,
    B: BiasMode,
> View for Conv2d<CIN, COUT, K, S, P, M, E, B>
{
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
        let parts = WeightBias::view(file, prefix, &Self::WEIGHT_SHAPE, COUT)?;
        Ok(Self { parts, mode: PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::{assert_close, seeded};

    /// The seeds' hand-worked example: X 3×3, W 2×2, no bias, upstream dJ/dV given.
    #[test]
    fn conv_hand_worked_3x3_input_2x2_filter() {
        let conv =
            Conv2d::<1, 1, 2, 1, 0, Exact, f64, NoBias>::from_parts(vec![3., -1., 4., 2.], None)
                .unwrap();
        #[rustfmt::skip]
        let x = Tensor::<1, 1, 3, 3, f64>::from_slice(&[
            2., -3., 4.,
            1., -1., 2.,
            -1., 2., 3.,
        ]).unwrap();
        let (v, trace) = conv.forward_train(x);
        assert_eq!(v.as_slice(), [11., -13., 4., 9.]);
        let dv = Tensor::<1, 1, 2, 2, f64>::from_slice(&[3., -2., 1., -1.]).unwrap();
        let mut grads = conv.zeros_like();
        let dx = conv.backward(trace, dv, &mut grads);
        assert_eq!(grads.weight(), [14., -20., 2., -8.]);
        assert_eq!(grads.bias(), None);
        #[rustfmt::skip]
        assert_eq!(dx.as_slice(), [
            9., -9., 2.,
            15., -6., -3.,
            4., -2., -2.,
        ]);
    }

    /// x = 1..9, w = [[1, 2], [3, 4]], b = 1, upstream all ones.
    #[test]
    fn conv_hand_worked_with_bias() {
        let conv =
            Conv2d::<1, 1, 2, 1, 0, Exact, f64>::from_parts(vec![1., 2., 3., 4.], Some(vec![1.]))
                .unwrap();
        let x = Tensor::<1, 1, 3, 3, f64>::from_fn(|_, _, h, w| (h * 3 + w + 1) as f64);
        let (y, trace) = conv.forward_train(x);
        assert_eq!(y.as_slice(), [38., 48., 68., 78.]);
        let mut grads = conv.zeros_like();
        let dx = conv.backward(trace, T4::filled(1.0), &mut grads);
        assert_eq!(grads.weight(), [12., 16., 24., 28.]);
        assert_eq!(grads.bias(), Some(&[4.][..]));
        assert_eq!(dx.as_slice(), [1., 3., 2., 4., 10., 6., 3., 7., 4.]);
    }

    #[test]
    fn conv_parameter_count_ten_5x5_filters_on_3_channels_is_760() {
        let conv = Conv2d::<3, 10, 5>::init(&mut seeded(0));
        assert_eq!(Params::<f32>::param_count(&conv), 760);
    }

    #[test]
    fn conv_backward_matches_finite_differences_stride2_padding1() {
        let mut rng = seeded(7);
        let conv = Conv2d::<2, 3, 3, 2, 1, Exact, f64>::init(&mut rng);
        let x = Tensor::<2, 2, 5, 7, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&conv, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn conv_backward_matches_finite_differences_1x1_no_bias_and_floor_mode() {
        let mut rng = seeded(8);
        let conv = Conv2d::<3, 2, 1, 1, 0, Exact, f64>::init(&mut rng).without_bias();
        check_module(&conv, Tensor::<1, 3, 4, 6, f64>::uniform(&mut rng, -1.0, 1.0), 1e-6)
            .assert_below(1e-6);
        // 7×8 input, kernel 3, stride 3, padding 0: 7 − 3 = 4 is not a multiple of 3 (floor).
        let conv = Conv2d::<2, 2, 3, 3, 0, Floor, f64>::init(&mut rng);
        let x = Tensor::<2, 2, 7, 8, f64>::uniform(&mut rng, -1.0, 1.0);
        let y = conv.forward(x.clone());
        assert_eq!(y.shape(), [2, 2, 2, 2]);
        check_module(&conv, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn conv_f32_agrees_with_f64() {
        let mut rng = seeded(9);
        let conv64 = Conv2d::<3, 4, 3, 1, 1, Exact, f64>::init(&mut rng);
        let x64 = Tensor::<2, 3, 6, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        let conv32 = Conv2d::<3, 4, 3, 1, 1, Exact, f32>::from_parts(
            conv64.weight().iter().map(|&v| v as f32).collect(),
            conv64.bias().map(|b| b.iter().map(|&v| v as f32).collect()),
        )
        .unwrap();
        let y64 = conv64.forward(x64.clone());
        let y32 = conv32.forward(x64.cast::<f32>());
        assert_close(y32.as_slice(), y64.as_slice());
    }
}
