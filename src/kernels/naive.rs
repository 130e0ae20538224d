//! Slow, obviously-correct oracles: convolution and fully-connected layers by direct loops
//! straight from the definitions, for tests and benchmarks to compare the fast kernels against.
//!
//! Nothing here is meant for training: no im2col, no GEMM, no blocking. Same layouts and
//! argument conventions as [`super::conv`] (minus the `col` scratch).

use super::Geom;
use crate::Float;

/// Slow, obviously-correct oracle for [`super::conv::conv_forward`]:
/// `y[n,o,i,j] = bias[o] + Σ_{c,a,b} weight[o,c,a,b] · x[n,c,i·S+a−P, j·S+b−P]`, zero padding.
///
/// `x: (N, C, H, W)`, `weight: (COUT, C, K, K)`, `bias: (COUT)`, `y: (N, COUT, OH, OW)`
/// (overwritten). **Panics** on a length mismatch.
///
/// ```
/// use typed_cnn::kernels::{Geom, naive::conv_forward_naive};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let x = [2., -3., 4., 1., -1., 2., -1., 2., 3.]; // [[2 −3 4], [1 −1 2], [−1 2 3]]
/// let mut y = [0.0f64; 4];
/// conv_forward_naive(&g, 1, 1, &x, &[3., -1., 4., 2.], None, &mut y);
/// // y[0, 1] = 3·(−3) − 1·4 + 4·(−1) + 2·2 = −13
/// assert_eq!(y, [11., -13., 4., 9.]);
/// ```
#[track_caller]
pub fn conv_forward_naive<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    let Geom { c, h, w, k, s, p, oh, ow } = *g;
    assert_eq!(x.len(), n * c * h * w, "conv_forward_naive: x");
    assert_eq!(weight.len(), cout * c * k * k, "conv_forward_naive: weight");
    assert_eq!(y.len(), n * cout * oh * ow, "conv_forward_naive: y");
    if let Some(b) = bias {
        assert_eq!(b.len(), cout, "conv_forward_naive: bias");
    }
    // y: (N, COUT, OH, OW); sum over (C, K, K)
    for ni in 0..n {
        for o in 0..cout {
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc = match bias {
                        Some(b) => b[o],
                        None => E::ZERO,
                    };
                    for ci in 0..c {
                        for a in 0..k {
                            for b in 0..k {
                                // input coordinate (i·S + a − P, j·S + b − P), skipped if padding
                                let yy = (i * s + a) as isize - p as isize;
                                let xx = (j * s + b) as isize - p as isize;
                                if yy < 0 || yy >= h as isize || xx < 0 || xx >= w as isize {
                                    continue;
                                }
                                let (yy, xx) = (yy as usize, xx as usize);
                                acc += weight[((o * c + ci) * k + a) * k + b]
                                    * x[((ni * c + ci) * h + yy) * w + xx];
                            }
                        }
                    }
                    y[((ni * cout + o) * oh + i) * ow + j] = acc;
                }
            }
        }
    }
}

/// Slow, obviously-correct oracle for [`super::conv::conv_backward`], by the same loops as
/// [`conv_forward_naive`] with every multiply-add differentiated.
///
/// ACCUMULATES (`+=`) into `dx: (N, C, H, W)` (if `Some`), `dweight: (COUT, C, K, K)` and
/// `dbias: (COUT)` (if `Some`), given `dy: (N, COUT, OH, OW)`. **Panics** on a length mismatch.
///
/// ```
/// use typed_cnn::kernels::{Geom, naive::conv_backward_naive};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let (x, w, dy) = ([1., 2., 3., 4., 5., 6., 7., 8., 9.], [1., 2., 3., 4.], [1.0; 4]);
/// let (mut dx, mut dw, mut db) = ([0.0f64; 9], [0.0; 4], [0.0; 1]);
/// conv_backward_naive(&g, 1, 1, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
/// // dy = 1: dW[a, b] sums the window at offset (a, b), e.g. 1 + 2 + 4 + 5; db counts outputs
/// assert_eq!((dw, db), ([12., 16., 24., 28.], [4.]));
/// // dx sums the weights that touched each pixel: 1 + 2 + 3 + 4 = 10 in the centre
/// assert_eq!(dx, [1., 3., 2., 4., 10., 6., 3., 7., 4.]);
/// ```
#[track_caller]
pub fn conv_backward_naive<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    dy: &[E],
    mut dx: Option<&mut [E]>,
    dweight: &mut [E],
    mut dbias: Option<&mut [E]>,
) {
    let Geom { c, h, w, k, s, p, oh, ow } = *g;
    assert_eq!(x.len(), n * c * h * w, "conv_backward_naive: x");
    assert_eq!(weight.len(), cout * c * k * k, "conv_backward_naive: weight");
    assert_eq!(dy.len(), n * cout * oh * ow, "conv_backward_naive: dy");
    assert_eq!(dweight.len(), cout * c * k * k, "conv_backward_naive: dweight");
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), n * c * h * w, "conv_backward_naive: dx");
    }
    if let Some(db) = dbias.as_deref() {
        assert_eq!(db.len(), cout, "conv_backward_naive: dbias");
    }
    // dy: (N, COUT, OH, OW); each output element fans back over (C, K, K)
    for ni in 0..n {
        for o in 0..cout {
            for i in 0..oh {
                for j in 0..ow {
                    let g_out = dy[((ni * cout + o) * oh + i) * ow + j];
                    if let Some(db) = dbias.as_deref_mut() {
                        db[o] += g_out;
                    }
                    for ci in 0..c {
                        for a in 0..k {
                            for b in 0..k {
                                let yy = (i * s + a) as isize - p as isize;
                                let xx = (j * s + b) as isize - p as isize;
                                if yy < 0 || yy >= h as isize || xx < 0 || xx >= w as isize {
                                    continue;
                                }
                                let (yy, xx) = (yy as usize, xx as usize);
                                let wi = ((o * c + ci) * k + a) * k + b;
                                let xi = ((ni * c + ci) * h + yy) * w + xx;
                                dweight[wi] += g_out * x[xi];
                                if let Some(dx) = dx.as_deref_mut() {
                                    dx[xi] += g_out * weight[wi];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Slow, obviously-correct oracle for a fully-connected layer: `y = x · Wᵀ + b`, i.e.
/// `y[n,o] = b[o] + Σ_i w[o,i] · x[n,i]`.
///
/// `x: (N, IN)`, `w: (OUT, IN)` (PyTorch's `nn.Linear` layout), `b: (OUT)`, `y: (N, OUT)`
/// (overwritten). **Panics** on a length mismatch.
///
/// ```
/// use typed_cnn::kernels::naive::linear_forward_naive;
/// // x = [[1, 2]], w = [[1, 0], [2, −1], [0, 3]] (OUT × IN = 3 × 2), b = [0.5, 0, −1]
/// let (x, w, b) = ([1., 2.], [1., 0., 2., -1., 0., 3.], [0.5, 0., -1.]);
/// let mut y = [0.0f64; 3];
/// linear_forward_naive(1, 2, 3, &x, &w, &b, &mut y);
/// assert_eq!(y, [1.5, 0., 5.]); // [1 + 0 + 0.5, 2 − 2 + 0, 0 + 6 − 1]
/// ```
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
///
/// ```
/// use typed_cnn::kernels::naive::linear_backward_naive;
/// let (x, w, dy) = ([1., 2.], [1., 0., 2., -1., 0., 3.], [1., 0., -1.]);
/// let (mut dx, mut dw, mut db) = ([0.0f64; 2], [0.0; 6], [0.0; 3]);
/// linear_backward_naive(1, 2, 3, &x, &w, &dy, &mut dx, &mut dw, &mut db);
/// assert_eq!(dx, [1., -3.]); // dy·W = 1·[1, 0] + 0·[2, −1] − 1·[0, 3]
/// assert_eq!(dw, [1., 2., 0., 0., -1., -2.]); // dyᵀ·x: row o is dy[o]·x
/// assert_eq!(db, [1., 0., -1.]);
/// ```
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
    use crate::testing::assert_close;

    #[test]
    fn linear_naive_hand_worked() {
        // x = [[1, 2]], w = [[1, 0], [2, -1], [0, 3]], b = [0.5, 0, -1]
        // y = [1·1 + 2·0 + 0.5, 1·2 − 2·1 + 0, 0 + 2·3 − 1] = [1.5, 0, 5]
        let (x, w, b) = ([1.0, 2.0], [1.0, 0.0, 2.0, -1.0, 0.0, 3.0], [0.5, 0.0, -1.0]);
        let mut y = [0.0; 3];
        linear_forward_naive(1, 2, 3, &x, &w, &b, &mut y);
        assert_close(&y, &[1.5, 0.0, 5.0]);
        // dy = [1, 2, 3]: dx = dy·W = [1 + 4 + 0, 0 − 2 + 9] = [5, 7] (+1 already there)
        // dw = dyᵀ·x = [[1, 2], [2, 4], [3, 6]], db = dy
        let (mut dx, mut dw, mut db) = ([1.0; 2], [0.0; 6], [0.0; 3]);
        linear_backward_naive(1, 2, 3, &x, &w, &[1.0, 2.0, 3.0], &mut dx, &mut dw, &mut db);
        assert_close(&dx, &[6.0, 8.0]);
        assert_close(&dw, &[1.0, 2.0, 2.0, 4.0, 3.0, 6.0]);
        assert_close(&db, &[1.0, 2.0, 3.0]);
    }

    #[test]
    #[should_panic(expected = "first bad element at index 1")]
    fn assert_close_reports_first_bad_index() {
        assert_close(&[1.0, 2.1, 3.5], &[1.0, 2.0, 3.0]);
    }
}
