//! The element types a tensor can hold: `f32` (training and inference) and `f64` (exact gradient
//! checks). Everything numeric in the crate is generic over [`Float`]; nothing here allocates.
//! Depends only on [`crate::gemm`] (each element type has its GEMM).

use core::fmt::Debug;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point element type: implemented for `f32` and `f64` only (sealed).
///
/// Kernels stay generic through [`crate::kernels::gemm`]: `f32` calls
/// `matrixmultiply::sgemm`, `f64` calls `dgemm`.
///
/// ```
/// use typed_cnn::Float;
/// fn softplus<E: Float>(x: E) -> E { (E::ONE + x.exp()).ln() }
/// assert!((softplus(0.0f64) - 2f64.ln()).abs() < 1e-15);
/// ```
pub trait Float:
    Copy
    + Default
    + Debug
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + sealed::Sealed
    + crate::gemm::RawGemm
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `-∞`, the padding value of max pooling.
    const NEG_INFINITY: Self;
    /// The type's name in messages and weight files (`"F32"`, `"F64"`, the safetensors spelling).
    const DTYPE: &'static str;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Converts from `usize` (rounding).
    fn from_usize(x: usize) -> Self;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// The larger of two values (NaN-ignoring, as `f32::max`).
    fn max(self, other: Self) -> Self;
    /// `true` unless NaN or infinite.
    fn is_finite(self) -> bool;
    /// `self · a + b` with one rounding (a fused multiply-add): one instruction where the code
    /// is compiled for a CPU that has it, a slower exact emulation elsewhere, the same result.
    fn mul_add(self, a: Self, b: Self) -> Self;
}

pub(crate) mod sealed {
    /// Seals [`super::Float`]: only `f32` and `f64` implement it.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

macro_rules! impl_float {
    ($t:ty, $name:literal) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const DTYPE: &'static str = $name;
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_usize(x: usize) -> Self {
                x as $t
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
        }
    };
}
impl_float!(f32, "F32");
impl_float!(f64, "F64");
