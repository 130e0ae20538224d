//! `GroupedConv2d`: convolution in `G` groups (PyTorch's `groups`), and `DepthwiseConv2d`, the
//! case `G = CIN = COUT` of MobileNet's depthwise separable blocks.
//!
//! Group `g` convolves input channels `g·CIN/G ..` with its own `COUT/G` filters of `CIN/G`
//! channels each, so the weights are `(COUT, CIN/G, K, K)` and no filter touches another group's
//! channels: nothing is multiplied by a zero. Each group is one call of the im2col + GEMM kernels
//! of [`crate::kernels::conv`] on that group's channels; the depthwise case (one channel per
//! group) has direct kernels of its own, [`crate::kernels::conv::depthwise_forward`] and
//! [`crate::kernels::conv::depthwise_backward`].

use core::marker::PhantomData;
use core::ops::Rem;
#[cfg(feature = "std")]
use rand::Rng;
use typenum::{And, Eq, Gr, IsEqual, IsGreater, Max, Mod, U0, U1, Unsigned};

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
use crate::param::{Bias, BiasMode};
#[cfg(feature = "std")]
use crate::runtime::Storage;
use crate::shape::{
    ChannelsMatch, Decimal, Dims, Divisor, Exact, GroupsDivide, GroupsNonZero, Height, Num, Show,
    Size, Width, Window, WindowOut,
};
use crate::tensor::T4;

/// 2-D convolution in `G` groups: input channels and output channels are split into `G` equal
/// groups, and output group `g` sees input group `g` only. `CIN` and `COUT` must be multiples of
/// `G`, which the compiler checks.
///
/// **PyTorch equivalent**: `torch.nn.Conv2d(CIN, COUT, K, stride=S, padding=P, groups=G)`;
/// weights `(COUT, CIN/G, K, K)`, bias `(COUT)`. `M` is the stride mode, as for
/// [`Conv2d`](super::Conv2d). `G = 1` is an ordinary convolution; `G = CIN = COUT` is a depthwise
/// one ([`DepthwiseConv2d`]).
///
/// ```
/// use typed_cnn::prelude::*;
/// // ResNeXt-style: 8 → 16 channels in 4 groups of 2 → 4
/// let conv = GroupedConv2d::<8, 16, 3, 4, 1, 1>::init(&mut rand::rng());
/// assert_eq!(Params::<f32>::param_count(&conv), 16 * 2 * 3 * 3 + 16);
/// let y: Tensor<2, 16, 5, 5> = conv.forward(Tensor::<2, 8, 5, 5>::zeros());
/// # let _ = y;
/// ```
/// Channels that do not split into the groups do not compile:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let conv = GroupedConv2d::<6, 8, 3, 4>::init(&mut rand::rng()); // 6 channels in 4 groups
/// let _ = conv.forward(Tensor::<1, 6, 5, 5>::zeros());
/// ```
pub struct GroupedConv2d<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const G: usize,
    const S: usize = 1,
    const P: usize = 0,
    M = Exact,
    E: Float = f32,
    B: BiasMode = Bias,
> {
    parts: WeightBias<E, B>,
    mode: PhantomData<M>,
}

/// Depthwise convolution: one `K×K` filter per channel (`groups = C`), as in MobileNet.
///
/// **PyTorch equivalent**: `torch.nn.Conv2d(C, C, K, stride=S, padding=P, groups=C)`; weights
/// `(C, 1, K, K)`.
///
/// ```
/// use typed_cnn::prelude::*;
/// // MobileNetV2's stride-2 depthwise 3×3 on 96 channels, PyTorch's floor rule: 15 → 8
/// let dw = DepthwiseConv2d::<96, 3, 2, 1, Floor, f32, NoBias>::init(&mut rand::rng());
/// let y: Tensor<1, 96, 8, 8> = dw.forward(Tensor::<1, 96, 15, 15>::zeros());
/// # let _ = y;
/// assert_eq!(Params::<f32>::param_count(&dw), 96 * 9);
/// ```
pub type DepthwiseConv2d<
    const C: usize,
    const K: usize,
    const S: usize = 1,
    const P: usize = 0,
    M = Exact,
    E = f32,
    B = Bias,
> = GroupedConv2d<C, C, K, C, S, P, M, E, B>;

/// `impl<const CIN, COUT, K, G, S, P, M, E: Float, B: BiasMode> $trait for GroupedConv2d<…>`.
macro_rules! grouped_impl {
    ($($trait:path)?; $($body:tt)*) => {
        impl<
            const CIN: usize,
            const COUT: usize,
            const K: usize,
            const G: usize,
            const S: usize,
            const P: usize,
            M,
            E: Float,
            B: BiasMode,
        > $($trait for)? GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>
        {
            $($body)*
        }
    };
}

grouped_impl!(;
    /// The number of weights, `COUT·(CIN/G)·K·K`.
    pub const WEIGHT_LEN: usize = COUT * Self::GROUP_IN * K * K;

    /// The weights' shape, `(COUT, CIN/G, K, K)`.
    pub const WEIGHT_SHAPE: [usize; 4] = [COUT, Self::GROUP_IN, K, K];

    /// Input channels per group, `CIN/G` (with `G = 0`, which no forward accepts, taken as 1 so
    /// that the constants still evaluate).
    pub const GROUP_IN: usize = CIN / if G == 0 { 1 } else { G };
    /// Output channels per group, `COUT/G`.
    pub const GROUP_OUT: usize = COUT / if G == 0 { 1 } else { G };

    /// One input and one output channel per group (`G = CIN = COUT`): the direct depthwise
    /// kernels ([`conv::depthwise_forward`]) instead of one im2col + GEMM per channel.
    #[cfg(feature = "std")]
    const DEPTHWISE: bool = G == CIN && G == COUT;

    crate::layers::weight_bias::accessors!("(COUT, CIN/G, K, K)");

    /// A grouped convolution with the given weights `(COUT, CIN/G, K, K)` and biases `(COUT)`:
    /// `Some` for a layer with [`Bias`], `None` for one with [`crate::param::NoBias`].
    ///
    /// # Errors
    /// [`crate::LengthError`] if a length does not match the layer's type.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// // 2 channels in 2 groups, a 1×1 kernel each: channel c times w[c]
    /// let conv = GroupedConv2d::<2, 2, 1, 2, 1, 0, Exact, f64>::from_parts(vec![2., -1.], Some(vec![0., 1.]));
    /// let y = conv.unwrap().forward(Tensor::<1, 2, 1, 2, f64>::from_slice(&[1., 2., 3., 4.]).unwrap());
    /// assert_eq!(y.as_slice(), [2., 4., -2., -3.]);
    /// ```
    #[cfg(feature = "std")]
    pub fn from_parts(weight: Vec<E>, bias: Option<Vec<E>>) -> Result<Self, crate::LengthError> {
        let parts = WeightBias::from_parts(weight, bias, &Self::WEIGHT_SHAPE, COUT)?;
        Ok(Self { parts, mode: PhantomData })
    }

    /// Group `g`'s `(N, per_group, plane)` values, gathered from `src: (N, per_group·G, plane)`:
    /// the inverse of [`Self::scatter`].
    #[cfg(feature = "std")]
    fn gather(src: &[E], n: usize, g: usize, per_group: usize, plane: usize) -> Vec<E> {
        let group = per_group * plane;
        let mut out = Vec::with_capacity(n * group);
        for image in src.chunks_exact((group * G).max(1)).take(n) {
            out.extend_from_slice(&image[g * group..(g + 1) * group]);
        }
        out
    }

    /// Writes group `g`'s `(N, per_group, plane)` values into `dst: (N, per_group·G, plane)`.
    #[cfg(feature = "std")]
    fn scatter(dst: &mut [E], g: usize, src: &[E], per_group: usize, plane: usize) {
        let (img_src, img_dst) = (per_group * plane, per_group * G * plane);
        for (s, d) in src.chunks_exact(img_src.max(1)).zip(dst.chunks_exact_mut(img_dst.max(1))) {
            d[g * img_src..(g + 1) * img_src].copy_from_slice(s);
        }
    }

    /// Forward for `n` images of `h × w`.
    #[cfg(feature = "std")]
    fn forward_slices(&self, n: usize, h: usize, w: usize, x: &[E], y: &mut [E]) {
        if Self::DEPTHWISE {
            let geom = Geom::new(CIN, h, w, K, S, P);
            return conv::depthwise_forward(&geom, n, x, self.weight(), self.bias(), y);
        }
        let geom = Geom::new(Self::GROUP_IN, h, w, K, S, P);
        let (cog, wg, out_plane) = (Self::GROUP_OUT, Self::GROUP_IN * K * K, geom.ho * geom.wo);
        let mut yg = vec![E::ZERO; n * cog * out_plane];
        for g in 0..G {
            let xg = Self::gather(x, n, g, Self::GROUP_IN, h * w);
            let weight = &self.weight()[g * cog * wg..(g + 1) * cog * wg];
            let bias = self.bias().map(|b| &b[g * cog..(g + 1) * cog]);
            conv::forward(&geom, n, cog, &xg, weight, bias, &mut yg, None);
            Self::scatter(y, g, &yg, cog, out_plane);
        }
    }

    /// Backward for `n` images of `h × w` from the input `x`: parameter gradients into `grads`,
    /// the input gradient into `dx` if given.
    #[cfg(feature = "std")]
    fn backward_slices(
        &self,
        (n, h, w): (usize, usize, usize),
        x: &[E],
        dy: &[E],
        grads: &mut Self,
        mut dx: Option<&mut [E]>,
    ) {
        if Self::DEPTHWISE {
            let geom = Geom::new(CIN, h, w, K, S, P);
            let (dweight, dbias) = (&mut grads.parts.weight, grads.parts.bias.as_deref_mut());
            return conv::depthwise_backward(&geom, n, x, self.weight(), dy, dx, dweight, dbias);
        }
        let geom = Geom::new(Self::GROUP_IN, h, w, K, S, P);
        let (cg, cog, wg) = (Self::GROUP_IN, Self::GROUP_OUT, Self::GROUP_IN * K * K);
        let out_plane = geom.ho * geom.wo;
        let mut dxg = vec![E::ZERO; if dx.is_some() { n * cg * h * w } else { 0 }];
        for g in 0..G {
            let xg = Self::gather(x, n, g, cg, h * w);
            let dyg = Self::gather(dy, n, g, cog, out_plane);
            let weight = &self.weight()[g * cog * wg..(g + 1) * cog * wg];
            let dweight = &mut grads.parts.weight[g * cog * wg..(g + 1) * cog * wg];
            let dbias = grads.parts.bias.as_deref_mut().map(|b| &mut b[g * cog..(g + 1) * cog]);
            let want_dx = dx.is_some();
            if want_dx {
                dxg.fill(E::ZERO);
            }
            let dxg_arg = want_dx.then_some(&mut dxg[..]);
            let source = Source::Input(&xg);
            conv::backward(&geom, n, cog, source, weight, &dyg, dxg_arg, dweight, dbias);
            if let Some(dx) = dx.as_deref_mut() {
                // dx accumulates: add the group's gradient into its channels
                let img = cg * h * w;
                for (s, d) in dxg.chunks_exact(img.max(1)).zip(dx.chunks_exact_mut((CIN * h * w).max(1))) {
                    d[g * img..(g + 1) * img].iter_mut().zip(s).for_each(|(d, &s)| *d += s);
                }
            }
        }
    }
);

grouped_impl!(Clone;
    fn clone(&self) -> Self {
        Self { parts: self.parts.clone(), mode: PhantomData }
    }
);

grouped_impl!(PartialEq;
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
);

#[cfg(feature = "std")]
grouped_impl!(Default;
    /// Zero weights and biases (to load weights into).
    fn default() -> Self {
        Self { parts: WeightBias::zeros(&Self::WEIGHT_SHAPE, COUT), mode: PhantomData }
    }
);

grouped_impl!(core::fmt::Debug;
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "GroupedConv2d({CIN} → {COUT}, k={K}, groups={G}, s={S}, p={P}, bias={})", B::ON)
    }
);

#[cfg(feature = "std")]
grouped_impl!(Init;
    /// PyTorch's default init: `U(±1/√((CIN/G)·K·K))` for weights and biases.
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let parts = WeightBias::init(&Self::WEIGHT_SHAPE, COUT, Self::GROUP_IN * K * K, rng);
        Self { parts, mode: PhantomData }
    }
);

#[cfg(feature = "std")]
grouped_impl!(ZerosLike;
    fn zeros_like_impl(&self) -> Self {
        Self { parts: self.parts.zeros_like(), mode: PhantomData }
    }
);

#[cfg(feature = "std")]
grouped_impl!(Params<E>;
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

impl<
    const CIN: usize,
    const COUT: usize,
    const K: usize,
    const G: usize,
    const S: usize,
    const P: usize,
    M,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> Infer<T4<E, N, C, H, W>> for GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    Dims<G>: Size,
    // G = 0: `GroupsNonZero`; the remainders divide by max(G, 1), so typenum's missing division
    // by zero never shows.
    Num<G>: IsGreater<U0> + Max<U1>,
    Gr<Num<G>, U0>: GroupsNonZero<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, G>,
    Num<CIN>: Rem<Divisor<G>>,
    Num<COUT>: Rem<Divisor<G>>,
    Mod<Num<CIN>, Divisor<G>>: IsEqual<U0>,
    Mod<Num<COUT>, Divisor<G>>: IsEqual<U0>,
    Eq<Mod<Num<CIN>, Divisor<G>>, U0>: core::ops::BitAnd<Eq<Mod<Num<COUT>, Divisor<G>>, U0>>,
    And<Eq<Mod<Num<CIN>, Divisor<G>>, U0>, Eq<Mod<Num<COUT>, Divisor<G>>, U0>>:
        GroupsDivide<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, CIN, COUT, G>,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>: ChannelsMatch<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, CIN, Show<C>>,
    H: Unsigned + Window<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Height, K, S, P, M>,
    W: Unsigned + Window<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Width, K, S, P, M>,
{
    type Output = T4<
        E,
        N,
        Num<COUT>,
        WindowOut<H, GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Height, K, S, P, M>,
        WindowOut<W, GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Width, K, S, P, M>,
    >;
    const WEIGHTS: usize = WeightBias::<E, B>::count(Self::WEIGHT_LEN, COUT);

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        let g = Geom::new(CIN, H::USIZE, W::USIZE, K, S, P);
        embedded::conv2d_sized::<E, K, K>(&g, N, COUT, G, x, self.weight(), self.bias(), y);
    }
}

grouped_impl!(View;
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
    const G: usize,
    const S: usize,
    const P: usize,
    M,
    E,
    B,
    const N: usize,
    C,
    H,
    W,
> LayerInput<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>> for T4<E, N, C, H, W>
where
    E: Float,
    B: BiasMode,
    Dims<CIN>: Size,
    Dims<COUT>: Size,
    Dims<G>: Size,
    // G = 0: `GroupsNonZero`; the remainders divide by max(G, 1), so typenum's missing division
    // by zero never shows.
    Num<G>: IsGreater<U0> + Max<U1>,
    Gr<Num<G>, U0>: GroupsNonZero<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, G>,
    Num<CIN>: Rem<Divisor<G>>,
    Num<COUT>: Rem<Divisor<G>>,
    Mod<Num<CIN>, Divisor<G>>: IsEqual<U0>,
    Mod<Num<COUT>, Divisor<G>>: IsEqual<U0>,
    Eq<Mod<Num<CIN>, Divisor<G>>, U0>: core::ops::BitAnd<Eq<Mod<Num<COUT>, Divisor<G>>, U0>>,
    And<Eq<Mod<Num<CIN>, Divisor<G>>, U0>, Eq<Mod<Num<COUT>, Divisor<G>>, U0>>:
        GroupsDivide<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, CIN, COUT, G>,
    C: Unsigned + Decimal + IsEqual<Num<CIN>>,
    Eq<C, Num<CIN>>: ChannelsMatch<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, CIN, Show<C>>,
    H: Unsigned + Window<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Height, K, S, P, M>,
    W: Unsigned + Window<GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Width, K, S, P, M>,
{
    type Output = T4<
        E,
        N,
        Num<COUT>,
        WindowOut<H, GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Height, K, S, P, M>,
        WindowOut<W, GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, Width, K, S, P, M>,
    >;
    /// The input, from which backward recomputes each group's columns.
    type Cache = Storage<E>;

    fn forward(layer: &GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>, x: Self) -> Self::Output {
        let mut y = Self::Output::overwritten();
        layer.forward_slices(N, H::USIZE, W::USIZE, x.as_slice(), y.as_mut_slice());
        y
    }

    fn train(
        layer: &GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>,
        x: Self,
    ) -> (Self::Output, Self::Cache) {
        let mut y = Self::Output::overwritten();
        layer.forward_slices(N, H::USIZE, W::USIZE, x.as_slice(), y.as_mut_slice());
        (y, x.into_storage())
    }

    #[track_caller]
    fn backward(
        layer: &GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>,
        x: Self::Cache,
        dy: Self::Output,
        grads: &mut GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>,
    ) -> Self {
        let mut dx = T4::zeros();
        let size = (N, H::USIZE, W::USIZE);
        layer.backward_slices(size, &x, dy.as_slice(), grads, Some(dx.as_mut_slice()));
        dx
    }

    #[track_caller]
    fn backward_params(
        layer: &GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>,
        x: Self::Cache,
        dy: Self::Output,
        grads: &mut GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>,
    ) {
        layer.backward_slices((N, H::USIZE, W::USIZE), &x, dy.as_slice(), grads, None);
    }
}

forward_by_input!(
    [const CIN: usize, const COUT: usize, const K: usize, const G: usize, const S: usize,
     const P: usize, M, E: Float, B: BiasMode,]
    GroupedConv2d<CIN, COUT, K, G, S, P, M, E, B>
);

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;
    use crate::testing::{assert_close, seeded};

    /// The definition, in f64 loops: `y[n, o, i, j] = b[o] + Σ_{c in o's group, a, b}
    /// w[o, c − g·CIN/G, a, b] · x[n, c, i·S + a − P, j·S + b − P]`.
    #[allow(clippy::too_many_arguments, reason = "the convolution's sizes")]
    fn naive(
        (n, cin, h, w): (usize, usize, usize, usize),
        (cout, k, groups, s, p): (usize, usize, usize, usize, usize),
        x: &[f64],
        weight: &[f64],
        bias: &[f64],
    ) -> Vec<f64> {
        let (ho, wo) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        let (cg, cog) = (cin / groups, cout / groups);
        let mut y = vec![0.0; n * cout * ho * wo];
        for img in 0..n {
            for o in 0..cout {
                let g = o / cog;
                for i in 0..ho {
                    for j in 0..wo {
                        let mut acc = bias[o];
                        for c in 0..cg {
                            for a in 0..k {
                                for b in 0..k {
                                    let (yy, xx) = (
                                        (i * s + a) as isize - p as isize,
                                        (j * s + b) as isize - p as isize,
                                    );
                                    if yy < 0 || xx < 0 || yy >= h as isize || xx >= w as isize {
                                        continue;
                                    }
                                    let xc = g * cg + c;
                                    acc += weight[((o * cg + c) * k + a) * k + b]
                                        * x[((img * cin + xc) * h + yy as usize) * w + xx as usize];
                                }
                            }
                        }
                        y[((img * cout + o) * ho + i) * wo + j] = acc;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn grouped_forward_matches_the_definition() {
        let mut rng = seeded(21);
        let conv = GroupedConv2d::<6, 4, 3, 2, 2, 1, Floor, f64>::init(&mut rng);
        let x = Tensor::<3, 6, 7, 6, f64>::uniform(&mut rng, -1.0, 1.0);
        let y = conv.forward(x.clone());
        let want =
            naive((3, 6, 7, 6), (4, 3, 2, 2, 1), x.as_slice(), conv.weight(), conv.bias().unwrap());
        assert_eq!(y.shape(), [3, 4, 4, 3]);
        assert_close(y.as_slice(), &want);

        let dw = DepthwiseConv2d::<5, 3, 1, 1, Exact, f64, NoBias>::init(&mut rng);
        let x = Tensor::<2, 5, 4, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        let want = naive((2, 5, 4, 5), (5, 3, 5, 1, 1), x.as_slice(), dw.weight(), &[0.0; 5]);
        assert_close(dw.forward(x).as_slice(), &want);
    }

    #[test]
    fn depthwise_by_hand() {
        // Two channels, 1×1 kernels 2 and −3: each channel scaled by its own weight only.
        let dw = DepthwiseConv2d::<2, 1, 1, 0, Exact, f64, NoBias>::default();
        let mut dw = dw;
        dw.weight_mut().copy_from_slice(&[2.0, -3.0]);
        let x = Tensor::<1, 2, 1, 2, f64>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        let (y, trace) = dw.forward_train(x);
        assert_eq!(y.as_slice(), [2.0, 4.0, -9.0, -12.0]);
        let mut grads = dw.zeros_like();
        let dx = dw.backward(trace, T4::filled(1.0), &mut grads);
        assert_eq!(dx.as_slice(), [2.0, 2.0, -3.0, -3.0]);
        assert_eq!(grads.weight(), [3.0, 7.0]); // Σ x per channel
    }

    #[test]
    fn grouped_backward_matches_finite_differences() {
        let mut rng = seeded(22);
        let conv = GroupedConv2d::<4, 6, 3, 2, 2, 1, Floor, f64>::init(&mut rng);
        check_module(&conv, Tensor::<2, 4, 5, 6, f64>::uniform(&mut rng, -1.0, 1.0), 1e-6)
            .assert_below(1e-6);
        let dw = DepthwiseConv2d::<3, 3, 1, 1, Exact, f64>::init(&mut rng);
        check_module(&dw, Tensor::<2, 3, 4, 4, f64>::uniform(&mut rng, -1.0, 1.0), 1e-6)
            .assert_below(1e-6);
    }

    #[test]
    fn one_group_is_an_ordinary_convolution() {
        let mut rng = seeded(23);
        let conv = Conv2d::<3, 4, 3, 2, 1, Floor, f64>::init(&mut rng);
        let mut grouped = GroupedConv2d::<3, 4, 3, 1, 2, 1, Floor, f64>::default();
        grouped.weight_mut().copy_from_slice(conv.weight());
        grouped.bias_mut().unwrap().copy_from_slice(conv.bias().unwrap());
        let x = Tensor::<2, 3, 6, 5, f64>::uniform(&mut rng, -1.0, 1.0);
        assert_eq!(conv.forward(x.clone()).as_slice(), grouped.forward(x).as_slice());
    }
}
