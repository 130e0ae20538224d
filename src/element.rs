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
    + sealed::Gemm
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
    /// Little-endian bytes viewed as values in place: `None` unless the address is aligned for
    /// `Self` and the length a multiple of its size (bytemuck's checked cast).
    fn view_bytes(bytes: &[u8]) -> Option<&[Self]>;
}

pub(crate) mod sealed {
    /// Seals [`super::Float`]: only `f32` and `f64` implement it.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}

    /// The per-type GEMM the `std` kernels call (matrixmultiply's); nothing without `std`.
    #[cfg(feature = "std")]
    pub trait Gemm: crate::gemm::RawGemm {}
    /// The per-type GEMM the `std` kernels call (matrixmultiply's); nothing without `std`.
    #[cfg(not(feature = "std"))]
    pub trait Gemm {}
    impl Gemm for f32 {}
    impl Gemm for f64 {}
}

/// The element type's math: the standard library's with `std`, `libm`'s without (the same
/// functions; `libm` is what `std` calls on targets without a system math library).
#[cfg(feature = "std")]
macro_rules! math {
    ($t:ty, $std:ident, $libm:ident, $($x:expr),+) => {
        <$t>::$std($($x),+)
    };
}
#[cfg(not(feature = "std"))]
macro_rules! math {
    ($t:ty, $std:ident, $libm:ident, $($x:expr),+) => {
        libm::$libm($($x),+)
    };
}

macro_rules! impl_float {
    ($t:ty, $name:literal, $exp:ident, $ln:ident, $tanh:ident, $sqrt:ident, $fma:ident) => {
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
                math!($t, exp, $exp, self)
            }
            #[inline]
            fn ln(self) -> Self {
                math!($t, ln, $ln, self)
            }
            #[inline]
            fn tanh(self) -> Self {
                math!($t, tanh, $tanh, self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                math!($t, sqrt, $sqrt, self)
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
                math!($t, mul_add, $fma, self, a, b)
            }
            #[inline]
            fn view_bytes(bytes: &[u8]) -> Option<&[Self]> {
                bytemuck::try_cast_slice(bytes).ok()
            }
        }
    };
}
impl_float!(f32, "F32", expf, logf, tanhf, sqrtf, fmaf);
impl_float!(f64, "F64", exp, log, tanh, sqrt, fma);
