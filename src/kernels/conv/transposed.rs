//! Transposed convolution (PyTorch's `ConvTranspose2d`), the adjoint of [`super::forward`]:
//! per image a GEMM with the weights and col2im (forward), im2col and two GEMMs (backward), on
//! the batch's fixed chunks like the other convolution kernels.

use super::{ChunkGrads, Geom, add_channel_bias, add_channel_sums, col2im, im2col};
use crate::Float;
use crate::gemm::gemm;
use crate::runtime::{Scratch, chunks, run_chunks, split_by_images};

/// Transposed convolution forward (PyTorch's `ConvTranspose2d`), the adjoint of [`super::forward`]:
/// `y[n, o, i·S + a − P, j·S + b − P] += Σ_c x[n, c, i, j] · weight[c, o, a, b]`, then `+ bias[o]`,
/// for `x: (N, CIN, H, W)`, `weight: (CIN, COUT, K, K)`, `y: (N, COUT, HO, WO)`.
///
/// `g` is the geometry of the *output* seen as a convolution's input (`Geom::new(COUT, HO, WO,
/// K, S, P)`), whose `ho × wo` must be `H × W`. Per image: `col = Wᵀ · x[n]`
/// (`COUT·K·K × H·W`), then `y[n] = col2im(col)`. `y` is overwritten. The batch is split into
/// the fixed chunks of [`crate::CHUNKS`], run on up to [`crate::threads()`] threads.
///
/// **Panics** if a slice length does not match the shapes above.
///
/// ```
/// use typed_cnn::kernels::{Geom, conv};
/// // 1 → 1 channel, 2×2 kernel of ones, stride 2: each input pixel becomes a 2×2 block
/// let g = Geom::new(1, 4, 4, 2, 2, 0); // output 4×4, seen as a conv input: 2×2 windows
/// let mut y = [0.0f64; 16];
/// conv::transposed_forward(&g, 1, 1, &[1., 2., 3., 4.], &[1.0; 4], None, &mut y);
/// assert_eq!(y[..8], [1., 1., 2., 2., 1., 1., 2., 2.]);
/// ```
#[track_caller]
#[allow(clippy::too_many_arguments, reason = "the shapes and the four buffers")]
pub fn transposed_forward<E: Float>(
    g: &Geom,
    n: usize,
    cin: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    let (ckk, hw_in, chw_out) = (g.c * g.taps(), g.ho * g.wo, g.c * g.h * g.w);
    assert_eq!(x.len(), n * cin * hw_in, "conv::transposed_forward: x must be N·CIN·H·W ({g:?})");
    assert_eq!(weight.len(), cin * ckk, "conv::transposed_forward: weight must be CIN·COUT·K·K");
    assert_eq!(y.len(), n * chw_out, "conv::transposed_forward: y must be N·COUT·HO·WO ({g:?})");
    let plane = g.h * g.w;
    let ranges = chunks(n);
    let mut outs = split_by_images(y, &ranges, chw_out);
    run_chunks(&mut outs, |ci, yc| {
        let mut col = Scratch::take(ckk * hw_in);
        for (k, img) in ranges[ci].clone().enumerate() {
            let xi = &x[img * cin * hw_in..(img + 1) * cin * hw_in];
            let yi = &mut yc[k * chw_out..(k + 1) * chw_out];
            // col (COUT·K·K, H·W) = Wᵀ (COUT·K·K, CIN) · x[img] (CIN, H·W)
            gemm(ckk, cin, hw_in, weight, true, xi, false, E::ZERO, &mut col[..ckk * hw_in]);
            yi.fill(E::ZERO);
            col2im(g, &col[..ckk * hw_in], yi);
            if let Some(b) = bias {
                add_channel_bias(yi, b, plane);
            }
        }
    });
}

/// Backward of [`transposed_forward`], given `dy: (N, COUT, HO, WO)`: ACCUMULATES (`+=`)
/// `dweight: (CIN, COUT, K, K)`, `dbias: (COUT)` (if `Some`) and `dx: (N, CIN, H, W)` (if `Some`).
/// Per image: `col = im2col(dy[n])`; `dx[n] += W · col`; `dW += x[n] · colᵀ`. The batch is
/// split into the fixed chunks of [`crate::CHUNKS`] as in [`super::backward`], the chunks' weight and
/// bias gradients added in chunk order, so the result is the same for every thread count.
///
/// **Panics** if a slice length does not match the shapes above.
#[track_caller]
#[allow(clippy::too_many_arguments, reason = "the shapes and the six buffers")]
pub fn transposed_backward<E: Float>(
    g: &Geom,
    n: usize,
    cin: usize,
    x: &[E],
    weight: &[E],
    dy: &[E],
    dx: Option<&mut [E]>,
    dweight: &mut [E],
    dbias: Option<&mut [E]>,
) {
    let (ckk, hw_in, chw_out) = (g.c * g.taps(), g.ho * g.wo, g.c * g.h * g.w);
    assert_eq!(x.len(), n * cin * hw_in, "conv::transposed_backward: x must be N·CIN·H·W");
    assert_eq!(weight.len(), cin * ckk, "conv::transposed_backward: weight must be CIN·COUT·K·K");
    assert_eq!(dweight.len(), cin * ckk, "conv::transposed_backward: dweight as weight");
    assert_eq!(dy.len(), n * chw_out, "conv::transposed_backward: dy must be N·COUT·HO·WO");
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), n * cin * hw_in, "conv::transposed_backward: dx must be N·CIN·H·W");
    }
    if let Some(db) = dbias.as_deref() {
        assert_eq!(db.len(), g.c, "conv::transposed_backward: dbias must be COUT");
    }
    let plane = g.h * g.w;
    let ranges = chunks(n);
    let biases = dbias.is_some().then_some(g.c);
    let mut parts = ChunkGrads::split(dx, &ranges, cin * hw_in, cin * ckk, biases);
    run_chunks(&mut parts, |ci, part| {
        let mut col = Scratch::take(ckk * hw_in);
        for (k, img) in ranges[ci].clone().enumerate() {
            let dyi = &dy[img * chw_out..(img + 1) * chw_out];
            im2col(g, dyi, &mut col);
            let col = &col[..ckk * hw_in];
            let xi = &x[img * cin * hw_in..(img + 1) * cin * hw_in];
            // dW (CIN, COUT·K·K) (+)= x[img] (CIN, H·W) · colᵀ (H·W, COUT·K·K); the chunk's
            // first image overwrites the pooled buffer.
            let beta = if k == 0 { E::ZERO } else { E::ONE };
            gemm(cin, hw_in, ckk, xi, false, col, true, beta, &mut part.dweight[..cin * ckk]);
            if let Some(dx) = part.dx.as_deref_mut() {
                // dx[img] (CIN, H·W) += W (CIN, COUT·K·K) · col (COUT·K·K, H·W)
                let dxi = &mut dx[k * cin * hw_in..(k + 1) * cin * hw_in];
                gemm(cin, ckk, hw_in, weight, false, col, false, E::ONE, dxi);
            }
            add_channel_sums(&mut part.dbias, dyi, plane);
        }
    });
    ChunkGrads::sum_into(&parts, dweight, dbias);
}
