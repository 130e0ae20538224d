//! Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016) for the forward pass of 3×3,
//! stride-1, undilated convolutions with many channels: each 2×2 block of outputs costs 16
//! multiplications per (input, output) channel pair instead of 36, a 2.25× cut of the GEMM work
//! that dominates such layers.
//!
//! With `g` a 3×3 filter, `d` a 4×4 input tile and `Y` the 2×2 outputs of that tile,
//! `Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A`, where
//!
//! ```text
//!      ⎡1   0   0 ⎤        ⎡1  0 −1  0⎤        ⎡1  1  1  0⎤
//!  G = ⎢½   ½   ½ ⎥   Bᵀ = ⎢0  1  1  0⎥   Aᵀ = ⎣0  1 −1 −1⎦
//!      ⎢½  −½   ½ ⎥        ⎢0 −1  1  0⎥
//!      ⎣0   0   1 ⎦        ⎣0  1  0 −1⎦
//! ```
//!
//! The sum over input channels of the element-wise products is, for each of the 16 positions
//! `e` of the 4×4 transformed tile, a matrix product: `M[e] (COUT × T) = U[e] (COUT × CIN) ·
//! V[e] (CIN × T)` over the `T` tiles of an image (or of a block of its tile rows, for large
//! images), one matrixmultiply GEMM each. Only the inference forward (no columns kept) takes
//! this path; training keeps im2col's columns for the backward pass.
//!
//! Accuracy: the transforms add and subtract (the only non-integer constants are the halves of
//! `G`, exact in binary), so the result differs from direct summation by rounding only; in
//! `f32` the tests bound it by the project's tolerance against an `f64` reference. Results are
//! the same for every thread count (a chunk's tiles are computed the same way on any thread).

use core::ops::Range;

use super::{Geom, add_channel_bias};
use crate::Float;
use crate::gemm::gemm;
use crate::runtime::Scratch;

/// Positions of a transformed 4×4 tile.
const TILE: usize = 16;

/// Whether [`forward`] runs instead of im2col + GEMM: a 3×3 window at stride 1 without
/// dilation, at least 16 input and 16 output channels (with fewer, the GEMMs are too thin for
/// the saved multiplications to outweigh the transforms) and outputs at least 16 wide (the
/// transforms run along rows of tiles: ResNet-18's 8×8 and smaller planes were slower).
pub(crate) fn applies(g: &Geom, cout: usize) -> bool {
    (g.kh, g.kw, g.sh, g.sw, g.dh, g.dw) == (3, 3, 1, 1, 1, 1)
        && g.c >= 16
        && cout >= 16
        && g.wo >= 16
}

/// The transformed filters `U: (16, COUT, CIN)`, `U[e][o][c] = (G g[o, c] Gᵀ)[e]`, for
/// `weight: (COUT, CIN, 3, 3)`.
pub(crate) fn filters<E2: Float>(cout: usize, cin: usize, weight: &[E2]) -> Scratch<E2> {
    let mut u = Scratch::take(TILE * cout * cin);
    let half = E2::from_f64(0.5);
    for (oc, g) in weight.chunks_exact(9).enumerate() {
        // G g: 4×3
        let mut gg = [[E2::ZERO; 3]; 4];
        for j in 0..3 {
            let (a, b, c) = (g[j], g[3 + j], g[6 + j]);
            gg[0][j] = a;
            gg[1][j] = (a + b + c) * half;
            gg[2][j] = (a - b + c) * half;
            gg[3][j] = c;
        }
        // (G g) Gᵀ: 4×4
        for (i, row) in gg.iter().enumerate() {
            let (a, b, c) = (row[0], row[1], row[2]);
            let t = [a, (a + b + c) * half, (a - b + c) * half, c];
            for (j, &v) in t.iter().enumerate() {
                u[(i * 4 + j) * cout * cin + oc] = v;
            }
        }
    }
    u
}

/// Forward of the images `images` of `x: (N, C, H, W)` into their outputs `y: (images, COUT,
/// HO, WO)` (overwritten), with the transformed filters `u` of [`filters`].
#[allow(unsafe_code)]
pub(crate) fn forward<E: Float>(
    g: &Geom,
    cout: usize,
    x: &[E],
    images: Range<usize>,
    u: &[E],
    bias: Option<&[E]>,
    y: &mut [E],
) {
    let Geom { c, h, w, ho, wo, .. } = *g;
    let (th, tw) = (ho.div_ceil(2), wo.div_ceil(2));
    // Blocks of tile rows whose V and M (16 values per tile and channel) stay near 512 KiB,
    // so that they are still in the cache when the GEMMs and the output transform read them.
    let per_row = TILE * tw * (c + cout) * size_of::<E>();
    let block = (BLOCK_BYTES / per_row).clamp(1, th);
    let t_max = block * tw;
    // V: (16, C, T), the transformed input tiles; M: (16, COUT, T), their products
    let mut v = Scratch::take(TILE * c * t_max);
    let mut m = Scratch::take(TILE * cout * t_max);
    let mut rows = Scratch::take((4 * block + 12) * (tw + 1));
    for (img, yi) in images.zip(y.chunks_exact_mut(cout * ho * wo)) {
        let xi = &x[img * c * h * w..(img + 1) * c * h * w];
        for ti0 in (0..th).step_by(block) {
            let tiles = ti0..(ti0 + block).min(th);
            let t = tiles.len() * tw;
            transform_inputs(g, xi, tiles.clone(), &mut v, &mut rows);
            for e in 0..TILE {
                let ue = &u[e * cout * c..(e + 1) * cout * c];
                let ve = &v[e * c * t..(e + 1) * c * t];
                let me = &mut m[e * cout * t..(e + 1) * cout * t];
                // M[e] (COUT, T) = U[e] (COUT, C) · V[e] (C, T)
                gemm(cout, c, t, ue, false, ve, false, E::ZERO, me);
            }
            transform_outputs(g, cout, tiles, &m, yi, &mut rows);
        }
        if let Some(b) = bias {
            add_channel_bias(yi, b, ho * wo);
        }
    }
}

/// The bytes of transformed tiles (V and M) [`forward`] works on at a time: a whole image of
/// c128 (128 channels, 28×28). Smaller blocks made the GEMMs too thin (c128 forward at 1 thread:
/// 10.5 ms with 1 MiB, 8.8 with 2, 8.1 with 4).
const BLOCK_BYTES: usize = 4096 << 10;

dispatched! {
    /// `V[e][c][col] = (Bᵀ d B)[e]` for every 4×4 input tile `d` of the tile rows `tiles` of one
    /// image `x: (C, H, W)` (column `(ti − tiles.start)·TW + tj`). A tile row's tiles are
    /// transformed together: the input rows are split into even and odd columns, so that every
    /// step is a unit-stride loop over the tiles. `rows`: scratch of `(4·rows + 12)·(TW + 1)`.
    fn transform_inputs(
        g: &Geom,
        x: &[E],
        tiles: Range<usize>,
        v: &mut [E],
        rows: &mut [E],
    ) => transform_inputs_body;
}

#[inline(always)]
fn transform_inputs_body<E: Float>(
    g: &Geom,
    x: &[E],
    tiles: Range<usize>,
    v: &mut [E],
    rows: &mut [E],
) {
    let Geom { c, h, w, ph, pw, wo, .. } = *g;
    let tw = wo.div_ceil(2);
    let t = tiles.len() * tw;
    let n = tw + 1; // even (and odd) columns of a padded row: 2·TW + 2 columns in all
    let hp = 2 * tiles.len() + 2; // padded rows the tile rows read, from padded row 2·start
    let (planes, combos) = rows[..(2 * hp + 8) * n].split_at_mut(2 * hp * n);
    for (ci, plane) in x.chunks_exact(h * w).enumerate() {
        // the padded plane, each row as its even columns then its odd ones: padded column
        // q is input column q − PW, padded row r input row r − PH, zero outside the image
        for (r, eo) in planes.chunks_exact_mut(2 * n).enumerate() {
            eo.fill(E::ZERO);
            let padded_row = 2 * tiles.start + r;
            let Some(row) = padded_row.checked_sub(ph).filter(|&row| row < h) else {
                continue;
            };
            let src = &plane[row * w..(row + 1) * w];
            let (even, odd) = eo.split_at_mut(n);
            // input column col lands in half (col + PW) mod 2 at index (col + PW) / 2
            let (first, second) = if pw % 2 == 0 { (even, odd) } else { (odd, even) };
            let (s0, s1) = (pw / 2, pw.div_ceil(2));
            let pairs = src.chunks_exact(2);
            let cap = (n - s0.max(s1)).min(src.len() / 2);
            for ((a, b), p) in
                first[s0..].iter_mut().zip(second[s1..].iter_mut()).zip(pairs).take(cap)
            {
                *a = p[0];
                *b = p[1];
            }
            // the columns the pairs did not place: an odd width's last one, and any cut by cap
            for (col, &val) in src.iter().enumerate().skip(2 * cap) {
                let q = col + pw;
                if q < 2 * n {
                    if q % 2 == 0 { eo[q / 2] = val } else { eo[n + q / 2] = val }
                }
            }
        }
        for lt in 0..tiles.len() {
            let inputs = &planes[2 * lt * 2 * n..(2 * lt + 4) * 2 * n];
            // Bᵀ d on the rows (each as even and odd halves): d0 − d2, d1 + d2, d2 − d1, d1 − d3
            {
                let row = |r: usize| &inputs[r * 2 * n..(r + 1) * 2 * n];
                let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3));
                let mut out = combos.chunks_exact_mut(2 * n);
                let (t0, t1, t2, t3) = (
                    out.next().expect("4 rows"),
                    out.next().expect("4 rows"),
                    out.next().expect("4 rows"),
                    out.next().expect("4 rows"),
                );
                for (((((o0, o1), o2), o3), (a, b)), (cc, dd)) in t0
                    .iter_mut()
                    .zip(t1.iter_mut())
                    .zip(t2.iter_mut())
                    .zip(t3.iter_mut())
                    .zip(d0.iter().zip(d1))
                    .zip(d2.iter().zip(d3))
                {
                    *o0 = *a - *cc;
                    *o1 = *b + *cc;
                    *o2 = *cc - *b;
                    *o3 = *b - *dd;
                }
            }
            // (Bᵀ d) B on each combined row: with E/O its even/odd columns, tile tj's four
            // values are E[tj] − E[tj+1], O[tj] + E[tj+1], E[tj+1] − O[tj], O[tj] − O[tj+1]
            let col0 = lt * tw;
            for (i, eo) in combos.chunks_exact(2 * n).enumerate() {
                let (even, odd) = eo.split_at(n);
                let (e0, e1, o0, o1) = (&even[..tw], &even[1..], &odd[..tw], &odd[1..]);
                let at = |j: usize| ((i * 4 + j) * c + ci) * t + col0;
                let dst = &mut v[at(0)..at(0) + tw];
                dst.iter_mut().zip(e0.iter().zip(e1)).for_each(|(d, (a, b))| *d = *a - *b);
                let dst = &mut v[at(1)..at(1) + tw];
                dst.iter_mut().zip(o0.iter().zip(e1)).for_each(|(d, (a, b))| *d = *a + *b);
                let dst = &mut v[at(2)..at(2) + tw];
                dst.iter_mut().zip(e1.iter().zip(o0)).for_each(|(d, (a, b))| *d = *a - *b);
                let dst = &mut v[at(3)..at(3) + tw];
                dst.iter_mut().zip(o0.iter().zip(o1)).for_each(|(d, (a, b))| *d = *a - *b);
            }
        }
    }
}

dispatched! {
    /// The output rows of the tile rows `tiles` of one image, `y: (COUT, HO, WO)`, from their
    /// products `m: (16, COUT, T)`: each tile's 2×2 outputs `Aᵀ m A`, a tile row's tiles together
    /// (unit-stride loops, then the even and odd output columns interleaved). `rows`: scratch of
    /// at least `12·TW`.
    fn transform_outputs(
        g: &Geom,
        cout: usize,
        tiles: Range<usize>,
        m: &[E],
        y: &mut [E],
        rows: &mut [E],
    ) => transform_outputs_body;
}

#[inline(always)]
fn transform_outputs_body<E: Float>(
    g: &Geom,
    cout: usize,
    tiles: Range<usize>,
    m: &[E],
    y: &mut [E],
    rows: &mut [E],
) {
    let Geom { ho, wo, .. } = *g;
    let tw = wo.div_ceil(2);
    let t = tiles.len() * tw;
    // a: (Aᵀ m) as 2 × 4 rows over the tiles; out: the even and odd output columns of 2 rows
    let (a, out) = rows[..12 * tw].split_at_mut(8 * tw);
    for (o, yo) in y.chunks_exact_mut(ho * wo).enumerate() {
        for (lt, ti) in tiles.clone().enumerate() {
            let col0 = lt * tw;
            let mrow = |e: usize| &m[(e * cout + o) * t + col0..][..tw];
            let (a0, a1) = a.split_at_mut(4 * tw);
            for (j, (a0j, a1j)) in a0.chunks_exact_mut(tw).zip(a1.chunks_exact_mut(tw)).enumerate()
            {
                let (m0, m1, m2, m3) = (mrow(j), mrow(4 + j), mrow(8 + j), mrow(12 + j));
                for ((((p, q), (x0, x1)), x2), x3) in
                    a0j.iter_mut().zip(a1j.iter_mut()).zip(m0.iter().zip(m1)).zip(m2).zip(m3)
                {
                    *p = *x0 + *x1 + *x2;
                    *q = *x1 - *x2 - *x3;
                }
            }
            for i in 0..2 {
                let r = 2 * ti + i;
                if r >= ho {
                    break;
                }
                let ai = &a[i * 4 * tw..(i + 1) * 4 * tw];
                let (c0, rest) = ai.split_at(tw);
                let (c1, rest) = rest.split_at(tw);
                let (c2, c3) = rest.split_at(tw);
                let (even, odd) = out.split_at_mut(tw);
                for ((((ev, od), x0), (x1, x2)), x3) in
                    even.iter_mut().zip(odd.iter_mut()).zip(c0).zip(c1.iter().zip(c2)).zip(c3)
                {
                    *ev = *x0 + *x1 + *x2;
                    *od = *x1 - *x2 - *x3;
                }
                let yrow = &mut yo[r * wo..(r + 1) * wo];
                for (q, yv) in yrow.iter_mut().enumerate() {
                    *yv = if q % 2 == 0 { even[q / 2] } else { odd[q / 2] };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::forward as conv_forward;
    use crate::kernels::conv::naive::conv_forward_naive;
    use crate::kernels::grid::{Gen, close};

    /// The public forward, which takes this path for these shapes, against the naive loops:
    /// odd and even output sizes (partial tiles on the right and bottom; heights down to one
    /// row), padding 0 to 2, one image per chunk and several, with and without bias; f64 to roundoff, f32 within the
    /// project's tolerance of the f64 reference.
    #[test]
    fn winograd_forward_matches_naive() {
        let mut g = Gen(0x3A3);
        for _ in 0..40 {
            let (c, cout, p) = (g.range(16, 24), g.range(16, 20), g.range(0, 2));
            let (h, w) = (g.range(3 - 2 * p.min(1), 13), g.range(18 - 2 * p, 25));
            let geom = Geom::rect(c, h, w, [3, 3], [1, 1], [p, p], [1, 1]);
            assert!(applies(&geom, cout));
            let n = g.range(1, 12);
            let x = g.vec(n * c * h * w);
            let wt = g.vec(cout * c * 9);
            let b = g.coin().then(|| g.vec(cout));
            let ctx = format!("{geom:?} n={n} cout={cout}");
            let mut want = vec![0.0; n * cout * geom.ho * geom.wo];
            conv_forward_naive(&geom, n, cout, &x, &wt, b.as_deref(), &mut want);
            let mut got = vec![f64::NAN; want.len()];
            conv_forward(&geom, n, cout, &x, &wt, b.as_deref(), &mut got, None);
            close("winograd y", &ctx, &got, &want);
            let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst <= 1e-14 * (9 * c) as f64, "off by {worst:e} for {ctx}");

            let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
            let mut got32 = vec![f32::NAN; want.len()];
            let bf = b.as_deref().map(f);
            conv_forward(&geom, n, cout, &f(&x), &f(&wt), bf.as_deref(), &mut got32, None);
            let back: Vec<f64> = got32.iter().map(|&a| f64::from(a)).collect();
            close("winograd y (f32)", &ctx, &back, &want);
        }
    }
}
