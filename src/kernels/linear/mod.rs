//! Fully connected layers `y = x·Wᵀ + b` on GEMM, PyTorch's layout: `x: (N, IN)`,
//! `w: (OUT, IN)`, `b: (OUT)`, `y: (N, OUT)`.

use crate::Float;
use crate::gemm::gemm;

/// **Panics** unless `x` is `N·IN` and `w` is `OUT·IN`.
#[track_caller]
fn check<E>(op: &str, n: usize, inp: usize, out: usize, x: &[E], w: &[E]) {
    assert_eq!(x.len(), n * inp, "{op}: x must be N·IN (n={n}, in={inp})");
    assert_eq!(w.len(), out * inp, "{op}: w must be OUT·IN (out={out}, in={inp})");
}

/// `y = x·Wᵀ + b` (overwrites `y`), as one GEMM over the batch; without bias when `b` is `None`.
///
/// **Panics** if a slice length does not match the shapes above.
///
/// ```
/// use typed_cnn::kernels::linear;
/// // x = [[1, 2]], w = [[1, 0], [2, −1], [0, 3]] (OUT × IN = 3 × 2), b = [0.5, 0, −1]
/// let mut y = [0.0f64; 3];
/// linear::forward(1, 2, 3, &[1., 2.], &[1., 0., 2., -1., 0., 3.], Some(&[0.5, 0., -1.]), &mut y);
/// assert_eq!(y, [1.5, 0., 5.]); // [1 + 0 + 0.5, 2 − 2 + 0, 0 + 6 − 1]
/// ```
#[track_caller]
pub fn forward<E: Float>(
    n: usize,
    inp: usize,
    out: usize,
    x: &[E],
    w: &[E],
    b: Option<&[E]>,
    y: &mut [E],
) {
    check("linear::forward", n, inp, out, x, w);
    assert_eq!(y.len(), n * out, "linear::forward: y must be N·OUT (n={n}, out={out})");
    // y starts as the bias broadcast over the batch (or zero), then accumulates x · Wᵀ.
    match b {
        Some(b) => {
            assert_eq!(b.len(), out, "linear::forward: b must be OUT={out}");
            if out > 0 {
                y.chunks_exact_mut(out).for_each(|row| row.copy_from_slice(b));
            }
        }
        None => y.fill(E::ZERO),
    }
    // y: (N, OUT) += x: (N, IN) · wᵀ: (IN, OUT)
    gemm(n, inp, out, x, false, w, true, E::ONE, y);
}

/// Backward of [`forward`]: ALL gradients ACCUMULATE (`+=`): `dw += dyᵀ·x`, `db += Σₙ dy` (if
/// `Some`), and `dx += dy·W` (if `Some`; `None` for a first layer whose input needs none).
///
/// **Panics** if a slice length does not match.
///
/// ```
/// use typed_cnn::kernels::linear;
/// let (x, w, dy) = ([1., 2.], [1., 0., 2., -1., 0., 3.], [1., 0., -1.]);
/// let (mut dx, mut dw, mut db) = ([0.0f64; 2], [0.0; 6], [0.0; 3]);
/// linear::backward(1, 2, 3, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
/// assert_eq!(dx, [1., -3.]); // dy·W = 1·[1, 0] + 0·[2, −1] − 1·[0, 3]
/// assert_eq!(dw, [1., 2., 0., 0., -1., -2.]); // dyᵀ·x: row o is dy[o]·x
/// assert_eq!(db, [1., 0., -1.]);
/// ```
#[track_caller]
pub fn backward<E: Float>(
    n: usize,
    inp: usize,
    out: usize,
    x: &[E],
    w: &[E],
    dy: &[E],
    dx: Option<&mut [E]>,
    dw: &mut [E],
    db: Option<&mut [E]>,
) {
    check("linear::backward", n, inp, out, x, w);
    assert_eq!(dy.len(), n * out, "linear::backward: dy must be N·OUT (n={n}, out={out})");
    assert_eq!(dw.len(), out * inp, "linear::backward: dw must be OUT·IN (out={out}, in={inp})");
    // dw: (OUT, IN) += dyᵀ: (OUT, N) · x: (N, IN)
    gemm(out, n, inp, dy, true, x, false, E::ONE, dw);
    // db: (OUT) += column sums of dy: (N, OUT)
    if let Some(db) = db {
        assert_eq!(db.len(), out, "linear::backward: db must be OUT={out}");
        if out > 0 {
            for row in dy.chunks_exact(out) {
                db.iter_mut().zip(row).for_each(|(b, &d)| *b += d);
            }
        }
    }
    // dx: (N, IN) += dy: (N, OUT) · w: (OUT, IN)
    if let Some(dx) = dx {
        assert_eq!(dx.len(), n * inp, "linear::backward: dx must be N·IN (n={n}, in={inp})");
        gemm(n, out, inp, dy, false, w, false, E::ONE, dx);
    }
}

#[cfg(test)]
pub(crate) mod naive;
#[cfg(test)]
mod tests;
