//! One of the crate's three `unsafe` places (the others call the kernels' CPU-specific builds and lend jobs to the worker threads): a safe, length-checked wrapper over `matrixmultiply::{sgemm, dgemm}`.
//! A leaf module: it depends on nothing else in the crate.
//!
//! Matrices are row-major slices; a transpose is expressed by swapping the row and column strides,
//! never by copying (as dfdx v0.9's `mm_at`/`mm_bt` do).
#![allow(unsafe_code)]

/// `C[m×n] ← op(A)[m×k] · op(B)[k×n] + β·C`, where `op(X)` is `X` or `Xᵀ`.
///
/// `a` holds `A` row-major as `m×k`, or as `k×m` when `trans_a` (then `op(A) = Aᵀ`); likewise
/// `b` holds `k×n`, or `n×k` when `trans_b`. `c` is `m×n` row-major. With `beta = 0`, `c` is
/// overwritten (its old contents may even be NaN); with `beta = 1` the product is accumulated.
///
/// **Panics** if a slice is shorter than its matrix or a size product overflows `usize`: a bug in
/// the caller, never user input.
///
/// ```
/// use typed_cnn::kernels::gemm;
/// // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
/// let mut c = [0.0f32; 4];
/// gemm(2, 2, 2, &[1., 2., 3., 4.], false, &[5., 6., 7., 8.], false, 0.0, &mut c);
/// assert_eq!(c, [19., 22., 43., 50.]);
/// // Aᵀ·B with A stored as 2×2: [1 3; 2 4] · [5 6; 7 8] = [26 30; 38 44]
/// gemm(2, 2, 2, &[1., 2., 3., 4.], true, &[5., 6., 7., 8.], false, 0.0, &mut c);
/// assert_eq!(c, [26., 30., 38., 44.]);
/// ```
#[track_caller]
pub fn gemm<E: RawGemm>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    trans_a: bool,
    b: &[E],
    trans_b: bool,
    beta: E,
    c: &mut [E],
) {
    // Checked products: a wrapped `m·k` could pass the length test with a short slice.
    let need = |x: usize, y: usize| {
        x.checked_mul(y).unwrap_or_else(|| panic!("gemm: m={m} k={k} n={n} overflows usize"))
    };
    let (need_a, need_b, need_c) = (need(m, k), need(k, n), need(m, n));
    assert!(
        a.len() >= need_a && b.len() >= need_b && c.len() >= need_c,
        "gemm: m={m} k={k} n={n} needs a ≥ {need_a}, b ≥ {need_b}, c ≥ {need_c}, got {}, {}, {}",
        a.len(),
        b.len(),
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    // Row-major strides (row stride, column stride) of the stored matrices, swapped for a transpose.
    let (rsa, csa) = if trans_a { (1, m) } else { (k, 1) };
    let (rsb, csb) = if trans_b { (1, k) } else { (n, 1) };
    E::raw_gemm(
        Strides {
            m,
            k,
            n,
            rsa: rsa as isize,
            csa: csa as isize,
            rsb: rsb as isize,
            csb: csb as isize,
            rsc: n as isize,
        },
        a,
        b,
        beta,
        c,
    );
}

/// Sizes and strides of one checked GEMM call (crate-internal detail of [`RawGemm`]).
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Strides {
    m: usize,
    k: usize,
    n: usize,
    rsa: isize,
    csa: isize,
    rsb: isize,
    csb: isize,
    rsc: isize,
}

/// The per-type GEMM: `sgemm` for `f32`, `dgemm` for `f64`. Sealed: only [`gemm`] calls it,
/// after checking every length.
#[doc(hidden)]
pub trait RawGemm: Copy {
    /// Calls matrixmultiply with lengths already checked by [`gemm`].
    fn raw_gemm(s: Strides, a: &[Self], b: &[Self], beta: Self, c: &mut [Self]);
}

macro_rules! raw_gemm {
    ($t:ty, $f:path) => {
        impl RawGemm for $t {
            fn raw_gemm(s: Strides, a: &[$t], b: &[$t], beta: $t, c: &mut [$t]) {
                // SAFETY: `gemm` checked a.len() ≥ m·k, b.len() ≥ k·n, c.len() ≥ m·n (with
                // overflow-checked products, and m, k, n ≤ isize::MAX follows), and the
                // strides it built address exactly those row-major (or transposed) matrices, so
                // every element matrixmultiply reads or writes is in bounds. `c` is a `&mut`
                // borrow distinct from `a` and `b`, so the output aliases neither input.
                unsafe {
                    $f(
                        s.m,
                        s.k,
                        s.n,
                        1.0,
                        a.as_ptr(),
                        s.rsa,
                        s.csa,
                        b.as_ptr(),
                        s.rsb,
                        s.csb,
                        beta,
                        c.as_mut_ptr(),
                        s.rsc,
                        1,
                    )
                }
            }
        }
    };
}
raw_gemm!(f32, matrixmultiply::sgemm);
raw_gemm!(f64, matrixmultiply::dgemm);
