//! Max, average and global-average pooling over `(N, C, H, W)` tensors, by direct window loops.
//!
//! Floor mode only (no `ceil_mode`, no dilation, no `divisor_override`). Backward kernels
//! ACCUMULATE (`+=`) into `dx`. The pooling layers enforce PyTorch's `2P ≤ K` at compile time,
//! so no window lies entirely in the padding; called directly with a larger padding, the kernels
//! still do not panic (see each function).

use super::Geom;
use crate::Float;
use crate::runtime::{chunks, run_chunks, split_by_images};

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

/// Checks `x: (N, C, H, W)` and `y: (N, C, HO, WO)` lengths.
#[track_caller]
fn check_pool(op: &str, g: &Geom, n: usize, x_len: usize, y_len: usize) {
    assert_eq!(x_len, n * g.c * g.h * g.w, "{op}: input must be N·C·H·W (n={n}, {g:?})");
    assert_eq!(y_len, n * g.c * g.ho * g.wo, "{op}: output must be N·C·HO·WO (n={n}, {g:?})");
}

/// Max pooling: `y[n,c,i,j] = max` over the `K × K` window at `(i·S − P, j·S − P)` of
/// `x: (N, C, H, W)`, into `y: (N, C, HO, WO)` (overwritten). Padding counts as `−∞`, i.e. is
/// never selected; windows may overlap (`S < K`).
///
/// If `argmax` is `Some` (length `N·C·HO·WO`), it receives for each output the flat index
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
    argmax: Option<&mut [u32]>,
) {
    check_pool("maxpool_forward", g, n, x.len(), y.len());
    let Geom { c, h, w, ho, wo, .. } = *g;
    g.square("maxpool_forward");
    assert!(
        u32::try_from(h * w).is_ok_and(|hw| hw != NO_ARGMAX),
        "maxpool_forward: H·W = {} does not fit a u32 argmax",
        h * w
    );
    if let Some(am) = argmax.as_deref() {
        assert_eq!(am.len(), y.len(), "maxpool_forward: argmax must be N·C·HO·WO");
    }
    // Planes are independent: the batch's fixed chunks run on the threads, each on its images.
    let (per_in, per_out) = (c * h * w, c * ho * wo);
    let ranges = chunks(n);
    let argmax_parts: Vec<Option<&mut [u32]>> = match argmax {
        Some(am) => split_by_images(am, &ranges, per_out).into_iter().map(Some).collect(),
        None => ranges.iter().map(|_| None).collect(),
    };
    let mut parts: Vec<_> =
        split_by_images(y, &ranges, per_out).into_iter().zip(argmax_parts).collect();
    run_chunks(&mut parts, |ci, (yc, ac)| {
        let r = ranges[ci].clone();
        maxpool_forward_images(
            g,
            r.len(),
            &x[r.start * per_in..r.end * per_in],
            yc,
            ac.as_deref_mut(),
        );
    });
}

/// [`maxpool_forward`] on one thread, lengths already checked.
fn maxpool_forward_images<E: Float>(
    g: &Geom,
    n: usize,
    x: &[E],
    y: &mut [E],
    mut argmax: Option<&mut [u32]>,
) {
    let Geom { c, h, w, ho, wo, .. } = *g;
    let (k, s, p) = g.square("maxpool_forward");
    let (hw, hw_out) = (h * w, ho * wo);
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
                let yp = &mut y[plane * hw_out..(plane + 1) * hw_out];
                let mut ap =
                    argmax.as_deref_mut().map(|am| &mut am[plane * hw_out..(plane + 1) * hw_out]);
                for i in 0..ho {
                    let (r0, r1) = (&xp[2 * i * w..2 * i * w + 2 * wo], &xp[(2 * i + 1) * w..]);
                    let yr = &mut yp[i * wo..(i + 1) * wo];
                    let pairs = r0.chunks_exact(2).zip(r1.chunks_exact(2));
                    let at = 2 * i * w;
                    match ap.as_deref_mut() {
                        Some(ap) => {
                            let ar = &mut ap[i * wo..(i + 1) * wo];
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
                for i in 0..ho {
                    for j in 0..wo {
                        let f = i * s * w + j * s;
                        let mut m = (xp[f], f);
                        m = step(m, (xp[f + 1], f + 1));
                        m = step(m, (xp[f + w], f + w));
                        m = step(m, (xp[f + w + 1], f + w + 1));
                        let out = plane * hw_out + i * wo + j;
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
            for i in 0..ho {
                for j in 0..wo {
                    let first = i * s * w + j * s;
                    let (mut best, mut best_idx) = (xp[first], first);
                    for r in 0..k {
                        let row = first + r * w;
                        for (t, &v) in xp[row..row + k].iter().enumerate() {
                            (best, best_idx) = step((best, best_idx), (v, row + t));
                        }
                    }
                    let out = plane * hw_out + i * wo + j;
                    y[out] = best;
                    if let Some(am) = argmax.as_deref_mut() {
                        am[out] = best_idx as u32;
                    }
                }
            }
        }
        return;
    }
    // planes: (N·C); x plane (H, W), y plane (HO, WO)
    for plane in 0..n * c {
        let xp = &x[plane * hw..(plane + 1) * hw];
        for i in 0..ho {
            let (h0, h1, _) = window(i, h, k, s, p);
            for j in 0..wo {
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
                let out = plane * hw_out + i * wo + j;
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
/// `dy, argmax: (N, C, HO, WO)`, `dx: (N, C, H, W)`. **Panics** on a length mismatch or an
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
    maxpool_backward_chunks(g, n, argmax, dy, dx, false);
}

/// [`maxpool_backward`] into a `dx` whose old values do not count: each chunk zeroes its own
/// share on its thread before routing the gradient, instead of the caller zeroing all of `dx`
/// on one thread first. Same result as zeroing, then [`maxpool_backward`].
#[track_caller]
pub(crate) fn maxpool_backward_fresh<E: Float>(
    g: &Geom,
    n: usize,
    argmax: &[u32],
    dy: &[E],
    dx: &mut [E],
) {
    maxpool_backward_chunks(g, n, argmax, dy, dx, true);
}

#[track_caller]
fn maxpool_backward_chunks<E: Float>(
    g: &Geom,
    n: usize,
    argmax: &[u32],
    dy: &[E],
    dx: &mut [E],
    zero_first: bool,
) {
    check_pool("maxpool_backward", g, n, dx.len(), dy.len());
    assert_eq!(argmax.len(), dy.len(), "maxpool_backward: argmax must be N·C·HO·WO");
    let (hw, hw_out) = (g.h * g.w, g.ho * g.wo);
    // Planes are independent: the batch's fixed chunks run on the threads, each on its images.
    let ranges = chunks(n);
    let mut parts = split_by_images(dx, &ranges, g.c * hw);
    run_chunks(&mut parts, |ci, dx| {
        let r = ranges[ci].clone();
        let (lo, hi) = (r.start * g.c * hw_out, r.end * g.c * hw_out);
        if zero_first {
            dx.fill(E::ZERO);
        }
        maxpool_backward_images(hw, hw_out, &argmax[lo..hi], &dy[lo..hi], dx);
    });
}

/// [`maxpool_backward`] on one thread: `dy` and `argmax` of whole planes of `hw_out` outputs,
/// `dx` the same planes of `hw` inputs.
fn maxpool_backward_images<E: Float>(
    hw: usize,
    hw_out: usize,
    argmax: &[u32],
    dy: &[E],
    dx: &mut [E],
) {
    // planes: dy plane (HO·WO) routes into dx plane (H·W)
    for plane in 0..dy.len() / hw_out.max(1) {
        for o in 0..hw_out {
            let idx = argmax[plane * hw_out + o];
            if idx == NO_ARGMAX {
                continue;
            }
            let idx = idx as usize;
            assert!(idx < hw, "maxpool_backward: argmax {idx} ≥ H·W = {hw}");
            dx[plane * hw + idx] += dy[plane * hw_out + o];
        }
    }
}

/// Average pooling with zero padding, PyTorch's floor-mode `avg_pool2d`: `x: (N, C, H, W)` into
/// `y: (N, C, HO, WO)` (overwritten).
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
    let Geom { c, h, w, ho, wo, .. } = *g;
    let (k, s, p) = g.square("avgpool_forward");
    let (hw, hw_out) = (h * w, ho * wo);
    // planes: (N·C); x plane (H, W), y plane (HO, WO)
    for plane in 0..n * c {
        let xp = &x[plane * hw..(plane + 1) * hw];
        for i in 0..ho {
            let (h0, h1, ph) = window(i, h, k, s, p);
            for j in 0..wo {
                let (w0, w1, pw) = window(j, w, k, s, p);
                let divisor = avg_divisor(count_include_pad, (h0, h1, ph), (w0, w1, pw));
                let mut sum = E::ZERO;
                // window rows h0..h1, cols w0..w1 (clipped to the input)
                for r in h0..h1 {
                    for q in w0..w1 {
                        sum += xp[r * w + q];
                    }
                }
                y[plane * hw_out + i * wo + j] =
                    if divisor == 0 { E::ZERO } else { sum / E::from_usize(divisor) };
            }
        }
    }
}

/// Average pooling backward: each `dy[n,c,i,j] / divisor` is ADDED to every real input element
/// of its window (same divisor rule as [`avgpool_forward`]); overlapping windows add up.
///
/// `dy: (N, C, HO, WO)`, `dx: (N, C, H, W)` (accumulated). **Panics** on a length mismatch.
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
    let Geom { c, h, w, ho, wo, .. } = *g;
    let (k, s, p) = g.square("avgpool_backward");
    let (hw, hw_out) = (h * w, ho * wo);
    // planes: (N·C); dy plane (HO, WO) spreads into dx plane (H, W)
    for plane in 0..n * c {
        let dxp = &mut dx[plane * hw..(plane + 1) * hw];
        for i in 0..ho {
            let (h0, h1, ph) = window(i, h, k, s, p);
            for j in 0..wo {
                let (w0, w1, pw) = window(j, w, k, s, p);
                let divisor = avg_divisor(count_include_pad, (h0, h1, ph), (w0, w1, pw));
                if divisor == 0 {
                    continue;
                }
                let share = dy[plane * hw_out + i * wo + j] / E::from_usize(divisor);
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
    crate::kernels::embedded::global_avgpool(hw, x, y);
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
pub(crate) mod naive;
#[cfg(test)]
mod tests;
