//! 2-D convolution (cross-correlation, PyTorch layouts) by im2col + one GEMM per image.
//!
//! Input `(N, C, H, W)`, weight `(COUT, C, K, K)`, output `(N, COUT, OH, OW)`, zero padding, no
//! dilation or groups. Shapes are checked by assertions only; the column buffers come from a
//! pool of scratch buffers reused across calls.

use std::ops::Range;

use super::gemm::gemm;
use super::{Geom, Scratch};
use crate::Float;
use crate::threads::{chunks, run_chunks};

/// **Panics** unless an image holds `C·H·W` elements and the column buffer at least `C·K·K·OH·OW`.
#[track_caller]
fn check_image_and_col(who: &str, g: &Geom, image_len: usize, col_len: usize) {
    let Geom { c, h, w, k, oh, ow, .. } = *g;
    assert_eq!(image_len, c * h * w, "{who}: the image must be C·H·W for {g:?}");
    assert!(
        col_len >= c * k * k * oh * ow,
        "{who}: col needs C·K·K·OH·OW = {}, got {col_len} for {g:?}",
        c * k * k * oh * ow
    );
}

/// Unfolds one image `x: (C, H, W)` into `col: (C·K·K, OH·OW)`.
///
/// Row `(c·K + a)·K + b` holds, for every output position `(i, j)` (column `i·OW + j`), the input
/// `x[c, i·S + a − P, j·S + b − P]`, or `0` where that falls in the padding. Every element of
/// `col[..C·K·K·OH·OW]` is written.
///
/// **Panics** if `x.len() != C·H·W` or `col.len() < C·K·K·OH·OW`.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::im2col};
/// let g = Geom::new(1, 3, 3, 2, 1, 0); // 2×2 output, so col is (1·2·2) × (2·2)
/// let x = [1., 2., 3., 4., 5., 6., 7., 8., 9.]; // [[1 2 3], [4 5 6], [7 8 9]]
/// let mut col = [0.0f32; 16];
/// im2col(&g, &x, &mut col);
/// // row (a, b) holds x[i + a, j + b] for the outputs (i, j) = (0, 0), (0, 1), (1, 0), (1, 1)
/// assert_eq!(col, [
///     1., 2., 4., 5., // (a, b) = (0, 0)
///     2., 3., 5., 6., // (0, 1)
///     4., 5., 7., 8., // (1, 0)
///     5., 6., 8., 9., // (1, 1)
/// ]);
/// ```
#[track_caller]
pub fn im2col<E: Float>(g: &Geom, x: &[E], col: &mut [E]) {
    let Geom { c, h, w, k, s, p, oh, ow } = *g;
    let ohw = oh * ow;
    check_image_and_col("im2col", g, x.len(), col.len());
    // rows of col: (C, K, K) flattened; each row is an (OH, OW) plane.
    // b outermost: the in-image column range depends on b only.
    for b in 0..k {
        // The output columns j whose input column j·S + b − P lies inside the image.
        let (j0, j1) = inside(b, p, s, w, ow);
        for ci in 0..c {
            for a in 0..k {
                let row = (ci * k + a) * k + b;
                let dst = &mut col[row * ohw..(row + 1) * ohw];
                // dst: (OH, OW); padded coordinates are (i·S + a, j·S + b), real = padded − P.
                for (i, dst_row) in dst.chunks_exact_mut(ow).enumerate() {
                    let py = i * s + a;
                    if py < p || py >= h + p || j0 >= j1 {
                        dst_row.fill(E::ZERO);
                        continue;
                    }
                    let src = &x[(ci * h + py - p) * w..(ci * h + py - p + 1) * w];
                    dst_row[..j0].fill(E::ZERO);
                    dst_row[j1..].fill(E::ZERO);
                    // input column of output column j: j·S + b − P
                    let first = j0 * s + b - p;
                    if s == 1 {
                        dst_row[j0..j1].copy_from_slice(&src[first..first + (j1 - j0)]);
                    } else {
                        for (out, &v) in
                            dst_row[j0..j1].iter_mut().zip(src[first..].iter().step_by(s))
                        {
                            *out = v;
                        }
                    }
                }
            }
        }
    }
}

/// The range `j0..j1` of output columns whose input column `j·s + b − p` lies in `0..w`
/// (empty when none does).
fn inside(b: usize, p: usize, s: usize, w: usize, ow: usize) -> (usize, usize) {
    // j·s + b ≥ p  ⇔  j ≥ ⌈(p − b)/s⌉;   j·s + b < w + p  ⇔  j < ⌈(w + p − b)/s⌉
    let j0 = p.saturating_sub(b).div_ceil(s).min(ow);
    let j1 = (w + p).saturating_sub(b).div_ceil(s).min(ow);
    (j0, j1.max(j0))
}

/// The adjoint of [`im2col`]: ACCUMULATES (`+=`) every entry of `col: (C·K·K, OH·OW)` into the
/// position of `dx: (C, H, W)` it was copied from; entries that came from padding are dropped.
///
/// Overlapping windows (`S < K`) add several entries into the same `dx` element.
///
/// **Panics** if `dx.len() != C·H·W` or `col.len() < C·K·K·OH·OW`.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::col2im};
/// let g = Geom::new(1, 3, 3, 2, 1, 0); // four overlapping 2×2 windows on a 3×3 image
/// let mut dx = [0.0f32; 9];
/// col2im(&g, &[1.0; 16], &mut dx);
/// // each pixel gets one 1 per window covering it: 1 at the corners, 4 in the centre
/// assert_eq!(dx, [1., 2., 1., 2., 4., 2., 1., 2., 1.]);
/// ```
#[track_caller]
pub fn col2im<E: Float>(g: &Geom, col: &[E], dx: &mut [E]) {
    let Geom { c, h, w, k, s, p, oh, ow } = *g;
    let ohw = oh * ow;
    check_image_and_col("col2im", g, dx.len(), col.len());
    // rows of col: (C, K, K) flattened; each row is an (OH, OW) plane.
    // b outermost: the in-image column range depends on b only.
    for b in 0..k {
        let (j0, j1) = inside(b, p, s, w, ow);
        for ci in 0..c {
            for a in 0..k {
                let row = (ci * k + a) * k + b;
                let src = &col[row * ohw..(row + 1) * ohw];
                // src: (OH, OW); skip the entries whose padded coordinate lies in the padding.
                for (i, src_row) in src.chunks_exact(ow).enumerate() {
                    let py = i * s + a;
                    if py < p || py >= h + p || j0 >= j1 {
                        continue;
                    }
                    let dst = &mut dx[(ci * h + py - p) * w..(ci * h + py - p + 1) * w];
                    let first = j0 * s + b - p;
                    if s == 1 {
                        // contiguous: a plain zip vectorizes
                        let dst = &mut dst[first..first + (j1 - j0)];
                        dst.iter_mut().zip(&src_row[j0..j1]).for_each(|(d, &v)| *d += v);
                    } else {
                        for (d, &v) in dst[first..].iter_mut().step_by(s).zip(&src_row[j0..j1]) {
                            *d += v;
                        }
                    }
                }
            }
        }
    }
}

/// Checks the lengths shared by [`conv_forward`] and [`conv_backward`].
#[track_caller]
fn check_conv<E: Float>(op: &str, g: &Geom, n: usize, cout: usize, x: &[E], weight: &[E]) {
    let (chw, ckk) = (g.c * g.h * g.w, g.c * g.k * g.k);
    assert_eq!(x.len(), n * chw, "{op}: x must be N·C·H·W (n={n}, {g:?})");
    assert_eq!(weight.len(), cout * ckk, "{op}: weight must be COUT·C·K·K (cout={cout}, {g:?})");
}

/// Convolution forward: `y[n,o,i,j] = bias[o] + Σ_{c,a,b} weight[o,c,a,b] · x[n,c,i·S+a−P, j·S+b−P]`
/// (zero padding), for `x: (N, C, H, W)`, `weight: (COUT, C, K, K)`, `y: (N, COUT, OH, OW)`.
///
/// Per image: `col ← im2col(x[n])`, then one GEMM `y[n] = W · col` with `W` seen as the
/// `COUT × C·K·K` matrix, then `+ bias[o]` on each output channel. `y` is overwritten. For a
/// 1×1, stride-1, unpadded kernel the image is used directly as the column matrix. The batch is
/// split into the fixed chunks of [`crate::threads`], run on up to [`crate::threads()`] threads;
/// the column buffers come from a pool, so repeated calls do not allocate them.
///
/// **Panics** if a slice length does not match the shapes above.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::conv_forward};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let x = [2., -3., 4., 1., -1., 2., -1., 2., 3.]; // [[2 −3 4], [1 −1 2], [−1 2 3]]
/// let w = [3., -1., 4., 2.]; // [[3 −1], [4 2]]
/// let mut y = [0.0f64; 4];
/// conv_forward(&g, 1, 1, &x, &w, Some(&[1.0]), &mut y);
/// // y[0, 0] = 1 + 3·2 − 1·(−3) + 4·1 + 2·(−1) = 12, likewise 1 − 13, 1 + 4, 1 + 9
/// assert_eq!(y, [12., -12., 5., 10.]);
/// ```
#[track_caller]
pub fn conv_forward<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    forward(g, n, cout, x, weight, bias, y, None);
}

/// [`conv_forward`] that also keeps every image's columns in `cols` (`N·C·K·K·OH·OW`, image
/// after image), for [`conv_backward_cols`]: training computes them once instead of twice. For
/// the 1×1, stride-1, unpadded case the columns are the input itself and `cols` gets a copy.
///
/// **Panics** if a slice length does not match the shapes of [`conv_forward`] or `cols` is not
/// `N·C·K·K·OH·OW`.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::{conv_backward, conv_backward_cols, conv_forward_keep}};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let (x, w, dy) = ([2., -3., 4., 1., -1., 2., -1., 2., 3.], [3., -1., 4., 2.], [3., -2., 1., -1.]);
/// let (mut y, mut cols) = ([0.0f64; 4], [0.0; 16]);
/// conv_forward_keep(&g, 1, 1, &x, &w, None, &mut y, &mut cols);
/// let (mut dw_a, mut dw_b) = ([0.0; 4], [0.0; 4]);
/// conv_backward_cols(&g, 1, 1, &cols, &w, &dy, None, &mut dw_a, None);
/// conv_backward(&g, 1, 1, &x, &w, &dy, None, &mut dw_b, None);
/// assert_eq!(dw_a, dw_b);
/// ```
#[track_caller]
pub fn conv_forward_keep<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
    cols: &mut [E],
) {
    let need = n * g.c * g.k * g.k * g.oh * g.ow;
    assert_eq!(cols.len(), need, "conv_forward_keep: cols must be N·C·K·K·OH·OW = {need} ({g:?})");
    forward(g, n, cout, x, weight, bias, y, Some(cols));
}

#[track_caller]
fn forward<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
    keep: Option<&mut [E]>,
) {
    check_conv("conv_forward", g, n, cout, x, weight);
    let (chw, ckk, ohw) = (g.c * g.h * g.w, g.c * g.k * g.k, g.oh * g.ow);
    assert_eq!(
        y.len(),
        n * cout * ohw,
        "conv_forward: y must be N·COUT·OH·OW (n={n}, cout={cout}, {g:?})"
    );
    if let Some(b) = bias {
        assert_eq!(b.len(), cout, "conv_forward: bias must be COUT={cout}");
    }
    let ranges = chunks(n);
    let keep_parts: Vec<Option<&mut [E]>> = match keep {
        Some(k) => split_by_images(k, &ranges, ckk * ohw).into_iter().map(Some).collect(),
        None => ranges.iter().map(|_| None).collect(),
    };
    let mut outs: Vec<_> =
        split_by_images(y, &ranges, cout * ohw).into_iter().zip(keep_parts).collect();
    run_chunks(&mut outs, |ci, (yc, kept)| {
        let pointwise = g.is_pointwise();
        let mut col = Scratch::take(if pointwise || kept.is_some() { 0 } else { ckk * ohw });
        // images of this chunk: x[img]: (C, H, W), yc[k]: (COUT, OH·OW)
        for (k, img) in ranges[ci].clone().enumerate() {
            let xi = &x[img * chw..(img + 1) * chw];
            let yi = &mut yc[k * cout * ohw..(k + 1) * cout * ohw];
            // cols: (C·K·K, OH·OW); for the pointwise case that is x[img] itself, (C, H·W).
            let cols: &[E] = match kept.as_deref_mut() {
                Some(kept) => {
                    let dst = &mut kept[k * ckk * ohw..(k + 1) * ckk * ohw];
                    if pointwise {
                        dst.copy_from_slice(xi)
                    } else {
                        im2col(g, xi, dst)
                    }
                    dst
                }
                None if pointwise => xi,
                None => {
                    im2col(g, xi, &mut col);
                    &col[..ckk * ohw]
                }
            };
            // y[img] (COUT, OH·OW) = W (COUT, C·K·K) · cols (C·K·K, OH·OW)
            gemm(cout, ckk, ohw, weight, false, cols, false, E::ZERO, yi);
            if let Some(b) = bias {
                // yi: (COUT, OH·OW); add b[o] to every position of channel o.
                for (o, plane) in yi.chunks_exact_mut(ohw).enumerate() {
                    plane.iter_mut().for_each(|v| *v += b[o]);
                }
            }
        }
    });
}

/// `Σ v` with eight independent partial sums (added pairwise at the end), so the loop
/// vectorizes; a fixed order, so the result does not depend on anything but `v`.
pub(crate) fn sum<E: Float>(v: &[E]) -> E {
    let mut acc = [E::ZERO; 8];
    let mut blocks = v.chunks_exact(8);
    for block in &mut blocks {
        for (a, &x) in acc.iter_mut().zip(block) {
            *a += x;
        }
    }
    for (a, &x) in acc.iter_mut().zip(blocks.remainder()) {
        *a += x;
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

/// `buf` cut into one slice per range of images, `per_image` elements each.
fn split_by_images<'a, E>(
    mut buf: &'a mut [E],
    ranges: &[Range<usize>],
    per_image: usize,
) -> Vec<&'a mut [E]> {
    let mut parts = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (head, tail) = buf.split_at_mut(r.len() * per_image);
        parts.push(head);
        buf = tail;
    }
    parts
}

/// One chunk's share of [`conv_backward`]: its images' input gradient, and weight and bias
/// gradients of its own (summed into the caller's in chunk order afterwards).
struct ChunkGrads<'a, E: Float> {
    dx: Option<&'a mut [E]>,
    dweight: Scratch<E>,
    dbias: Vec<E>,
}

/// Convolution backward for the layout of [`conv_forward`], given `dy: (N, COUT, OH, OW)`.
///
/// ALL gradients ACCUMULATE (`+=`) into what the caller passes, so zero them first for a fresh
/// gradient: `dweight: (COUT, C, K, K)`, `dbias: (COUT)` (if `Some`) and `dx: (N, C, H, W)`
/// (if `Some`; pass `None` for a first layer whose input needs no gradient).
///
/// Per image: `col ← im2col(x[n])`; `dW += dY · colᵀ`; `db[o] += Σ dY[o, :]`; and, when `dx` is
/// wanted, `col ← Wᵀ · dY` then `dx[n] += col2im(col)`. The 1×1, stride-1, unpadded case skips
/// both copies (`dx[n] += Wᵀ · dY` directly). The batch is split into the fixed chunks of
/// [`crate::threads`]; each chunk sums its images' weight and bias gradients in image order, and
/// the chunks' sums are added to `dweight`/`dbias` in chunk order, so the result is the same
/// for every thread count.
///
/// **Panics** if a slice length does not match the shapes above.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::conv_backward};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let (x, w) = ([2., -3., 4., 1., -1., 2., -1., 2., 3.], [3., -1., 4., 2.]);
/// let dy = [3., -2., 1., -1.];
/// let (mut dx, mut dw, mut db) = ([0.0f64; 9], [0.0; 4], [0.0; 1]);
/// conv_backward(&g, 1, 1, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
/// // dW[0, 0] = Σ dy[i, j]·x[i, j] = 3·2 − 2·(−3) + 1·1 − 1·(−1) = 14
/// // db = Σ dy = 3 − 2 + 1 − 1 = 1
/// assert_eq!((dw, db), ([14., -20., 2., -8.], [1.]));
/// assert_eq!(dx, [9., -9., 2., 15., -6., -3., 4., -2., -2.]); // dx[0, 0] = 3·3
/// ```
#[track_caller]
pub fn conv_backward<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    dy: &[E],
    dx: Option<&mut [E]>,
    dweight: &mut [E],
    dbias: Option<&mut [E]>,
) {
    check_conv("conv_backward", g, n, cout, x, weight);
    backward(g, n, cout, Source::Input(x), weight, dy, dx, dweight, dbias);
}

/// [`conv_backward`] from the columns that [`conv_forward_keep`] kept (`N·C·K·K·OH·OW`) instead
/// of the input: no im2col.
///
/// **Panics** if a slice length does not match.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv::{conv_backward_cols, conv_forward_keep}};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let (x, w) = ([2., -3., 4., 1., -1., 2., -1., 2., 3.], [3., -1., 4., 2.]);
/// let (mut y, mut cols) = ([0.0f64; 4], [0.0; 16]);
/// conv_forward_keep(&g, 1, 1, &x, &w, None, &mut y, &mut cols);
/// let (mut dx, mut dw) = ([0.0; 9], [0.0; 4]);
/// conv_backward_cols(&g, 1, 1, &cols, &w, &[3., -2., 1., -1.], Some(&mut dx), &mut dw, None);
/// assert_eq!(dw, [14., -20., 2., -8.]); // as conv_backward's example
/// ```
#[track_caller]
pub fn conv_backward_cols<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    cols: &[E],
    weight: &[E],
    dy: &[E],
    dx: Option<&mut [E]>,
    dweight: &mut [E],
    dbias: Option<&mut [E]>,
) {
    let (ckk, ohw) = (g.c * g.k * g.k, g.oh * g.ow);
    assert_eq!(cols.len(), n * ckk * ohw, "conv_backward_cols: cols must be N·C·K·K·OH·OW ({g:?})");
    assert_eq!(weight.len(), cout * ckk, "conv_backward_cols: weight must be COUT·C·K·K ({g:?})");
    backward(g, n, cout, Source::Cols(cols), weight, dy, dx, dweight, dbias);
}

/// Where backward finds each image's columns.
#[derive(Clone, Copy)]
enum Source<'a, E> {
    /// The input `(N, C, H, W)`: im2col per image (or the image itself when pointwise).
    Input(&'a [E]),
    /// Columns kept by the forward pass, `N·C·K·K·OH·OW`.
    Cols(&'a [E]),
}

#[track_caller]
fn backward<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    source: Source<'_, E>,
    weight: &[E],
    dy: &[E],
    dx: Option<&mut [E]>,
    dweight: &mut [E],
    dbias: Option<&mut [E]>,
) {
    let (chw, ckk, ohw) = (g.c * g.h * g.w, g.c * g.k * g.k, g.oh * g.ow);
    assert_eq!(
        dy.len(),
        n * cout * ohw,
        "conv_backward: dy must be N·COUT·OH·OW (n={n}, cout={cout}, {g:?})"
    );
    assert_eq!(
        dweight.len(),
        cout * ckk,
        "conv_backward: dweight must be COUT·C·K·K (cout={cout}, {g:?})"
    );
    if let Some(db) = dbias.as_deref() {
        assert_eq!(db.len(), cout, "conv_backward: dbias must be COUT={cout}");
    }
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), n * chw, "conv_backward: dx must be N·C·H·W (n={n}, {g:?})");
    }
    let pointwise = g.is_pointwise();
    let ranges = chunks(n);
    let dx_parts: Vec<Option<&mut [E]>> = match dx {
        Some(dx) => split_by_images(dx, &ranges, chw).into_iter().map(Some).collect(),
        None => ranges.iter().map(|_| None).collect(),
    };
    let with_bias = dbias.is_some();
    let mut parts: Vec<ChunkGrads<'_, E>> = dx_parts
        .into_iter()
        .map(|dx| ChunkGrads {
            dx,
            dweight: Scratch::take(cout * ckk),
            dbias: vec![E::ZERO; if with_bias { cout } else { 0 }],
        })
        .collect();
    run_chunks(&mut parts, |ci, part| {
        // im2col's output, then (after dW has used it) dcol; kept columns are read in place
        let mut col = Scratch::take(if pointwise { 0 } else { ckk * ohw });
        // images: x[img], dx[img]: (C, H, W); dy[img]: (COUT, OH·OW)
        for (k, img) in ranges[ci].clone().enumerate() {
            let dyi = &dy[img * cout * ohw..(img + 1) * cout * ohw];

            // cols: (C·K·K, OH·OW); for the pointwise case that is x[img] itself, (C, H·W).
            let cols: &[E] = match source {
                Source::Cols(c) => &c[img * ckk * ohw..(img + 1) * ckk * ohw],
                Source::Input(x) if pointwise => &x[img * chw..(img + 1) * chw],
                Source::Input(x) => {
                    im2col(g, &x[img * chw..(img + 1) * chw], &mut col);
                    &col[..ckk * ohw]
                }
            };
            // dW (COUT, C·K·K) (+)= dY (COUT, OH·OW) · colsᵀ (OH·OW, C·K·K); the chunk's first
            // image overwrites the pooled buffer.
            let beta = if k == 0 { E::ZERO } else { E::ONE };
            gemm(cout, ohw, ckk, dyi, false, cols, true, beta, &mut part.dweight[..cout * ckk]);

            // dyi: (COUT, OH·OW); db[o] += row sum of channel o.
            for (db, plane) in part.dbias.iter_mut().zip(dyi.chunks_exact(ohw)) {
                *db += sum(plane);
            }

            if let Some(dx) = part.dx.as_deref_mut() {
                let dxi = &mut dx[k * chw..(k + 1) * chw];
                if pointwise {
                    // dx[img] (C, H·W) += Wᵀ (C, COUT) · dY (COUT, H·W)
                    gemm(ckk, cout, ohw, weight, true, dyi, false, E::ONE, dxi);
                } else {
                    // dcol (C·K·K, OH·OW) = Wᵀ (C·K·K, COUT) · dY (COUT, OH·OW), into the scratch
                    gemm(ckk, cout, ohw, weight, true, dyi, false, E::ZERO, &mut col);
                    // dx[img] (C, H, W) += col2im(dcol)
                    col2im(g, &col[..ckk * ohw], dxi);
                }
            }
        }
    });
    // The chunks' sums, in chunk order.
    for part in &parts {
        dweight.iter_mut().zip(part.dweight.iter()).for_each(|(d, &p)| *d += p);
    }
    if let Some(db) = dbias {
        for part in &parts {
            db.iter_mut().zip(&part.dbias).for_each(|(d, &p)| *d += p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::naive::{conv_backward_naive, conv_forward_naive};
    use crate::testing::{Rng, assert_close, close_in_case, pick, to_e, to_f64};

    /// One conv shape: batch, input channels, height, width, output channels, kernel, stride, pad.
    #[derive(Clone, Copy, Debug)]
    struct Case {
        n: usize,
        c: usize,
        h: usize,
        w: usize,
        cout: usize,
        k: usize,
        s: usize,
        p: usize,
    }

    const fn case(
        n: usize,
        c: usize,
        h: usize,
        w: usize,
        cout: usize,
        k: usize,
        s: usize,
        p: usize,
    ) -> Case {
        Case { n, c, h, w, cout, k, s, p }
    }

    /// Odd shapes: every special path and every floor-mode remainder we could think of.
    const CASES: &[Case] = &[
        case(2, 3, 5, 6, 4, 1, 1, 0),  // K=1 S=1 P=0: the no-im2col path
        case(3, 1, 4, 7, 1, 1, 1, 0),  // same path, Cin=Cout=1, batch 3
        case(1, 3, 7, 9, 4, 1, 2, 0),  // K=1 stride 2 (im2col path), H≠W
        case(1, 2, 3, 5, 2, 1, 1, 1),  // K=1 with padding (im2col path, zero border)
        case(3, 1, 5, 5, 1, 5, 1, 0),  // K=H=W: 1×1 output
        case(1, 2, 4, 6, 3, 4, 2, 0),  // K=H, H≠W: 1×2 output
        case(1, 3, 7, 9, 4, 3, 2, 0),  // stride 2, odd H, exact tiling
        case(3, 2, 11, 6, 4, 3, 3, 1), // stride 3, P=1, H≠W, stride does not tile W
        case(1, 3, 7, 9, 4, 3, 1, 1),  // "same" conv
        case(2, 1, 6, 8, 1, 5, 2, 2),  // P=2, floor mode drops a row/col
        case(3, 3, 11, 6, 4, 4, 3, 2), // even K, stride 3 does not tile, P=2
        case(1, 1, 2, 3, 2, 3, 1, 1),  // input smaller than kernel, saved by padding
    ];

    /// Fast vs naive, forward and backward (with and without dx), with non-zero starting
    /// gradients to check accumulation and NaN-filled outputs/scratch to check overwriting.
    fn fast_matches_naive<E: Float>(t: Case, seed: u64) {
        eprintln!("case {t:?} ({}), seed {seed}", core::any::type_name::<E>());
        let Case { n, c, h, w, cout, k, s, p } = t;
        let g = Geom::new(c, h, w, k, s, p);
        let (ckk, ohw) = (c * k * k, g.oh * g.ow);
        let mut rng = Rng::new(seed);
        let x: Vec<E> = to_e(&rng.vec(n * c * h * w));
        let weight: Vec<E> = to_e(&rng.vec(cout * ckk));
        let bias_v: Vec<E> = to_e(&rng.vec(cout));
        let bias = if seed.is_multiple_of(2) { Some(&bias_v[..]) } else { None };
        let dy: Vec<E> = to_e(&rng.vec(n * cout * ohw));
        let dx0: Vec<E> = to_e(&rng.vec(n * c * h * w));
        let dw0: Vec<E> = to_e(&rng.vec(cout * ckk));
        let db0: Vec<E> = to_e(&rng.vec(cout));
        let nan = E::from_f64(f64::NAN);

        // forward: y (N, COUT, OH, OW)
        let mut y_fast = vec![nan; n * cout * ohw];
        conv_forward(&g, n, cout, &x, &weight, bias, &mut y_fast);
        let mut y_naive = vec![nan; n * cout * ohw];
        conv_forward_naive(&g, n, cout, &x, &weight, bias, &mut y_naive);
        assert_close(&to_f64(&y_fast), &to_f64(&y_naive));

        // backward with dx: all three accumulate onto dx0, dw0, db0
        let (mut dx_f, mut dw_f, mut db_f) = (dx0.clone(), dw0.clone(), db0.clone());
        conv_backward(&g, n, cout, &x, &weight, &dy, Some(&mut dx_f), &mut dw_f, Some(&mut db_f));
        let (mut dx_n, mut dw_n, mut db_n) = (dx0.clone(), dw0.clone(), db0.clone());
        conv_backward_naive(
            &g,
            n,
            cout,
            &x,
            &weight,
            &dy,
            Some(&mut dx_n),
            &mut dw_n,
            Some(&mut db_n),
        );
        assert_close(&to_f64(&dx_f), &to_f64(&dx_n));
        assert_close(&to_f64(&dw_f), &to_f64(&dw_n));
        assert_close(&to_f64(&db_f), &to_f64(&db_n));

        // the training pair: forward keeping what backward needs, backward from it
        let mut kept = vec![nan; if g.is_pointwise() { n * c * h * w } else { n * ckk * ohw }];
        let mut y_keep = vec![nan; n * cout * ohw];
        conv_forward_keep(&g, n, cout, &x, &weight, bias, &mut y_keep, &mut kept);
        assert_close(&to_f64(&y_keep), &to_f64(&y_naive));
        let (mut dx_k, mut dw_k, mut db_k) = (dx0.clone(), dw0.clone(), db0.clone());
        conv_backward_cols(
            &g,
            n,
            cout,
            &kept,
            &weight,
            &dy,
            Some(&mut dx_k),
            &mut dw_k,
            Some(&mut db_k),
        );
        assert_close(&to_f64(&dx_k), &to_f64(&dx_n));
        assert_close(&to_f64(&dw_k), &to_f64(&dw_n));
        assert_close(&to_f64(&db_k), &to_f64(&db_n));

        // backward without dx and dbias: dweight alone is unchanged
        let mut dw_only = dw0.clone();
        conv_backward(&g, n, cout, &x, &weight, &dy, None, &mut dw_only, None);
        assert_close(&to_f64(&dw_only), &to_f64(&dw_n));
    }

    #[test]
    fn conv_fast_matches_naive_f64() {
        for (i, &t) in CASES.iter().enumerate() {
            fast_matches_naive::<f64>(t, 100 + i as u64);
        }
    }

    #[test]
    fn conv_fast_matches_naive_f32() {
        for (i, &t) in CASES.iter().enumerate() {
            fast_matches_naive::<f32>(t, 200 + i as u64);
        }
    }

    /// 300 random shapes (`n ∈ 1..=3`, `c, cout ∈ 1..=4`, `h, w ∈ 1..=12`, `k ∈ 1..=5`,
    /// `s ∈ 1..=3`, `p ∈ 0..=2`; shapes where the window does not fit are redrawn), f64, fast vs
    /// naive: forward with bias and without (alternating), backward with `dx` and with `dbias`
    /// and without (alternating), gradients starting non-zero, outputs and scratch NaN-filled.
    #[test]
    fn conv_matches_naive_on_random_shapes() {
        let mut rng = Rng::new(0xC0FFEE);
        let mut case = 0;
        while case < 300 {
            let t = Case {
                n: pick(&mut rng, 1, 3),
                c: pick(&mut rng, 1, 4),
                h: pick(&mut rng, 1, 12),
                w: pick(&mut rng, 1, 12),
                cout: pick(&mut rng, 1, 4),
                k: pick(&mut rng, 1, 5),
                s: pick(&mut rng, 1, 3),
                p: pick(&mut rng, 0, 2),
            };
            let Case { n, c, h, w, cout, k, s, p } = t;
            if k > h + 2 * p || k > w + 2 * p {
                continue;
            }
            let with_bias = case % 2 == 0;
            let ctx = format!("case {case}: {t:?}, bias {with_bias}");
            let g = Geom::new(c, h, w, k, s, p);
            let (ckk, ohw) = (c * k * k, g.oh * g.ow);
            let x = rng.vec(n * c * h * w);
            let weight = rng.vec(cout * ckk);
            let bias_v = rng.vec(cout);
            let bias = with_bias.then_some(&bias_v[..]);
            let dy = rng.vec(n * cout * ohw);
            let (dx0, dw0, db0) = (rng.vec(x.len()), rng.vec(weight.len()), rng.vec(cout));
            let mut y = vec![f64::NAN; n * cout * ohw];
            conv_forward(&g, n, cout, &x, &weight, bias, &mut y);
            let mut y_naive = vec![f64::NAN; y.len()];
            conv_forward_naive(&g, n, cout, &x, &weight, bias, &mut y_naive);
            close_in_case(&ctx, "conv y", &y, &y_naive);
            let (mut dx, mut dw, mut db) = (dx0.clone(), dw0.clone(), db0.clone());
            let db_arg = with_bias.then_some(&mut db[..]);
            conv_backward(&g, n, cout, &x, &weight, &dy, Some(&mut dx), &mut dw, db_arg);
            let (mut dx_n, mut dw_n, mut db_n) = (dx0.clone(), dw0.clone(), db0.clone());
            let db_arg = with_bias.then_some(&mut db_n[..]);
            conv_backward_naive(&g, n, cout, &x, &weight, &dy, Some(&mut dx_n), &mut dw_n, db_arg);
            close_in_case(&ctx, "conv dx", &dx, &dx_n);
            close_in_case(&ctx, "conv dweight", &dw, &dw_n);
            // without dbias, db must be left as it was
            close_in_case(&ctx, "conv dbias", &db, &db_n);
            if !with_bias {
                close_in_case(&ctx, "conv dbias untouched", &db, &db0);
            }
            case += 1;
        }
    }

    /// `⟨im2col(x), r⟩ = ⟨x, col2im(r)⟩`: col2im is exactly the adjoint of im2col.
    #[test]
    fn col2im_is_adjoint_of_im2col() {
        for (i, t) in CASES.iter().enumerate() {
            let g = Geom::new(t.c, t.h, t.w, t.k, t.s, t.p);
            let len = t.c * t.k * t.k * g.oh * g.ow;
            let mut rng = Rng::new(300 + i as u64);
            let x = rng.vec(t.c * t.h * t.w);
            let r = rng.vec(len);
            let mut col = vec![f64::NAN; len];
            im2col(&g, &x, &mut col);
            let mut dx = vec![0.0; x.len()];
            col2im(&g, &r, &mut dx);
            let lhs: f64 = col.iter().zip(&r).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
            assert_close(&[lhs], &[rhs]);
        }
    }

    /// Runs fast and naive kernels, each in `E`, on one image with `C = COUT = 1`, `S = 1`,
    /// `P = 0`, and checks y, dW, db, dX against hand-worked values.
    fn hand_worked<E: Float>(
        h: usize,
        k: usize,
        x: &[f64],
        weight: &[f64],
        bias: Option<f64>,
        dy: &[f64],
        expect: [&[f64]; 4], // y, dw, db, dx
    ) {
        let g = Geom::new(1, h, h, k, 1, 0);
        let (x, weight, dy): (Vec<E>, Vec<E>, Vec<E>) = (to_e(x), to_e(weight), to_e(dy));
        let bias: Option<Vec<E>> = bias.map(|b| to_e(&[b]));
        let [y_exp, dw_exp, db_exp, dx_exp] = expect;
        for fast in [true, false] {
            let mut y = vec![E::ZERO; y_exp.len()];
            let (mut dx, mut dw, mut db) =
                (vec![E::ZERO; x.len()], vec![E::ZERO; weight.len()], vec![E::ZERO]);
            if fast {
                conv_forward(&g, 1, 1, &x, &weight, bias.as_deref(), &mut y);
                conv_backward(&g, 1, 1, &x, &weight, &dy, Some(&mut dx), &mut dw, Some(&mut db));
            } else {
                conv_forward_naive(&g, 1, 1, &x, &weight, bias.as_deref(), &mut y);
                conv_backward_naive(
                    &g,
                    1,
                    1,
                    &x,
                    &weight,
                    &dy,
                    Some(&mut dx),
                    &mut dw,
                    Some(&mut db),
                );
            }
            eprintln!("fast = {fast}");
            assert_close(&to_f64(&y), y_exp);
            assert_close(&to_f64(&dw), dw_exp);
            assert_close(&to_f64(&db), db_exp);
            assert_close(&to_f64(&dx), dx_exp);
        }
    }

    #[test]
    fn conv_hand_worked_a() {
        // X = [[2,−3,4],[1,−1,2],[−1,2,3]], W = [[3,−1],[4,2]], no bias, dY = [[3,−2],[1,−1]].
        // Y[0,0] = 2·3 − 3·(−1) + 1·4 − 1·2 = 11; db = 3 − 2 + 1 − 1 = 1.
        let x = [2., -3., 4., 1., -1., 2., -1., 2., 3.];
        let w = [3., -1., 4., 2.];
        let dy = [3., -2., 1., -1.];
        let y = [11., -13., 4., 9.];
        let dw = [14., -20., 2., -8.];
        let dx = [9., -9., 2., 15., -6., -3., 4., -2., -2.];
        hand_worked::<f64>(3, 2, &x, &w, None, &dy, [&y, &dw, &[1.], &dx]);
        hand_worked::<f32>(3, 2, &x, &w, None, &dy, [&y, &dw, &[1.], &dx]);
    }

    #[test]
    fn conv_hand_worked_b() {
        // x = 1..9 as 3×3, w = [[1,2],[3,4]], b = 1, dY all ones.
        // Y[0,0] = 1 + 1·1 + 2·2 + 3·4 + 4·5 = 38; dW[a,b] = Σ of the 2×2 block at (a,b);
        // db = 4; dX[i,j] = Σ of the weights that touch (i,j) (a "full" correlation of ones).
        let x = [1., 2., 3., 4., 5., 6., 7., 8., 9.];
        let w = [1., 2., 3., 4.];
        let dy = [1.; 4];
        let y = [38., 48., 68., 78.];
        let dw = [12., 16., 24., 28.];
        let dx = [1., 3., 2., 4., 10., 6., 3., 7., 4.];
        hand_worked::<f64>(3, 2, &x, &w, Some(1.), &dy, [&y, &dw, &[4.], &dx]);
        hand_worked::<f32>(3, 2, &x, &w, Some(1.), &dy, [&y, &dw, &[4.], &dx]);
    }

    /// Loss `L = Σ y·r`: checks dx, dW, db of the fast backward against central differences.
    #[test]
    fn conv_backward_matches_finite_differences() {
        let (n, cout) = (2, 3);
        let g = Geom::new(2, 5, 7, 3, 2, 1);
        let (ckk, ohw) = (g.c * g.k * g.k, g.oh * g.ow);
        let mut rng = Rng::new(7);
        let x = rng.vec(n * g.c * g.h * g.w);
        let weight = rng.vec(cout * ckk);
        let bias = rng.vec(cout);
        let r = rng.vec(n * cout * ohw);
        // params = [x, weight, bias]; loss(params) = Σ conv_forward(params) · r
        let loss = |params: &[Vec<f64>; 3]| -> f64 {
            let mut y = vec![0.0; n * cout * ohw];
            conv_forward(&g, n, cout, &params[0], &params[1], Some(&params[2]), &mut y);
            y.iter().zip(&r).map(|(a, b)| a * b).sum()
        };

        // numerical gradient of params[which], the other two held fixed
        const H: f64 = 1e-6;
        let numeric = |which: usize| -> Vec<f64> {
            let mut params = [x.clone(), weight.clone(), bias.clone()];
            let mut grad = vec![0.0; params[which].len()];
            // grad: one entry per element of the chosen parameter
            for (i, g_i) in grad.iter_mut().enumerate() {
                let orig = params[which][i];
                params[which][i] = orig + H;
                let up = loss(&params);
                params[which][i] = orig - H;
                let down = loss(&params);
                params[which][i] = orig;
                *g_i = (up - down) / (2.0 * H);
            }
            grad
        };
        let num_dx = numeric(0);
        let num_dw = numeric(1);
        let num_db = numeric(2);

        let (mut dx, mut dw, mut db) =
            (vec![0.0; x.len()], vec![0.0; weight.len()], vec![0.0; cout]);
        conv_backward(&g, n, cout, &x, &weight, &r, Some(&mut dx), &mut dw, Some(&mut db));

        for (name, analytic, numeric) in
            [("dx", &dx, &num_dx), ("dw", &dw, &num_dw), ("db", &db, &num_db)]
        {
            let max_diff =
                analytic.iter().zip(numeric).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            let scale = numeric.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let rel = max_diff / scale;
            assert!(rel < 1e-6, "{name}: relative error {rel:e} (max |diff| {max_diff:e})");
        }
    }
}
