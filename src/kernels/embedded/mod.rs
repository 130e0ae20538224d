//! The kernels of [`crate::infer`]: plain loops that allocate nothing, take every buffer from
//! the caller and compile without the standard library (they run on a Cortex-M4 as on a
//! desktop). No matrixmultiply (it allocates its packing buffers), no threads, no CPU-specific
//! builds: a convolution is summed tap by tap straight into its output plane.
//!
//! Lengths are checked by the callers (the layers' [`crate::infer::Infer`] impls, whose
//! lengths come from the types); a wrong length here is a bug and panics on a slice index.
//! The references these are tested against are the `std` kernels' naive ones
//! (`kernels/*/naive.rs`), in `tests.rs`.

use crate::Float;
use crate::kernels::Geom;

/// The outputs `o` whose input index `o·s + off` lies in `0..len`, among `0..out`: the rows or
/// columns a tap at offset `off = k·d − p` reads from the real (unpadded) input.
#[inline]
fn valid(out: usize, len: usize, s: usize, off: isize) -> core::ops::Range<usize> {
    // o·s + off ≥ 0  ⇔  o ≥ ceil(−off / s)
    let lo = if off >= 0 { 0 } else { (-off) as usize }.div_ceil(s);
    // o·s + off ≤ len − 1  ⇔  o ≤ (len − 1 − off) / s
    let top = len as isize - 1 - off;
    let hi = if top < 0 { 0 } else { (top as usize / s + 1).min(out) };
    lo.min(hi)..hi
}

/// Convolution (cross-correlation) of `n` images in `groups` groups, PyTorch's `nn.Conv2d`:
/// `x: (N, C, H, W)`, `weight: (COUT, C/groups, KH, KW)`, `bias: (COUT)`,
/// `y: (N, COUT, HO, WO)` overwritten. Each output is its bias, then the products added in the
/// order of the weights (channel, row, column), one rounding each.
///
/// ```
/// use typed_cnn::kernels::{Geom, embedded::conv2d};
/// // 3×3 image, one 2×2 filter, bias 1
/// let x = [1., 2., 3., 4., 5., 6., 7., 8., 9.];
/// let mut y = [0.0f32; 4];
/// conv2d(&Geom::new(1, 3, 3, 2, 1, 0), 1, 1, 1, &x, &[1., 2., 3., 4.], Some(&[1.]), &mut y);
/// assert_eq!(y, [38., 48., 68., 78.]); // 1 + 1·1 + 2·2 + 3·4 + 4·5 = 38, …
/// ```
pub fn conv2d<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    groups: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    // the common kernel sizes compiled with their size known (loops unrolled), others at run time
    match (g.kh, g.kw) {
        (1, 1) => conv2d_sized::<E, 1, 1>(g, n, cout, groups, x, weight, bias, y),
        (3, 3) => conv2d_sized::<E, 3, 3>(g, n, cout, groups, x, weight, bias, y),
        (5, 5) => conv2d_sized::<E, 5, 5>(g, n, cout, groups, x, weight, bias, y),
        _ => conv2d_sized::<E, 0, 0>(g, n, cout, groups, x, weight, bias, y),
    }
}

/// Outputs of a row computed together where the window is inside the image (unit strides).
const LANES: usize = 8;

/// `a ∩ b` of two ranges.
fn intersect(a: core::ops::Range<usize>, b: core::ops::Range<usize>) -> core::ops::Range<usize> {
    let (lo, hi) = (a.start.max(b.start), a.end.min(b.end));
    lo..hi.max(lo)
}

/// [`conv2d`] with a `KH × KW` window known at compile time (`0 × 0`: `g`'s, at run time), so
/// its loops are unrolled: what the layers call, their kernel size being in their type (a
/// program compiles only the sizes it uses). `g`'s window must be `KH × KW` unless `KH = 0`.
/// Each output is summed in a register: where the window lies inside the image, with no check
/// per tap (and 8 adjacent outputs at once at unit strides); on the border, skipping the taps
/// that fall on padding. The same sums, in the same order, as [`conv2d`].
///
/// ```
/// use typed_cnn::kernels::{Geom, embedded::conv2d_sized};
/// let x = [1., 2., 3., 4., 5., 6., 7., 8., 9.];
/// let mut y = [0.0f32; 4];
/// conv2d_sized::<f32, 2, 2>(&Geom::new(1, 3, 3, 2, 1, 0), 1, 1, 1, &x, &[1., 2., 3., 4.], Some(&[1.]), &mut y);
/// assert_eq!(y, [38., 48., 68., 78.]);
/// ```
pub fn conv2d_sized<E: Float, const KH: usize, const KW: usize>(
    g: &Geom,
    n: usize,
    cout: usize,
    groups: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    let Geom { c, h, w, sh, sw, ph, pw, dh, dw, ho, wo, .. } = *g;
    let (kh, kw) = if KH == 0 { (g.kh, g.kw) } else { (KH, KW) };
    let (cin_g, cout_g) = (c / groups, cout / groups);
    let (plane_in, plane_out, taps) = (h * w, ho * wo, kh * kw);
    // outputs whose first and last taps (so all of them) are inside the image
    let (ph_i, pw_i) = (ph as isize, pw as isize);
    let inner_rows =
        intersect(valid(ho, h, sh, -ph_i), valid(ho, h, sh, ((kh - 1) * dh) as isize - ph_i));
    let inner_cols =
        intersect(valid(wo, w, sw, -pw_i), valid(wo, w, sw, ((kw - 1) * dw) as isize - pw_i));
    let span = (kw - 1) * dw + 1;
    if plane_in == 0 || cin_g == 0 {
        // an empty input (only padding): every output is its bias
        for (i, v) in y[..n * cout * plane_out].iter_mut().enumerate() {
            *v = bias.map_or(E::ZERO, |b| b[(i / plane_out.max(1)) % cout]);
        }
        return;
    }
    for img in 0..n {
        for co in 0..cout {
            let b = bias.map_or(E::ZERO, |b| b[co]);
            let yp = &mut y[(img * cout + co) * plane_out..][..plane_out];
            let xg = &x[(img * c + (co / cout_g) * cin_g) * plane_in..][..cin_g * plane_in];
            let wg = &weight[co * cin_g * taps..][..cin_g * taps];
            for oh in 0..ho {
                let yrow = &mut yp[oh * wo..][..wo];
                let row_inside = inner_rows.contains(&oh);
                let mut ow = 0;
                while ow < wo {
                    if row_inside
                        && sw == 1
                        && dw == 1
                        && inner_cols.contains(&ow)
                        && ow + LANES <= inner_cols.end
                    {
                        // LANES adjacent outputs at once, each weight loaded once for all of
                        // them: vectorized on a desktop, registers on a microcontroller; the
                        // same additions in the same order as one output at a time
                        let mut acc = [b; LANES];
                        let base = (oh * sh - ph) * w + ow - pw;
                        for (xp, wp) in xg.chunks_exact(plane_in).zip(wg.chunks_exact(taps)) {
                            for r in 0..kh {
                                let xr = &xp[base + r * dh * w..][..kw - 1 + LANES];
                                for (q, wv) in wp[r * kw..][..kw].iter().enumerate() {
                                    let xs = &xr[q..q + LANES];
                                    for l in 0..LANES {
                                        acc[l] += *wv * xs[l];
                                    }
                                }
                            }
                        }
                        yrow[ow..ow + LANES].copy_from_slice(&acc);
                        ow += LANES;
                        continue;
                    }
                    let mut acc = b;
                    if row_inside && inner_cols.contains(&ow) {
                        let base = (oh * sh - ph) * w + ow * sw - pw;
                        for (xp, wp) in xg.chunks_exact(plane_in).zip(wg.chunks_exact(taps)) {
                            for r in 0..kh {
                                let xr = &xp[base + r * dh * w..][..span];
                                let wr = &wp[r * kw..][..kw];
                                if dw == 1 {
                                    // adjacent taps: both slices of length kw, no index checks
                                    for (wv, xv) in wr.iter().zip(&xr[..kw]) {
                                        acc += *wv * *xv;
                                    }
                                } else {
                                    for q in 0..kw {
                                        acc += wr[q] * xr[q * dw];
                                    }
                                }
                            }
                        }
                    } else {
                        for (xp, wp) in xg.chunks_exact(plane_in).zip(wg.chunks_exact(taps)) {
                            for r in 0..kh {
                                let ih = (oh * sh + r * dh) as isize - ph_i;
                                if ih < 0 || ih >= h as isize {
                                    continue;
                                }
                                for q in 0..kw {
                                    let iw = (ow * sw + q * dw) as isize - pw_i;
                                    if iw >= 0 && iw < w as isize {
                                        acc += wp[r * kw + q] * xp[ih as usize * w + iw as usize];
                                    }
                                }
                            }
                        }
                    }
                    yrow[ow] = acc;
                    ow += 1;
                }
            }
        }
    }
}

/// Transposed convolution of `n` images, PyTorch's `nn.ConvTranspose2d` (the adjoint of
/// [`conv2d`]): `y[n, o, i·S + a − P, j·S + b − P] += Σ_c x[n, c, i, j] · weight[c, o, a, b]`
/// after `y` is set to the bias; `g` is the output seen as a convolution's input (its `ho × wo`
/// is the input's `H × W`), `x: (N, CIN, H, W)`, `weight: (CIN, COUT, K, K)`.
///
/// ```
/// use typed_cnn::kernels::{Geom, embedded::conv_transpose2d};
/// // 1 → 1 channel, 2×2 kernel [1, 2; 3, 4], stride 2: each pixel becomes a scaled 2×2 block
/// let mut y = [0.0f32; 16];
/// conv_transpose2d(&Geom::new(1, 4, 4, 2, 2, 0), 1, 1, &[1., 2., 3., 4.], &[1., 2., 3., 4.], None, &mut y);
/// assert_eq!(y[..8], [1., 2., 2., 4., 3., 4., 6., 8.]);
/// ```
pub fn conv_transpose2d<E: Float>(
    g: &Geom,
    n: usize,
    cin: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    // the convolution's view: its input is our output (c = COUT, h × w), its output our input
    let Geom { c: cout, h: ho, w: wo, kh, kw, sh, sw, ph, pw, dh, dw, ho: h, wo: w } = *g;
    let (plane_in, plane_out, taps) = (h * w, ho * wo, kh * kw);
    for img in 0..n {
        for o in 0..cout {
            let b = bias.map_or(E::ZERO, |b| b[o]);
            y[(img * cout + o) * plane_out..][..plane_out].fill(b);
        }
        for c in 0..cin {
            let xp = &x[(img * cin + c) * plane_in..][..plane_in];
            for o in 0..cout {
                let yp = &mut y[(img * cout + o) * plane_out..][..plane_out];
                let wp = &weight[(c * cout + o) * taps..][..taps];
                for a in 0..kh {
                    let off_h = (a * dh) as isize - ph as isize;
                    // input rows i whose output row i·S + a·D − P is inside the output
                    let rows = valid(h, ho, sh, off_h);
                    for bq in 0..kw {
                        let wv = wp[a * kw + bq];
                        let off_w = (bq * dw) as isize - pw as isize;
                        let cols = valid(w, wo, sw, off_w);
                        for i in rows.clone() {
                            let oi = ((i * sh) as isize + off_h) as usize;
                            let xrow = &xp[i * w..][..w];
                            for j in cols.clone() {
                                let oj = ((j * sw) as isize + off_w) as usize;
                                yp[oi * wo + oj] += wv * xrow[j];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A fully connected layer on `n` rows: `y = x·Wᵀ + b`, `x: (N, IN)`, `weight: (OUT, IN)`,
/// `y: (N, OUT)` overwritten. Each dot product is summed in 8 partial sums (input `i` into sum
/// `i mod 8`, in order), which are then added pairwise, `((s0 + s1) + (s2 + s3)) + ((s4 + s5) +
/// (s6 + s7))`, and the bias last: 8 independent additions in flight instead of one chain, the
/// same order on every CPU.
///
/// ```
/// use typed_cnn::kernels::embedded::linear;
/// let mut y = [0.0f64; 2];
/// linear(1, 3, 2, &[1., 2., 3.], &[1., 0., -1., 2., 2., 2.], Some(&[0.5, 0.]), &mut y);
/// assert_eq!(y, [-1.5, 12.]); // 1 − 3 + 0.5, 2 + 4 + 6
/// ```
pub fn linear<E: Float>(
    n: usize,
    inputs: usize,
    outputs: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    for img in 0..n {
        let xr = &x[img * inputs..][..inputs];
        let yr = &mut y[img * outputs..][..outputs];
        for (o, yv) in yr.iter_mut().enumerate() {
            let wr = &weight[o * inputs..][..inputs];
            let mut s = [E::ZERO; 8];
            let (wc, xc) = (wr.chunks_exact(8), xr.chunks_exact(8));
            let (wt, xt) = (wc.remainder(), xc.remainder());
            for (w8, x8) in wc.zip(xc) {
                for l in 0..8 {
                    s[l] += w8[l] * x8[l];
                }
            }
            for (l, (wv, xv)) in wt.iter().zip(xt).enumerate() {
                s[l] += *wv * *xv;
            }
            let dot = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
            *yv = dot + bias.map_or(E::ZERO, |b| b[o]);
        }
    }
}

/// Global average pooling: each plane of `hw > 0` values of `x` summed in order and divided by
/// `hw` into one value of `y` (the `std` kernel runs this too).
///
/// ```
/// use typed_cnn::kernels::embedded::global_avgpool;
/// let mut y = [0.0f32; 2];
/// global_avgpool(3, &[1., 2., 3., 4., 5., 9.], &mut y);
/// assert_eq!(y, [2., 6.]);
/// ```
pub fn global_avgpool<E: Float>(hw: usize, x: &[E], y: &mut [E]) {
    let count = E::from_usize(hw);
    for (plane, out) in x.chunks_exact(hw).zip(y.iter_mut()) {
        *out = plane.iter().fold(E::ZERO, |s, &v| s + v) / count;
    }
}

/// The window of output `o` along an axis: its real input range `lo..hi` (clipped to
/// `0..len`) and its extent in the padded input (PyTorch's include-pad divisor), for a window
/// of `k` taps at stride `s` with padding `p`.
#[inline]
fn window(o: usize, len: usize, k: usize, s: usize, p: usize) -> (usize, usize, usize) {
    let start = (o * s) as isize - p as isize;
    let end = (start + k as isize).min((len + p) as isize);
    let lo = start.max(0) as usize;
    let hi = (end.min(len as isize).max(0) as usize).max(lo);
    (lo, hi, (end - start) as usize)
}

/// Max pooling, PyTorch's `nn.MaxPool2d` (padding counts as −∞): `x: (N, C, H, W)`,
/// `y: (N, C, HO, WO)` overwritten.
///
/// ```
/// use typed_cnn::kernels::{Geom, embedded::maxpool};
/// let mut y = [0.0f32; 1];
/// maxpool(&Geom::new(1, 2, 2, 2, 2, 0), 1, &[1., -2., 4., 3.], &mut y);
/// assert_eq!(y, [4.]);
/// ```
pub fn maxpool<E: Float>(g: &Geom, n: usize, x: &[E], y: &mut [E]) {
    let Geom { c, h, w, kh, kw, sh, sw, ph, pw, ho, wo, .. } = *g;
    for (xp, yp) in x.chunks_exact(h * w).zip(y.chunks_exact_mut(ho * wo)).take(n * c) {
        for i in 0..ho {
            let (h0, h1, _) = window(i, h, kh, sh, ph);
            for j in 0..wo {
                let (w0, w1, _) = window(j, w, kw, sw, pw);
                let mut m = E::NEG_INFINITY;
                for r in h0..h1 {
                    for &v in &xp[r * w + w0..r * w + w1] {
                        // `v` if it is larger or NaN, unless `m` already is NaN: the first NaN
                        // wins and propagates, as in PyTorch's max pooling (two comparisons,
                        // no branch)
                        #[allow(clippy::eq_op, reason = "m == m is false only for NaN")]
                        #[allow(
                            clippy::neg_cmp_op_on_partial_ord,
                            reason = "!(v <= m) is true for a larger v and for a NaN v: both win"
                        )]
                        let take = !(v <= m) & (m == m);
                        m = if take { v } else { m };
                    }
                }
                yp[i * wo + j] = m;
            }
        }
    }
}

/// Average pooling, PyTorch's `nn.AvgPool2d`: the window's real inputs summed in order, divided
/// by the window's padded extent (`KH·KW`) if `count_include_pad`, else by the number of real inputs (0 for none).
///
/// ```
/// use typed_cnn::kernels::{Geom, embedded::avgpool};
/// // a 2×2 image padded by 1: 3×3 windows of 2×2, the corner ones over one real input
/// let mut y = [0.0f32; 9];
/// avgpool(&Geom::new(1, 2, 2, 2, 1, 1), 1, true, &[1., 2., 3., 4.], &mut y);
/// assert_eq!((y[0], y[4]), (0.25, 2.5)); // 1/4, and (1 + 2 + 3 + 4)/4
/// avgpool(&Geom::new(1, 2, 2, 2, 1, 1), 1, false, &[1., 2., 3., 4.], &mut y);
/// assert_eq!(y[0], 1.0); // divided by the one real input
/// ```
pub fn avgpool<E: Float>(g: &Geom, n: usize, count_include_pad: bool, x: &[E], y: &mut [E]) {
    let Geom { c, h, w, kh, kw, sh, sw, ph, pw, ho, wo, .. } = *g;
    for (xp, yp) in x.chunks_exact(h * w).zip(y.chunks_exact_mut(ho * wo)).take(n * c) {
        for i in 0..ho {
            let (h0, h1, eh) = window(i, h, kh, sh, ph);
            for j in 0..wo {
                let (w0, w1, ew) = window(j, w, kw, sw, pw);
                let mut sum = E::ZERO;
                for r in h0..h1 {
                    for v in &xp[r * w + w0..r * w + w1] {
                        sum += *v;
                    }
                }
                let divisor = if count_include_pad { eh * ew } else { (h1 - h0) * (w1 - w0) };
                yp[i * wo + j] = if divisor == 0 { E::ZERO } else { sum / E::from_usize(divisor) };
            }
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests;
