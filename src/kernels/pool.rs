//! Max, average and global-average pooling over `(N, C, H, W)` tensors, by direct window loops.
//!
//! Floor mode only (no `ceil_mode`, no dilation, no `divisor_override`). Backward kernels
//! ACCUMULATE (`+=`) into `dx`. The pooling layers enforce PyTorch's `2P ≤ K` at compile time,
//! so no window lies entirely in the padding; called directly with a larger padding, the kernels
//! still do not panic (see each function).

use super::Geom;
use crate::Float;

/// Argmax value marking a window with no real input element (only possible if `P ≥ K`).
const NO_ARGMAX: u32 = u32::MAX;

/// `true` iff `v` is NaN (`Float` has no `is_nan`; NaN is the only value unordered with itself).
fn is_nan<E: Float>(v: E) -> bool {
    v.partial_cmp(&v).is_none()
}

/// The clipped-to-input window of output row (or column) `i`: `[start, end)` in input
/// coordinates, plus the PyTorch "include pad" extent `end' − start'` before clipping to `[0, n)`
/// (where `end' = min(start' + K, n + P)`).
fn window(i: usize, n: usize, k: usize, s: usize, p: usize) -> (usize, usize, usize) {
    let start = (i * s) as isize - p as isize;
    let end = (start + k as isize).min((n + p) as isize);
    let padded_extent = (end - start) as usize;
    let start = start.max(0) as usize;
    let end = (end.min(n as isize).max(0) as usize).max(start);
    (start, end, padded_extent)
}

/// The divisor of an average-pool window, from the row and column windows of [`window`]:
/// PyTorch's include-pad extent, or the number of real elements it covers.
fn avg_divisor(
    count_include_pad: bool,
    (h0, h1, ph): (usize, usize, usize),
    (w0, w1, pw): (usize, usize, usize),
) -> usize {
    if count_include_pad { ph * pw } else { (h1 - h0) * (w1 - w0) }
}

/// Checks `x: (N, C, H, W)` and `y: (N, C, OH, OW)` lengths.
#[track_caller]
fn check_pool(op: &str, g: &Geom, n: usize, x_len: usize, y_len: usize) {
    assert_eq!(x_len, n * g.c * g.h * g.w, "{op}: input must be N·C·H·W (n={n}, {g:?})");
    assert_eq!(y_len, n * g.c * g.oh * g.ow, "{op}: output must be N·C·OH·OW (n={n}, {g:?})");
}

/// Max pooling: `y[n,c,i,j] = max` over the `K × K` window at `(i·S − P, j·S − P)` of
/// `x: (N, C, H, W)`, into `y: (N, C, OH, OW)` (overwritten). Padding counts as `−∞`, i.e. is
/// never selected; windows may overlap (`S < K`).
///
/// If `argmax` is `Some` (length `N·C·OH·OW`), it receives for each output the flat index
/// `row·W + col` within its `H·W` input plane of the chosen element: the first maximum in
/// row-major window order on ties; a NaN in the window wins (and propagates, as in PyTorch).
/// A window with no real element (only if `P ≥ K`, which callers rule out) yields `−∞` and
/// argmax `u32::MAX`, which [`maxpool_backward`] skips.
///
/// **Panics** on a length mismatch or if `H·W` does not fit a `u32`.
///
/// ```
/// use typed_cnn::kernels::{Geom, pool::maxpool_forward};
/// let g = Geom::new(1, 2, 4, 2, 2, 0); // a 2×4 plane: two 2×2 windows side by side
/// let x = [1., 4., 0., -1., 3., 2., 5., 2.]; // [[1 4 0 −1], [3 2 5 2]]
/// let (mut y, mut argmax) = ([0.0f32; 2], [0u32; 2]);
/// maxpool_forward(&g, 1, &x, &mut y, Some(&mut argmax));
/// assert_eq!(y, [4., 5.]);
/// assert_eq!(argmax, [1, 6]); // row·W + col: (0, 1) → 1, (1, 2) → 1·4 + 2 = 6
/// ```
#[track_caller]
pub fn maxpool_forward<E: Float>(
    g: &Geom,
    n: usize,
    x: &[E],
    y: &mut [E],
    mut argmax: Option<&mut [u32]>,
) {
    check_pool("maxpool_forward", g, n, x.len(), y.len());
    let Geom { c, h, w, k, s, p, oh, ow } = *g;
    assert!(
        u32::try_from(h * w).is_ok_and(|hw| hw != NO_ARGMAX),
        "maxpool_forward: H·W = {} does not fit a u32 argmax",
        h * w
    );
    if let Some(am) = argmax.as_deref() {
        assert_eq!(am.len(), y.len(), "maxpool_forward: argmax must be N·C·OH·OW");
    }
    let (hw, ohw) = (h * w, oh * ow);
    if p == 0 {
        // No padding: every window lies inside the plane (floor mode never runs past the
        // edge), so the window bounds need no clipping. The same selection rule as below.
        // The selection rule below as a branch-free step (max pooling's comparisons are coin
        // flips for a branch predictor).
        let step = |(best, idx): (E, usize), (v, at): (E, usize)| {
            let take = (v > best) | (is_nan(v) & !is_nan(best));
            (if take { v } else { best }, if take { at } else { idx })
        };
        if k == 2 && s == 2 {
            // The common 2×2, stride-2 window: two input rows give one output row; iterators
            // over pairs instead of indexing, so the loop has no bounds checks.
            for plane in 0..n * c {
                let xp = &x[plane * hw..(plane + 1) * hw];
                let yp = &mut y[plane * ohw..(plane + 1) * ohw];
                let mut ap =
                    argmax.as_deref_mut().map(|am| &mut am[plane * ohw..(plane + 1) * ohw]);
                for i in 0..oh {
                    let (r0, r1) = (&xp[2 * i * w..2 * i * w + 2 * ow], &xp[(2 * i + 1) * w..]);
                    let yr = &mut yp[i * ow..(i + 1) * ow];
                    let pairs = r0.chunks_exact(2).zip(r1.chunks_exact(2));
                    let at = 2 * i * w;
                    match ap.as_deref_mut() {
                        Some(ap) => {
                            let ar = &mut ap[i * ow..(i + 1) * ow];
                            for (j, ((yv, av), (a, b))) in
                                yr.iter_mut().zip(ar).zip(pairs).enumerate()
                            {
                                let f = at + 2 * j;
                                let mut m = (a[0], f);
                                m = step(m, (a[1], f + 1));
                                m = step(m, (b[0], f + w));
                                m = step(m, (b[1], f + w + 1));
                                (*yv, *av) = (m.0, m.1 as u32);
                            }
                        }
                        None => {
                            for (yv, (a, b)) in yr.iter_mut().zip(pairs) {
                                let m =
                                    step(step(step((a[0], 0), (a[1], 1)), (b[0], 2)), (b[1], 3));
                                *yv = m.0;
                            }
                        }
                    }
                }
            }
            return;
        }
        if k == 2 {
            // 2×2 windows at another stride, unrolled: the four candidates in row-major order.
            for plane in 0..n * c {
                let xp = &x[plane * hw..(plane + 1) * hw];
                for i in 0..oh {
                    for j in 0..ow {
                        let f = i * s * w + j * s;
                        let mut m = (xp[f], f);
                        m = step(m, (xp[f + 1], f + 1));
                        m = step(m, (xp[f + w], f + w));
                        m = step(m, (xp[f + w + 1], f + w + 1));
                        let out = plane * ohw + i * ow + j;
                        y[out] = m.0;
                        if let Some(am) = argmax.as_deref_mut() {
                            am[out] = m.1 as u32;
                        }
                    }
                }
            }
            return;
        }
        for plane in 0..n * c {
            let xp = &x[plane * hw..(plane + 1) * hw];
            for i in 0..oh {
                for j in 0..ow {
                    let first = i * s * w + j * s;
                    let (mut best, mut best_idx) = (xp[first], first);
                    for r in 0..k {
                        let row = first + r * w;
                        for (t, &v) in xp[row..row + k].iter().enumerate() {
                            (best, best_idx) = step((best, best_idx), (v, row + t));
                        }
                    }
                    let out = plane * ohw + i * ow + j;
                    y[out] = best;
                    if let Some(am) = argmax.as_deref_mut() {
                        am[out] = best_idx as u32;
                    }
                }
            }
        }
        return;
    }
    // planes: (N·C); x plane (H, W), y plane (OH, OW)
    for plane in 0..n * c {
        let xp = &x[plane * hw..(plane + 1) * hw];
        for i in 0..oh {
            let (h0, h1, _) = window(i, h, k, s, p);
            for j in 0..ow {
                let (w0, w1, _) = window(j, w, k, s, p);
                let mut best = E::NEG_INFINITY;
                let mut best_idx = NO_ARGMAX;
                // window rows h0..h1, cols w0..w1 (already clipped to the input), row-major
                for r in h0..h1 {
                    for q in w0..w1 {
                        let v = xp[r * w + q];
                        // First element taken unconditionally (so an all-−∞ window still has a
                        // real argmax); later ones only if strictly larger, or NaN.
                        let take =
                            best_idx == NO_ARGMAX || (!is_nan(best) && (v > best || is_nan(v)));
                        if take {
                            best = v;
                            best_idx = (r * w + q) as u32;
                        }
                    }
                }
                let out = plane * ohw + i * ow + j;
                y[out] = best;
                if let Some(am) = argmax.as_deref_mut() {
                    am[out] = best_idx;
                }
            }
        }
    }
}

/// Max pooling backward: `dx[n, c, argmax] += dy[n, c, i, j]` for every output, where `argmax`
/// is the one [`maxpool_forward`] filled. ACCUMULATES: overlapping windows that chose the same
/// input add up, and whatever `dx` held before is kept.
///
/// `dy, argmax: (N, C, OH, OW)`, `dx: (N, C, H, W)`. **Panics** on a length mismatch or an
/// argmax outside its `H·W` plane (other than the `u32::MAX` "no element" marker, skipped).
///
/// ```
/// use typed_cnn::kernels::{Geom, pool::maxpool_backward};
/// let g = Geom::new(1, 2, 4, 2, 2, 0); // as in `maxpool_forward`'s example
/// let mut dx = [0.0f32; 8];
/// maxpool_backward(&g, 1, &[1, 6], &[10., 20.], &mut dx);
/// // each window's gradient goes to its maximum only
/// assert_eq!(dx, [0., 10., 0., 0., 0., 0., 20., 0.]);
/// ```
#[track_caller]
pub fn maxpool_backward<E: Float>(g: &Geom, n: usize, argmax: &[u32], dy: &[E], dx: &mut [E]) {
    check_pool("maxpool_backward", g, n, dx.len(), dy.len());
    assert_eq!(argmax.len(), dy.len(), "maxpool_backward: argmax must be N·C·OH·OW");
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    // planes: (N·C); dy plane (OH·OW) routes into dx plane (H·W)
    for plane in 0..n * g.c {
        for o in 0..ohw {
            let idx = argmax[plane * ohw + o];
            if idx == NO_ARGMAX {
                continue;
            }
            let idx = idx as usize;
            assert!(idx < hw, "maxpool_backward: argmax {idx} ≥ H·W = {hw}");
            dx[plane * hw + idx] += dy[plane * ohw + o];
        }
    }
}

/// Average pooling with zero padding, PyTorch's floor-mode `avg_pool2d`: `x: (N, C, H, W)` into
/// `y: (N, C, OH, OW)` (overwritten).
///
/// Divisor, exactly as PyTorch computes it: with `start = i·S − P`, `end = min(start + K, H + P)`
/// and `pool_size = (hend − hstart)·(wend − wstart)` taken *before* clipping the window to the
/// input, the divisor is `pool_size` if `count_include_pad`, else the number of real (clipped)
/// elements. In floor mode `start + K ≤ H + P` always holds, so `pool_size` is simply `K·K`;
/// the `H + P` cap only matters for `ceil_mode`, which is not supported. A window with no real
/// element (only if `P ≥ K`) outputs `0` rather than `0/0`.
///
/// **Panics** on a length mismatch.
///
/// ```
/// use typed_cnn::kernels::{Geom, pool::avgpool_forward};
/// let g = Geom::new(1, 2, 2, 2, 2, 1); // padding 1: each 2×2 window covers one real element
/// let (x, mut y) = ([1., 2., 3., 4.], [0.0f64; 4]);
/// avgpool_forward(&g, 1, true, &x, &mut y);
/// assert_eq!(y, [0.25, 0.5, 0.75, 1.0]); // count_include_pad: divided by K·K = 4
/// avgpool_forward(&g, 1, false, &x, &mut y);
/// assert_eq!(y, [1., 2., 3., 4.]); // divided by the one real element
/// ```
#[track_caller]
pub fn avgpool_forward<E: Float>(
    g: &Geom,
    n: usize,
    count_include_pad: bool,
    x: &[E],
    y: &mut [E],
) {
    check_pool("avgpool_forward", g, n, x.len(), y.len());
    let Geom { c, h, w, k, s, p, oh, ow } = *g;
    let (hw, ohw) = (h * w, oh * ow);
    // planes: (N·C); x plane (H, W), y plane (OH, OW)
    for plane in 0..n * c {
        let xp = &x[plane * hw..(plane + 1) * hw];
        for i in 0..oh {
            let (h0, h1, ph) = window(i, h, k, s, p);
            for j in 0..ow {
                let (w0, w1, pw) = window(j, w, k, s, p);
                let divisor = avg_divisor(count_include_pad, (h0, h1, ph), (w0, w1, pw));
                let mut sum = E::ZERO;
                // window rows h0..h1, cols w0..w1 (clipped to the input)
                for r in h0..h1 {
                    for q in w0..w1 {
                        sum += xp[r * w + q];
                    }
                }
                y[plane * ohw + i * ow + j] =
                    if divisor == 0 { E::ZERO } else { sum / E::from_usize(divisor) };
            }
        }
    }
}

/// Average pooling backward: each `dy[n,c,i,j] / divisor` is ADDED to every real input element
/// of its window (same divisor rule as [`avgpool_forward`]); overlapping windows add up.
///
/// `dy: (N, C, OH, OW)`, `dx: (N, C, H, W)` (accumulated). **Panics** on a length mismatch.
///
/// ```
/// use typed_cnn::kernels::{Geom, pool::avgpool_backward};
/// let g = Geom::new(1, 2, 3, 2, 1, 0); // a 2×3 plane: two overlapping 2×2 windows
/// let mut dx = [0.0f64; 6];
/// avgpool_backward(&g, 1, true, &[4., 8.], &mut dx);
/// // window 0 spreads 4/4 = 1 over columns 0–1, window 1 spreads 8/4 = 2 over columns 1–2
/// assert_eq!(dx, [1., 3., 2., 1., 3., 2.]);
/// ```
#[track_caller]
pub fn avgpool_backward<E: Float>(
    g: &Geom,
    n: usize,
    count_include_pad: bool,
    dy: &[E],
    dx: &mut [E],
) {
    check_pool("avgpool_backward", g, n, dx.len(), dy.len());
    let Geom { c, h, w, k, s, p, oh, ow } = *g;
    let (hw, ohw) = (h * w, oh * ow);
    // planes: (N·C); dy plane (OH, OW) spreads into dx plane (H, W)
    for plane in 0..n * c {
        let dxp = &mut dx[plane * hw..(plane + 1) * hw];
        for i in 0..oh {
            let (h0, h1, ph) = window(i, h, k, s, p);
            for j in 0..ow {
                let (w0, w1, pw) = window(j, w, k, s, p);
                let divisor = avg_divisor(count_include_pad, (h0, h1, ph), (w0, w1, pw));
                if divisor == 0 {
                    continue;
                }
                let share = dy[plane * ohw + i * ow + j] / E::from_usize(divisor);
                // window rows h0..h1, cols w0..w1 (clipped to the input)
                for r in h0..h1 {
                    for q in w0..w1 {
                        dxp[r * w + q] += share;
                    }
                }
            }
        }
    }
}

/// Global average pooling: `y[n, c] = mean over (H, W) of x[n, c]`, for `x: (N, C, H, W)` and
/// `y: (N, C)` (overwritten). **Panics** on a length mismatch or `H·W = 0`.
///
/// ```
/// use typed_cnn::kernels::pool::global_avgpool_forward;
/// let x = [1., 2., 3., 6., -1., 0., 0., 5.]; // one image, two channels of 2×2
/// let mut y = [0.0f32; 2];
/// global_avgpool_forward(1, 2, 2, 2, &x, &mut y);
/// assert_eq!(y, [3., 1.]); // (1 + 2 + 3 + 6)/4, (−1 + 0 + 0 + 5)/4
/// ```
#[track_caller]
pub fn global_avgpool_forward<E: Float>(
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    x: &[E],
    y: &mut [E],
) {
    let hw = h * w;
    assert!(hw > 0, "global_avgpool_forward: empty plane h={h} w={w}");
    assert_eq!(x.len(), n * c * hw, "global_avgpool_forward: x must be N·C·H·W");
    assert_eq!(y.len(), n * c, "global_avgpool_forward: y must be N·C");
    let count = E::from_usize(hw);
    // planes: (N·C), each (H·W) summed to one value
    for plane in 0..n * c {
        let mut sum = E::ZERO;
        for &v in &x[plane * hw..(plane + 1) * hw] {
            sum += v;
        }
        y[plane] = sum / count;
    }
}

/// Global average pooling backward: `dx[n, c, :, :] += dy[n, c] / (H·W)`, for `dy: (N, C)` and
/// `dx: (N, C, H, W)` (ACCUMULATED). **Panics** on a length mismatch or `H·W = 0`.
///
/// ```
/// use typed_cnn::kernels::pool::global_avgpool_backward;
/// let mut dx = [1.0f32; 8]; // accumulated into: it starts at 1
/// global_avgpool_backward(1, 2, 2, 2, &[4., -8.], &mut dx);
/// assert_eq!(dx, [2., 2., 2., 2., -1., -1., -1., -1.]); // 1 + 4/4, 1 − 8/4
/// ```
#[track_caller]
pub fn global_avgpool_backward<E: Float>(
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    dy: &[E],
    dx: &mut [E],
) {
    let hw = h * w;
    assert!(hw > 0, "global_avgpool_backward: empty plane h={h} w={w}");
    assert_eq!(dy.len(), n * c, "global_avgpool_backward: dy must be N·C");
    assert_eq!(dx.len(), n * c * hw, "global_avgpool_backward: dx must be N·C·H·W");
    let count = E::from_usize(hw);
    // planes: (N·C), one gradient spread evenly over (H·W)
    for plane in 0..n * c {
        let share = dy[plane] / count;
        for v in &mut dx[plane * hw..(plane + 1) * hw] {
            *v += share;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::naive::{
        avgpool_backward_naive, avgpool_forward_naive, maxpool_backward_naive,
        maxpool_forward_naive,
    };
    use crate::testing::{Rng, assert_close, close_in_case, pick};

    const NEG_INF: f64 = f64::NEG_INFINITY;

    /// A random pooling shape: `n ∈ 1..=3`, `c ∈ 1..=4`, `h, w ∈ 1..=12`, `k ∈ 1..=5`,
    /// `s ∈ 1..=3`, `p ∈ 0..=k/2` (the `2P ≤ K` the layers enforce), redrawn until the window fits.
    fn random_pool_shape(rng: &mut Rng) -> (usize, Geom) {
        loop {
            let (n, c) = (pick(rng, 1, 3), pick(rng, 1, 4));
            let (h, w, k, s) =
                (pick(rng, 1, 12), pick(rng, 1, 12), pick(rng, 1, 5), pick(rng, 1, 3));
            let p = pick(rng, 0, k / 2);
            if k <= h + 2 * p && k <= w + 2 * p {
                return (n, Geom::new(c, h, w, k, s, p));
            }
        }
    }

    /// 300 random shapes, fast vs the padded-plane oracle in `naive`, forward (with and without
    /// argmax) and backward (accumulating onto non-zero `dx`). Even cases use distinct inputs (a
    /// shuffled, scaled `0..len`, so no ties); odd cases use only three values, so ties are
    /// everywhere and the two kernels' identical first-maximum rule is what is being compared.
    #[test]
    fn maxpool_matches_naive_on_random_shapes() {
        let mut rng = Rng::new(0x9001);
        for case in 0..300 {
            let (n, g) = random_pool_shape(&mut rng);
            let ctx = format!("case {case}: n={n} {g:?}");
            let (len, olen) = (n * g.c * g.h * g.w, n * g.c * g.oh * g.ow);
            let x: Vec<f64> = if case % 2 == 0 {
                let mut perm: Vec<usize> = (0..len).collect();
                for i in (1..len).rev() {
                    perm.swap(i, pick(&mut rng, 0, i));
                }
                perm.iter().map(|&v| 2.0 * v as f64 / len as f64 - 1.0).collect()
            } else {
                (0..len).map(|_| pick(&mut rng, 0, 2) as f64 - 1.5).collect()
            };
            let dy = rng.vec(olen);
            let dx0 = rng.vec(len);

            let mut y = vec![f64::NAN; olen];
            let mut am = vec![0u32; olen];
            maxpool_forward(&g, n, &x, &mut y, Some(&mut am));
            let mut y_no_am = vec![f64::NAN; olen];
            maxpool_forward(&g, n, &x, &mut y_no_am, None);
            let mut y_naive = vec![f64::NAN; olen];
            maxpool_forward_naive(&g, n, &x, &mut y_naive);
            close_in_case(&ctx, "maxpool y", &y, &y_naive);
            close_in_case(&ctx, "maxpool y (no argmax)", &y_no_am, &y_naive);

            let mut dx = dx0.clone();
            maxpool_backward(&g, n, &am, &dy, &mut dx);
            let mut dx_naive = dx0.clone();
            maxpool_backward_naive(&g, n, &x, &dy, &mut dx_naive);
            close_in_case(&ctx, "maxpool dx", &dx, &dx_naive);
        }
    }

    /// 300 random shapes, both `count_include_pad` values, fast vs the padded-plane oracle in
    /// `naive`, forward and backward (accumulating onto non-zero `dx`).
    #[test]
    fn avgpool_matches_naive_on_random_shapes() {
        let mut rng = Rng::new(0xA7E);
        for case in 0..300 {
            let (n, g) = random_pool_shape(&mut rng);
            let (len, olen) = (n * g.c * g.h * g.w, n * g.c * g.oh * g.ow);
            let x = rng.vec(len);
            let dy = rng.vec(olen);
            let dx0 = rng.vec(len);
            for include in [true, false] {
                let ctx = format!("case {case}: n={n} {g:?} count_include_pad={include}");
                let mut y = vec![f64::NAN; olen];
                avgpool_forward(&g, n, include, &x, &mut y);
                let mut y_naive = vec![f64::NAN; olen];
                avgpool_forward_naive(&g, n, include, &x, &mut y_naive);
                close_in_case(&ctx, "avgpool y", &y, &y_naive);

                let mut dx = dx0.clone();
                avgpool_backward(&g, n, include, &dy, &mut dx);
                let mut dx_naive = dx0.clone();
                avgpool_backward_naive(&g, n, include, &dy, &mut dx_naive);
                close_in_case(&ctx, "avgpool dx", &dx, &dx_naive);
            }
        }
    }

    #[test]
    fn maxpool_hand_worked_k2_s2() {
        // plane 0 = x, plane 1 = x + 10 (checks the per-plane offsets)
        // x = [[1, 3, 2, 4],
        //      [5, 6, 1, 2],
        //      [7, 2, 9, 0],
        //      [1, 8, 3, 4]]
        let x0 = [1., 3., 2., 4., 5., 6., 1., 2., 7., 2., 9., 0., 1., 8., 3., 4.];
        let x: Vec<f64> = x0.iter().chain(&x0.map(|v| v + 10.)).copied().collect();
        let g = Geom::new(2, 4, 4, 2, 2, 0);
        let mut y = vec![f64::NAN; 8];
        let mut am = vec![0u32; 8];
        maxpool_forward(&g, 1, &x, &mut y, Some(&mut am));
        // windows: {1,3,5,6} → 6 at (1,1); {2,4,1,2} → 4 at (0,3); {7,2,1,8} → 8 at (3,1);
        // {9,0,3,4} → 9 at (2,2)
        assert_close(&y, &[6., 4., 8., 9., 16., 14., 18., 19.]);
        assert_eq!(am, [5, 3, 13, 10, 5, 3, 13, 10]);

        let dy = [1., 2., 3., 4., 5., 6., 7., 8.];
        let mut dx = vec![0.0; 32];
        maxpool_backward(&g, 1, &am, &dy, &mut dx);
        let mut exp = vec![0.0; 32];
        for (plane, base) in [(0, 0.0), (1, 4.0)] {
            exp[plane * 16 + 5] = base + 1.;
            exp[plane * 16 + 3] = base + 2.;
            exp[plane * 16 + 13] = base + 3.;
            exp[plane * 16 + 10] = base + 4.;
        }
        assert_close(&dx, &exp);
    }

    #[test]
    fn maxpool_overlapping_windows_accumulate() {
        // x = [[1, 2, 3, 1],
        //      [4, 9, 5, 2],
        //      [0, 1, 2, 3]], K=3 S=1 → 1×2 output; both windows (cols 0..3, 1..4) pick the 9.
        let x = [1., 2., 3., 1., 4., 9., 5., 2., 0., 1., 2., 3.];
        let g = Geom::new(1, 3, 4, 3, 1, 0);
        let mut y = [0.0; 2];
        let mut am = [0u32; 2];
        maxpool_forward(&g, 1, &x, &mut y, Some(&mut am));
        assert_close(&y, &[9., 9.]);
        assert_eq!(am, [5, 5]);
        // dx starts at 0.5 everywhere: dx[5] = 0.5 + 1 + 2, the rest stay 0.5
        let mut dx = [0.5; 12];
        maxpool_backward(&g, 1, &am, &[1., 2.], &mut dx);
        let mut exp = [0.5; 12];
        exp[5] = 3.5;
        assert_close(&dx, &exp);
    }

    /// K=3 S=2 P=1 on a 5×4 input (→ 3×2), all inputs negative so a zero-padding bug would show;
    /// expected values from an explicitly −∞-padded copy, by the definition.
    #[test]
    fn maxpool_padding_matches_definition() {
        let (n, c, h, w, k, s, p) = (2, 2, 5, 4, 3, 2, 1);
        let g = Geom::new(c, h, w, k, s, p);
        assert_eq!((g.oh, g.ow), (3, 2));
        let mut rng = Rng::new(11);
        let x: Vec<f64> = rng.vec(n * c * h * w).iter().map(|v| v - 2.0).collect();
        let dy = rng.vec(n * c * g.oh * g.ow);
        let (ph, pw) = (h + 2 * p, w + 2 * p);

        let mut y_exp = vec![0.0; dy.len()];
        let mut dx_exp = vec![0.25; x.len()];
        // planes: (N·C); padded plane (H+2P, W+2P), output plane (OH, OW)
        for plane in 0..n * c {
            let mut padded = vec![NEG_INF; ph * pw];
            for r in 0..h {
                for q in 0..w {
                    padded[(r + p) * pw + (q + p)] = x[(plane * h + r) * w + q];
                }
            }
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let (mut best, mut at) = (NEG_INF, (0, 0));
                    for a in 0..k {
                        for b in 0..k {
                            let v = padded[(i * s + a) * pw + (j * s + b)];
                            if v > best {
                                (best, at) = (v, (i * s + a - p, j * s + b - p));
                            }
                        }
                    }
                    let o = (plane * g.oh + i) * g.ow + j;
                    y_exp[o] = best;
                    dx_exp[(plane * h + at.0) * w + at.1] += dy[o];
                }
            }
        }

        let mut y = vec![f64::NAN; dy.len()];
        let mut am = vec![0u32; dy.len()];
        maxpool_forward(&g, n, &x, &mut y, Some(&mut am));
        assert_close(&y, &y_exp);
        let mut y2 = vec![f64::NAN; dy.len()];
        maxpool_forward(&g, n, &x, &mut y2, None);
        assert_close(&y2, &y_exp);
        let mut dx = vec![0.25; x.len()];
        maxpool_backward(&g, n, &am, &dy, &mut dx);
        assert_close(&dx, &dx_exp);
    }

    #[test]
    fn maxpool_ties_pick_first() {
        let g = Geom::new(1, 2, 2, 2, 2, 0);
        let mut y = [0.0];
        let mut am = [99u32];
        // row-major window order: (0,1) comes before (1,0)
        maxpool_forward(&g, 1, &[0., 5., 5., 0.], &mut y, Some(&mut am));
        assert_eq!((y[0], am[0]), (5., 1));
        maxpool_forward(&g, 1, &[1., 1., 1., 1.], &mut y, Some(&mut am));
        assert_eq!((y[0], am[0]), (1., 0));
        // all −∞ is still a real tie: the first element, not a "none" marker
        maxpool_forward(&g, 1, &[NEG_INF; 4], &mut y, Some(&mut am));
        assert_eq!((y[0], am[0]), (NEG_INF, 0));
        // NaN propagates (PyTorch does the same)
        maxpool_forward(&g, 1, &[1., f64::NAN, 3., 2.], &mut y, Some(&mut am));
        assert!(y[0].is_nan());
        assert_eq!(am[0], 1);
    }

    /// P ≥ K is ruled out by callers; check it at least does not panic and stays finite-or-−∞.
    #[test]
    fn pool_all_padding_windows_do_not_panic() {
        let g = Geom::new(1, 2, 2, 1, 1, 1); // 1×1 windows over a 4×4 padded plane
        assert_eq!((g.oh, g.ow), (4, 4));
        let x = [1., 2., 3., 4.];
        let mut y = [0.0; 16];
        let mut am = [0u32; 16];
        maxpool_forward(&g, 1, &x, &mut y, Some(&mut am));
        assert_eq!((y[0], am[0]), (NEG_INF, u32::MAX));
        assert_eq!((y[5], am[5]), (1., 0));
        let mut dx = [0.0; 4];
        maxpool_backward(&g, 1, &am, &[1.0; 16], &mut dx);
        assert_close(&dx, &[1., 1., 1., 1.]);
        avgpool_forward(&g, 1, false, &x, &mut y);
        assert_eq!((y[0], y[5]), (0., 1.));
    }

    #[test]
    fn avgpool_hand_worked_include_vs_exclude_pad() {
        // x = [[1, 2, 3],
        //      [4, 5, 6],
        //      [7, 8, 9]]
        let x = [1., 2., 3., 4., 5., 6., 7., 8., 9.];
        let mut y = [0.0; 4];

        // K=2 S=2 P=1 → 2×2; window rows/cols: i=0 → {0} (half padding), i=1 → {1, 2}
        let g = Geom::new(1, 3, 3, 2, 2, 1);
        // include pad: divisor 2·2 = 4 everywhere
        //   y00 = 1/4, y01 = (2+3)/4, y10 = (4+7)/4, y11 = (5+6+8+9)/4
        avgpool_forward(&g, 1, true, &x, &mut y);
        assert_close(&y, &[0.25, 1.25, 2.75, 7.0]);
        // exclude pad: divisor = real elements: 1, 2, 2, 4
        //   y00 = 1/1, y01 = 5/2, y10 = 11/2, y11 = 28/4
        avgpool_forward(&g, 1, false, &x, &mut y);
        assert_close(&y, &[1.0, 2.5, 5.5, 7.0]);

        // K=3 S=2 P=1 → 2×2, overlapping; every window holds a 2×2 block of real elements:
        //   rows/cols i=0 → {0, 1}, i=1 → {1, 2}
        //   sums: 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28
        let g = Geom::new(1, 3, 3, 3, 2, 1);
        // include pad: divisor 3·3 = 9
        avgpool_forward(&g, 1, true, &x, &mut y);
        assert_close(&y, &[12. / 9., 16. / 9., 24. / 9., 28. / 9.]);
        // exclude pad: divisor 4
        avgpool_forward(&g, 1, false, &x, &mut y);
        assert_close(&y, &[3.0, 4.0, 6.0, 7.0]);
    }

    #[test]
    fn avgpool_backward_hand_worked() {
        // K=2 S=2 P=1 on 3×3, dy = [[1, 2], [3, 4]]; windows as in the forward test:
        //   (0,0) covers x00; (0,1) covers x01, x02; (1,0) covers x10, x20; (1,1) the 2×2 rest.
        let g = Geom::new(1, 3, 3, 2, 2, 1);
        let dy = [1., 2., 3., 4.];
        // include pad (÷4): x00 ← 1/4; x01, x02 ← 2/4; x10, x20 ← 3/4; rest ← 4/4; plus 1 already
        let mut dx = [1.0; 9];
        avgpool_backward(&g, 1, true, &dy, &mut dx);
        assert_close(&dx, &[1.25, 1.5, 1.5, 1.75, 2., 2., 1.75, 2., 2.]);
        // exclude pad (÷1, ÷2, ÷2, ÷4): x00 ← 1; x01, x02 ← 1; x10, x20 ← 1.5; rest ← 1
        let mut dx = [0.0; 9];
        avgpool_backward(&g, 1, false, &dy, &mut dx);
        assert_close(&dx, &[1., 1., 1., 1.5, 1., 1., 1.5, 1., 1.]);
    }

    /// Average pooling is linear, so its backward must be its exact adjoint:
    /// `⟨avgpool(x), r⟩ = ⟨x, avgpool_backward(r)⟩`, on odd, overlapping, padded shapes.
    #[test]
    fn avgpool_backward_is_adjoint_of_forward() {
        // (n, c, h, w, k, s, p)
        let shapes = [
            (2, 3, 5, 4, 3, 2, 1),
            (1, 2, 7, 9, 3, 1, 1),
            (3, 1, 11, 6, 4, 3, 2),
            (1, 1, 6, 6, 2, 2, 0),
        ];
        for (idx, &(n, c, h, w, k, s, p)) in shapes.iter().enumerate() {
            let g = Geom::new(c, h, w, k, s, p);
            let mut rng = Rng::new(40 + idx as u64);
            let x = rng.vec(n * c * h * w);
            let r = rng.vec(n * c * g.oh * g.ow);
            for include in [true, false] {
                let mut y = vec![f64::NAN; r.len()];
                avgpool_forward(&g, n, include, &x, &mut y);
                let mut dx = vec![0.0; x.len()];
                avgpool_backward(&g, n, include, &r, &mut dx);
                let lhs: f64 = y.iter().zip(&r).map(|(a, b)| a * b).sum();
                let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
                assert_close(&[lhs], &[rhs]);
            }
        }
    }

    #[test]
    fn global_avgpool_hand_worked() {
        // (N=1, C=2, H=2, W=3): means of 1..6 and of 10, 20, 30, 0, 0, 0
        let x = [1., 2., 3., 4., 5., 6., 10., 20., 30., 0., 0., 0.];
        let mut y = [0.0; 2];
        global_avgpool_forward(1, 2, 2, 3, &x, &mut y);
        assert_close(&y, &[3.5, 10.0]);
        let mut dx = [1.0; 12];
        global_avgpool_backward(1, 2, 2, 3, &[6.0, -12.0], &mut dx);
        // 1 + 6/6 = 2 on plane 0, 1 − 12/6 = −1 on plane 1
        assert_close(&dx, &[2., 2., 2., 2., 2., 2., -1., -1., -1., -1., -1., -1.]);
        // f32 gives the same
        let mut y32 = [0.0f32; 2];
        global_avgpool_forward(1, 2, 2, 3, &x.map(|v| v as f32), &mut y32);
        assert_eq!(y32, [3.5, 10.0]);
    }
}
