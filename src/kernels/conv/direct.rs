//! Direct convolution for layers with few output channels and few taps per output (LeNet's
//! first layer: 1 → 6 channels, 5×5), where im2col + GEMM wastes most of its work: the GEMM
//! kernel's 16-row tile holds 6 rows, and the columns are copied twice (im2col, then packing)
//! for 6 multiplications each.
//!
//! Each image is first copied into zero-padded planes `xp` of width `WP = W + 2PW`. At stride 1,
//! output `(i, j)` of tap `(a, b)` reads `xp[c, (i + a·DH)·WP + j + b·DW]`: computed for every
//! `j < WP` (a "wide" output whose last `WP − WO` columns are dropped), each tap is one
//! multiply-add over a contiguous run. Blocks of 64 outputs of up to 4 channels stay in
//! registers through all the taps. The weight gradient sums `dy[o, i, j] · xp[…]` over the same
//! runs into [`LANES`] partial sums per tap, added in a fixed order at the end of a chunk: the
//! result depends only on the shapes and values, not on the thread count.
//!
//! Speed: the crate is built for the baseline of its target (SSE2 on x86-64), so each kernel is
//! compiled a second time with AVX-512 and FMA and a third with AVX2 and FMA enabled, and the
//! best the CPU supports runs (checked once per call). Every multiply-add is a fused one
//! ([`Float::mul_add`]: an instruction where FMA is enabled, exact emulation on the baseline),
//! in the same order on every path, so **the three give identical results**; only the vector
//! width and the speed differ.
//!
//! Stride 1 only; [`applies`] says when the kernels are used.

use super::{Geom, add_channel_bias};
use crate::Float;

/// The partial sums per tap of the weight gradient: two AVX-512 vectors of `f32` (two
/// independent chains of multiply-adds). A divisor of [`BLOCK`].
pub(crate) const LANES: usize = 32;

/// Whether [`forward`] and [`weight_grad`] run instead of im2col + GEMM: fewer than 16 output
/// channels (the GEMM kernel's tile height), at most 64 taps per output channel, stride 1.
pub(crate) fn applies(g: &Geom, cout: usize) -> bool {
    cout < 16 && g.c * g.taps() <= 64 && g.sh == 1 && g.sw == 1
}

/// The padded input's plane height and width.
pub(super) fn padded(g: &Geom) -> (usize, usize) {
    (g.h + 2 * g.ph, g.w + 2 * g.pw)
}

/// The length of the kernels' scratch buffer: a padded copy of one image, `C·(H + 2PH)·(W + 2PW)`,
/// the zeros the last rows read past it, and [`CHANNELS`] "wide" output planes of
/// `HO·(W + 2PW)` (rounded up to whole blocks).
pub(crate) fn scratch_len(g: &Geom) -> usize {
    xp_len(g) + CHANNELS * wide_len(g)
}

/// Outputs of a channel computed together, in registers, by [`forward`]: four AVX-512 vectors
/// of `f32`.
const BLOCK: usize = 64;

/// Output channels computed together by [`forward`] (16 AVX-512 registers of sums for `f32`).
const CHANNELS: usize = 4;

/// The padded planes and the zeros read past them: the last block of the last plane reads up to
/// `(KW − 1)·DW + BLOCK` values beyond it (into the dropped columns).
fn xp_len(g: &Geom) -> usize {
    let (hp, wp) = padded(g);
    g.c * hp * wp + (g.kw - 1) * g.dw + BLOCK
}

/// One wide output plane, `HO·WP` rounded up to whole blocks.
fn wide_len(g: &Geom) -> usize {
    (g.ho * padded(g).1).next_multiple_of(BLOCK)
}

/// Copies `x: (C, H, W)` into the middle of the padded planes `xp: (C, H + 2PH, W + 2PW)` and
/// zeroes the rest of `xp` (padding and tail).
pub(super) fn pad<E: Float>(g: &Geom, x: &[E], xp: &mut [E]) {
    let (hp, wp) = padded(g);
    xp.fill(E::ZERO);
    for (src, dst) in x.chunks_exact(g.w).zip(
        // the rows of every plane, top and bottom padding rows skipped
        xp.chunks_exact_mut(hp * wp).take(g.c).flat_map(|plane| {
            plane.chunks_exact_mut(wp).skip(g.ph).take(g.h).map(|row| &mut row[g.pw..g.pw + g.w])
        }),
    ) {
        dst.copy_from_slice(src);
    }
}

dispatched! {
    /// Forward of the images of one chunk: `x: (n, C, H, W)` into `y: (n, COUT, HO, WO)`
    /// (overwritten), `work` a scratch buffer of at least [`scratch_len`].
    ///
    /// With stride 1, output `(i, j)` of tap `(a, b)` reads the padded plane at `(i + a·DH)·WP + j +
    /// b·DW` (`WP = W + 2PW`): computed for every `j < WP`, not just `j < WO`, each tap is one
    /// multiply-add over a contiguous run of `HO·WP` values, into a "wide" plane whose last
    /// `WP − WO` columns are dropped.
    pub(crate) fn forward(
        g: &Geom,
        cout: usize,
        x: &[E],
        weight: &[E],
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
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
    work: &mut [E],
) {
    let Geom { c, h, w, kh, kw, ho, wo, .. } = *g;
    let wp = padded(g).1;
    let taps = kh * kw;
    let (xp, wide) = work[..scratch_len(g)].split_at_mut(xp_len(g));
    let plane = wide_len(g);
    for (xi, yi) in x.chunks_exact(c * h * w).zip(y.chunks_exact_mut(cout * ho * wo)) {
        pad(g, xi, xp);
        // groups of up to CHANNELS output channels: each input block loaded serves all of them
        let groups = yi.chunks_mut(CHANNELS * ho * wo).zip(weight.chunks(CHANNELS * c * taps));
        for (yg, wg) in groups {
            let wide = &mut wide[..plane * (yg.len() / (ho * wo))];
            match yg.len() / (ho * wo) {
                4 => channel_block::<E, 4>(g, xp, wg, wide),
                3 => channel_block::<E, 3>(g, xp, wg, wide),
                2 => channel_block::<E, 2>(g, xp, wg, wide),
                _ => channel_block::<E, 1>(g, xp, wg, wide),
            }
            for (yo, wo_plane) in yg.chunks_exact_mut(ho * wo).zip(wide.chunks_exact(plane)) {
                for (yrow, wrow) in yo.chunks_exact_mut(wo).zip(wo_plane.chunks_exact(wp)) {
                    yrow.copy_from_slice(&wrow[..wo]);
                }
            }
        }
        if let Some(b) = bias {
            add_channel_bias(yi, b, ho * wo);
        }
    }
}

/// `OB` output channels of one image into `wide: (OB, wide_len)`, from the padded planes `xp`
/// and the channels' weights `wg: (OB, C·KH·KW)`: every block of [`BLOCK`] outputs of the `OB`
/// channels stays in registers through all the taps, each output's taps added in order.
#[inline(always)]
fn channel_block<E: Float, const OB: usize>(g: &Geom, xp: &[E], wg: &[E], wide: &mut [E]) {
    let Geom { c, kh, kw, dh, dw, .. } = *g;
    let (hp, wp) = padded(g);
    let taps = kh * kw;
    let plane = wide.len() / OB;
    for k in 0..plane / BLOCK {
        let mut sum = [[E::ZERO; BLOCK]; OB];
        for ci in 0..c {
            for a in 0..kh {
                let row = ci * hp * wp + a * dh * wp + k * BLOCK;
                // the row's taps read from `row + b·DW`, one block each
                let xs = &xp[row..row + (kw - 1) * dw + BLOCK];
                for b in 0..kw {
                    let xb: &[E; BLOCK] = xs[b * dw..b * dw + BLOCK].try_into().expect("BLOCK");
                    let t = (ci * kh + a) * kw + b;
                    for (o, so) in sum.iter_mut().enumerate() {
                        let wv = wg[o * c * taps + t];
                        for l in 0..BLOCK {
                            so[l] = wv.mul_add(xb[l], so[l]);
                        }
                    }
                }
            }
        }
        for (o, so) in sum.iter().enumerate() {
            wide[o * plane + k * BLOCK..][..BLOCK].copy_from_slice(so);
        }
    }
}

dispatched! {
    /// Weight gradient of the images of one chunk: `acc: (COUT·C·KH·KW, LANES)` gathers
    /// `Σ dy[o, i, j] · x[c, i + a·DH − PH, j + b·DW − PW]` in [`LANES`] partial sums (add
    /// [`reduce`]'s result to the gradient); `x: (n, C, H, W)`, `dy: (n, COUT, HO, WO)`, `work` as
    /// in [`forward`]. `dy` is spread into a wide plane with zeros in the dropped columns, and each
    /// tap's sum is one dot product of two runs of `HO·WP` values, lane `(i·WP + j) mod LANES`.
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
    let taps = kh * kw;
    let (xp, wide) = work[..scratch_len(g)].split_at_mut(xp_len(g));
    let wide = &mut wide[..wide_len(g)];
    for (xi, dyi) in x.chunks_exact(c * h * w).zip(dy.chunks_exact(cout * ho * wo)) {
        pad(g, xi, xp);
        for (dyo, acc_o) in dyi.chunks_exact(ho * wo).zip(acc.chunks_exact_mut(c * taps * LANES)) {
            wide.fill(E::ZERO);
            for (wrow, dyrow) in wide.chunks_exact_mut(wp).zip(dyo.chunks_exact(wo)) {
                wrow[..wo].copy_from_slice(dyrow);
            }
            // per input row (c, a): its taps in groups of 4, 2 and 1, each sharing the dy loads
            for (r, acc_row) in acc_o.chunks_exact_mut(kw * LANES).enumerate() {
                let (ci, a) = (r / kh, r % kh);
                let row = &xp[ci * hp * wp + a * dh * wp..];
                let tap = |b: usize| &row[b * dw..b * dw + wide.len()];
                let mut b = 0;
                while b < kw {
                    let acc_b = &mut acc_row[b * LANES..];
                    if b + 4 <= kw {
                        tap4(wide, [tap(b), tap(b + 1), tap(b + 2), tap(b + 3)], acc_b);
                        b += 4;
                    } else if b + 2 <= kw {
                        tap2(wide, [tap(b), tap(b + 1)], acc_b);
                        b += 2;
                    } else {
                        tap2(wide, [tap(b), tap(b)], acc_b);
                        b += 1;
                    }
                }
            }
        }
    }
}

/// Four taps of one input row: `acc[t·LANES..][..LANES] +=` the lane sums of `dy_wide[k] ·
/// xs[t][k]` (each `xs[t]` as long as `dy_wide`, whole [`LANES`] blocks). Named sums, no
/// indexing, so they stay in registers: 8 independent chains of `f32` multiply-adds on AVX-512.
#[inline(always)]
fn tap4<E: Float>(dy_wide: &[E], xs: [&[E]; 4], acc: &mut [E]) {
    let [x0, x1, x2, x3] = xs;
    let (mut s0, mut s1, mut s2, mut s3) =
        ([E::ZERO; LANES], [E::ZERO; LANES], [E::ZERO; LANES], [E::ZERO; LANES]);
    let blocks = dy_wide
        .chunks_exact(LANES)
        .zip(x0.chunks_exact(LANES))
        .zip(x1.chunks_exact(LANES))
        .zip(x2.chunks_exact(LANES))
        .zip(x3.chunks_exact(LANES));
    for ((((d, a0), a1), a2), a3) in blocks {
        for l in 0..LANES {
            s0[l] = d[l].mul_add(a0[l], s0[l]);
            s1[l] = d[l].mul_add(a1[l], s1[l]);
            s2[l] = d[l].mul_add(a2[l], s2[l]);
            s3[l] = d[l].mul_add(a3[l], s3[l]);
        }
    }
    for (lanes, s) in acc.chunks_exact_mut(LANES).zip([s0, s1, s2, s3]) {
        lanes.iter_mut().zip(s).for_each(|(a, s)| *a += s);
    }
}

/// [`tap4`] for two taps; with the same tap twice, only the first's sums are added (the second
/// pass is the price of keeping one code path for a lone tap).
#[inline(always)]
fn tap2<E: Float>(dy_wide: &[E], xs: [&[E]; 2], acc: &mut [E]) {
    let [x0, x1] = xs;
    let (mut s0, mut s1) = ([E::ZERO; LANES], [E::ZERO; LANES]);
    let blocks =
        dy_wide.chunks_exact(LANES).zip(x0.chunks_exact(LANES)).zip(x1.chunks_exact(LANES));
    for ((d, a0), a1) in blocks {
        for l in 0..LANES {
            s0[l] = d[l].mul_add(a0[l], s0[l]);
            s1[l] = d[l].mul_add(a1[l], s1[l]);
        }
    }
    let same = core::ptr::eq(x0, x1);
    for (lanes, s) in acc.chunks_exact_mut(LANES).zip([s0, s1]).take(if same { 1 } else { 2 }) {
        lanes.iter_mut().zip(s).for_each(|(a, s)| *a += s);
    }
}

/// Adds each tap's [`LANES`] partial sums of `acc` (in a fixed pairwise order) to `dweight`.
pub(crate) fn reduce<E: Float>(acc: &[E], dweight: &mut [E]) {
    for (d, lanes) in dweight.iter_mut().zip(acc.chunks_exact(LANES)) {
        let mut v: [E; LANES] = lanes.try_into().expect("LANES");
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for l in 0..width {
                v[l] += v[l + width];
            }
        }
        *d += v[0];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::naive::{conv_backward_naive, conv_forward_naive};
    use crate::kernels::conv::{Source, backward, forward};
    use crate::kernels::grid::{Gen, close};

    /// A random geometry the direct kernels take: stride 1, rows of 1 to 40 outputs (a multiple
    /// of [`LANES`] or not), padding and dilation.
    fn random_case(g: &mut Gen) -> (Geom, usize, usize) {
        loop {
            let (kh, kw) = (g.range(1, 5), g.range(1, 5));
            let (ph, pw, dh, dw) = (g.range(0, 2), g.range(0, 2), g.range(1, 2), g.range(1, 2));
            let sh = 1;
            let span_h = dh * (kh - 1) + 1;
            let h = g.range(span_h.saturating_sub(2 * ph).max(1), span_h + 9);
            let wo = g.range(1, 40);
            let w = (wo + dw * (kw - 1)).saturating_sub(2 * pw).max(1);
            let geom = Geom::rect(g.range(1, 3), h, w, [kh, kw], [sh, 1], [ph, pw], [dh, dw]);
            let cout = g.range(1, 15);
            if applies(&geom, cout) {
                return (geom, g.range(1, 11), cout);
            }
        }
    }

    /// The public kernels, which take the direct path for these shapes, against the naive loops:
    /// outputs, weight, bias and input gradients, in f64 (to roundoff) and f32 (the project's
    /// tolerance).
    #[test]
    fn direct_kernels_match_naive() {
        let mut g = Gen(0xD1EC7);
        for _ in 0..200 {
            let (geom, n, cout) = random_case(&mut g);
            let ckk = geom.c * geom.taps();
            let (x, w) = (g.vec(n * geom.c * geom.h * geom.w), g.vec(cout * ckk));
            let b = g.coin().then(|| g.vec(cout));
            let dy = g.vec(n * cout * geom.ho * geom.wo);
            let (dx0, dw0, db0) = (g.vec(x.len()), g.vec(w.len()), g.vec(cout));
            let want_dx = g.coin();
            let ctx = format!("{geom:?} n={n} cout={cout} bias={} dx={want_dx}", b.is_some());

            let mut y_ref = vec![0.0; dy.len()];
            conv_forward_naive(&geom, n, cout, &x, &w, b.as_deref(), &mut y_ref);
            let (mut dx_ref, mut dw_ref, mut db_ref) = (dx0.clone(), dw0.clone(), db0.clone());
            let db = b.is_some().then_some(&mut db_ref[..]);
            let dx = want_dx.then_some(&mut dx_ref[..]);
            conv_backward_naive(&geom, n, cout, &x, &w, &dy, dx, &mut dw_ref, db);

            let mut y = vec![f64::NAN; dy.len()];
            forward(&geom, n, cout, &x, &w, b.as_deref(), &mut y, None);
            let (mut dx, mut dw, mut db) = (dx0.clone(), dw0.clone(), db0.clone());
            let dbias = b.is_some().then_some(&mut db[..]);
            let dxs = want_dx.then_some(&mut dx[..]);
            backward(&geom, n, cout, Source::Input(&x), &w, &dy, dxs, &mut dw, dbias);
            for (what, got, want) in
                [("y", &y, &y_ref), ("dweight", &dw, &dw_ref), ("dbias", &db, &db_ref)]
            {
                close(what, &ctx, got, want);
                let worst =
                    got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                let terms = (ckk + n * geom.ho * geom.wo) as f64;
                assert!(worst <= 1e-15 * terms, "{what} off by {worst:e} for {ctx}");
            }
            close("dx", &ctx, &dx, &dx_ref);

            // f32 against the same f64 reference
            let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
            let (xf, wf, bf, dyf) = (f(&x), f(&w), b.as_deref().map(f), f(&dy));
            let mut y32 = vec![f32::NAN; dy.len()];
            forward(&geom, n, cout, &xf, &wf, bf.as_deref(), &mut y32, None);
            let mut dw32 = vec![0.0f32; w.len()];
            backward(&geom, n, cout, Source::Input(&xf), &wf, &dyf, None, &mut dw32, None);
            let back = |v: &[f32]| v.iter().map(|&a| f64::from(a)).collect::<Vec<f64>>();
            let dw_fresh: Vec<f64> = dw_ref.iter().zip(&dw0).map(|(a, b)| a - b).collect();
            close("y (f32)", &ctx, &back(&y32), &y_ref);
            close("dweight (f32)", &ctx, &back(&dw32), &dw_fresh);
        }
    }

    /// The AVX-512 / AVX2 builds give the baseline build's results bit for bit (the same
    /// operations in the same order); on a CPU without them all three are the baseline.
    #[test]
    fn every_vector_width_gives_the_same_bits() {
        let mut g = Gen(0x51D);
        for _ in 0..50 {
            let (geom, n, cout) = random_case(&mut g);
            let f = |v: Vec<f64>| v.into_iter().map(|a| a as f32).collect::<Vec<f32>>();
            let x = f(g.vec(n * geom.c * geom.h * geom.w));
            let w = f(g.vec(cout * geom.c * geom.taps()));
            let b = f(g.vec(cout));
            let dy = f(g.vec(n * cout * geom.ho * geom.wo));
            let mut xp = vec![0.0f32; scratch_len(&geom)];
            let (mut y_best, mut y_base) = (vec![0.0f32; dy.len()], vec![0.0f32; dy.len()]);
            super::forward(&geom, cout, &x, &w, Some(&b), &mut y_best, &mut xp);
            forward_body(&geom, cout, &x, &w, Some(&b), &mut y_base, &mut xp);
            let acc_len = w.len() * LANES;
            let (mut acc_best, mut acc_base) = (vec![0.0f32; acc_len], vec![0.0f32; acc_len]);
            weight_grad(&geom, cout, &x, &dy, &mut acc_best, &mut xp);
            weight_grad_body(&geom, cout, &x, &dy, &mut acc_base, &mut xp);
            let bits = |v: &[f32]| v.iter().map(|a| a.to_bits()).collect::<Vec<u32>>();
            assert_eq!(bits(&y_best), bits(&y_base), "forward differs for {geom:?}");
            assert_eq!(bits(&acc_best), bits(&acc_base), "weight gradient differs for {geom:?}");
        }
    }
}
