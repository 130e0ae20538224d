//! The naive references for max and average pooling (test-only). They are a *different
//! formulation* from the fast kernels, so they are an independent oracle: each `(H, W)` plane is
//! first copied into an explicitly padded `(H + 2P) × (W + 2P)` plane (`−∞` or `0`, plus a 0/1
//! mask of real elements), and every output is then the max/mean over the unclipped `K × K`
//! window of that plane at `(i·S, j·S)`. No window clipping arithmetic. Global average pooling
//! has no reference here (it is a single mean per plane). Same layouts as [`super`], minus the
//! `argmax` buffer: the max-pooling backward recomputes its maxima from `x`.

use crate::Float;
use crate::kernels::Geom;

fn padded_plane<E: Float>(src: &[E], h: usize, w: usize, p: usize, fill: E) -> Vec<E> {
    let pw = w + 2 * p;
    let mut out = vec![fill; (h + 2 * p) * pw];
    // src: (H, W) lands at rows P..P+H, cols P..P+W of out: (H+2P, W+2P)
    for r in 0..h {
        out[(r + p) * pw + p..(r + p) * pw + p + w].copy_from_slice(&src[r * w..(r + 1) * w]);
    }
    out
}

/// Adds the interior `(H, W)` of a padded `(H + 2P, W + 2P)` plane into `dst: (H, W)`; the
/// border (gradient that fell on padding) is dropped.
fn add_unpadded<E: Float>(padded: &[E], h: usize, w: usize, p: usize, dst: &mut [E]) {
    let pw = w + 2 * p;
    for r in 0..h {
        for q in 0..w {
            dst[r * w + q] += padded[(r + p) * pw + (q + p)];
        }
    }
}

/// Checks `x: (N, C, H, W)` and `y: (N, C, HO, WO)` lengths for the pooling oracles.
#[track_caller]
fn check_pool_naive(op: &str, g: &Geom, n: usize, x_len: usize, y_len: usize) {
    assert_eq!(x_len, n * g.c * g.h * g.w, "{op}: x/dx must be N·C·H·W (n={n}, {g:?})");
    assert_eq!(y_len, n * g.c * g.ho * g.wo, "{op}: y/dy must be N·C·HO·WO (n={n}, {g:?})");
}

/// For one plane: per output `(i, j)`, the maximum of the `K × K` window at `(i·S, j·S)` of the
/// `−∞`-padded plane and the padded coordinate `(row, col)` of its FIRST occurrence in row-major
/// window order (strict `>`), or `None` if the window's maximum is `−∞`.
fn max_windows<E: Float>(g: &Geom, xp: &[E]) -> Vec<(E, Option<(usize, usize)>)> {
    let Geom { h, w, ho, wo, .. } = *g;
    let (k, s, p) = g.square("max_windows");
    let padded = padded_plane(xp, h, w, p, E::NEG_INFINITY);
    let pw = w + 2 * p;
    let mut out = Vec::with_capacity(ho * wo);
    for i in 0..ho {
        for j in 0..wo {
            let (mut best, mut at) = (E::NEG_INFINITY, None);
            for a in 0..k {
                for b in 0..k {
                    let (r, q) = (i * s + a, j * s + b);
                    if padded[r * pw + q] > best {
                        (best, at) = (padded[r * pw + q], Some((r, q)));
                    }
                }
            }
            out.push((best, at));
        }
    }
    out
}

/// Slow, independent oracle for [`super::maxpool_forward`]: `y[n,c,i,j]` = max of the
/// `K × K` window at `(i·S, j·S)` of the `(H + 2P) × (W + 2P)` copy of `x[n,c]` padded with `−∞`.
///
/// `x: (N, C, H, W)`, `y: (N, C, HO, WO)` (overwritten). NaN inputs are not modelled (a NaN
/// never beats the running maximum here, whereas the fast kernel propagates it).
/// **Panics** on a length mismatch.
#[track_caller]
pub fn maxpool_forward_naive<E: Float>(g: &Geom, n: usize, x: &[E], y: &mut [E]) {
    check_pool_naive("maxpool_forward_naive", g, n, x.len(), y.len());
    let (hw, hw_out) = (g.h * g.w, g.ho * g.wo);
    // planes: (N·C); x plane (H, W), y plane (HO, WO)
    for plane in 0..n * g.c {
        let maxima = max_windows(g, &x[plane * hw..(plane + 1) * hw]);
        for (o, &(v, _)) in maxima.iter().enumerate() {
            y[plane * hw_out + o] = v;
        }
    }
}

/// Slow, independent oracle for [`super::maxpool_backward`]: each `dy[n,c,i,j]` is added to
/// the element of `x[n,c]` that is the FIRST maximum (row-major window order) of its window in
/// the `−∞`-padded plane, the same tie rule as the fast kernel. Windows whose maximum is `−∞`
/// are skipped.
///
/// `x: (N, C, H, W)`, `dy: (N, C, HO, WO)`, `dx: (N, C, H, W)` (ACCUMULATED). The maxima are
/// recomputed from `x` (no argmax buffer). **Panics** on a length mismatch.
#[track_caller]
pub fn maxpool_backward_naive<E: Float>(g: &Geom, n: usize, x: &[E], dy: &[E], dx: &mut [E]) {
    check_pool_naive("maxpool_backward_naive", g, n, x.len(), dy.len());
    assert_eq!(dx.len(), x.len(), "maxpool_backward_naive: dx must be N·C·H·W");
    let Geom { h, w, .. } = *g;
    let (_, _, p) = g.square("maxpool_backward_naive");
    let (hw, hw_out, pw) = (h * w, g.ho * g.wo, w + 2 * p);
    // planes: (N·C); dy plane (HO, WO) routes into a padded (H+2P, W+2P) plane, cropped into dx
    for plane in 0..n * g.c {
        let maxima = max_windows(g, &x[plane * hw..(plane + 1) * hw]);
        let mut dpad = vec![E::ZERO; (h + 2 * p) * pw];
        for (o, &(_, at)) in maxima.iter().enumerate() {
            if let Some((r, q)) = at {
                dpad[r * pw + q] += dy[plane * hw_out + o];
            }
        }
        add_unpadded(&dpad, h, w, p, &mut dx[plane * hw..(plane + 1) * hw]);
    }
}

/// Per output `(i, j)` (the same for every plane): the average-pooling divisor of the `K × K`
/// window at `(i·S, j·S)`: `K·K` if `count_include_pad`, else the sum of a padded 0/1 mask of
/// real elements over the window.
fn avg_divisors<E: Float>(g: &Geom, count_include_pad: bool) -> Vec<E> {
    let Geom { h, w, ho, wo, .. } = *g;
    let (k, s, p) = g.square("avg_divisors");
    let mask = padded_plane(&vec![E::ONE; h * w], h, w, p, E::ZERO);
    let pw = w + 2 * p;
    let mut out = Vec::with_capacity(ho * wo);
    for i in 0..ho {
        for j in 0..wo {
            let mut count = E::ZERO;
            for a in 0..k {
                for b in 0..k {
                    count += mask[(i * s + a) * pw + (j * s + b)];
                }
            }
            out.push(if count_include_pad { E::from_usize(k * k) } else { count });
        }
    }
    out
}

/// Slow, independent oracle for [`super::avgpool_forward`]: `y[n,c,i,j]` = sum of the
/// `K × K` window at `(i·S, j·S)` of the zero-padded `(H + 2P) × (W + 2P)` copy of `x[n,c]`,
/// divided by `K·K` if `count_include_pad`, else by the number of real elements in the window
/// (counted on a padded 0/1 mask). A window with no real element gives `0`.
///
/// In floor mode every window ends inside the padded plane, so PyTorch's clipped include-pad
/// divisor is always `K·K` (see [`super::avgpool_forward`]).
///
/// `x: (N, C, H, W)`, `y: (N, C, HO, WO)` (overwritten). **Panics** on a length mismatch.
#[track_caller]
pub fn avgpool_forward_naive<E: Float>(
    g: &Geom,
    n: usize,
    count_include_pad: bool,
    x: &[E],
    y: &mut [E],
) {
    check_pool_naive("avgpool_forward_naive", g, n, x.len(), y.len());
    let Geom { h, w, ho, wo, .. } = *g;
    let (k, s, p) = g.square("avgpool_forward_naive");
    let (hw, hw_out, pw) = (h * w, ho * wo, w + 2 * p);
    let divisors = avg_divisors::<E>(g, count_include_pad);
    // planes: (N·C); x plane (H, W) padded to (H+2P, W+2P), y plane (HO, WO)
    for plane in 0..n * g.c {
        let padded = padded_plane(&x[plane * hw..(plane + 1) * hw], h, w, p, E::ZERO);
        for i in 0..ho {
            for j in 0..wo {
                let mut sum = E::ZERO;
                for a in 0..k {
                    for b in 0..k {
                        sum += padded[(i * s + a) * pw + (j * s + b)];
                    }
                }
                let d = divisors[i * wo + j];
                y[plane * hw_out + i * wo + j] = if d == E::ZERO { E::ZERO } else { sum / d };
            }
        }
    }
}

/// Slow, independent oracle for [`super::avgpool_backward`]: each `dy[n,c,i,j] / divisor`
/// (divisor as in [`avgpool_forward_naive`]) is added to all `K × K` positions of its window in a
/// zero-initialised padded `(H + 2P) × (W + 2P)` gradient plane, whose interior is then added
/// to `dx[n,c]` (what fell on the padding is dropped).
///
/// `dy: (N, C, HO, WO)`, `dx: (N, C, H, W)` (ACCUMULATED). **Panics** on a length mismatch.
#[track_caller]
pub fn avgpool_backward_naive<E: Float>(
    g: &Geom,
    n: usize,
    count_include_pad: bool,
    dy: &[E],
    dx: &mut [E],
) {
    check_pool_naive("avgpool_backward_naive", g, n, dx.len(), dy.len());
    let Geom { h, w, ho, wo, .. } = *g;
    let (k, s, p) = g.square("avgpool_backward_naive");
    let (hw, hw_out, pw) = (h * w, ho * wo, w + 2 * p);
    let divisors = avg_divisors::<E>(g, count_include_pad);
    // planes: (N·C); dy plane (HO, WO) spreads into a padded (H+2P, W+2P) plane, cropped into dx
    for plane in 0..n * g.c {
        let mut dpad = vec![E::ZERO; (h + 2 * p) * pw];
        for i in 0..ho {
            for j in 0..wo {
                let d = divisors[i * wo + j];
                if d == E::ZERO {
                    continue;
                }
                let share = dy[plane * hw_out + i * wo + j] / d;
                for a in 0..k {
                    for b in 0..k {
                        dpad[(i * s + a) * pw + (j * s + b)] += share;
                    }
                }
            }
        }
        add_unpadded(&dpad, h, w, p, &mut dx[plane * hw..(plane + 1) * hw]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-worked example of [`maxpool_forward_naive`].
    #[test]
    fn maxpool_forward_naive_example() {
        let g = Geom::new(1, 3, 3, 2, 2, 1); // 3×3 padded to 5×5 with −∞ → 2×2 output
        let x = [-1., -2., 3., 4., 5., -6., -7., 8., 9.]; // [[−1 −2 3], [4 5 −6], [−7 8 9]]
        let mut y = [0.0f64; 4];
        maxpool_forward_naive(&g, 1, &x, &mut y);
        // windows hold {−1}, {−2, 3}, {4, −7}, {5, −6, 8, 9}; the padding (−∞) never wins,
        // so the corner stays −1 (zero padding would have given 0)
        assert_eq!(y, [-1., 3., 4., 9.]);
    }

    /// The hand-worked example of [`maxpool_backward_naive`].
    #[test]
    fn maxpool_backward_naive_example() {
        let g = Geom::new(1, 2, 3, 2, 1, 0); // 2×3 plane: two overlapping 2×2 windows
        let x = [5., 5., 1., 2., 5., 0.]; // [[5 5 1], [2 5 0]]: ties everywhere
        let mut dx = [1.0f64; 6]; // accumulated into
        maxpool_backward_naive(&g, 1, &x, &[10., 20.], &mut dx);
        // window 0 (cols 0–1): first 5 is (0, 0); window 1 (cols 1–2): first 5 is (0, 1)
        assert_eq!(dx, [11., 21., 1., 1., 1., 1.]);
    }

    /// The hand-worked example of [`avgpool_forward_naive`].
    #[test]
    fn avgpool_forward_naive_example() {
        let g = Geom::new(1, 2, 2, 2, 1, 1); // 2×2 padded to 4×4 with zeros → 3×3 output
        let x = [1., 2., 3., 4.]; // [[1 2], [3 4]]
        let mut y = [0.0f64; 9];
        avgpool_forward_naive(&g, 1, true, &x, &mut y);
        // window sums [[1 3 2], [4 10 6], [3 7 4]], all divided by K·K = 4
        assert_eq!(y, [0.25, 0.75, 0.5, 1., 2.5, 1.5, 0.75, 1.75, 1.]);
        avgpool_forward_naive(&g, 1, false, &x, &mut y);
        // divided by the real elements per window: [[1 2 1], [2 4 2], [1 2 1]]
        assert_eq!(y, [1., 1.5, 2., 2., 2.5, 3., 3., 3.5, 4.]);
    }

    /// The hand-worked example of [`avgpool_backward_naive`].
    #[test]
    fn avgpool_backward_naive_example() {
        let g = Geom::new(1, 2, 2, 2, 1, 1); // as in `avgpool_forward_naive`'s example: 3×3 output
        let dy = [1.0f64; 9];
        let mut dx = [1.0; 4]; // accumulated into
        avgpool_backward_naive(&g, 1, true, &dy, &mut dx);
        assert_eq!(dx, [2.; 4]); // each element lies in 4 windows, each giving 1/4
        let mut dx = [0.0; 4];
        avgpool_backward_naive(&g, 1, false, &dy, &mut dx);
        // element (0, 0) lies in windows with 1, 2, 2 and 4 real elements: 1 + ½ + ½ + ¼
        assert_eq!(dx, [2.25; 4]);
    }
}
