//! Depthwise convolution (one filter per channel, PyTorch's `groups = C`): direct loops, no
//! im2col and no GEMM. A GEMM per channel would be `1 × K·K × HO·WO`, all packing and no reuse;
//! here each output row is a sum of `K·K` shifted, scaled input rows, which vectorizes along the
//! row when the stride is 1.
//!
//! Layouts: `x: (N, C, H, W)`, `weight: (C, 1, KH, KW)`, `y: (N, C, HO, WO)`, the window of `g`
//! (rectangular, strided, padded, dilated as [`Geom::rect`] allows). The batch is split into the
//! fixed chunks of [`crate::CHUNKS`]; the weight and bias gradients are summed per chunk and the
//! chunks' sums added in chunk order, so results do not depend on the thread count.

use super::{ChunkGrads, add_channel_bias, add_channel_sums, inside};
use crate::Float;
use crate::kernels::Geom;
use crate::runtime::{chunks, run_chunks, split_by_images};

/// The input row that tap row `a` of output row `i` reads, if it lies inside the image.
#[inline]
fn tap_row(g: &Geom, i: usize, a: usize) -> Option<usize> {
    let py = i * g.sh + a * g.dh;
    (g.ph..g.h + g.ph).contains(&py).then(|| py - g.ph)
}

/// For each tap column `b`: the output columns `j0..j1` whose input column lies inside the image
/// and the first such input column, or `None` when none does. The same for every row and
/// channel, so computed once per call.
fn tap_columns(g: &Geom) -> Vec<Option<(usize, usize, usize)>> {
    (0..g.kw)
        .map(|b| {
            let (j0, j1) = inside(b * g.dw, g.pw, g.sw, g.w, g.wo);
            (j0 < j1).then(|| (j0, j1, j0 * g.sw + b * g.dw - g.pw))
        })
        .collect()
}

/// **Panics** unless the lengths fit `n` images of the geometry `g` (`g.c` channels).
#[track_caller]
fn check(who: &str, g: &Geom, n: usize, x: usize, weight: usize, y: usize) {
    assert_eq!(x, n * g.c * g.h * g.w, "{who}: x must be N·C·H·W (n={n}, {g:?})");
    assert_eq!(weight, g.c * g.taps(), "{who}: weight must be C·KH·KW ({g:?})");
    assert_eq!(y, n * g.c * g.ho * g.wo, "{who}: y must be N·C·HO·WO (n={n}, {g:?})");
}

/// Depthwise forward: `y[n,c,i,j] = bias[c] + Σ_{a,b} weight[c,a,b] · x[n,c,i·SH+a·DH−PH,
/// j·SW+b·DW−PW]` (zero padding). `y` is overwritten.
///
/// **Panics** if a slice length does not match the shapes above.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::depthwise_forward};
/// // two channels of 1×3, a 1×2 filter each, no padding: y[c, j] = w[c,0]·x[c,j] + w[c,1]·x[c,j+1]
/// let g = Geom::rect(2, 1, 3, [1, 2], [1, 1], [0, 0], [1, 1]);
/// let (x, w) = ([1., 2., 3., 10., 20., 30.], [1., -1., 0.5, 0.5]);
/// let mut y = [0.0f64; 4];
/// depthwise_forward(&g, 1, &x, &w, Some(&[0.0, 1.0]), &mut y);
/// assert_eq!(y, [-1., -1., 16., 26.]); // 1 − 2, 2 − 3; 1 + 5 + 10, 1 + 10 + 15
/// ```
#[track_caller]
pub fn depthwise_forward<E: Float>(
    g: &Geom,
    n: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    check("depthwise_forward", g, n, x.len(), weight.len(), y.len());
    if let Some(b) = bias {
        assert_eq!(b.len(), g.c, "depthwise_forward: bias must be C={}", g.c);
    }
    let (plane_in, plane_out, taps) = (g.h * g.w, g.ho * g.wo, g.taps());
    let columns = tap_columns(g);
    let ranges = chunks(n);
    let mut outs = split_by_images(y, &ranges, g.c * plane_out);
    run_chunks(&mut outs, |ci, yc| {
        for (k, img) in ranges[ci].clone().enumerate() {
            for c in 0..g.c {
                let xp = &x[(img * g.c + c) * plane_in..][..plane_in];
                let yp = &mut yc[(k * g.c + c) * plane_out..][..plane_out];
                let wc = &weight[c * taps..(c + 1) * taps];
                yp.fill(E::ZERO);
                for (i, yr) in yp.chunks_exact_mut(g.wo).enumerate() {
                    for a in 0..g.kh {
                        let Some(r) = tap_row(g, i, a) else { continue };
                        for (b, &cols) in columns.iter().enumerate() {
                            let Some((j0, j1, first)) = cols else { continue };
                            let wv = wc[a * g.kw + b];
                            let xr = &xp[r * g.w..(r + 1) * g.w];
                            let out = &mut yr[j0..j1];
                            if g.sw == 1 {
                                let src = &xr[first..first + out.len()];
                                out.iter_mut().zip(src).for_each(|(o, &v)| *o += wv * v);
                            } else {
                                let src = xr[first..].iter().step_by(g.sw);
                                out.iter_mut().zip(src).for_each(|(o, &v)| *o += wv * v);
                            }
                        }
                    }
                }
            }
            if let Some(b) = bias {
                add_channel_bias(
                    &mut yc[k * g.c * plane_out..(k + 1) * g.c * plane_out],
                    b,
                    plane_out,
                );
            }
        }
    });
}

/// Depthwise backward for the layout of [`depthwise_forward`], given `dy: (N, C, HO, WO)`:
/// ACCUMULATES (`+=`) `dweight: (C, 1, KH, KW)`, `dbias: (C)` (if `Some`) and `dx: (N, C, H, W)`
/// (if `Some`).
///
/// **Panics** if a slice length does not match the shapes above.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::depthwise_backward};
/// let g = Geom::rect(1, 1, 3, [1, 2], [1, 1], [0, 0], [1, 1]); // one channel of 1×3, 1×2 filter
/// let (x, w, dy) = ([1., 2., 3.], [1., -1.], [1., 10.]);
/// let (mut dx, mut dw, mut db) = ([0.0f64; 3], [0.0; 2], [0.0; 1]);
/// depthwise_backward(&g, 1, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
/// assert_eq!(dw, [21., 32.]); // 1·1 + 10·2, 1·2 + 10·3
/// assert_eq!(db, [11.]);
/// assert_eq!(dx, [1., 9., -10.]); // 1·1, −1·1 + 1·10, −1·10
/// ```
#[track_caller]
#[allow(clippy::too_many_arguments, reason = "the shapes and the six buffers")]
pub fn depthwise_backward<E: Float>(
    g: &Geom,
    n: usize,
    x: &[E],
    weight: &[E],
    dy: &[E],
    dx: Option<&mut [E]>,
    dweight: &mut [E],
    dbias: Option<&mut [E]>,
) {
    check("depthwise_backward", g, n, x.len(), weight.len(), dy.len());
    assert_eq!(dweight.len(), weight.len(), "depthwise_backward: dweight as weight");
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), x.len(), "depthwise_backward: dx must be N·C·H·W");
    }
    if let Some(db) = dbias.as_deref() {
        assert_eq!(db.len(), g.c, "depthwise_backward: dbias must be C={}", g.c);
    }
    let (plane_in, plane_out, taps) = (g.h * g.w, g.ho * g.wo, g.taps());
    let columns = tap_columns(g);
    let ranges = chunks(n);
    let biases = dbias.is_some().then_some(g.c);
    let mut parts = ChunkGrads::split(dx, &ranges, g.c * plane_in, weight.len(), biases);
    run_chunks(&mut parts, |ci, part| {
        for (k, img) in ranges[ci].clone().enumerate() {
            for c in 0..g.c {
                let xp = &x[(img * g.c + c) * plane_in..][..plane_in];
                let dyp = &dy[(img * g.c + c) * plane_out..][..plane_out];
                let wc = &weight[c * taps..(c + 1) * taps];
                let dwc = &mut part.dweight[c * taps..(c + 1) * taps];
                let mut dxp = part
                    .dx
                    .as_deref_mut()
                    .map(|dx| &mut dx[(k * g.c + c) * plane_in..][..plane_in]);
                for (i, dyr) in dyp.chunks_exact(g.wo).enumerate() {
                    for a in 0..g.kh {
                        let Some(r) = tap_row(g, i, a) else { continue };
                        for (b, &cols) in columns.iter().enumerate() {
                            let Some((j0, j1, first)) = cols else { continue };
                            let t = a * g.kw + b;
                            let dys = &dyr[j0..j1];
                            let xr = &xp[r * g.w..(r + 1) * g.w];
                            // dW[c, a, b] += Σ_j dy[i, j] · x[r, first + (j − j0)·SW]
                            let mut acc = E::ZERO;
                            if g.sw == 1 {
                                let src = &xr[first..first + dys.len()];
                                dys.iter().zip(src).for_each(|(&d, &v)| acc += d * v);
                            } else {
                                let src = xr[first..].iter().step_by(g.sw);
                                dys.iter().zip(src).for_each(|(&d, &v)| acc += d * v);
                            }
                            dwc[t] += acc;
                            if let Some(dxp) = dxp.as_deref_mut() {
                                let wv = wc[t];
                                let dxr = &mut dxp[r * g.w..(r + 1) * g.w];
                                if g.sw == 1 {
                                    let dst = &mut dxr[first..first + dys.len()];
                                    dst.iter_mut().zip(dys).for_each(|(o, &d)| *o += wv * d);
                                } else {
                                    let dst = dxr[first..].iter_mut().step_by(g.sw);
                                    dst.zip(dys).for_each(|(o, &d)| *o += wv * d);
                                }
                            }
                        }
                    }
                }
            }
            add_channel_sums(
                &mut part.dbias,
                &dy[img * g.c * plane_out..(img + 1) * g.c * plane_out],
                plane_out,
            );
        }
    });
    ChunkGrads::sum_into(&parts, dweight, dbias);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::naive::{conv_backward_naive, conv_forward_naive};
    use crate::kernels::grid::{Case2, Gen, close};

    /// The depthwise kernels against the naive convolution run on each channel alone (a 1 → 1
    /// channel convolution with that channel's filter), on random rectangular, strided, padded and
    /// dilated geometries, with and without bias and input gradient.
    #[test]
    fn depthwise_kernels_match_naive_per_channel() {
        let mut g = Gen(0xDE97);
        for _ in 0..300 {
            let Case2 { geom, n, .. } = Case2::random_rect(&mut g);
            let (c, taps) = (geom.c, geom.taps());
            let (plane_in, plane_out) = (geom.h * geom.w, geom.ho * geom.wo);
            let x = g.vec(n * c * plane_in);
            let w = g.vec(c * taps);
            let b = g.coin().then(|| g.vec(c));
            let dy = g.vec(n * c * plane_out);
            let (dx0, dw0, db0) = (g.vec(x.len()), g.vec(w.len()), g.vec(c));
            let mut y = vec![f64::NAN; dy.len()];
            depthwise_forward(&geom, n, &x, &w, b.as_deref(), &mut y);
            let (mut dx, mut dw, mut db) = (dx0.clone(), dw0.clone(), db0.clone());
            let want_dx = g.coin();
            let dbias = b.is_some().then_some(&mut db[..]);
            depthwise_backward(
                &geom,
                n,
                &x,
                &w,
                &dy,
                want_dx.then_some(&mut dx[..]),
                &mut dw,
                dbias,
            );

            let one = Geom { c: 1, ..geom };
            let (mut y_ref, mut dx_ref, mut dw_ref, mut db_ref) =
                (vec![0.0; y.len()], dx0.clone(), dw0.clone(), db0.clone());
            for ch in 0..c {
                for img in 0..n {
                    let xi = &x[(img * c + ch) * plane_in..][..plane_in];
                    let dyi = &dy[(img * c + ch) * plane_out..][..plane_out];
                    let wc = &w[ch * taps..(ch + 1) * taps];
                    let bias = b.as_ref().map(|b| &b[ch..ch + 1]);
                    let out = &mut y_ref[(img * c + ch) * plane_out..][..plane_out];
                    conv_forward_naive(&one, 1, 1, xi, wc, bias, out);
                    let dxi = &mut dx_ref[(img * c + ch) * plane_in..][..plane_in];
                    let dwc = &mut dw_ref[ch * taps..(ch + 1) * taps];
                    let dbc = b.is_some().then_some(&mut db_ref[ch..ch + 1]);
                    conv_backward_naive(&one, 1, 1, xi, wc, dyi, Some(dxi), dwc, dbc);
                }
            }
            let ctx = format!("{geom:?} n={n} bias={} dx={want_dx}", b.is_some());
            close("depthwise y", &ctx, &y, &y_ref);
            close("depthwise dweight", &ctx, &dw, &dw_ref);
            close("depthwise dbias", &ctx, &db, &db_ref);
            close("depthwise dx", &ctx, &dx, if want_dx { &dx_ref } else { &dx0 });
            // in f64 the sums differ from the naive loops' by roundoff only
            for (got, want) in
                [(&y, &y_ref), (&dw, &dw_ref), (&dx, if want_dx { &dx_ref } else { &dx0 })]
            {
                let worst =
                    got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                assert!(
                    worst <= 1e-14 * (1.0 + taps as f64),
                    "depthwise off by {worst:e} for {ctx}"
                );
            }
        }
    }
}
