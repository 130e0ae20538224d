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
    if n <= GEMV_ROWS {
        // a few rows: dot products read the weights in place, no packing
        if inp > 0 {
            for (xr, yr) in x.chunks_exact(inp).zip(y.chunks_exact_mut(out.max(1))) {
                rows_dot(w, xr, yr);
            }
        }
        return;
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

/// Batches of at most this many rows run [`rows_dot`] per row instead of one GEMM: for a few
/// rows the GEMM would spend most of its time packing the whole weight matrix (LeNet's
/// 120 × 256 for one image).
const GEMV_ROWS: usize = 4;

/// Partial sums of one dot product: two AVX-512 vectors of `f32` (two independent chains).
const LANES: usize = 32;

dispatched! {
    /// `y[o] += w[o, :] · x` for every row `o` of `w: (OUT, IN)`, `x: (IN)`: each dot product in
    /// [`LANES`] partial sums (element `k` into lane `k mod LANES`), fused multiply-adds, lanes
    /// added pairwise at the end: a fixed order, so the same bits on every vector width. The order
    /// differs from the GEMM's, so a row computed alone and in a batch above [`GEMV_ROWS`] may
    /// differ in the last bits.
    fn rows_dot(w: &[E], x: &[E], y: &mut [E]) => rows_dot_body;
}

#[inline(always)]
fn rows_dot_body<E: Float>(w: &[E], x: &[E], y: &mut [E]) {
    let inp = x.len();
    let mut rows = w.chunks_exact(inp);
    let mut outs = y.chunks_exact_mut(4);
    for yq in &mut outs {
        let mut next = || rows.next().expect("OUT rows");
        let sums = dot4(x, [next(), next(), next(), next()]);
        yq.iter_mut().zip(sums).for_each(|(v, s)| *v += s);
    }
    for (v, r) in outs.into_remainder().iter_mut().zip(rows) {
        *v += dot1(x, r);
    }
}

/// The pairwise sum of a dot product's lanes.
#[inline(always)]
fn lane_sum<E: Float>(mut v: [E; LANES]) -> E {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            v[l] += v[l + width];
        }
    }
    v[0]
}

/// Four dot products with `x` at once (named sums, kept in registers).
#[inline(always)]
fn dot4<E: Float>(x: &[E], rows: [&[E]; 4]) -> [E; 4] {
    let [r0, r1, r2, r3] = rows;
    let z = [E::ZERO; LANES];
    let (mut s0, mut s1, mut s2, mut s3) = (z, z, z, z);
    let blocks = x
        .chunks_exact(LANES)
        .zip(r0.chunks_exact(LANES))
        .zip(r1.chunks_exact(LANES))
        .zip(r2.chunks_exact(LANES))
        .zip(r3.chunks_exact(LANES));
    for ((((xv, a0), a1), a2), a3) in blocks {
        for l in 0..LANES {
            s0[l] = a0[l].mul_add(xv[l], s0[l]);
            s1[l] = a1[l].mul_add(xv[l], s1[l]);
            s2[l] = a2[l].mul_add(xv[l], s2[l]);
            s3[l] = a3[l].mul_add(xv[l], s3[l]);
        }
    }
    let done = x.len() / LANES * LANES;
    for (l, &xv) in x[done..].iter().enumerate() {
        s0[l] = r0[done + l].mul_add(xv, s0[l]);
        s1[l] = r1[done + l].mul_add(xv, s1[l]);
        s2[l] = r2[done + l].mul_add(xv, s2[l]);
        s3[l] = r3[done + l].mul_add(xv, s3[l]);
    }
    [lane_sum(s0), lane_sum(s1), lane_sum(s2), lane_sum(s3)]
}

/// One dot product in [`dot4`]'s order.
#[inline(always)]
fn dot1<E: Float>(x: &[E], r: &[E]) -> E {
    let mut s = [E::ZERO; LANES];
    for (xv, a) in x.chunks_exact(LANES).zip(r.chunks_exact(LANES)) {
        for l in 0..LANES {
            s[l] = a[l].mul_add(xv[l], s[l]);
        }
    }
    let done = x.len() / LANES * LANES;
    for (l, &xv) in x[done..].iter().enumerate() {
        s[l] = r[done + l].mul_add(xv, s[l]);
    }
    lane_sum(s)
}

#[cfg(test)]
pub(crate) mod naive;
#[cfg(test)]
mod tests;
