//! Direct convolution for layers with few output channels and few taps per output (LeNet's
//! first layer: 1 → 6 channels, 5×5), where im2col + GEMM wastes most of its work: the GEMM
//! kernel's 16-row tile holds 6 rows, and the columns are copied twice (im2col, then packing)
//! for 6 multiplications each.
//!
//! Each image is first copied into a zero-padded plane set, so every output row reads whole,
//! contiguous input rows: `y[o, i, :] += w[o, c, a, b] · xp[c, i·SH + a·DH, b·DW ..][..WO]`.
//! The weight gradient sums `dy[o, i, j] · xp[c, i·SH + a·DH, j + b·DW]` over `i` and `j` into
//! [`LANES`] partial sums per tap, lane `j mod LANES`, added in a fixed order at the end of a
//! chunk: the result depends only on the shapes and values, not on the thread count.
//!
//! Speed: the crate is built for the baseline of its target (SSE2 on x86-64), so each kernel is
//! compiled a second time with AVX-512 and a third with AVX2 enabled, and the fastest the CPU
//! supports runs (checked once per call). All three perform the same operations in the same
//! order (separate multiplies and adds, never contracted into FMAs), so **their results are
//! identical**; only the vector width differs.
//!
//! Only horizontal stride 1 (contiguous rows); [`applies`] says when the kernels are used.

use super::{Geom, add_channel_bias};
use crate::Float;

/// The partial sums per tap of the weight gradient: one AVX-512 vector of `f32`.
pub(crate) const LANES: usize = 16;

/// Whether [`forward`] and [`weight_grad`] run instead of im2col + GEMM: fewer than 16 output
/// channels (the GEMM kernel's tile height), at most 64 taps per output channel, stride 1.
pub(crate) fn applies(g: &Geom, cout: usize) -> bool {
    cout < 16 && g.c * g.taps() <= 64 && g.sh == 1 && g.sw == 1
}

/// The padded input's plane height and width.
fn padded(g: &Geom) -> (usize, usize) {
    (g.h + 2 * g.ph, g.w + 2 * g.pw)
}

/// The length of the kernels' scratch buffer: a padded copy of one image, `C·(H + 2PH)·(W + 2PW)`,
/// the `(KW − 1)·DW` zeros the last rows read past it, and one "wide" output plane `HO·(W + 2PW)`.
pub(crate) fn scratch_len(g: &Geom) -> usize {
    xp_len(g) + wide_len(g)
}

/// Outputs computed together, in registers, by [`forward`]: four AVX-512 vectors of `f32`.
const BLOCK: usize = 64;

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
fn pad<E: Float>(g: &Geom, x: &[E], xp: &mut [E]) {
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

/// Runs `$body` (a call of an `#[inline(always)]` function) compiled for the best vector unit
/// this CPU has: AVX-512, AVX2, or the build's baseline.
macro_rules! dispatch {
    (($($arg:ident: $ty:ty),*), $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            fn avx512<E: Float>($($arg: $ty),*) { $body }
            #[target_feature(enable = "avx2")]
            fn avx2<E: Float>($($arg: $ty),*) { $body }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F (checked just above), the only
                // requirement of calling a function compiled with it enabled.
                return unsafe { avx512($($arg),*) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { avx2($($arg),*) };
            }
        }
        $body
    }};
}

/// Forward of the images of one chunk: `x: (n, C, H, W)` into `y: (n, COUT, HO, WO)`
/// (overwritten), `work` a scratch buffer of at least [`scratch_len`].
///
/// With stride 1, output `(i, j)` of tap `(a, b)` reads the padded plane at `(i + a·DH)·WP + j +
/// b·DW` (`WP = W + 2PW`): computed for every `j < WP`, not just `j < WO`, each tap is one
/// multiply-add over a contiguous run of `HO·WP` values, into a "wide" plane whose last
/// `WP − WO` columns are dropped.
#[allow(unsafe_code)]
pub(crate) fn forward<E: Float>(
    g: &Geom,
    cout: usize,
    x: &[E],
    weight: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
    work: &mut [E],
) {
    dispatch!(
        (g: &Geom, cout: usize, x: &[E], weight: &[E], bias: Option<&[E]>, y: &mut [E], work: &mut [E]),
        forward_body(g, cout, x, weight, bias, y, work)
    )
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
    let Geom { c, h, w, kh, kw, dh, dw, ho, wo, .. } = *g;
    let (hp, wp) = padded(g);
    let taps = kh * kw;
    let (xp, wide) = work[..scratch_len(g)].split_at_mut(xp_len(g));
    for (xi, yi) in x.chunks_exact(c * h * w).zip(y.chunks_exact_mut(cout * ho * wo)) {
        pad(g, xi, xp);
        for (yo, w_o) in yi.chunks_exact_mut(ho * wo).zip(weight.chunks_exact(c * taps)) {
            // a block of outputs stays in registers through all the taps
            for (k, out) in wide.chunks_exact_mut(BLOCK).enumerate() {
                let mut sum = [E::ZERO; BLOCK];
                for (ci, wc) in w_o.chunks_exact(taps).enumerate() {
                    for (a, wa) in wc.chunks_exact(kw).enumerate() {
                        let row = ci * hp * wp + a * dh * wp + k * BLOCK;
                        // the row's taps read from `row + b·DW`, one block each
                        let xs = &xp[row..row + (kw - 1) * dw + BLOCK];
                        for (b, &wv) in wa.iter().enumerate() {
                            let xs: &[E; BLOCK] =
                                xs[b * dw..b * dw + BLOCK].try_into().expect("BLOCK");
                            for l in 0..BLOCK {
                                sum[l] += wv * xs[l];
                            }
                        }
                    }
                }
                out.copy_from_slice(&sum);
            }
            for (yrow, wrow) in yo.chunks_exact_mut(wo).zip(wide.chunks_exact(wp)) {
                yrow.copy_from_slice(&wrow[..wo]);
            }
        }
        if let Some(b) = bias {
            add_channel_bias(yi, b, ho * wo);
        }
    }
}

/// Weight gradient of the images of one chunk: `acc: (COUT·C·KH·KW, LANES)` gathers
/// `Σ dy[o, i, j] · x[c, i + a·DH − PH, j + b·DW − PW]` in [`LANES`] partial sums (add
/// [`reduce`]'s result to the gradient); `x: (n, C, H, W)`, `dy: (n, COUT, HO, WO)`, `work` as
/// in [`forward`]. `dy` is spread into a wide plane with zeros in the dropped columns, and each
/// tap's sum is one dot product of two runs of `HO·WP` values, lane `(i·WP + j) mod LANES`.
#[allow(unsafe_code)]
pub(crate) fn weight_grad<E: Float>(
    g: &Geom,
    cout: usize,
    x: &[E],
    dy: &[E],
    acc: &mut [E],
    work: &mut [E],
) {
    dispatch!(
        (g: &Geom, cout: usize, x: &[E], dy: &[E], acc: &mut [E], work: &mut [E]),
        weight_grad_body(g, cout, x, dy, acc, work)
    )
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
    let run = wide.len();
    for (xi, dyi) in x.chunks_exact(c * h * w).zip(dy.chunks_exact(cout * ho * wo)) {
        pad(g, xi, xp);
        for (dyo, acc_o) in dyi.chunks_exact(ho * wo).zip(acc.chunks_exact_mut(c * taps * LANES)) {
            wide.fill(E::ZERO);
            for (wrow, dyrow) in wide.chunks_exact_mut(wp).zip(dyo.chunks_exact(wo)) {
                wrow[..wo].copy_from_slice(dyrow);
            }
            for (t, lanes) in acc_o.chunks_exact_mut(LANES).enumerate() {
                let (ci, a, b) = (t / taps, t % taps / kw, t % kw);
                let xs = &xp[ci * hp * wp + a * dh * wp + b * dw..][..run];
                let lanes: &mut [E; LANES] = lanes.try_into().expect("LANES");
                let (dyb, xb) = (wide.chunks_exact(LANES), xs.chunks_exact(LANES));
                let (dyr, xr) = (dyb.remainder(), xb.remainder());
                for (d, xv) in dyb.zip(xb) {
                    for l in 0..LANES {
                        lanes[l] += d[l] * xv[l];
                    }
                }
                for ((s, &d), &xv) in lanes.iter_mut().zip(dyr).zip(xr) {
                    *s += d * xv;
                }
            }
        }
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
