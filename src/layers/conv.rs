//! `Conv2d`: 2-D cross-correlation with stride, zero padding and optional bias, as im2col + GEMM.
//!
//! The output size `(H + 2P − K)/S + 1` is computed in the type; the kernels in
//! [`crate::kernels::conv`] do the arithmetic. Square kernels, equal stride and padding on both axes.

use core::marker::PhantomData;
use rand::Rng;
use typenum::{Const, Eq, IsEqual, ToUInt, U, Unsigned};

use crate::Float;
use crate::init::Fill;
use crate::kernels::Geom;
use crate::kernels::conv::{self, Source};
use crate::module::{Forward, Init, PairFn, ParamFn, ParamFnMut, Params, ZerosLike, join};
use crate::runtime::Storage;
use crate::shape::{ChannelsMatch, Decimal, Exact, Height, Show, Width, Window, WindowOut};
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
> {
    weight: Storage<E>,
    bias: Option<Storage<E>>,
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
> Conv2d<CIN, COUT, K, S, P, M, E>
{
    /// The number of weights, `COUT·CIN·K·K`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(<Conv2d<6, 16, 5>>::WEIGHT_LEN, 2400); // 16·6·5·5
    /// ```
    pub const WEIGHT_LEN: usize = COUT * CIN * K * K;

    /// A convolution with the given weights `(COUT, CIN, K, K)` and optional biases `(COUT)`.
    ///
    /// # Errors
    /// [`crate::LengthError`] if a length does not match the layer's type.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2d::<1, 1, 2, 1, 0, Exact, f64>::from_parts(vec![3., -1., 4., 2.], None).unwrap();
    /// let x = Tensor::<1, 1, 3, 3, f64>::from_slice(&[2., -3., 4., 1., -1., 2., -1., 2., 3.]).unwrap();
    /// assert_eq!(conv.forward(x).as_slice(), [11., -13., 4., 9.]);
    /// ```
    pub fn from_parts(weight: Vec<E>, bias: Option<Vec<E>>) -> Result<Self, crate::LengthError> {
        if weight.len() != Self::WEIGHT_LEN {
            return Err(crate::LengthError {
                shape: vec![COUT, CIN, K, K],
                expected: Self::WEIGHT_LEN,
                found: weight.len(),
            });
        }
        if let Some(b) = &bias
            && b.len() != COUT
        {
            return Err(crate::LengthError { shape: vec![COUT], expected: COUT, found: b.len() });
        }
        Ok(Self { weight: weight.into(), bias: bias.map(Storage::from), mode: PhantomData })
    }

    /// The same layer without bias (as convolutions before batch norm usually are).
    ///
    /// **PyTorch equivalent**: `torch.nn.Conv2d(…, bias=False)`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2d::<3, 8, 3>::init(&mut rand::rng()).without_bias();
    /// assert_eq!(Params::<f32>::param_count(&conv), 8 * 3 * 3 * 3);
    /// ```
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// The weights, `(COUT, CIN, K, K)` row-major.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let conv = Conv2d::<1, 2, 1>::from_parts(vec![0.5, -1.0], Some(vec![0.0, 3.0])).unwrap();
    /// assert_eq!(conv.weight(), [0.5, -1.0]); // (COUT, CIN, K, K) = (2, 1, 1, 1)
    /// ```
    pub fn weight(&self) -> &[E] {
        &self.weight
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
    pub fn weight_mut(&mut self) -> &mut [E] {
        &mut self.weight
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
        self.bias.as_deref()
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
    pub fn bias_mut(&mut self) -> Option<&mut [E]> {
        self.bias.as_deref_mut()
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
> Clone for Conv2d<CIN, COUT, K, S, P, M, E>
{
    fn clone(&self) -> Self {
        Self { weight: self.weight.clone(), bias: self.bias.clone(), mode: PhantomData }
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
> core::fmt::Debug for Conv2d<CIN, COUT, K, S, P, M, E>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Conv2d({CIN} → {COUT}, k={K}, s={S}, p={P}, bias={})", self.bias.is_some())
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
> Init for Conv2d<CIN, COUT, K, S, P, M, E>
{
    /// PyTorch's default init: `U(±1/√(CIN·K·K))` for weights and biases.
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut layer = Self::default();
        let fill = Fill::PyTorch { fan_in: CIN * K * K };
        fill.apply(&mut layer.weight, rng);
        fill.apply(layer.bias.as_deref_mut().expect("Default has a bias"), rng);
        layer
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
> Default for Conv2d<CIN, COUT, K, S, P, M, E>
{
    /// Zero weights and biases (to load weights into).
    fn default() -> Self {
        let (weight, bias) = (Storage::zeros(Self::WEIGHT_LEN), Some(Storage::zeros(COUT)));
        Self { weight, bias, mode: PhantomData }
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
> Params<E> for Conv2d<CIN, COUT, K, S, P, M, E>
{
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        f(&join(prefix, "weight"), &[COUT, CIN, K, K], &self.weight);
        if let Some(b) = &self.bias {
            f(&join(prefix, "bias"), &[COUT], b);
        }
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        f(&join(prefix, "weight"), &[COUT, CIN, K, K], &mut self.weight);
        if let Some(b) = &mut self.bias {
            f(&join(prefix, "bias"), &[COUT], b);
        }
    }
    #[track_caller]
    fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
        f(&mut self.weight, &grads.weight);
        match (&mut self.bias, &grads.bias) {
            (Some(b), Some(g)) => f(b, g),
            (None, None) => {}
            (b, _) => panic!(
                "Conv2d: the layer {} a bias but its gradients {}; make gradients with \
                 `zeros_like`",
                if b.is_some() { "has" } else { "has no" },
                if b.is_some() { "have none" } else { "have one" },
            ),
        }
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
> ZerosLike for Conv2d<CIN, COUT, K, S, P, M, E>
{
    fn zeros_like(&self) -> Self {
        let bias = self.bias.as_ref().map(|_| Storage::zeros(COUT));
        Self { weight: Storage::zeros(Self::WEIGHT_LEN), bias, mode: PhantomData }
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
    const N: usize,
    C,
    H,
    W,
> Forward<T4<E, N, C, H, W>> for Conv2d<CIN, COUT, K, S, P, M, E>
where
    E: Float,
    Const<CIN>: ToUInt,
    Const<COUT>: ToUInt,
    U<COUT>: Unsigned,
    C: Unsigned + Decimal + IsEqual<U<CIN>>,
    Eq<C, U<CIN>>: ChannelsMatch<Self, CIN, Show<C>>,
    H: Unsigned + Window<Self, Height, K, S, P, M>,
    W: Unsigned + Window<Self, Width, K, S, P, M>,
{
    type Output = T4<
        E,
        N,
        U<COUT>,
        WindowOut<H, Self, Height, K, S, P, M>,
        WindowOut<W, Self, Width, K, S, P, M>,
    >;
    /// The im2col columns of every image, `N·CIN·K·K·HO·WO` (for a 1×1, stride-1, unpadded
    /// kernel, the input itself): computed once in the training forward, read by backward.
    type Cache = Storage<E>;

    fn forward_impl(&self, x: T4<E, N, C, H, W>) -> Self::Output {
        let g = Geom::new(CIN, H::USIZE, W::USIZE, K, S, P);
        let mut y = Self::Output::overwritten();
        conv::forward(&g, N, COUT, x.as_slice(), &self.weight, self.bias(), y.as_mut_slice(), None);
        y
    }

    fn train_impl(&self, x: T4<E, N, C, H, W>) -> (Self::Output, Self::Cache) {
        let g = Geom::new(CIN, H::USIZE, W::USIZE, K, S, P);
        let mut y = Self::Output::overwritten();
        if g.is_pointwise() {
            // the columns are the input itself: keep it
            conv::forward(
                &g,
                N,
                COUT,
                x.as_slice(),
                &self.weight,
                self.bias(),
                y.as_mut_slice(),
                None,
            );
            return (y, x.into_storage());
        }
        let mut cols = Storage::uninit(N * CIN * K * K * g.ho * g.wo);
        let keep = Some(&mut cols[..]);
        conv::forward(&g, N, COUT, x.as_slice(), &self.weight, self.bias(), y.as_mut_slice(), keep);
        (y, cols)
    }

    #[track_caller]
    fn backward_impl(
        &self,
        cols: Self::Cache,
        dy: Self::Output,
        grads: &mut Self,
    ) -> T4<E, N, C, H, W> {
        let mut dx = T4::zeros();
        let size = (N, H::USIZE, W::USIZE);
        self.backward_into(size, cols, dy.into_storage(), grads, Some(dx.as_mut_slice()));
        dx
    }

    /// No input gradient: no `Wᵀ·dY` GEMM and no col2im.
    #[track_caller]
    fn backward_params_impl(&self, cols: Self::Cache, dy: Self::Output, grads: &mut Self) {
        self.backward_into((N, H::USIZE, W::USIZE), cols, dy.into_storage(), grads, None);
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
> Conv2d<CIN, COUT, K, S, P, M, E>
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
        assert_eq!(
            self.bias.is_some(),
            grads.bias.is_some(),
            "Conv2d backward: the layer {} a bias but its gradients {}; make gradients with \
             `zeros_like`",
            if self.bias.is_some() { "has" } else { "has no" },
            if grads.bias.is_some() { "have one" } else { "have none" },
        );
        let g = Geom::new(CIN, h, w, K, S, P);
        conv::backward(
            &g,
            n,
            COUT,
            Source::Cols(&cols),
            &self.weight,
            &dy,
            dx,
            &mut grads.weight,
            grads.bias.as_deref_mut(),
        );
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
            Conv2d::<1, 1, 2, 1, 0, Exact, f64>::from_parts(vec![3., -1., 4., 2.], None).unwrap();
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
