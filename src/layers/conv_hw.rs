//! `Conv2dHW`: convolution whose kernel, stride, padding and dilation are given per axis, as
//! PyTorch's `(height, width)` tuples, and `DilatedConv2d`, its square dilated case.
//!
//! Same kernels as [`Conv2d`](super::Conv2d) (im2col + GEMM), with the window described by
//! [`Geom::rect`]; the output size `(H + 2PH − DH·(KH − 1) − 1)/SH + 1` (and the same along the
//! width) is computed in the type by [`DilatedWindow`].

use core::marker::PhantomData;
#[cfg(feature = "std")]
use rand::Rng;
use typenum::{Eq, IsEqual, Unsigned};

use super::weight_bias::WeightBias;
use crate::Float;
use crate::infer::{Infer, Name, SafeTensors, View, ViewError};
#[cfg(feature = "std")]
use crate::kernels::conv::{self, Source};
use crate::kernels::{Geom, embedded};
#[cfg(feature = "std")]
use crate::layers::LayerInput;
#[cfg(feature = "std")]
use crate::module::{Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike};
#[cfg(feature = "std")]
use crate::param::NoBias;
use crate::param::{Bias, BiasMode};
#[cfg(feature = "std")]
use crate::runtime::Storage;
use crate::shape::{
    ChannelsMatch, Decimal, DilatedOut, DilatedWindow, Dims, Exact, Height, Num, Show, Size, Width,
};
use crate::tensor::T4;

/// 2-D convolution with a `KH × KW` kernel, strides `(SH, SW)`, paddings `(PH, PW)` and dilations
/// `(DH, DW)`: every geometry parameter per axis, height first. [`Conv2d`](super::Conv2d) is the
/// short spelling of the square, undilated case.
///
/// **PyTorch equivalent**: `torch.nn.Conv2d(CIN, COUT, (KH, KW), stride=(SH, SW),
/// padding=(PH, PW), dilation=(DH, DW))`; weights `(COUT, CIN, KH, KW)`, bias `(COUT)`. `M` is
/// the stride mode, as for `Conv2d` ([`Exact`] by default, or [`crate::shape::Floor`]).
///
/// A kernel of `K` taps `D` apart spans `D·(K − 1) + 1` input rows (or columns), so
///
/// - output height `HO = (H + 2PH − DH·(KH − 1) − 1)/SH + 1`, width likewise;
/// - a dilated 3×3 kernel with padding equal to its dilation keeps the size, as in DeepLab.
///
/// ```
/// use typed_cnn::prelude::*;
/// // Inception's factorised 7×7: a 1×7 then a 7×1 kernel, each padded to keep 17×17
/// let row = Conv2dHW::<64, 64, 1, 7, 1, 1, 0, 3>::init(&mut rand::rng());
/// let col = Conv2dHW::<64, 64, 7, 1, 1, 1, 3, 0>::init(&mut rand::rng());
/// let y: Tensor<1, 64, 17, 17> = col.forward(row.forward(Tensor::<1, 64, 17, 17>::zeros()));
/// # let _ = y;
/// assert_eq!(Params::<f32>::param_count(&row), 64 * 64 * 7 + 64);
/// ```
/// A size the window does not tile is a compile error naming the numbers:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // stride 2 on the width: (10 + 2·1 − 3) = 9 columns do not tile by 2
/// let conv = Conv2dHW::<1, 1, 3, 3, 1, 2, 1, 1>::init(&mut rand::rng());
/// let _ = conv.forward(Tensor::<1, 1, 8, 10>::zeros());
/// ```
pub struct Conv2dHW<
    const CIN: usize,
    const COUT: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize = 1,
    const SW: usize = 1,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
    M = Exact,
    E: Float = f32,
    B: BiasMode = Bias,
> {
    parts: WeightBias<E, B>,
    mode: PhantomData<M>,
}

/// Square convolution with dilation `D`: the kernel's `K × K` taps are `D` pixels apart, so it
/// sees a `D·(K − 1) + 1` square window. [`Conv2dHW`] with the same kernel, stride, padding and
/// dilation on both axes.
///
/// **PyTorch equivalent**: `torch.nn.Conv2d(CIN, COUT, K, stride=S, padding=P, dilation=D)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// // DeepLab's atrous 3×3 with dilation 2, padded 2: the 5×5 reach keeps the size
/// let atrous = DilatedConv2d::<16, 16, 3, 2, 1, 2>::init(&mut rand::rng());
/// let y: Tensor<1, 16, 33, 33> = atrous.forward(Tensor::<1, 16, 33, 33>::zeros());
/// # let _ = y;
/// ```
/// A reach larger than the padded input does not compile:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// // 3 taps 4 apart span 9 rows; the input has 6
/// let conv = DilatedConv2d::<1, 1, 3, 4>::init(&mut rand::rng());
/// let _ = conv.forward(Tensor::<1, 1, 6, 6>::zeros());
/// ```
pub type DilatedConv2d<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const D: usize,
    const S: usize = 1,
    const P: usize = 0,
    M = Exact,
    E = f32,
    B = Bias,
> = Conv2dHW<CIN, COUT, K, K, S, S, P, P, D, D, M, E, B>;

/// `impl<…> $trait for Conv2dHW<…> { … }` (or, without a trait, the inherent impl) with the
/// layer's thirteen generic parameters.
macro_rules! conv_hw_impl {
    ($(#[$a:meta])* $($trait:path)? { $($body:tt)* }) => {
        $(#[$a])*
        impl<
            const CIN: usize,
            const COUT: usize,
            const KH: usize,
            const KW: usize,
            const SH: usize,
            const SW: usize,
            const PH: usize,
            const PW: usize,
            const DH: usize,
            const DW: usize,
            M,
            E: Float,
            B: BiasMode,
        > $($trait for)? Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>
        {
            $($body)*
        }
    };
}

conv_hw_impl! { Clone {
    fn clone(&self) -> Self {
        Self { parts: self.parts.clone(), mode: PhantomData }
    }
}}

conv_hw_impl! { PartialEq {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}}

conv_hw_impl! { core::fmt::Debug {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Conv2dHW({CIN} → {COUT}, k=({KH}, {KW}), s=({SH}, {SW}), p=({PH}, {PW}), \
             d=({DH}, {DW}), bias={})",
            B::ON
        )
    }
}}

conv_hw_impl! { #[cfg(feature = "std")] Default {
    /// Zero weights and biases (to load weights into).
    fn default() -> Self {
        Self { parts: WeightBias::zeros(&Self::WEIGHT_SHAPE, COUT), mode: PhantomData }
    }
}}

conv_hw_impl! { #[cfg(feature = "std")] Init {
    /// PyTorch's default init: `U(±1/√(CIN·KH·KW))` for weights and biases.
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let parts = WeightBias::init(&Self::WEIGHT_SHAPE, COUT, CIN * KH * KW, rng);
        Self { parts, mode: PhantomData }
    }
}}

conv_hw_impl! { #[cfg(feature = "std")] Params<E> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        self.parts.visit(prefix, &Self::WEIGHT_SHAPE, f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        self.parts.visit_mut(prefix, &Self::WEIGHT_SHAPE, f);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
        self.parts.visit_with_grads(&grads.parts, f);
    }
}}

conv_hw_impl! { #[cfg(feature = "std")] ZerosLike {
    fn zeros_like_impl(&self) -> Self {
        Self { parts: self.parts.zeros_like(), mode: PhantomData }
    }
}}

conv_hw_impl! { {
    /// The weights' shape, `(COUT, CIN, KH, KW)`.
    pub const WEIGHT_SHAPE: [usize; 4] = [COUT, CIN, KH, KW];

    /// A convolution with the given weights `(COUT, CIN, KH, KW)` and biases `(COUT)`: `Some`
    /// for a layer with [`Bias`] (the default), `None` for one with [`NoBias`].
    ///
    /// # Errors
    /// [`crate::LengthError`] if a length does not match the layer's type.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// // a 1×2 kernel [1, 10] with dilation 2 along the width: x[i, j] + 10·x[i, j + 2]
    /// type Taps = Conv2dHW<1, 1, 1, 2, 1, 1, 0, 0, 1, 2, Exact, f64, NoBias>;
    /// let conv = Taps::from_parts(vec![1., 10.], None).unwrap();
    /// let x = Tensor::<1, 1, 2, 3, f64>::from_slice(&[1., 2., 3., 4., 5., 6.]).unwrap();
    /// assert_eq!(conv.forward(x).as_slice(), [31., 64.]); // 1 + 10·3, 4 + 10·6
    /// let err = Taps::from_parts(vec![1.; 3], None).unwrap_err();
    /// assert_eq!(err.to_string(), "a tensor of shape [1, 1, 1, 2] holds 2 elements, but 3 were given");
    /// ```
    #[cfg(feature = "std")]
    pub fn from_parts(weight: Vec<E>, bias: Option<Vec<E>>) -> Result<Self, crate::LengthError> {
        let parts = WeightBias::from_parts(weight, bias, &Self::WEIGHT_SHAPE, COUT)?;
        Ok(Self { parts, mode: PhantomData })
    }

    /// The same layer without bias (PyTorch's `bias=False`): the type changes to [`NoBias`].
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2dHW::<3, 8, 1, 3>::init(&mut rand::rng()).without_bias();
    /// assert_eq!(Params::<f32>::param_count(&conv), 8 * 3 * 3);
    /// ```
    #[cfg(feature = "std")]
    pub fn without_bias(self) -> Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, NoBias> {
        Conv2dHW { parts: self.parts.without_bias(), mode: PhantomData }
    }

    crate::layers::weight_bias::accessors!("(COUT, CIN, KH, KW)");

    fn geom(h: usize, w: usize) -> Geom {
        Geom::rect(CIN, h, w, [KH, KW], [SH, SW], [PH, PW], [DH, DW])
    }

    /// The backward pass for `n` images of `h × w`: parameter gradients into `grads`, the input
    /// gradient into `dx` if given.
    #[cfg(feature = "std")]
    #[track_caller]
    #[allow(clippy::too_many_arguments, reason = "the sizes and the four buffers")]
    fn backward_into(
        &self,
        n: usize,
        h: usize,
        w: usize,
        cols: &[E],
        dy: &[E],
        grads: &mut Self,
        dx: Option<&mut [E]>,
    ) {
        let g = Self::geom(h, w);
        let parts = &mut grads.parts;
        let (dweight, dbias) = (&mut parts.weight, parts.bias.as_deref_mut());
        let source = if conv::keeps_input(&g, COUT) { Source::Input(cols) } else { Source::Cols(cols) };
        conv::backward(&g, n, COUT, source, self.weight(), dy, dx, dweight, dbias);
    }
}}

impl<
    const CIN: usize,
    const COUT: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    M,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> Infer<T4<E, N, C, H, W>> for Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>:
        ChannelsMatch<Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>, CIN, Show<C>>,
    H: Unsigned
        + DilatedWindow<
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Height,
            KH,
            SH,
            PH,
            DH,
            M,
        >,
    W: Unsigned
        + DilatedWindow<
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Width,
            KW,
            SW,
            PW,
            DW,
            M,
        >,
{
    type Output = T4<
        E,
        N,
        Num<COUT>,
        DilatedOut<
            H,
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Height,
            KH,
            SH,
            PH,
            DH,
            M,
        >,
        DilatedOut<
            W,
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Width,
            KW,
            SW,
            PW,
            DW,
            M,
        >,
    >;
    const WEIGHTS: usize = WeightBias::<E, B>::count(COUT * CIN * KH * KW, COUT);

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        let g = Self::geom(H::USIZE, W::USIZE);
        embedded::conv2d_sized::<E, KH, KW>(&g, N, COUT, 1, x, self.weight(), self.bias(), y);
    }
}

conv_hw_impl! { View {
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
        let parts = WeightBias::view(file, prefix, &Self::WEIGHT_SHAPE, COUT)?;
        Ok(Self { parts, mode: PhantomData })
    }
}}

#[cfg(feature = "std")]
impl<
    const CIN: usize,
    const COUT: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    M,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> LayerInput<Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>> for T4<E, N, C, H, W>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>:
        ChannelsMatch<Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>, CIN, Show<C>>,
    H: Unsigned
        + DilatedWindow<
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Height,
            KH,
            SH,
            PH,
            DH,
            M,
        >,
    W: Unsigned
        + DilatedWindow<
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Width,
            KW,
            SW,
            PW,
            DW,
            M,
        >,
{
    type Output = T4<
        E,
        N,
        Num<COUT>,
        DilatedOut<
            H,
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Height,
            KH,
            SH,
            PH,
            DH,
            M,
        >,
        DilatedOut<
            W,
            Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
            Width,
            KW,
            SW,
            PW,
            DW,
            M,
        >,
    >;
    /// The im2col columns of every image, `N·CIN·KH·KW·HO·WO` (the input itself for a 1×1,
    /// stride-1, unpadded kernel).
    type Cache = Storage<E>;

    fn forward(
        layer: &Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
        x: Self,
    ) -> Self::Output {
        let g = Conv2dHW::<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>::geom(
            H::USIZE,
            W::USIZE,
        );
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

    fn train(
        layer: &Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
        x: Self,
    ) -> (Self::Output, Self::Cache) {
        let g = Conv2dHW::<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>::geom(
            H::USIZE,
            W::USIZE,
        );
        let mut y = Self::Output::overwritten();
        let (w, b) = (layer.weight(), layer.bias());
        if conv::keeps_input(&g, COUT) {
            // the columns are the input itself, or the kernels need none: keep the input
            conv::forward(&g, N, COUT, x.as_slice(), w, b, y.as_mut_slice(), None);
            return (y, x.into_storage());
        }
        let mut cols = Storage::uninit(N * CIN * g.taps() * g.ho * g.wo);
        conv::forward(&g, N, COUT, x.as_slice(), w, b, y.as_mut_slice(), Some(&mut cols[..]));
        (y, cols)
    }

    #[track_caller]
    fn backward(
        layer: &Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
        cols: Self::Cache,
        dy: Self::Output,
        grads: &mut Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
    ) -> Self {
        let mut dx = T4::zeros();
        layer.backward_into(
            N,
            H::USIZE,
            W::USIZE,
            &cols,
            dy.as_slice(),
            grads,
            Some(dx.as_mut_slice()),
        );
        dx
    }

    /// No input gradient: no `Wᵀ·dY` GEMM and no col2im.
    #[track_caller]
    fn backward_params(
        layer: &Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
        cols: Self::Cache,
        dy: Self::Output,
        grads: &mut Conv2dHW<CIN, COUT, KH, KW, SH, SW, PH, PW, DH, DW, M, E, B>,
    ) {
        layer.backward_into(N, H::USIZE, W::USIZE, &cols, dy.as_slice(), grads, None);
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::{assert_close, seeded};

    /// Training computes the outputs inference does, bit for bit, whichever kernel the shape
    /// picks: the direct kernel (few output channels), Winograd (3×3, 16 channels), im2col.
    #[test]
    fn training_and_inference_forward_agree_bit_for_bit() {
        macro_rules! check {
            ($cin:literal, $layer:ty) => {{
                let layer = <$layer>::init(&mut seeded(1));
                let x = Tensor::<2, $cin, 9, 21>::uniform(&mut seeded(5), -1.0, 1.0);
                assert_eq!(layer.forward_train(x.clone()).0, layer.forward(x));
            }};
        }
        check!(3, Conv2dHW<3, 4, 3, 3, 1, 1, 1, 1, 1, 1>);
        check!(16, Conv2dHW<16, 16, 3, 3, 1, 1, 1, 1, 1, 1>);
        check!(16, Conv2dHW<16, 16, 3, 3, 2, 1, 1, 1, 1, 1, Floor>);
    }

    /// A 2×1 kernel [1, 2] with dilation 2 down the height and stride 2 across the width, padding
    /// (1, 0), on a 3×4 input 1..=12: the taps of output (i, j) are rows i − 1 and i + 1 of
    /// column 2j, the row −1 and row 3 being zero padding.
    #[test]
    fn conv_hw_hand_worked_dilated_strided_padded() {
        // floor mode: the 4 columns leave a remainder at stride 2 (column 3 is never seen)
        type L = Conv2dHW<1, 1, 2, 1, 1, 2, 1, 0, 2, 1, Floor, f64>;
        let conv = L::from_parts(vec![1., 2.], Some(vec![0.5])).unwrap();
        let x = Tensor::<1, 1, 3, 4, f64>::from_fn(|_, _, h, w| (h * 4 + w + 1) as f64);
        // HO = (3 + 2 − 2·1 − 1)/1 + 1 = 3, WO = (4 − 1)/2 + 1 = 2
        let (y, trace): (Tensor<1, 1, 3, 2, f64>, _) = conv.forward_train(x);
        // row 0: 1·0 + 2·x[1, ·] = 2·5, 2·7; row 1: x[0] + 2·x[2] = 1 + 18, 3 + 22;
        // row 2: x[1] + 2·0 = 5, 7; each + 0.5
        assert_eq!(y.as_slice(), [10.5, 14.5, 19.5, 25.5, 5.5, 7.5]);
        let mut grads = conv.zeros_like();
        let dy = Tensor::<1, 1, 3, 2, f64>::from_slice(&[1., 0., 0., 1., 1., 0.]).unwrap();
        let dx = conv.backward(trace, dy, &mut grads);
        // dW[0] (top tap) = Σ dy·x[i − 1, 2j] = 0 (row 0 padded) + x[0, 2]·1 + x[1, 0]·1 = 3 + 5
        // dW[1] (bottom tap) = Σ dy·x[i + 1, 2j] = x[1, 0]·1 + x[2, 2]·1 + 0 = 5 + 11
        assert_eq!(grads.weight(), [8., 16.]);
        assert_eq!(grads.bias(), Some(&[3.][..]));
        // dx[r, c]: from output (r + 1, c/2) through the top tap and (r − 1, c/2) through the
        // bottom one: dx[0, 2] = 1·dy[1, 1] = 1, dx[1, 0] = 1·dy[2, 0] + 2·dy[0, 0] = 3,
        // dx[2, 2] = 2·dy[1, 1] = 2
        assert_eq!(dx.as_slice(), [0., 0., 1., 0., 3., 0., 0., 0., 0., 0., 2., 0.]);
    }

    #[test]
    fn conv_hw_backward_matches_finite_differences() {
        let mut rng = seeded(71);
        // (1, 3) kernel, strides (2, 1), paddings (1, 2), dilations (1, 2), floor mode
        let conv = Conv2dHW::<2, 3, 1, 3, 2, 1, 1, 2, 1, 2, Floor, f64>::init(&mut rng);
        let x = Tensor::<2, 2, 6, 7, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&conv, x, 1e-6).assert_below(1e-6);
        let dilated = DilatedConv2d::<3, 2, 3, 2, 1, 2, Exact, f64>::init(&mut rng).without_bias();
        let x = Tensor::<1, 3, 5, 6, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&dilated, x, 1e-6).assert_below(1e-6);
    }

    /// The square, undilated case is `Conv2d`, bit for bit.
    #[test]
    fn conv_hw_square_is_conv2d() {
        let mut rng = seeded(72);
        let conv = Conv2d::<3, 4, 3, 2, 1, Exact, f64>::init(&mut rng);
        let hw = Conv2dHW::<3, 4, 3, 3, 2, 2, 1, 1, 1, 1, Exact, f64>::from_parts(
            conv.weight().to_vec(),
            conv.bias().map(<[f64]>::to_vec),
        )
        .unwrap();
        let x = Tensor::<2, 3, 7, 9, f64>::uniform(&mut rng, -1.0, 1.0);
        assert_eq!(conv.forward(x.clone()).as_slice(), hw.forward(x).as_slice());
    }

    #[test]
    fn conv_hw_f32_agrees_with_f64() {
        let mut rng = seeded(73);
        let c64 = Conv2dHW::<3, 4, 3, 1, 1, 2, 2, 0, 2, 1, Floor, f64>::init(&mut rng);
        let c32 = Conv2dHW::<3, 4, 3, 1, 1, 2, 2, 0, 2, 1, Floor, f32>::from_parts(
            c64.weight().iter().map(|&v| v as f32).collect(),
            c64.bias().map(|b| b.iter().map(|&v| v as f32).collect()),
        )
        .unwrap();
        let x = Tensor::<2, 3, 8, 9, f64>::uniform(&mut rng, -1.0, 1.0);
        assert_close(c32.forward(x.cast::<f32>()).as_slice(), c64.forward(x).as_slice());
    }

    #[test]
    fn conv_hw_names_and_shapes_are_pytorch_s() {
        let conv = Conv2dHW::<3, 5, 1, 7>::default();
        let mut seen = Vec::new();
        Params::<f32>::visit(&conv, "conv", &mut |name, shape, _| {
            seen.push((name.to_string(), shape.to_vec()))
        });
        let want = [("conv.weight".to_string(), vec![5, 3, 1, 7]), ("conv.bias".into(), vec![5])];
        assert_eq!(seen, want);
        assert_eq!(
            format!("{conv:?}"),
            "Conv2dHW(3 → 5, k=(1, 7), s=(1, 1), p=(0, 0), d=(1, 1), bias=true)"
        );
    }
}
