//! Tests of the pool kernels: hand-worked cases, finite differences, and random shape
//! grids against the naive references of [`super::naive`].

use super::naive::{
    avgpool_backward_naive, avgpool_forward_naive, maxpool_backward_naive, maxpool_forward_naive,
};
use super::*;
use crate::testing::{Rng, assert_close};

const NEG_INF: f64 = f64::NEG_INFINITY;

#[test]
fn maxpool_hand_worked_k2_s2() {
    // plane 0 = x, plane 1 = x + 10 (checks the per-plane offsets)
    // x = [[1, 3, 2, 4],
    //      [5, 6, 1, 2],
    //      [7, 2, 9, 0],
    //      [1, 8, 3, 4]]
    let x0 = [1., 3., 2., 4., 5., 6., 1., 2., 7., 2., 9., 0., 1., 8., 3., 4.];
    let x: Vec<f64> = x0.iter().chain(&x0.map(|v| v + 10.)).copied().collect();
    let g = Geom::new(2, 4, 4, 2, 2, 0);
    let mut y = vec![f64::NAN; 8];
    let mut am = vec![0u32; 8];
    maxpool_forward(&g, 1, &x, &mut y, Some(&mut am));
    // windows: {1,3,5,6} → 6 at (1,1); {2,4,1,2} → 4 at (0,3); {7,2,1,8} → 8 at (3,1);
    // {9,0,3,4} → 9 at (2,2)
    assert_close(&y, &[6., 4., 8., 9., 16., 14., 18., 19.]);
    assert_eq!(am, [5, 3, 13, 10, 5, 3, 13, 10]);

    let dy = [1., 2., 3., 4., 5., 6., 7., 8.];
    let mut dx = vec![0.0; 32];
    maxpool_backward(&g, 1, &am, &dy, &mut dx);
    let mut exp = vec![0.0; 32];
    for (plane, base) in [(0, 0.0), (1, 4.0)] {
        exp[plane * 16 + 5] = base + 1.;
        exp[plane * 16 + 3] = base + 2.;
        exp[plane * 16 + 13] = base + 3.;
        exp[plane * 16 + 10] = base + 4.;
    }
    assert_close(&dx, &exp);
}

#[test]
fn maxpool_overlapping_windows_accumulate() {
    // x = [[1, 2, 3, 1],
    //      [4, 9, 5, 2],
    //      [0, 1, 2, 3]], K=3 S=1 → 1×2 output; both windows (cols 0..3, 1..4) pick the 9.
    let x = [1., 2., 3., 1., 4., 9., 5., 2., 0., 1., 2., 3.];
    let g = Geom::new(1, 3, 4, 3, 1, 0);
    let mut y = [0.0; 2];
    let mut am = [0u32; 2];
    maxpool_forward(&g, 1, &x, &mut y, Some(&mut am));
    assert_close(&y, &[9., 9.]);
    assert_eq!(am, [5, 5]);
    // dx starts at 0.5 everywhere: dx[5] = 0.5 + 1 + 2, the rest stay 0.5
    let mut dx = [0.5; 12];
    maxpool_backward(&g, 1, &am, &[1., 2.], &mut dx);
    let mut exp = [0.5; 12];
    exp[5] = 3.5;
    assert_close(&dx, &exp);
}

/// K=3 S=2 P=1 on a 5×4 input (→ 3×2), all inputs negative so a zero-padding bug would show;
/// expected values from an explicitly −∞-padded copy, by the definition.
#[test]
fn maxpool_padding_matches_definition() {
    let (n, c, h, w, k, s, p) = (2, 2, 5, 4, 3, 2, 1);
    let g = Geom::new(c, h, w, k, s, p);
    assert_eq!((g.ho, g.wo), (3, 2));
    let mut rng = Rng::new(11);
    let x: Vec<f64> = rng.vec(n * c * h * w).iter().map(|v| v - 2.0).collect();
    let dy = rng.vec(n * c * g.ho * g.wo);
    let (ph, pw) = (h + 2 * p, w + 2 * p);

    let mut y_exp = vec![0.0; dy.len()];
    let mut dx_exp = vec![0.25; x.len()];
    // planes: (N·C); padded plane (H+2P, W+2P), output plane (HO, WO)
    for plane in 0..n * c {
        let mut padded = vec![NEG_INF; ph * pw];
        for r in 0..h {
            for q in 0..w {
                padded[(r + p) * pw + (q + p)] = x[(plane * h + r) * w + q];
            }
        }
        for i in 0..g.ho {
            for j in 0..g.wo {
                let (mut best, mut at) = (NEG_INF, (0, 0));
                for a in 0..k {
                    for b in 0..k {
                        let v = padded[(i * s + a) * pw + (j * s + b)];
                        if v > best {
                            (best, at) = (v, (i * s + a - p, j * s + b - p));
                        }
                    }
                }
                let o = (plane * g.ho + i) * g.wo + j;
                y_exp[o] = best;
                dx_exp[(plane * h + at.0) * w + at.1] += dy[o];
            }
        }
    }

    let mut y = vec![f64::NAN; dy.len()];
    let mut am = vec![0u32; dy.len()];
    maxpool_forward(&g, n, &x, &mut y, Some(&mut am));
    assert_close(&y, &y_exp);
    let mut y2 = vec![f64::NAN; dy.len()];
    maxpool_forward(&g, n, &x, &mut y2, None);
    assert_close(&y2, &y_exp);
    let mut dx = vec![0.25; x.len()];
    maxpool_backward(&g, n, &am, &dy, &mut dx);
    assert_close(&dx, &dx_exp);
}

#[test]
fn maxpool_ties_pick_first() {
    let g = Geom::new(1, 2, 2, 2, 2, 0);
    let mut y = [0.0];
    let mut am = [99u32];
    // row-major window order: (0,1) comes before (1,0)
    maxpool_forward(&g, 1, &[0., 5., 5., 0.], &mut y, Some(&mut am));
    assert_eq!((y[0], am[0]), (5., 1));
    maxpool_forward(&g, 1, &[1., 1., 1., 1.], &mut y, Some(&mut am));
    assert_eq!((y[0], am[0]), (1., 0));
    // all −∞ is still a real tie: the first element, not a "none" marker
    maxpool_forward(&g, 1, &[NEG_INF; 4], &mut y, Some(&mut am));
    assert_eq!((y[0], am[0]), (NEG_INF, 0));
    // NaN propagates (PyTorch does the same)
    maxpool_forward(&g, 1, &[1., f64::NAN, 3., 2.], &mut y, Some(&mut am));
    assert!(y[0].is_nan());
    assert_eq!(am[0], 1);
}

/// P ≥ K is ruled out by callers; check it at least does not panic and stays finite-or-−∞.
#[test]
fn pool_all_padding_windows_do_not_panic() {
    let g = Geom::new(1, 2, 2, 1, 1, 1); // 1×1 windows over a 4×4 padded plane
    assert_eq!((g.ho, g.wo), (4, 4));
    let x = [1., 2., 3., 4.];
    let mut y = [0.0; 16];
    let mut am = [0u32; 16];
    maxpool_forward(&g, 1, &x, &mut y, Some(&mut am));
    assert_eq!((y[0], am[0]), (NEG_INF, u32::MAX));
    assert_eq!((y[5], am[5]), (1., 0));
    let mut dx = [0.0; 4];
    maxpool_backward(&g, 1, &am, &[1.0; 16], &mut dx);
    assert_close(&dx, &[1., 1., 1., 1.]);
    avgpool_forward(&g, 1, false, &x, &mut y);
    assert_eq!((y[0], y[5]), (0., 1.));
}

#[test]
fn avgpool_hand_worked_include_vs_exclude_pad() {
    // x = [[1, 2, 3],
    //      [4, 5, 6],
    //      [7, 8, 9]]
    let x = [1., 2., 3., 4., 5., 6., 7., 8., 9.];
    let mut y = [0.0; 4];

    // K=2 S=2 P=1 → 2×2; window rows/cols: i=0 → {0} (half padding), i=1 → {1, 2}
    let g = Geom::new(1, 3, 3, 2, 2, 1);
    // include pad: divisor 2·2 = 4 everywhere
    //   y00 = 1/4, y01 = (2+3)/4, y10 = (4+7)/4, y11 = (5+6+8+9)/4
    avgpool_forward(&g, 1, true, &x, &mut y);
    assert_close(&y, &[0.25, 1.25, 2.75, 7.0]);
    // exclude pad: divisor = real elements: 1, 2, 2, 4
    //   y00 = 1/1, y01 = 5/2, y10 = 11/2, y11 = 28/4
    avgpool_forward(&g, 1, false, &x, &mut y);
    assert_close(&y, &[1.0, 2.5, 5.5, 7.0]);

    // K=3 S=2 P=1 → 2×2, overlapping; every window holds a 2×2 block of real elements:
    //   rows/cols i=0 → {0, 1}, i=1 → {1, 2}
    //   sums: 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28
    let g = Geom::new(1, 3, 3, 3, 2, 1);
    // include pad: divisor 3·3 = 9
    avgpool_forward(&g, 1, true, &x, &mut y);
    assert_close(&y, &[12. / 9., 16. / 9., 24. / 9., 28. / 9.]);
    // exclude pad: divisor 4
    avgpool_forward(&g, 1, false, &x, &mut y);
    assert_close(&y, &[3.0, 4.0, 6.0, 7.0]);
}

#[test]
fn avgpool_backward_hand_worked() {
    // K=2 S=2 P=1 on 3×3, dy = [[1, 2], [3, 4]]; windows as in the forward test:
    //   (0,0) covers x00; (0,1) covers x01, x02; (1,0) covers x10, x20; (1,1) the 2×2 rest.
    let g = Geom::new(1, 3, 3, 2, 2, 1);
    let dy = [1., 2., 3., 4.];
    // include pad (÷4): x00 ← 1/4; x01, x02 ← 2/4; x10, x20 ← 3/4; rest ← 4/4; plus 1 already
    let mut dx = [1.0; 9];
    avgpool_backward(&g, 1, true, &dy, &mut dx);
    assert_close(&dx, &[1.25, 1.5, 1.5, 1.75, 2., 2., 1.75, 2., 2.]);
    // exclude pad (÷1, ÷2, ÷2, ÷4): x00 ← 1; x01, x02 ← 1; x10, x20 ← 1.5; rest ← 1
    let mut dx = [0.0; 9];
    avgpool_backward(&g, 1, false, &dy, &mut dx);
    assert_close(&dx, &[1., 1., 1., 1.5, 1., 1., 1.5, 1., 1.]);
}

/// Average pooling is linear, so its backward must be its exact adjoint:
/// `⟨avgpool(x), r⟩ = ⟨x, avgpool_backward(r)⟩`, on odd, overlapping, padded shapes.
#[test]
fn avgpool_backward_is_adjoint_of_forward() {
    // (n, c, h, w, k, s, p)
    let shapes = [
        (2, 3, 5, 4, 3, 2, 1),
        (1, 2, 7, 9, 3, 1, 1),
        (3, 1, 11, 6, 4, 3, 2),
        (1, 1, 6, 6, 2, 2, 0),
    ];
    for (idx, &(n, c, h, w, k, s, p)) in shapes.iter().enumerate() {
        let g = Geom::new(c, h, w, k, s, p);
        let mut rng = Rng::new(40 + idx as u64);
        let x = rng.vec(n * c * h * w);
        let r = rng.vec(n * c * g.ho * g.wo);
        for include in [true, false] {
            let mut y = vec![f64::NAN; r.len()];
            avgpool_forward(&g, n, include, &x, &mut y);
            let mut dx = vec![0.0; x.len()];
            avgpool_backward(&g, n, include, &r, &mut dx);
            let lhs: f64 = y.iter().zip(&r).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
            assert_close(&[lhs], &[rhs]);
        }
    }
}

#[test]
fn global_avgpool_hand_worked() {
    // (N=1, C=2, H=2, W=3): means of 1..6 and of 10, 20, 30, 0, 0, 0
    let x = [1., 2., 3., 4., 5., 6., 10., 20., 30., 0., 0., 0.];
    let mut y = [0.0; 2];
    global_avgpool_forward(1, 2, 2, 3, &x, &mut y);
    assert_close(&y, &[3.5, 10.0]);
    let mut dx = [1.0; 12];
    global_avgpool_backward(1, 2, 2, 3, &[6.0, -12.0], &mut dx);
    // 1 + 6/6 = 2 on plane 0, 1 − 12/6 = −1 on plane 1
    assert_close(&dx, &[2., 2., 2., 2., 2., 2., -1., -1., -1., -1., -1., -1.]);
    // f32 gives the same
    let mut y32 = [0.0f32; 2];
    global_avgpool_forward(1, 2, 2, 3, &x.map(|v| v as f32), &mut y32);
    assert_eq!(y32, [3.5, 10.0]);
}

// ---- random shape grids against the naive references (were tests/property_kernels.rs) ----

use std::collections::HashSet;

use crate::kernels::grid::{ConvShape, Gen, close};

/// `count` random pooling shapes `(K, S, P, C, H, W, N)` with `2P ≤ K` (`cout` unused, 0).
fn pool_shapes(seed: u64, count: usize) -> Vec<ConvShape> {
    let mut g = Gen(seed);
    (0..count).map(|_| ConvShape::random(&mut g, true)).collect()
}

fn check_pool_case(c: &ConvShape, g: &mut Gen) {
    let geom = c.geom();
    let n = c.n;
    let (xlen, ylen) = (n * c.cin * c.h * c.w, n * c.cin * geom.ho * geom.wo);
    // Half the cases draw from five integers, so windows tie: both sides take the first maximum.
    let ties = g.coin();
    let x = if ties { g.ties(xlen) } else { g.vec(xlen) };
    let dy = g.vec(ylen);
    let dx0 = g.vec(xlen);
    let ctx = format!("{c:?} ties={ties}");

    // max pooling: with and without the argmax buffer, then backward through it
    let mut y_naive = vec![f64::NAN; ylen];
    maxpool_forward_naive(&geom, n, &x, &mut y_naive);
    let mut y = vec![f64::NAN; ylen];
    maxpool_forward(&geom, n, &x, &mut y, None);
    assert_eq!(y, y_naive, "maxpool_forward (no argmax) for {ctx}");
    let (mut y, mut argmax) = (vec![f64::NAN; ylen], vec![0u32; ylen]);
    maxpool_forward(&geom, n, &x, &mut y, Some(&mut argmax));
    assert_eq!(y, y_naive, "maxpool_forward (argmax) for {ctx}");
    let (mut dx, mut dx_naive) = (dx0.clone(), dx0.clone());
    maxpool_backward(&geom, n, &argmax, &dy, &mut dx);
    maxpool_backward_naive(&geom, n, &x, &dy, &mut dx_naive);
    close("maxpool_backward", &ctx, &dx, &dx_naive);

    // average pooling, both padding rules
    for include_pad in [true, false] {
        let mut y = vec![f64::NAN; ylen];
        let mut y_naive = vec![f64::NAN; ylen];
        avgpool_forward(&geom, n, include_pad, &x, &mut y);
        avgpool_forward_naive(&geom, n, include_pad, &x, &mut y_naive);
        let (mut dx, mut dx_naive) = (dx0.clone(), dx0.clone());
        avgpool_backward(&geom, n, include_pad, &dy, &mut dx);
        avgpool_backward_naive(&geom, n, include_pad, &dy, &mut dx_naive);
        let ctx = format!("{ctx} count_include_pad={include_pad}");
        close("avgpool_forward", &ctx, &y, &y_naive);
        close("avgpool_backward", &ctx, &dx, &dx_naive);
    }
}

#[test]
fn pool_kernels_match_naive_on_a_random_grid() {
    let shapes = pool_shapes(0x9001, 1500);
    let mut g = Gen(13);
    for c in &shapes {
        check_pool_case(c, &mut g);
    }
    let distinct: HashSet<_> = shapes.iter().collect();
    let floors = distinct.iter().filter(|c| c.floors()).count();
    let padded = distinct.iter().filter(|c| c.p > 0).count();
    println!(
        "pool: {} distinct (K, S, P, C, H, W, N) shapes ({floors} floor mode, {padded} padded), \
         each max, avg(count_include_pad) and avg(exclude pad), forward and backward",
        distinct.len()
    );
    assert!(distinct.len() >= 1000, "only {} distinct pooling shapes", distinct.len());
}

/// The fast 2×2 stride-2 max-pool path (and its neighbours) on every small plane, ties included.
#[test]
fn maxpool_2x2_fast_path_on_every_small_plane() {
    let mut g = Gen(17);
    for h in 2..=7 {
        for w in 2..=7 {
            for (k, s) in [(2, 2), (2, 1), (3, 2)] {
                if k > h || k > w {
                    continue;
                }
                let c =
                    ConvShape { k, s, p: 0, cin: g.range(1, 3), cout: 0, h, w, n: g.range(1, 3) };
                check_pool_case(&c, &mut g);
            }
        }
    }
}

/// The "fresh" max-pool backward ignores what `dx` held (NaN here) and equals zeroing it first
/// and accumulating, bit for bit, at 1 and 2 threads, with overlapping windows and a batch that
/// is not a multiple of the chunk count.
#[test]
fn maxpool_backward_fresh_equals_zeroing_then_accumulating() {
    let mut rng = Rng::new(9);
    for (k, s, p) in [(2, 2, 0), (3, 2, 1), (3, 1, 1)] {
        let g = Geom::new(3, 9, 7, k, s, p);
        let n = 11;
        let x = rng.vec(n * 3 * 9 * 7);
        let mut y = vec![0.0; n * 3 * g.ho * g.wo];
        let mut argmax = vec![0u32; y.len()];
        maxpool_forward(&g, n, &x, &mut y, Some(&mut argmax));
        let dy = rng.vec(y.len());
        let mut want = vec![0.0; x.len()];
        maxpool_backward(&g, n, &argmax, &dy, &mut want);
        for threads in [1, 2] {
            crate::set_threads(threads);
            let mut got = vec![f64::NAN; x.len()];
            maxpool_backward_fresh(&g, n, &argmax, &dy, &mut got);
            assert_eq!(got, want, "k={k} s={s} p={p} threads={threads}");
        }
    }
}
