//! Pooling: `MaxPool2d` (−∞ padding, overlapping windows), `AvgPool2d` (`count_include_pad`
//! either way) and `GlobalAvgPool2d`. No parameters; the window arithmetic is in
//! [`crate::kernels::pool`] and the output size in the type, as for `Conv2d`.

use core::marker::PhantomData;
use core::ops::Mul;
use typenum::{IsLessOrEqual, LeEq, Prod, U1, U2, Unsigned};

use crate::Float;
use crate::infer::{Infer, view_default};
#[cfg(feature = "std")]
use crate::kernels::pool::{
    avgpool_backward, avgpool_forward, global_avgpool_backward, global_avgpool_forward,
    maxpool_backward_fresh, maxpool_forward,
};
use crate::kernels::{Geom, embedded};
#[cfg(feature = "std")]
use crate::layers::LayerInput;
#[cfg(feature = "std")]
use crate::module::NoParams;
use crate::shape::{Dims, Exact, Height, Num, PoolPadding, Size, Width, Window, WindowOut};
use crate::tensor::T4;

/// 2-D max pooling over `K × K` windows with stride `S` and `−∞` padding `P`.
///
/// **PyTorch equivalent**: `torch.nn.MaxPool2d(K, stride=S, padding=P)`. `S < K` gives
/// overlapping windows; `M` is the stride mode, as for [`crate::layers::Conv2d`]. As in PyTorch,
/// the padding is at most half the kernel (`2P ≤ K`, checked at compile time), so that no window
/// lies wholly in the padding.
///
/// # Shapes
/// - input: `(N, C, H, W)`, output: `(N, C, HO, WO)` with `HO = (H + 2P − K)/S + 1`
///
/// ```
/// use typed_cnn::prelude::*;
/// let y: Tensor<2, 6, 12, 10> = MaxPool2d::<2>::default().forward(Tensor::<2, 6, 24, 20>::zeros());
/// # let _ = y;
/// ```
/// A window that doesn't tile the input is a compile error unless `Floor` is asked for:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let _ = MaxPool2d::<2>::default().forward(Tensor::<2, 6, 25, 20>::zeros());
/// ```
/// ```
/// use typed_cnn::prelude::*;
/// let y: Tensor<2, 6, 12, 10> = MaxPool2d::<2, 2, 0, Floor>::default().forward(Tensor::<2, 6, 25, 20>::zeros());
/// # let _ = y;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d<const K: usize, const S: usize = K, const P: usize = 0, M = Exact>(
    PhantomData<M>,
);

/// 2-D average pooling over `K × K` windows with stride `S` and zero padding `P`.
///
/// **PyTorch equivalent**: `torch.nn.AvgPool2d(K, stride=S, padding=P,
/// count_include_pad=…)`. With `count_include_pad` (the default, as in PyTorch) every window
/// divides by `K·K`; without, by the number of non-padding elements it covers.
///
/// # Shapes
/// - input: `(N, C, H, W)`, output: `(N, C, HO, WO)` with `HO = (H + 2P − K)/S + 1`
///
/// ```
/// use typed_cnn::prelude::*;
/// let pool = AvgPool2d::<2, 2, 1>::new(false); // count_include_pad = false
/// let x = Tensor::<1, 1, 2, 2, f64>::from_slice(&[1., 2., 3., 4.]).unwrap();
/// // Each of the four windows covers one real element.
/// assert_eq!(pool.forward(x).as_slice(), [1., 2., 3., 4.]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d<const K: usize, const S: usize = K, const P: usize = 0, M = Exact> {
    /// Divide by `K·K` (true) or by the number of non-padding elements (false).
    pub count_include_pad: bool,
    mode: PhantomData<M>,
}

impl<const K: usize, const S: usize, const P: usize, M> AvgPool2d<K, S, P, M> {
    /// An average pool with the given padding rule.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let x = Tensor::<1, 1, 2, 2, f64>::from_slice(&[1., 2., 3., 4.]).unwrap();
    /// // Padding 1: each 2×2 window holds one real element and three of padding.
    /// let y = AvgPool2d::<2, 2, 1>::new(true).forward(x);
    /// assert_eq!(y.as_slice(), [0.25, 0.5, 0.75, 1.0]); // divided by K·K = 4
    /// ```
    pub fn new(count_include_pad: bool) -> Self {
        Self { count_include_pad, mode: PhantomData }
    }
}

impl<const K: usize, const S: usize, const P: usize, M> Default for AvgPool2d<K, S, P, M> {
    /// `count_include_pad = true`, as PyTorch's default.
    fn default() -> Self {
        Self::new(true)
    }
}

/// The mean of each channel over all `H × W` positions.
///
/// **PyTorch equivalent**: `torch.nn.AdaptiveAvgPool2d(1)`: the output keeps the two unit axes,
/// so a `Flatten` after it gives `(N, C)`.
///
/// # Shapes
/// - input: `(N, C, H, W)`, output: `(N, C, 1, 1)`
///
/// ```
/// use typed_cnn::prelude::*;
/// let x = Tensor::<1, 2, 2, 3, f64>::from_fn(|_, c, h, w| (c * 6 + h * 3 + w) as f64);
/// assert_eq!(GlobalAvgPool2d.forward(x).as_slice(), [2.5, 8.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalAvgPool2d;

#[cfg(feature = "std")]
impl NoParams for GlobalAvgPool2d {}

impl<const K: usize, const S: usize, const P: usize, M> Default for MaxPool2d<K, S, P, M> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

#[cfg(feature = "std")]
impl<const K: usize, const S: usize, const P: usize, M: Clone> NoParams for MaxPool2d<K, S, P, M> {}
#[cfg(feature = "std")]
impl<const K: usize, const S: usize, const P: usize, M: Clone> NoParams for AvgPool2d<K, S, P, M> {}

view_default! {
    [const K: usize, const S: usize, const P: usize, M] MaxPool2d<K, S, P, M>;
    [const K: usize, const S: usize, const P: usize, M] AvgPool2d<K, S, P, M>;
    [] GlobalAvgPool2d;
}

/// `Infer` for a pooling layer, with the shape bounds of its `LayerInput` impl.
macro_rules! pool_infer {
    ($L:ident, |$layer:ident, $g:ident, $x:ident, $y:ident| $body:expr) => {
        impl<E: Float, const N: usize, C, H, W, const K: usize, const S: usize, const P: usize, M>
            Infer<T4<E, N, C, H, W>> for $L<K, S, P, M>
        where
            C: Unsigned,
            Dims<K>: Size,
            Dims<P>: Size,
            Num<P>: Mul<U2>,
            Prod<Num<P>, U2>: IsLessOrEqual<Num<K>>,
            LeEq<Prod<Num<P>, U2>, Num<K>>: PoolPadding<$L<K, S, P, M>, K, P>,
            H: Unsigned + Window<$L<K, S, P, M>, Height, K, S, P, M>,
            W: Unsigned + Window<$L<K, S, P, M>, Width, K, S, P, M>,
        {
            type Output = Pooled<$L<K, S, P, M>, E, N, C, H, W, K, S, P, M>;

            fn infer_into(&self, $x: &[E], $y: &mut [E], _: &mut [E]) {
                let $layer = self;
                let $g = Geom::new(C::USIZE, H::USIZE, W::USIZE, K, S, P);
                $body
            }
        }
    };
}

pool_infer!(MaxPool2d, |_layer, g, x, y| embedded::maxpool(&g, N, x, y));
pool_infer!(AvgPool2d, |layer, g, x, y| embedded::avgpool(&g, N, layer.count_include_pad, x, y));

/// The `std` kernel's loop (`embedded::global_avgpool`); an empty plane gives zeros.
impl<E: Float, const N: usize, C: Unsigned, H: Unsigned, W: Unsigned> Infer<T4<E, N, C, H, W>>
    for GlobalAvgPool2d
{
    type Output = T4<E, N, C, U1, U1>;

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        let hw = H::USIZE * W::USIZE;
        if hw == 0 {
            y.fill(E::ZERO);
            return;
        }
        embedded::global_avgpool(hw, x, y);
    }
}

/// The output type of a pooling layer `L` on `T4<E, N, C, H, W>`.
type Pooled<L, E, const N: usize, C, H, W, const K: usize, const S: usize, const P: usize, M> =
    T4<E, N, C, WindowOut<H, L, Height, K, S, P, M>, WindowOut<W, L, Width, K, S, P, M>>;

#[cfg(feature = "std")]
impl<E: Float, const N: usize, C, H, W, const K: usize, const S: usize, const P: usize, M>
    LayerInput<MaxPool2d<K, S, P, M>> for T4<E, N, C, H, W>
where
    C: Unsigned,
    Dims<K>: Size,
    Dims<P>: Size,
    Num<P>: Mul<U2>,
    Prod<Num<P>, U2>: IsLessOrEqual<Num<K>>,
    LeEq<Prod<Num<P>, U2>, Num<K>>: PoolPadding<MaxPool2d<K, S, P, M>, K, P>,
    H: Unsigned + Window<MaxPool2d<K, S, P, M>, Height, K, S, P, M>,
    W: Unsigned + Window<MaxPool2d<K, S, P, M>, Width, K, S, P, M>,
{
    type Output = Pooled<MaxPool2d<K, S, P, M>, E, N, C, H, W, K, S, P, M>;
    /// For each output element, the index in its `H × W` plane of the input that won.
    type Cache = Vec<u32>;

    fn forward(_: &MaxPool2d<K, S, P, M>, x: Self) -> Self::Output {
        let g = Geom::new(C::USIZE, H::USIZE, W::USIZE, K, S, P);
        let mut y = Self::Output::overwritten(); // the kernel writes every value
        maxpool_forward(&g, N, x.as_slice(), y.as_mut_slice(), None);
        y
    }

    fn train(_: &MaxPool2d<K, S, P, M>, x: Self) -> (Self::Output, Vec<u32>) {
        let g = Geom::new(C::USIZE, H::USIZE, W::USIZE, K, S, P);
        let mut y = Self::Output::overwritten(); // the kernel writes every value
        let mut argmax = vec![0u32; y.len()];
        maxpool_forward(&g, N, x.as_slice(), y.as_mut_slice(), Some(&mut argmax));
        (y, argmax)
    }

    fn backward(
        _: &MaxPool2d<K, S, P, M>,
        argmax: Vec<u32>,
        dy: Self::Output,
        _: &mut MaxPool2d<K, S, P, M>,
    ) -> Self {
        let g = Geom::new(C::USIZE, H::USIZE, W::USIZE, K, S, P);
        // zeroed by the kernel, chunk by chunk on the threads
        let mut dx = T4::overwritten();
        maxpool_backward_fresh(&g, N, &argmax, dy.as_slice(), dx.as_mut_slice());
        dx
    }
}

#[cfg(feature = "std")]
impl<E: Float, const N: usize, C, H, W, const K: usize, const S: usize, const P: usize, M>
    LayerInput<AvgPool2d<K, S, P, M>> for T4<E, N, C, H, W>
where
    C: Unsigned,
    Dims<K>: Size,
    Dims<P>: Size,
    Num<P>: Mul<U2>,
    Prod<Num<P>, U2>: IsLessOrEqual<Num<K>>,
    LeEq<Prod<Num<P>, U2>, Num<K>>: PoolPadding<AvgPool2d<K, S, P, M>, K, P>,
    H: Unsigned + Window<AvgPool2d<K, S, P, M>, Height, K, S, P, M>,
    W: Unsigned + Window<AvgPool2d<K, S, P, M>, Width, K, S, P, M>,
{
    type Output = Pooled<AvgPool2d<K, S, P, M>, E, N, C, H, W, K, S, P, M>;
    type Cache = ();

    fn forward(layer: &AvgPool2d<K, S, P, M>, x: Self) -> Self::Output {
        let g = Geom::new(C::USIZE, H::USIZE, W::USIZE, K, S, P);
        let mut y = Self::Output::overwritten(); // the kernel writes every value
        avgpool_forward(&g, N, layer.count_include_pad, x.as_slice(), y.as_mut_slice());
        y
    }

    fn train(layer: &AvgPool2d<K, S, P, M>, x: Self) -> (Self::Output, ()) {
        (Self::forward(layer, x), ())
    }

    fn backward(
        layer: &AvgPool2d<K, S, P, M>,
        _: (),
        dy: Self::Output,
        _: &mut AvgPool2d<K, S, P, M>,
    ) -> Self {
        let g = Geom::new(C::USIZE, H::USIZE, W::USIZE, K, S, P);
        let mut dx = T4::zeros();
        avgpool_backward(&g, N, layer.count_include_pad, dy.as_slice(), dx.as_mut_slice());
        dx
    }
}

#[cfg(feature = "std")]
impl<E: Float, const N: usize, C: Unsigned, H: Unsigned, W: Unsigned> LayerInput<GlobalAvgPool2d>
    for T4<E, N, C, H, W>
{
    type Output = T4<E, N, C, U1, U1>;
    type Cache = ();

    fn forward(_: &GlobalAvgPool2d, x: Self) -> Self::Output {
        let mut y = Self::Output::overwritten(); // the kernel writes every value
        global_avgpool_forward(N, C::USIZE, H::USIZE, W::USIZE, x.as_slice(), y.as_mut_slice());
        y
    }

    fn train(layer: &GlobalAvgPool2d, x: Self) -> (Self::Output, ()) {
        (Self::forward(layer, x), ())
    }

    fn backward(_: &GlobalAvgPool2d, _: (), dy: Self::Output, _: &mut GlobalAvgPool2d) -> Self {
        let mut dx = T4::zeros();
        global_avgpool_backward(N, C::USIZE, H::USIZE, W::USIZE, dy.as_slice(), dx.as_mut_slice());
        dx
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::prelude::*;

    /// Distinct values with gaps of at least 1e-3, so that no max-pool window has a near-tie.
    fn distinct<const N: usize, const C: usize, const H: usize, const W: usize>()
    -> Tensor<N, C, H, W, f64>
    where
        crate::shape::Dims<C>: crate::shape::Size,
        crate::shape::Dims<H>: crate::shape::Size,
        crate::shape::Dims<W>: crate::shape::Size,
    {
        let len = Tensor::<N, C, H, W, f64>::LEN;
        // A permutation of 0..len (multiplier coprime to len), scaled into [-1, 1).
        let step = (0..).map(|k| 7919 + k).find(|m| gcd(*m, len) == 1).unwrap();
        T4::from_vec((0..len).map(|i| ((i * step) % len) as f64 * 2.0 / len as f64 - 1.0).collect())
            .unwrap()
    }

    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }

    #[test]
    fn maxpool_backward_matches_finite_differences_overlapping_and_padded() {
        check_module(&MaxPool2d::<2>::default(), distinct::<2, 2, 4, 6>(), 1e-6).assert_below(1e-6);
        check_module(&MaxPool2d::<3, 1>::default(), distinct::<1, 2, 5, 4>(), 1e-6)
            .assert_below(1e-6);
        check_module(&MaxPool2d::<3, 2, 1>::default(), distinct::<2, 1, 5, 7>(), 1e-6)
            .assert_below(1e-6);
        check_module(&MaxPool2d::<2, 2, 0, Floor>::default(), distinct::<1, 2, 5, 7>(), 1e-6)
            .assert_below(1e-6);
    }

    #[test]
    fn avgpool_backward_matches_finite_differences_both_padding_rules() {
        for include in [true, false] {
            let x = distinct::<2, 2, 5, 7>();
            check_module(&AvgPool2d::<3, 2, 1>::new(include), x.clone(), 1e-6).assert_below(1e-6);
            check_module(&AvgPool2d::<2, 1, 1>::new(include), x, 1e-6).assert_below(1e-6);
        }
    }

    #[test]
    fn global_avgpool_backward_matches_finite_differences() {
        check_module(&GlobalAvgPool2d, distinct::<2, 3, 4, 5>(), 1e-6).assert_below(1e-6);
    }

    #[test]
    fn maxpool_backward_routes_to_argmax() {
        // 2×4 input, 2×2 windows: maxima 6 (at 1,1) and 8 (at 0,3).
        let x = Tensor::<1, 1, 2, 4, f64>::from_slice(&[1., 2., 3., 8., 5., 6., 7., 4.]).unwrap();
        let pool = MaxPool2d::<2>::default();
        let (y, trace) = pool.forward_train(x);
        assert_eq!(y.as_slice(), [6., 8.]);
        let dx = pool.backward(trace, T4::from_slice(&[10., 20.]).unwrap(), &mut pool.clone());
        assert_eq!(dx.as_slice(), [0., 0., 0., 20., 0., 10., 0., 0.]);
    }

    #[test]
    fn avgpool_padding_rules_hand_worked() {
        // x = 1..9 (3×3), k2 s2 p1. Windows (rows × cols of real elements):
        // top-left {1}, top-right {2, 3}, bottom-left {4, 7}, bottom-right {5, 6, 8, 9}.
        // include pad: 1/4, 5/4, 11/4, 28/4; exclude: 1/1, 5/2, 11/2, 28/4.
        let x = Tensor::<1, 1, 3, 3, f64>::from_fn(|_, _, h, w| (h * 3 + w + 1) as f64);
        let y: Tensor<1, 1, 2, 2, f64> = AvgPool2d::<2, 2, 1, Floor>::new(true).forward(x.clone());
        assert_eq!(y.as_slice(), [0.25, 1.25, 2.75, 7.0]);
        let y = AvgPool2d::<2, 2, 1, Floor>::new(false).forward(x);
        assert_eq!(y.as_slice(), [1.0, 2.5, 5.5, 7.0]);
    }
}
