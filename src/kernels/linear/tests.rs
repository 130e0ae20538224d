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
