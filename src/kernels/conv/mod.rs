//! 2-D convolution (cross-correlation, PyTorch layouts) by im2col + one GEMM per image, or by
//! a kernel of ours where the shape makes it faster ([`keeps_input`] lists them): `direct.rs`
//! (few output channels, small window), `channels.rs` (small layers, vectorized across output
//! channels), `winograd.rs` (forward of wide 3×3 stride-1 layers), `depthwise.rs`; and the
//! transposed convolution in `transposed.rs`. Each is
//! tested beside its code against the naive loops of `naive.rs`.
//!
//! Input `(N, C, H, W)`, weight `(COUT, C, K, K)`, output `(N, COUT, HO, WO)`, zero padding; the
//! window may be rectangular and dilated ([`Geom::rect`]), and `K·K` below then reads `KH·KW`.
//! Groups are one call per group on its channels (`crate::layers::GroupedConv2d`). Shapes are
//! checked by assertions only; the column buffers come from a pool of scratch buffers reused
//! across calls.

use std::ops::Range;

use super::Geom;
use crate::Float;
use crate::gemm::gemm;
use crate::runtime::{Scratch, chunks, run_chunks, split_by_images};

/// **Panics** unless an image holds `C·H·W` elements and the column buffer at least `C·KH·KW·HO·WO`.
#[track_caller]
fn check_image_and_col(who: &str, g: &Geom, image_len: usize, col_len: usize) {
    let Geom { c, h, w, ho, wo, .. } = *g;
    let need = c * g.taps() * ho * wo;
    assert_eq!(image_len, c * h * w, "{who}: the image must be C·H·W for {g:?}");
    assert!(col_len >= need, "{who}: col needs C·KH·KW·HO·WO = {need}, got {col_len} for {g:?}");
}

/// Unfolds one image `x: (C, H, W)` into `col: (C·KH·KW, HO·WO)`.
///
/// Row `(c·KH + a)·KW + b` holds, for every output position `(i, j)` (column `i·WO + j`), the
/// input `x[c, i·SH + a·DH − PH, j·SW + b·DW − PW]`, or `0` where that falls in the padding.
/// Every element of `col[..C·KH·KW·HO·WO]` is written.
///
/// **Panics** if `x.len() != C·H·W` or `col.len() < C·KH·KW·HO·WO`.
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
/// // a 1×2 kernel with dilation 2 on the 3×3 image: its taps are columns j and j + 2
/// let g = Geom::rect(1, 3, 3, [1, 2], [1, 1], [0, 0], [1, 2]); // 3×1 output
/// let mut col = [0.0f32; 6];
/// im2col(&g, &x, &mut col);
/// assert_eq!(col, [1., 4., 7., 3., 6., 9.]);
/// ```
#[track_caller]
pub fn im2col<E: Float>(g: &Geom, x: &[E], col: &mut [E]) {
    let Geom { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo } = *g;
    let hw_out = ho * wo;
    check_image_and_col("im2col", g, x.len(), col.len());
    // rows of col: (C, KH, KW) flattened; each row is an (HO, WO) plane.
    // b outermost: the in-image column range depends on b only.
    for b in 0..kw {
        // The output columns j whose input column j·SW + b·DW − PW lies inside the image.
        let (j0, j1) = inside(b * dw, pw, sw, w, wo);
        for ci in 0..c {
            for a in 0..kh {
                let row = (ci * kh + a) * kw + b;
                let dst = &mut col[row * hw_out..(row + 1) * hw_out];
                // dst: (HO, WO); padded coordinates are (i·SH + a·DH, j·SW + b·DW),
                // real = padded − P.
                for (i, dst_row) in dst.chunks_exact_mut(wo).enumerate() {
                    let py = i * sh + a * dh;
                    if py < ph || py >= h + ph || j0 >= j1 {
                        dst_row.fill(E::ZERO);
                        continue;
                    }
                    let src = &x[(ci * h + py - ph) * w..(ci * h + py - ph + 1) * w];
                    dst_row[..j0].fill(E::ZERO);
                    dst_row[j1..].fill(E::ZERO);
                    // input column of output column j: j·SW + b·DW − PW
                    let first = j0 * sw + b * dw - pw;
                    if sw == 1 {
                        dst_row[j0..j1].copy_from_slice(&src[first..first + (j1 - j0)]);
                    } else {
                        for (out, &v) in
                            dst_row[j0..j1].iter_mut().zip(src[first..].iter().step_by(sw))
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
/// (empty when none does); `b` is the tap's offset in the padded input (`b·d` when dilated).
fn inside(b: usize, p: usize, s: usize, w: usize, wo: usize) -> (usize, usize) {
    // j·s + b ≥ p  ⇔  j ≥ ⌈(p − b)/s⌉;   j·s + b < w + p  ⇔  j < ⌈(w + p − b)/s⌉
    let j0 = p.saturating_sub(b).div_ceil(s).min(wo);
    let j1 = (w + p).saturating_sub(b).div_ceil(s).min(wo);
    (j0, j1.max(j0))
}

/// The adjoint of [`im2col`]: ACCUMULATES (`+=`) every entry of `col: (C·KH·KW, HO·WO)` into the
/// position of `dx: (C, H, W)` it was copied from; entries that came from padding are dropped.
///
/// Overlapping windows (a stride below the window's span) add several entries into the same
/// `dx` element.
///
/// **Panics** if `dx.len() != C·H·W` or `col.len() < C·KH·KW·HO·WO`.
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
    let Geom { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo } = *g;
    let hw_out = ho * wo;
    check_image_and_col("col2im", g, dx.len(), col.len());
    // rows of col: (C, KH, KW) flattened; each row is an (HO, WO) plane.
    // b outermost: the in-image column range depends on b only.
    for b in 0..kw {
        let (j0, j1) = inside(b * dw, pw, sw, w, wo);
        for ci in 0..c {
            for a in 0..kh {
                let row = (ci * kh + a) * kw + b;
                let src = &col[row * hw_out..(row + 1) * hw_out];
                // src: (HO, WO); skip the entries whose padded coordinate lies in the padding.
                for (i, src_row) in src.chunks_exact(wo).enumerate() {
                    let py = i * sh + a * dh;
                    if py < ph || py >= h + ph || j0 >= j1 {
                        continue;
                    }
                    let dst = &mut dx[(ci * h + py - ph) * w..(ci * h + py - ph + 1) * w];
                    let first = j0 * sw + b * dw - pw;
                    if sw == 1 {
                        // contiguous: a plain zip vectorizes
                        let dst = &mut dst[first..first + (j1 - j0)];
                        dst.iter_mut().zip(&src_row[j0..j1]).for_each(|(d, &v)| *d += v);
                    } else {
                        for (d, &v) in dst[first..].iter_mut().step_by(sw).zip(&src_row[j0..j1]) {
                            *d += v;
                        }
                    }
                }
            }
        }
    }
}

/// Checks the lengths shared by [`forward`] and [`backward`].
#[track_caller]
fn check_conv<E: Float>(op: &str, g: &Geom, n: usize, cout: usize, x: &[E], weight: &[E]) {
    let (chw, ckk) = (g.c * g.h * g.w, g.c * g.taps());
    assert_eq!(x.len(), n * chw, "{op}: x must be N·C·H·W (n={n}, {g:?})");
    assert_eq!(weight.len(), cout * ckk, "{op}: weight must be COUT·C·K·K (cout={cout}, {g:?})");
}

/// Convolution forward: `y[n,o,i,j] = bias[o] + Σ_{c,a,b} weight[o,c,a,b] · x[n,c,i·S+a−P, j·S+b−P]`
/// (zero padding), for `x: (N, C, H, W)`, `weight: (COUT, C, K, K)`, `y: (N, COUT, HO, WO)`.
///
/// Per image: `col ← im2col(x[n])`, then one GEMM `y[n] = W · col` with `W` seen as the
/// `COUT × C·K·K` matrix, then `+ bias[o]` on each output channel. `y` is overwritten. For a
/// 1×1, stride-1, unpadded kernel the image is used directly as the column matrix. The batch is
/// split into the fixed chunks of [`crate::CHUNKS`], run on up to [`crate::threads()`] threads;
/// the column buffers come from a pool, so repeated calls do not allocate them.
///
/// With `keep = Some(cols)` (`N·C·K·K·HO·WO`, image after image), every image's columns are
/// kept there for [`backward`] from [`Source::Cols`]: training computes them once instead of
/// twice (for the pointwise case `cols` gets a copy of the input).
///
/// **Panics** if a slice length does not match the shapes above.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let x = [2., -3., 4., 1., -1., 2., -1., 2., 3.]; // [[2 −3 4], [1 −1 2], [−1 2 3]]
/// let w = [3., -1., 4., 2.]; // [[3 −1], [4 2]]
/// let mut y = [0.0f64; 4];
/// conv::forward(&g, 1, 1, &x, &w, Some(&[1.0]), &mut y, None);
/// // y[0, 0] = 1 + 3·2 − 1·(−3) + 4·1 + 2·(−1) = 12, likewise 1 − 13, 1 + 4, 1 + 9
/// assert_eq!(y, [12., -12., 5., 10.]);
/// // keeping the columns: the same output, and the 2×2 windows as columns
/// let mut cols = [0.0; 16];
/// conv::forward(&g, 1, 1, &x, &w, Some(&[1.0]), &mut y, Some(&mut cols));
/// assert_eq!(y, [12., -12., 5., 10.]);
/// assert_eq!(cols[..4], [2., -3., 1., -1.]); // x[0 + i, 0 + j] for the four outputs
/// ```
#[track_caller]
pub fn forward<E: Float>(
    g: &Geom,
    n: usize,
    cout: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
    keep: Option<&mut [E]>,
) {
    check_conv("conv::forward", g, n, cout, x, weight);
    let (chw, ckk, hw_out) = (g.c * g.h * g.w, g.c * g.taps(), g.ho * g.wo);
    if let Some(cols) = keep.as_deref() {
        let need = n * ckk * hw_out;
        assert_eq!(cols.len(), need, "conv::forward: cols must be N·C·K·K·HO·WO = {need} ({g:?})");
    }
    assert_eq!(
        y.len(),
        n * cout * hw_out,
        "conv::forward: y must be N·COUT·HO·WO (n={n}, cout={cout}, {g:?})"
    );
    if let Some(b) = bias {
        assert_eq!(b.len(), cout, "conv::forward: bias must be COUT={cout}");
    }
    let ranges = chunks(n);
    let path = Path::of(g, cout);
    if keep.is_none() && path != Path::Im2col {
        // the weights in the kernel's own layout, once per call
        let prepared = match path {
            Path::Channels => channels::transpose_weights(cout, ckk, weight),
            Path::Winograd => winograd::filters(cout, g.c, weight),
            Path::Direct | Path::Im2col => Scratch::take(0),
        };
        let mut outs = split_by_images(y, &ranges, cout * hw_out);
        run_chunks(&mut outs, |ci, yc| {
            let r = ranges[ci].clone();
            let xc = &x[r.start * chw..r.end * chw];
            match path {
                Path::Direct => {
                    let mut work = Scratch::take(direct::scratch_len(g));
                    direct::forward(g, cout, xc, weight, bias, yc, &mut work);
                }
                Path::Channels => {
                    let mut work = Scratch::take(channels::scratch_len(g));
                    channels::forward(g, cout, xc, &prepared, bias, yc, &mut work);
                }
                Path::Winograd => winograd::forward(g, cout, x, r, &prepared, bias, yc),
                Path::Im2col => unreachable!("handled below"),
            }
        });
        return;
    }
    let keep_parts: Vec<Option<&mut [E]>> = match keep {
        Some(k) => split_by_images(k, &ranges, ckk * hw_out).into_iter().map(Some).collect(),
        None => ranges.iter().map(|_| None).collect(),
    };
    let mut outs: Vec<_> =
        split_by_images(y, &ranges, cout * hw_out).into_iter().zip(keep_parts).collect();
    run_chunks(&mut outs, |ci, (yc, kept)| {
        let pointwise = g.is_pointwise();
        let mut col = Scratch::take(if pointwise || kept.is_some() { 0 } else { ckk * hw_out });
        // images of this chunk: x[img]: (C, H, W), yc[k]: (COUT, HO·WO)
        for (k, img) in ranges[ci].clone().enumerate() {
            let xi = &x[img * chw..(img + 1) * chw];
            let yi = &mut yc[k * cout * hw_out..(k + 1) * cout * hw_out];
            // cols: (C·K·K, HO·WO); for the pointwise case that is x[img] itself, (C, H·W).
            let cols: &[E] = match kept.as_deref_mut() {
                Some(kept) => {
                    let dst = &mut kept[k * ckk * hw_out..(k + 1) * ckk * hw_out];
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
                    &col[..ckk * hw_out]
                }
            };
            // y[img] (COUT, HO·WO) = W (COUT, C·K·K) · cols (C·K·K, HO·WO)
            gemm(cout, ckk, hw_out, weight, false, cols, false, E::ZERO, yi);
            if let Some(b) = bias {
                add_channel_bias(yi, b, hw_out);
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

/// `y: (C, plane)`: adds `b[c]` to every value of channel `c` (a layer's bias).
fn add_channel_bias<E: Float>(y: &mut [E], b: &[E], plane: usize) {
    for (values, &b) in y.chunks_exact_mut(plane.max(1)).zip(b) {
        values.iter_mut().for_each(|v| *v += b);
    }
}

/// `dy: (C, plane)`: `db[c] += Σ dy[c, :]` (a bias gradient), each sum in [`sum`]'s fixed order.
fn add_channel_sums<E: Float>(db: &mut [E], dy: &[E], plane: usize) {
    for (d, values) in db.iter_mut().zip(dy.chunks_exact(plane.max(1))) {
        *d += sum(values);
    }
}

/// One chunk's share of a backward kernel: its images' input gradient, and weight and bias
/// gradients of its own (summed into the caller's in chunk order afterwards).
struct ChunkGrads<'a, E: Float> {
    dx: Option<&'a mut [E]>,
    dweight: Scratch<E>,
    dbias: Vec<E>,
}

impl<'a, E: Float> ChunkGrads<'a, E> {
    /// One part per range of images: its share of `dx` (`per_image` elements an image, if
    /// given), zeroed weight gradients of `weights` elements and bias gradients of `biases`
    /// (none without `with_bias`).
    fn split(
        dx: Option<&'a mut [E]>,
        ranges: &[Range<usize>],
        per_image: usize,
        weights: usize,
        biases: Option<usize>,
    ) -> Vec<Self> {
        let dx_parts: Vec<Option<&mut [E]>> = match dx {
            Some(dx) => split_by_images(dx, ranges, per_image).into_iter().map(Some).collect(),
            None => ranges.iter().map(|_| None).collect(),
        };
        dx_parts
            .into_iter()
            .map(|dx| {
                let mut dweight = Scratch::take(weights);
                dweight[..weights].fill(E::ZERO);
                ChunkGrads { dx, dweight, dbias: vec![E::ZERO; biases.unwrap_or(0)] }
            })
            .collect()
    }

    /// Adds the parts' weight and bias gradients into the caller's, in chunk order: the same
    /// result for every thread count.
    fn sum_into(parts: &[Self], dweight: &mut [E], dbias: Option<&mut [E]>) {
        for part in parts {
            dweight.iter_mut().zip(part.dweight.iter()).for_each(|(d, &p)| *d += p);
        }
        if let Some(db) = dbias {
            for part in parts {
                db.iter_mut().zip(&part.dbias).for_each(|(d, &p)| *d += p);
            }
        }
    }
}

/// Whether the training forward should keep the input rather than the im2col columns for
/// [`backward`] (and call [`forward`] without `keep`, so that training computes the same
/// outputs as inference, bit for bit): for a 1×1, stride-1, unpadded kernel the input *is* the
/// columns; for few output channels and a small window (LeNet's first layer) a direct kernel
/// computes the weight gradient from the input, without columns (it runs when [`backward`]
/// gets [`Source::Input`]); small stride-1 layers (planes of at most 256 outputs, at most 64
/// output channels and 256 taps, LeNet's second layer) compute their forward directly,
/// vectorized across output channels; and a 3×3 stride-1 kernel with 16 or more channels each
/// way computes its forward by Winograd's F(2×2, 3×3). The last two make no columns in the
/// forward, so backward makes them from the input.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv};
/// assert!(conv::keeps_input(&Geom::new(1, 28, 28, 5, 1, 2), 6)); // LeNet's first layer
/// assert!(conv::keeps_input(&Geom::new(6, 14, 14, 5, 1, 0), 16)); // its second: small layer
/// assert!(!conv::keeps_input(&Geom::new(32, 32, 32, 3, 2, 1), 64)); // strided: columns
/// assert!(conv::keeps_input(&Geom::new(64, 8, 8, 1, 1, 0), 128)); // pointwise
/// assert!(conv::keeps_input(&Geom::new(64, 16, 16, 3, 1, 1), 64)); // Winograd
/// assert!(!conv::keeps_input(&Geom::new(64, 16, 16, 3, 2, 1), 64)); // strided: columns
/// ```
pub fn keeps_input(g: &Geom, cout: usize) -> bool {
    g.is_pointwise() || Path::of(g, cout) != Path::Im2col
}

/// Which kernel computes a convolution of this shape when no columns are to be kept: the one
/// place that decides, for [`forward`], [`backward`] and [`keeps_input`] alike.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Path {
    /// `direct.rs`: few output channels, small window.
    Direct,
    /// `winograd.rs`: 3×3 stride 1, wide (forward only; backward from im2col of the input).
    Winograd,
    /// `channels.rs`: small stride-1 layers, vectorized across output channels.
    Channels,
    /// im2col + `matrixmultiply`.
    Im2col,
}

impl Path {
    /// The first kernel, in this order, whose shape rule the layer meets.
    pub(super) fn of(g: &Geom, cout: usize) -> Self {
        if direct::applies(g, cout) {
            Path::Direct
        } else if winograd::applies(g, cout) {
            Path::Winograd
        } else if channels::applies(g, cout) {
            Path::Channels
        } else {
            Path::Im2col
        }
    }
}

/// Where [`backward`] finds each image's columns.
#[derive(Clone, Copy)]
pub enum Source<'a, E> {
    /// The input `(N, C, H, W)`: im2col per image (or the image itself when pointwise).
    Input(&'a [E]),
    /// Columns kept by the forward pass, `N·C·K·K·HO·WO`.
    Cols(&'a [E]),
}

/// Convolution backward for the layout of [`forward`], given `dy: (N, COUT, HO, WO)`.
///
/// ALL gradients ACCUMULATE (`+=`) into what the caller passes, so zero them first for a fresh
/// gradient: `dweight: (COUT, C, K, K)`, `dbias: (COUT)` (if `Some`) and `dx: (N, C, H, W)`
/// (if `Some`; pass `None` for a first layer whose input needs no gradient).
///
/// `source` says where each image's columns come from: [`Source::Input`] (`x: (N, C, H, W)`,
/// im2col per image) or [`Source::Cols`] (what [`forward`] kept: no im2col).
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
/// use typed_cnn::kernels::{Geom, conv::{self, Source}};
/// let g = Geom::new(1, 3, 3, 2, 1, 0);
/// let (x, w) = ([2., -3., 4., 1., -1., 2., -1., 2., 3.], [3., -1., 4., 2.]);
/// let dy = [3., -2., 1., -1.];
/// let (mut dx, mut dw, mut db) = ([0.0f64; 9], [0.0; 4], [0.0; 1]);
/// conv::backward(&g, 1, 1, Source::Input(&x), &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
/// // dW[0, 0] = Σ dy[i, j]·x[i, j] = 3·2 − 2·(−3) + 1·1 − 1·(−1) = 14
/// // db = Σ dy = 3 − 2 + 1 − 1 = 1
/// assert_eq!((dw, db), ([14., -20., 2., -8.], [1.]));
/// assert_eq!(dx, [9., -9., 2., 15., -6., -3., 4., -2., -2.]); // dx[0, 0] = 3·3
/// ```
#[track_caller]
pub fn backward<E: Float>(
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
    let (chw, ckk, hw_out) = (g.c * g.h * g.w, g.c * g.taps(), g.ho * g.wo);
    match source {
        Source::Input(x) => check_conv("conv::backward", g, n, cout, x, weight),
        Source::Cols(cols) => {
            assert_eq!(
                cols.len(),
                n * ckk * hw_out,
                "conv::backward: cols must be N·C·K·K·HO·WO ({g:?})"
            );
            assert_eq!(
                weight.len(),
                cout * ckk,
                "conv::backward: weight must be COUT·C·K·K ({g:?})"
            );
        }
    }
    assert_eq!(
        dy.len(),
        n * cout * hw_out,
        "conv::backward: dy must be N·COUT·HO·WO (n={n}, cout={cout}, {g:?})"
    );
    assert_eq!(
        dweight.len(),
        cout * ckk,
        "conv::backward: dweight must be COUT·C·K·K (cout={cout}, {g:?})"
    );
    if let Some(db) = dbias.as_deref() {
        assert_eq!(db.len(), cout, "conv::backward: dbias must be COUT={cout}");
    }
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), n * chw, "conv::backward: dx must be N·C·H·W (n={n}, {g:?})");
    }
    let pointwise = g.is_pointwise();
    let ranges = chunks(n);
    let biases = dbias.is_some().then_some(cout);
    let mut parts = ChunkGrads::split(dx, &ranges, chw, cout * ckk, biases);
    // From the input, on the direct or channel-vector path: that kernel's weight gradient,
    // no columns.
    let path = Path::of(g, cout);
    let direct_input = match source {
        Source::Input(x) if matches!(path, Path::Direct | Path::Channels) => Some(x),
        _ => None,
    };
    run_chunks(&mut parts, |ci, part| {
        if let Some(x) = direct_input {
            let r = ranges[ci].clone();
            let (xc, dyc) = (
                &x[r.start * chw..r.end * chw],
                &dy[r.start * cout * hw_out..r.end * cout * hw_out],
            );
            let dweight = &mut part.dweight[..cout * ckk];
            if path == Path::Channels {
                let acc_len = channels::acc_len(g, cout);
                let mut acc = Scratch::take(acc_len);
                acc[..acc_len].fill(E::ZERO);
                let mut work = Scratch::take(channels::scratch_len(g));
                channels::weight_grad(g, cout, xc, dyc, &mut acc, &mut work);
                channels::add_acc(cout, ckk, &acc, dweight);
            } else {
                let acc_len = cout * ckk * direct::LANES;
                let mut acc = Scratch::take(acc_len);
                acc[..acc_len].fill(E::ZERO);
                let mut work = Scratch::take(direct::scratch_len(g));
                direct::weight_grad(g, cout, xc, dyc, &mut acc, &mut work);
                direct::reduce(&acc, dweight);
            }
        }
        // im2col's output, then (after dW has used it) dcol; kept columns are read in place
        let need_col = !pointwise && (direct_input.is_none() || part.dx.is_some());
        let mut col = Scratch::take(if need_col { ckk * hw_out } else { 0 });
        // images: x[img], dx[img]: (C, H, W); dy[img]: (COUT, HO·WO)
        for (k, img) in ranges[ci].clone().enumerate() {
            let dyi = &dy[img * cout * hw_out..(img + 1) * cout * hw_out];
            if direct_input.is_none() {
                // cols: (C·K·K, HO·WO); for the pointwise case that is x[img] itself, (C, H·W).
                let cols: &[E] = match source {
                    Source::Cols(c) => &c[img * ckk * hw_out..(img + 1) * ckk * hw_out],
                    Source::Input(x) if pointwise => &x[img * chw..(img + 1) * chw],
                    Source::Input(x) => {
                        im2col(g, &x[img * chw..(img + 1) * chw], &mut col);
                        &col[..ckk * hw_out]
                    }
                };
                // dW (COUT, C·K·K) (+)= dY (COUT, HO·WO) · colsᵀ (HO·WO, C·K·K); the chunk's first
                // image overwrites the pooled buffer.
                let beta = if k == 0 { E::ZERO } else { E::ONE };
                gemm(
                    cout,
                    hw_out,
                    ckk,
                    dyi,
                    false,
                    cols,
                    true,
                    beta,
                    &mut part.dweight[..cout * ckk],
                );
            }

            add_channel_sums(&mut part.dbias, dyi, hw_out);

            if let Some(dx) = part.dx.as_deref_mut() {
                let dxi = &mut dx[k * chw..(k + 1) * chw];
                if pointwise {
                    // dx[img] (C, H·W) += Wᵀ (C, COUT) · dY (COUT, H·W)
                    gemm(ckk, cout, hw_out, weight, true, dyi, false, E::ONE, dxi);
                } else {
                    // dcol (C·K·K, HO·WO) = Wᵀ (C·K·K, COUT) · dY (COUT, HO·WO), into the scratch
                    gemm(ckk, cout, hw_out, weight, true, dyi, false, E::ZERO, &mut col);
                    // dx[img] (C, H, W) += col2im(dcol)
                    col2im(g, &col[..ckk * hw_out], dxi);
                }
            }
        }
    });
    ChunkGrads::sum_into(&parts, dweight, dbias);
}

mod channels;
mod depthwise;
mod direct;
mod transposed;
mod winograd;
pub use depthwise::{depthwise_backward, depthwise_forward};
pub use transposed::{transposed_backward, transposed_forward};

#[cfg(test)]
pub(crate) mod naive;
#[cfg(test)]
mod tests;
