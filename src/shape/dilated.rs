//! The output-size rule of a dilated window (`Conv2dHW`, `DilatedConv2d`): a kernel of `K` taps
//! `D` apart reaches `D·(K − 1) + 1` rows, and [`Window`]'s arithmetic and checks apply to that
//! reach, with messages that name the dilation.

use super::*;

/// The rows (or columns) a window of `K` taps `D` apart spans: `D·(K − 1) + 1` (`K` itself for
/// `D = 1`). Computed from `max(K, 1)`, so that `K = 0` reports only [`KernelNonZero`].
///
/// ```
/// use typed_cnn::shape::Reach;
/// use typenum::Unsigned;
/// assert_eq!(<Reach<3, 2> as Unsigned>::USIZE, 5); // 2·(3 − 1) + 1
/// assert_eq!(<Reach<7, 1> as Unsigned>::USIZE, 7);
/// ```
pub type Reach<const K: usize, const D: usize> =
    <<Num<D> as Mul<<Maximum<Num<K>, U1> as Sub<U1>>::Output>>::Output as Add<B1>>::Output;

/// `H + 2P − D·(K − 1) − 1`, computed from `max(H + 2P, reach)` as [`Span`] is.
pub type DilatedSpan<H, const K: usize, const P: usize, const D: usize> =
    <Maximum<Padded<H, P>, Reach<K, D>> as Sub<Reach<K, D>>>::Output;

/// The output size along one axis `A` of a window of `K` taps `D` apart (dilation `D`), stride
/// `S`, padding `P`, in stride mode `M`: `HO = (H + 2P − D·(K − 1) − 1)/S + 1`, PyTorch's rule
/// for `Conv2d(…, dilation=D)`. [`Window`] is the `D = 1` case, kept apart so that its messages
/// (every pooling and `Conv2d` error) stay as short as they are.
///
/// Checks, each with its message at `cargo check`: [`KernelNonZero`], [`StrideNonZero`],
/// [`DilationNonZero`], [`ReachFits`] and, in [`Exact`] mode, [`ReachTiles`].
///
/// ```
/// use typed_cnn::shape::{DilatedWindow, Exact, Height, Num};
/// use typenum::Unsigned;
/// // a 3-tap window with dilation 2 spans 5 rows: (9 + 2·2 − 5)/1 + 1 = 9
/// type Out = <Num<9> as DilatedWindow<(), Height, 3, 1, 2, 2, Exact>>::Out;
/// assert_eq!(<Out as Unsigned>::USIZE, 9);
/// ```
pub trait DilatedWindow<L, A, const K: usize, const S: usize, const P: usize, const D: usize, M> {
    /// The output size `HO` as a typenum number.
    type Out: Unsigned;
}

// The bounds as in `Window`'s impl, with the reach `D·(K − 1) + 1` in place of `K`.
impl<H, L, A, M, const K: usize, const S: usize, const P: usize, const D: usize>
    DilatedWindow<L, A, K, S, P, D, M> for H
where
    // A number outside the size table: `Size`'s own message.
    Dims<K>: Size,
    Dims<S>: Size,
    Dims<P>: Size,
    Dims<D>: Size,
    // Never fails: comparisons with 0, maxima with 1.
    Num<K>: IsGreater<U0> + Max<U1>,
    Num<S>: IsGreater<U0> + Max<U1>,
    Num<D>: IsGreater<U0>,
    // K = 0, S = 0, D = 0: each its own message.
    Gr<Num<K>, U0>: KernelNonZero<L, K>,
    Gr<Num<S>, U0>: StrideNonZero<L, S>,
    Gr<Num<D>, U0>: DilationNonZero<L, D>,
    // Never fails: the reach `D·(max(K, 1) − 1) + 1` is a number.
    Maximum<Num<K>, U1>: Sub<U1>,
    Num<D>: Mul<<Maximum<Num<K>, U1> as Sub<U1>>::Output>,
    <Num<D> as Mul<<Maximum<Num<K>, U1> as Sub<U1>>::Output>>::Output: Add<B1>,
    Reach<K, D>: Unsigned,
    // Never fails: `H + 2P`, compared with the reach.
    H: Decimal + Add<Num<P>>,
    <H as Add<Num<P>>>::Output: Add<Num<P>>,
    Padded<H, P>: IsGreaterOrEqual<Reach<K, D>> + Max<Reach<K, D>>,
    // The reach exceeds H + 2P: `ReachFits`.
    GrEq<Padded<H, P>, Reach<K, D>>: ReachFits<L, A, K, D, P, Show<H>>,
    // Never fails: guarded by the maximum and the divisor `max(S, 1)`.
    Maximum<Padded<H, P>, Reach<K, D>>: Sub<Reach<K, D>>,
    DilatedSpan<H, K, P, D>: Div<Divisor<S>> + Rem<Divisor<S>>,
    // `Exact` with a remainder: `ReachTiles`.
    M: ReachMode<<DilatedSpan<H, K, P, D> as Rem<Divisor<S>>>::Output, L, A, K, S, P, D, Show<H>>,
    // Never fails: `HO` is a typenum number.
    <DilatedSpan<H, K, P, D> as Div<Divisor<S>>>::Output: Add<B1>,
    <<DilatedSpan<H, K, P, D> as Div<Divisor<S>>>::Output as Add<B1>>::Output: Unsigned,
{
    type Out = <<DilatedSpan<H, K, P, D> as Div<Divisor<S>>>::Output as Add<B1>>::Output;
}

/// The output size of [`DilatedWindow`].
pub type DilatedOut<H, L, A, const K: usize, const S: usize, const P: usize, const D: usize, M> =
    <H as DilatedWindow<L, A, K, S, P, D, M>>::Out;

/// [`StrideMode`] of a [`DilatedWindow`]: [`Exact`] requires [`ReachTiles`], [`Floor`] nothing.
pub trait ReachMode<R, L, A, const K: usize, const S: usize, const P: usize, const D: usize, HD>:
    Default + Copy + Send + Sync + 'static
{
}
impl<R, L, A, const K: usize, const S: usize, const P: usize, const D: usize, HD>
    ReachMode<R, L, A, K, S, P, D, HD> for Exact
where
    R: ReachTiles<L, A, K, S, P, D, HD>,
{
}
impl<R, L, A, const K: usize, const S: usize, const P: usize, const D: usize, HD>
    ReachMode<R, L, A, K, S, P, D, HD> for Floor
{
}

/// Marker: a dilated window's stride tiles the padded input (a zero remainder only).
#[diagnostic::on_unimplemented(
    message = "`{L}` doesn't fit: kernel {K} with dilation {D}, stride {S} and padding {P} does not tile the input {A} `{HD}`",
    label = "(H + 2P − D·(K − 1) − 1) is not a multiple of the stride {S}",
    note = "choose a stride, padding or input size that tiles, or opt in to PyTorch's floor rule with the `Floor` mode parameter"
)]
pub trait ReachTiles<L, A, const K: usize, const S: usize, const P: usize, const D: usize, HD> {}
impl<L, A, const K: usize, const S: usize, const P: usize, const D: usize, HD>
    ReachTiles<L, A, K, S, P, D, HD> for U0
{
}

/// Marker: a window of `K` taps `D` apart, spanning `D·(K − 1) + 1`, fits in the padded input
/// (implemented for `True`).
#[diagnostic::on_unimplemented(
    message = "`{L}`: kernel {K} with dilation {D} spans more than the input {A} `{HD}` plus 2 × padding {P}",
    label = "the dilated kernel does not fit in the padded input",
    note = "a kernel of K taps D apart spans D·(K − 1) + 1 ≤ H + 2P; use a smaller kernel or dilation, more padding, or a larger input"
)]
pub trait ReachFits<L, A, const K: usize, const D: usize, const P: usize, HD> {}
impl<L, A, const K: usize, const D: usize, const P: usize, HD> ReachFits<L, A, K, D, P, HD> for B1 {}

/// Marker: the dilation `D` of layer `L` is at least 1 (implemented for `True`).
#[diagnostic::on_unimplemented(
    message = "`{L}`: the dilation is {D}, but it must be at least 1",
    label = "dilation 1 is an ordinary kernel; 0 would put every tap on the same pixel"
)]
pub trait DilationNonZero<L, const D: usize> {}
impl<L, const D: usize> DilationNonZero<L, D> for B1 {}
