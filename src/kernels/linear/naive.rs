//! The naive reference for fully-connected layers (test-only): direct loops from the definition.

use crate::Float;

/// Slow, obviously-correct oracle for a fully-connected layer: `y = x · Wᵀ + b`, i.e.
/// `y[n,o] = b[o] + Σ_i w[o,i] · x[n,i]`.
///
/// `x: (N, IN)`, `w: (OUT, IN)` (PyTorch's `nn.Linear` layout), `b: (OUT)`, `y: (N, OUT)`
/// (overwritten). **Panics** on a length mismatch.
#[track_caller]
pub fn linear_forward_naive<E: Float>(
    n: usize,
    n_in: usize,
    n_out: usize,
    x: &[E],
    w: &[E],
    b: &[E],
    y: &mut [E],
) {
    assert_eq!(x.len(), n * n_in, "linear_forward_naive: x");
    assert_eq!(w.len(), n_out * n_in, "linear_forward_naive: w");
    assert_eq!(b.len(), n_out, "linear_forward_naive: b");
    assert_eq!(y.len(), n * n_out, "linear_forward_naive: y");
    // y: (N, OUT); sum over IN
    for ni in 0..n {
        for o in 0..n_out {
            let mut acc = b[o];
            for i in 0..n_in {
                acc += w[o * n_in + i] * x[ni * n_in + i];
            }
            y[ni * n_out + o] = acc;
        }
    }
}

/// Slow, obviously-correct oracle for the backward of [`linear_forward_naive`], given
/// `dy: (N, OUT)`: `dx += dy · W`, `dw += dyᵀ · x`, `db += Σ_n dy[n, :]`.
///
/// All three gradients ACCUMULATE (`+=`): `dx: (N, IN)`, `dw: (OUT, IN)`, `db: (OUT)`.
/// **Panics** on a length mismatch.
#[track_caller]
pub fn linear_backward_naive<E: Float>(
    n: usize,
    n_in: usize,
    n_out: usize,
    x: &[E],
    w: &[E],
    dy: &[E],
    dx: &mut [E],
    dw: &mut [E],
    db: &mut [E],
) {
    assert_eq!(x.len(), n * n_in, "linear_backward_naive: x");
    assert_eq!(w.len(), n_out * n_in, "linear_backward_naive: w");
    assert_eq!(dy.len(), n * n_out, "linear_backward_naive: dy");
    assert_eq!(dx.len(), n * n_in, "linear_backward_naive: dx");
    assert_eq!(dw.len(), n_out * n_in, "linear_backward_naive: dw");
    assert_eq!(db.len(), n_out, "linear_backward_naive: db");
    // dy: (N, OUT); each output fans back over IN
    for ni in 0..n {
        for o in 0..n_out {
            let g_out = dy[ni * n_out + o];
            db[o] += g_out;
            for i in 0..n_in {
                dw[o * n_in + i] += g_out * x[ni * n_in + i];
                dx[ni * n_in + i] += g_out * w[o * n_in + i];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-worked example of [`linear_backward_naive`].
    #[test]
    fn linear_backward_naive_example() {
        let (x, w, dy) = ([1., 2.], [1., 0., 2., -1., 0., 3.], [1., 0., -1.]);
        let (mut dx, mut dw, mut db) = ([0.0f64; 2], [0.0; 6], [0.0; 3]);
        linear_backward_naive(1, 2, 3, &x, &w, &dy, &mut dx, &mut dw, &mut db);
        assert_eq!(dx, [1., -3.]); // dy·W = 1·[1, 0] + 0·[2, −1] − 1·[0, 3]
        assert_eq!(dw, [1., 2., 0., 0., -1., -2.]); // dyᵀ·x: row o is dy[o]·x
        assert_eq!(db, [1., 0., -1.]);
    }

    #[test]
    fn linear_naive_hand_worked() {
        // x = [[1, 2]], w = [[1, 0], [2, -1], [0, 3]], b = [0.5, 0, -1]
        // y = [1·1 + 2·0 + 0.5, 1·2 − 2·1 + 0, 0 + 2·3 − 1] = [1.5, 0, 5]
        let (x, w, b) = ([1.0, 2.0], [1.0, 0.0, 2.0, -1.0, 0.0, 3.0], [0.5, 0.0, -1.0]);
        let mut y = [0.0; 3];
        linear_forward_naive(1, 2, 3, &x, &w, &b, &mut y);
        crate::testing::assert_close(&y, &[1.5, 0.0, 5.0]);
        // dy = [1, 2, 3]: dx = dy·W = [1 + 4 + 0, 0 − 2 + 9] = [5, 7] (+1 already there)
        // dw = dyᵀ·x = [[1, 2], [2, 4], [3, 6]], db = dy
        let (mut dx, mut dw, mut db) = ([1.0; 2], [0.0; 6], [0.0; 3]);
        linear_backward_naive(1, 2, 3, &x, &w, &[1.0, 2.0, 3.0], &mut dx, &mut dw, &mut db);
        crate::testing::assert_close(&dx, &[6.0, 8.0]);
        crate::testing::assert_close(&dw, &[1.0, 2.0, 2.0, 4.0, 3.0, 6.0]);
        crate::testing::assert_close(&db, &[1.0, 2.0, 3.0]);
    }
}
