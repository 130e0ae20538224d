//! Direct convolution vectorized across output channels, for small layers whose im2col GEMM is
//! too small to run near the machine's speed (LeNet's second layer: 6 → 16 channels, 5×5, on
//! 14×14, a 16 × 150 × 100 GEMM per image that spends as long packing as multiplying).
//!
//! The weights are transposed once per call into `(C·KH·KW, 16)` blocks of 16 output
//! channels (zero past `COUT`). Each image is copied into zero-padded planes of width
//! `WP = W + 2PW` (as in [`super::direct`]), and, at stride 1, output pixel `p = i·WP + j` of
//! tap `(c, a, b)` reads the padded plane `c` at `p + a·DH·WP + b·DW`: for a block of [`PX`]
//! consecutive pixels, every tap is one 16-channel weight vector times [`PX`] broadcast inputs,
//! [`PX`] vector multiply-adds into sums that stay in registers through all the taps. Pixels
//! with `j ≥ WO` are computed and dropped. Each output's taps are added in order, from zero, by
//! fused multiply-adds, then the bias: the same bits on every vector width (see
//! [`super::super::dispatch`]) and for every thread count.

use super::Geom;
use super::direct::{pad, padded};
use crate::Float;
use crate::runtime::Scratch;

/// Output channels per vector: one AVX-512 register of `f32`.
const OC: usize = 16;

/// Output pixels computed together: eight registers of sums.
const PX: usize = 8;

/// Whether [`forward`] can run instead of im2col + GEMM: stride 1, at most 64 output channels
/// and 256 taps per output, output planes of at most 256 pixels (small layers, where the GEMM
/// per image is small). `Path::of` in `mod.rs` prefers [`super::direct`] and
/// [`super::winograd`] where their rules hold too.
pub(crate) fn applies(g: &Geom, cout: usize) -> bool {
    g.sh == 1 && g.sw == 1 && cout <= 64 && g.c * g.taps() <= 256 && g.ho * g.wo <= 256
}

/// The weights `(COUT, C·KH·KW)` as blocks of [`OC`] output channels, each `(C·KH·KW, OC)`,
/// zero past `COUT`.
pub(crate) fn transpose_weights<E: Float>(cout: usize, ckk: usize, weight: &[E]) -> Scratch<E> {
    let blocks = cout.div_ceil(OC);
    let mut wt = Scratch::take(blocks * ckk * OC);
    wt[..blocks * ckk * OC].fill(E::ZERO);
    for (o, row) in weight.chunks_exact(ckk).enumerate() {
        let (block, lane) = (o / OC, o % OC);
        for (t, &v) in row.iter().enumerate() {
            wt[(block * ckk + t) * OC + lane] = v;
        }
    }
    wt
}

/// The scratch [`forward`] needs: the padded planes with the values the last block reads past
/// them, and one block of wide output, `(HO·WP rounded up to PX, OC)`.
pub(crate) fn scratch_len(g: &Geom) -> usize {
    xp_len(g) + wide_len(g) * OC
}

fn xp_len(g: &Geom) -> usize {
    let (hp, wp) = padded(g);
    g.c * hp * wp + (g.kw - 1) * g.dw + PX
}

fn wide_len(g: &Geom) -> usize {
    (g.ho * padded(g).1).next_multiple_of(PX)
}

dispatched! {
    /// Forward of the images of one chunk: `x: (n, C, H, W)` into `y: (n, COUT, HO, WO)`
    /// (overwritten), with the weights of [`transpose_weights`].
    pub(crate) fn forward(
        g: &Geom,
        cout: usize,
        x: &[E],
        wt: &[E],
        bias: Option<&[E]>,
        y: &mut [E],
        work: &mut [E],
    ) => forward_body;
}

#[inline(always)]
fn forward_body<E: Float>(
    g: &Geom,
    cout: usize,
    x: &[E],
    wt: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
    work: &mut [E],
) {
    let Geom { c, h, w, kh, kw, dh, dw, ho, wo, .. } = *g;
    let (hp, wp) = padded(g);
    let ckk = c * kh * kw;
    // each tap's offset in the padded planes (at most 256 taps, see `applies`)
    let mut offsets = [0usize; 256];
    for (t, off) in offsets[..ckk].iter_mut().enumerate() {
        let (ci, a, b) = (t / (kh * kw), t / kw % kh, t % kw);
        *off = ci * hp * wp + a * dh * wp + b * dw;
    }
    let offsets = &offsets[..ckk];
    let (xp, wide) = work[..scratch_len(g)].split_at_mut(xp_len(g));
    let run = wide_len(g);
    for (xi, yi) in x.chunks_exact(c * h * w).zip(y.chunks_exact_mut(cout * ho * wo)) {
        pad(g, xi, xp);
        for (block, wb) in wt.chunks_exact(ckk * OC).take(cout.div_ceil(OC)).enumerate() {
            for (k, out) in wide[..run * OC].chunks_exact_mut(PX * OC).enumerate() {
                let p0 = k * PX;
                // eight named sums (one per pixel), so that they stay in registers
                let z = [E::ZERO; OC];
                let (mut s0, mut s1, mut s2, mut s3, mut s4, mut s5, mut s6, mut s7) =
                    (z, z, z, z, z, z, z, z);
                for (&off, wv) in offsets.iter().zip(wb.chunks_exact(OC)) {
                    let wv: &[E; OC] = wv.try_into().expect("OC");
                    let xs: &[E; PX] = xp[off + p0..off + p0 + PX].try_into().expect("PX");
                    for l in 0..OC {
                        s0[l] = wv[l].mul_add(xs[0], s0[l]);
                        s1[l] = wv[l].mul_add(xs[1], s1[l]);
                        s2[l] = wv[l].mul_add(xs[2], s2[l]);
                        s3[l] = wv[l].mul_add(xs[3], s3[l]);
                        s4[l] = wv[l].mul_add(xs[4], s4[l]);
                        s5[l] = wv[l].mul_add(xs[5], s5[l]);
                        s6[l] = wv[l].mul_add(xs[6], s6[l]);
                        s7[l] = wv[l].mul_add(xs[7], s7[l]);
                    }
                }
                for (dst, s) in out.chunks_exact_mut(OC).zip([s0, s1, s2, s3, s4, s5, s6, s7]) {
                    dst.copy_from_slice(&s);
                }
            }
            // (pixel, channel) back to the (channel, row, column) layout, valid pixels only
            let channels = (cout - block * OC).min(OC);
            for l in 0..channels {
                let o = block * OC + l;
                let yo = &mut yi[o * ho * wo..(o + 1) * ho * wo];
                for (i, yrow) in yo.chunks_exact_mut(wo).enumerate() {
                    for (j, v) in yrow.iter_mut().enumerate() {
                        *v = wide[(i * wp + j) * OC + l];
                    }
                }
                if let Some(b) = bias {
                    yo.iter_mut().for_each(|v| *v += b[o]);
                }
            }
        }
    }
}

/// The length of [`weight_grad`]'s `acc`: `(COUT rounded up to OC) · C·KH·KW`.
pub(crate) fn acc_len(g: &Geom, cout: usize) -> usize {
    cout.div_ceil(OC) * OC * g.c * g.taps()
}

dispatched! {
    /// Weight gradient of the images of one chunk: `acc: (blocks, C·KH·KW, OC) +=` the sums over
    /// the pixels of `dy[o, p] · x[tap, p]` (lanes `o mod OC`; add [`add_acc`]'s transpose to the
    /// gradient), `x: (n, C, H, W)`, `dy: (n, COUT, HO, WO)`, `work` of [`scratch_len`]. `dy` is
    /// spread into a wide `(pixel, OC)` run with zeros in the dropped pixels, and taps go in
    /// groups of eight, each pixel's `dy` vector loaded once for all eight.
    pub(crate) fn weight_grad(
        g: &Geom,
        cout: usize,
        x: &[E],
        dy: &[E],
        acc: &mut [E],
        work: &mut [E],
    ) => weight_grad_body;
}

#[inline(always)]
fn weight_grad_body<E: Float>(
    g: &Geom,
    cout: usize,
    x: &[E],
    dy: &[E],
    acc: &mut [E],
    work: &mut [E],
) {
    let Geom { c, h, w, kh, kw, dh, dw, ho, wo, .. } = *g;
    let (hp, wp) = padded(g);
    let ckk = c * kh * kw;
    let offset = |t: usize| {
        let (ci, a, b) = (t / (kh * kw), t / kw % kh, t % kw);
        ci * hp * wp + a * dh * wp + b * dw
    };
    let (xp, wide) = work[..scratch_len(g)].split_at_mut(xp_len(g));
    let run = wide_len(g);
    let wide = &mut wide[..run * OC];
    for (xi, dyi) in x.chunks_exact(c * h * w).zip(dy.chunks_exact(cout * ho * wo)) {
        pad(g, xi, xp);
        for (block, acc_b) in acc.chunks_exact_mut(ckk * OC).take(cout.div_ceil(OC)).enumerate() {
            wide.fill(E::ZERO);
            for l in 0..(cout - block * OC).min(OC) {
                let dyo = &dyi[(block * OC + l) * ho * wo..][..ho * wo];
                for (i, row) in dyo.chunks_exact(wo).enumerate() {
                    for (j, &v) in row.iter().enumerate() {
                        wide[(i * wp + j) * OC + l] = v;
                    }
                }
            }
            // groups of eight taps; the last group ends at the last tap and adds only the taps
            // the others did not (a full group costs less than one chain per leftover tap)
            let mut t0 = 0;
            while t0 < ckk {
                let first = if t0 + 8 <= ckk || ckk < 8 { t0 } else { ckk - 8 };
                let group = first..(first + 8).min(ckk);
                let o: [usize; 8] = core::array::from_fn(|k| offset((first + k).min(ckk - 1)));
                let sums = eight_taps(wide, xp, o, run);
                for (k, s) in sums.iter().enumerate().take(group.len()) {
                    if first + k >= t0 {
                        let a = &mut acc_b[(first + k) * OC..(first + k + 1) * OC];
                        a.iter_mut().zip(s).for_each(|(a, &s)| *a += s);
                    }
                }
                t0 = group.end;
            }
        }
    }
}

/// The [`OC`]-lane sums over the wide run of `dy_wide[p] · xp[o[k] + p]` for eight taps `k`:
/// each pixel's `dy` vector loaded once for the eight, named sums that stay in registers.
#[inline(always)]
fn eight_taps<E: Float>(dy_wide: &[E], xp: &[E], o: [usize; 8], run: usize) -> [[E; OC]; 8] {
    let r = |k: usize| &xp[o[k]..o[k] + run];
    let (r0, r1, r2, r3, r4, r5, r6, r7) = (r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7));
    let z = [E::ZERO; OC];
    let (mut s0, mut s1, mut s2, mut s3, mut s4, mut s5, mut s6, mut s7) = (z, z, z, z, z, z, z, z);
    for (p, d) in dy_wide.chunks_exact(OC).take(run).enumerate() {
        let d: &[E; OC] = d.try_into().expect("OC");
        let xs = [r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p], r7[p]];
        for l in 0..OC {
            s0[l] = d[l].mul_add(xs[0], s0[l]);
            s1[l] = d[l].mul_add(xs[1], s1[l]);
            s2[l] = d[l].mul_add(xs[2], s2[l]);
            s3[l] = d[l].mul_add(xs[3], s3[l]);
            s4[l] = d[l].mul_add(xs[4], s4[l]);
            s5[l] = d[l].mul_add(xs[5], s5[l]);
            s6[l] = d[l].mul_add(xs[6], s6[l]);
            s7[l] = d[l].mul_add(xs[7], s7[l]);
        }
    }
    [s0, s1, s2, s3, s4, s5, s6, s7]
}

/// `dweight: (COUT, C·KH·KW) +=` the transpose of [`weight_grad`]'s `acc`.
pub(crate) fn add_acc<E: Float>(cout: usize, ckk: usize, acc: &[E], dweight: &mut [E]) {
    for (o, row) in dweight.chunks_exact_mut(ckk).take(cout).enumerate() {
        let (block, lane) = (o / OC, o % OC);
        for (t, d) in row.iter_mut().enumerate() {
            *d += acc[(block * ckk + t) * OC + lane];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::forward as conv_forward;
    use crate::kernels::conv::naive::{conv_backward_naive, conv_forward_naive};
    use crate::kernels::conv::{Path, Source, backward};
    use crate::kernels::grid::{Gen, close};

    /// A random geometry this kernel takes: stride 1, padding, dilation, 1 to 40 output channels
    /// (one, two or three blocks of 16, the last partial).
    fn random_case(g: &mut Gen) -> (Geom, usize, usize) {
        loop {
            let (kh, kw) = (g.range(1, 5), g.range(1, 5));
            let (ph, pw, dh, dw) = (g.range(0, 2), g.range(0, 2), g.range(1, 2), g.range(1, 2));
            let (span_h, span_w) = (dh * (kh - 1) + 1, dw * (kw - 1) + 1);
            let h = g.range(span_h.saturating_sub(2 * ph).max(1), span_h + 12);
            let w = g.range(span_w.saturating_sub(2 * pw).max(1), span_w + 12);
            let geom = Geom::rect(g.range(1, 10), h, w, [kh, kw], [1, 1], [ph, pw], [dh, dw]);
            let cout = g.range(1, 40);
            if Path::of(&geom, cout) == Path::Channels {
                return (geom, g.range(1, 11), cout);
            }
        }
    }

    /// The public forward and backward (from the input), which take this path for these shapes,
    /// against the naive loops in f64 (to roundoff) and f32 (the project's tolerance), with and
    /// without bias and input gradient; and the AVX-512/AVX2 builds against the baseline build,
    /// bit for bit.
    #[test]
    fn channel_vector_kernel_matches_naive() {
        let mut g = Gen(0xC4A7);
        for _ in 0..150 {
            let (geom, n, cout) = random_case(&mut g);
            let ckk = geom.c * geom.taps();
            let (x, w) = (g.vec(n * geom.c * geom.h * geom.w), g.vec(cout * ckk));
            let b = g.coin().then(|| g.vec(cout));
            let ctx = format!("{geom:?} n={n} cout={cout} bias={}", b.is_some());
            let mut want = vec![0.0; n * cout * geom.ho * geom.wo];
            conv_forward_naive(&geom, n, cout, &x, &w, b.as_deref(), &mut want);
            let mut got = vec![f64::NAN; want.len()];
            conv_forward(&geom, n, cout, &x, &w, b.as_deref(), &mut got, None);
            close("y", &ctx, &got, &want);
            let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst <= 1e-15 * (ckk + 1) as f64, "off by {worst:e} for {ctx}");

            let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
            let (xf, wf, bf) = (f(&x), f(&w), b.as_deref().map(f));
            let mut got32 = vec![f32::NAN; want.len()];
            conv_forward(&geom, n, cout, &xf, &wf, bf.as_deref(), &mut got32, None);
            let back: Vec<f64> = got32.iter().map(|&a| f64::from(a)).collect();
            close("y (f32)", &ctx, &back, &want);

            // backward from the input: this kernel's weight gradient, GEMM + col2im for dx
            let dy = g.vec(want.len());
            let (dx0, dw0, db0) = (g.vec(x.len()), g.vec(w.len()), g.vec(cout));
            let want_dx = g.coin();
            let (mut dx_ref, mut dw_ref, mut db_ref) = (dx0.clone(), dw0.clone(), db0.clone());
            let dxr = want_dx.then_some(&mut dx_ref[..]);
            conv_backward_naive(&geom, n, cout, &x, &w, &dy, dxr, &mut dw_ref, Some(&mut db_ref));
            let (mut dx, mut dw, mut db) = (dx0.clone(), dw0.clone(), db0.clone());
            let dxs = want_dx.then_some(&mut dx[..]);
            backward(&geom, n, cout, Source::Input(&x), &w, &dy, dxs, &mut dw, Some(&mut db));
            close("dweight", &ctx, &dw, &dw_ref);
            close("dbias", &ctx, &db, &db_ref);
            close("dx", &ctx, &dx, &dx_ref);
            let worst = dw.iter().zip(&dw_ref).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            let terms = (n * geom.ho * geom.wo + 1) as f64;
            assert!(worst <= 1e-15 * terms, "dweight off by {worst:e} for {ctx}");
            let dw_fresh: Vec<f64> = dw_ref.iter().zip(&dw0).map(|(a, b)| a - b).collect();
            let mut dw32 = vec![0.0f32; w.len()];
            backward(&geom, n, cout, Source::Input(&xf), &wf, &f(&dy), None, &mut dw32, None);
            let back: Vec<f64> = dw32.iter().map(|&a| f64::from(a)).collect();
            close("dweight (f32)", &ctx, &back, &dw_fresh);

            let wt = transpose_weights(cout, ckk, &wf);
            let mut work = vec![0.0f32; scratch_len(&geom)];
            let mut base = vec![f32::NAN; want.len()];
            forward_body(&geom, cout, &xf, &wt, bf.as_deref(), &mut base, &mut work);
            let bits = |v: &[f32]| v.iter().map(|a| a.to_bits()).collect::<Vec<u32>>();
            assert_eq!(bits(&got32), bits(&base), "vector widths differ for {ctx}");
            let dyf = f(&dy);
            let (mut best, mut base) =
                (vec![0.0f32; acc_len(&geom, cout)], vec![0.0f32; acc_len(&geom, cout)]);
            weight_grad(&geom, cout, &xf, &dyf, &mut best, &mut work);
            weight_grad_body(&geom, cout, &xf, &dyf, &mut base, &mut work);
            assert_eq!(bits(&best), bits(&base), "vector widths differ in dweight for {ctx}");
        }
    }
}
