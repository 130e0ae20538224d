//! The linear kernels against the naive reference at odd sizes, with and without bias, with
//! non-zero gradients to accumulate onto.

use super::naive::{linear_backward_naive, linear_forward_naive};
use super::{backward, forward};
use crate::testing::{Rng, assert_close};

#[test]
fn linear_kernels_match_naive() {
    let mut rng = Rng::new(41);
    for (n, inp, out) in [(1, 1, 1), (3, 7, 5), (5, 1, 9), (2, 33, 3), (7, 16, 1)] {
        let (x, w, b, dy) = (rng.vec(n * inp), rng.vec(out * inp), rng.vec(out), rng.vec(n * out));
        let (dx0, dw0, db0) = (rng.vec(n * inp), rng.vec(out * inp), rng.vec(out));
        let mut y = vec![f64::NAN; n * out];
        let mut y_naive = vec![f64::NAN; n * out];
        forward(n, inp, out, &x, &w, Some(&b), &mut y);
        linear_forward_naive(n, inp, out, &x, &w, &b, &mut y_naive);
        assert_close(&y, &y_naive);
        forward(n, inp, out, &x, &w, None, &mut y);
        linear_forward_naive(n, inp, out, &x, &w, &vec![0.0; out], &mut y_naive);
        assert_close(&y, &y_naive);

        let (mut dx, mut dw, mut db) = (dx0.clone(), dw0.clone(), db0.clone());
        let (mut dx_n, mut dw_n, mut db_n) = (dx0.clone(), dw0.clone(), db0.clone());
        backward(n, inp, out, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
        linear_backward_naive(n, inp, out, &x, &w, &dy, &mut dx_n, &mut dw_n, &mut db_n);
        assert_close(&dx, &dx_n);
        assert_close(&dw, &dw_n);
        assert_close(&db, &db_n);
        // without dx and db: the weight gradient alone, the same
        let mut dw_only = dw0.clone();
        backward(n, inp, out, &x, &w, &dy, None, &mut dw_only, None);
        assert_close(&dw_only, &dw_n);
    }
}

/// Batches of up to `GEMV_ROWS` run dot products, not a GEMM: every lane remainder (IN around
/// the 32 lanes) and row remainder (OUT around the groups of 4), in f64 to roundoff and in f32
/// within the project's tolerance, and the same bits from the AVX-512/AVX2 and baseline builds.
#[test]
fn small_batches_match_naive_on_every_lane_and_row_remainder() {
    use super::{GEMV_ROWS, rows_dot, rows_dot_body};
    let mut rng = Rng::new(77);
    for n in 1..=GEMV_ROWS {
        for inp in [1, 5, 31, 32, 33, 64, 65, 256] {
            for out in [1, 3, 4, 5, 9, 120] {
                let (x, w, b) = (rng.vec(n * inp), rng.vec(out * inp), rng.vec(out));
                let mut y = vec![f64::NAN; n * out];
                let mut y_naive = vec![f64::NAN; n * out];
                forward(n, inp, out, &x, &w, Some(&b), &mut y);
                linear_forward_naive(n, inp, out, &x, &w, &b, &mut y_naive);
                assert_close(&y, &y_naive);
                let worst = y.iter().zip(&y_naive).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                assert!(worst <= 1e-15 * inp as f64, "n={n} in={inp} out={out}: {worst:e}");

                let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
                let (xf, wf, bf) = (f(&x), f(&w), f(&b));
                let mut y32 = vec![f32::NAN; n * out];
                forward(n, inp, out, &xf, &wf, Some(&bf), &mut y32);
                let back: Vec<f64> = y32.iter().map(|&a| f64::from(a)).collect();
                assert_close(&back, &y_naive);

                let (mut best, mut base) = (vec![0.0f32; out], vec![0.0f32; out]);
                rows_dot(&wf, &xf[..inp], &mut best);
                rows_dot_body(&wf, &xf[..inp], &mut base);
                let bits = |v: &[f32]| v.iter().map(|a| a.to_bits()).collect::<Vec<u32>>();
                assert_eq!(bits(&best), bits(&base), "in={inp} out={out}");
            }
        }
    }
}
