//! Tests of the conv kernels: hand-worked cases, finite differences, and random shape
//! grids against the naive references of [`super::naive`].

use super::naive::{conv_backward_naive, conv_forward_naive};
use super::*;
use crate::testing::{Rng, assert_close, to_e, to_f64};

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
    let (ckk, hw_out) = (c * k * k, g.ho * g.wo);
    let mut rng = Rng::new(seed);
    let x: Vec<E> = to_e(&rng.vec(n * c * h * w));
    let weight: Vec<E> = to_e(&rng.vec(cout * ckk));
    let bias_v: Vec<E> = to_e(&rng.vec(cout));
    let bias = if seed.is_multiple_of(2) { Some(&bias_v[..]) } else { None };
    let dy: Vec<E> = to_e(&rng.vec(n * cout * hw_out));
    let dx0: Vec<E> = to_e(&rng.vec(n * c * h * w));
    let dw0: Vec<E> = to_e(&rng.vec(cout * ckk));
    let db0: Vec<E> = to_e(&rng.vec(cout));
    let nan = E::from_f64(f64::NAN);

    // forward: y (N, COUT, HO, WO)
    let mut y_fast = vec![nan; n * cout * hw_out];
    forward(&g, n, cout, &x, &weight, bias, &mut y_fast, None);
    let mut y_naive = vec![nan; n * cout * hw_out];
    conv_forward_naive(&g, n, cout, &x, &weight, bias, &mut y_naive);
    assert_close(&to_f64(&y_fast), &to_f64(&y_naive));

    // backward with dx: all three accumulate onto dx0, dw0, db0
    let (mut dx_f, mut dw_f, mut db_f) = (dx0.clone(), dw0.clone(), db0.clone());
    backward(
        &g,
        n,
        cout,
        Source::Input(&x),
        &weight,
        &dy,
        Some(&mut dx_f),
        &mut dw_f,
        Some(&mut db_f),
    );
    let (mut dx_n, mut dw_n, mut db_n) = (dx0.clone(), dw0.clone(), db0.clone());
    conv_backward_naive(&g, n, cout, &x, &weight, &dy, Some(&mut dx_n), &mut dw_n, Some(&mut db_n));
    assert_close(&to_f64(&dx_f), &to_f64(&dx_n));
    assert_close(&to_f64(&dw_f), &to_f64(&dw_n));
    assert_close(&to_f64(&db_f), &to_f64(&db_n));

    // the training pair: forward keeping what backward needs, backward from it
    let mut kept = vec![nan; if g.is_pointwise() { n * c * h * w } else { n * ckk * hw_out }];
    let mut y_keep = vec![nan; n * cout * hw_out];
    forward(&g, n, cout, &x, &weight, bias, &mut y_keep, Some(&mut kept));
    assert_close(&to_f64(&y_keep), &to_f64(&y_naive));
    let (mut dx_k, mut dw_k, mut db_k) = (dx0.clone(), dw0.clone(), db0.clone());
    backward(
        &g,
        n,
        cout,
        Source::Cols(&kept),
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
    backward(&g, n, cout, Source::Input(&x), &weight, &dy, None, &mut dw_only, None);
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

/// `⟨im2col(x), r⟩ = ⟨x, col2im(r)⟩`: col2im is exactly the adjoint of im2col.
#[test]
fn col2im_is_adjoint_of_im2col() {
    for (i, t) in CASES.iter().enumerate() {
        let g = Geom::new(t.c, t.h, t.w, t.k, t.s, t.p);
        let len = t.c * t.k * t.k * g.ho * g.wo;
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
            forward(&g, 1, 1, &x, &weight, bias.as_deref(), &mut y, None);
            backward(
                &g,
                1,
                1,
                Source::Input(&x),
                &weight,
                &dy,
                Some(&mut dx),
                &mut dw,
                Some(&mut db),
            );
        } else {
            conv_forward_naive(&g, 1, 1, &x, &weight, bias.as_deref(), &mut y);
            conv_backward_naive(&g, 1, 1, &x, &weight, &dy, Some(&mut dx), &mut dw, Some(&mut db));
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
    let (ckk, hw_out) = (g.c * g.taps(), g.ho * g.wo);
    let mut rng = Rng::new(7);
    let x = rng.vec(n * g.c * g.h * g.w);
    let weight = rng.vec(cout * ckk);
    let bias = rng.vec(cout);
    let r = rng.vec(n * cout * hw_out);
    // params = [x, weight, bias]; loss(params) = Σ forward(params) · r
    let loss = |params: &[Vec<f64>; 3]| -> f64 {
        let mut y = vec![0.0; n * cout * hw_out];
        forward(&g, n, cout, &params[0], &params[1], Some(&params[2]), &mut y, None);
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

    let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; weight.len()], vec![0.0; cout]);
    backward(&g, n, cout, Source::Input(&x), &weight, &r, Some(&mut dx), &mut dw, Some(&mut db));

    for (name, analytic, numeric) in
        [("dx", &dx, &num_dx), ("dw", &dw, &num_dw), ("db", &db, &num_db)]
    {
        let max_diff = analytic.iter().zip(numeric).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        let scale = numeric.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let rel = max_diff / scale;
        assert!(rel < 1e-6, "{name}: relative error {rel:e} (max |diff| {max_diff:e})");
    }
}

// ---- random shape grids against the naive references (were tests/property_kernels.rs) ----

use std::collections::HashSet;

use crate::kernels::grid::{Case2, ConvShape, Gen, close};

/// Everything the fast convolution kernels produce for one shape and one set of inputs.
#[derive(PartialEq, Debug)]
struct ConvOut {
    y: Vec<f64>,
    y_keep: Vec<f64>,
    cols: Vec<f64>,
    dx: Vec<f64>,
    dw: Vec<f64>,
    db: Option<Vec<f64>>,
    dx_cols: Option<Vec<f64>>,
    dw_cols: Vec<f64>,
    db_cols: Option<Vec<f64>>,
}

/// Random inputs for one convolution case (`x`, weight, optional bias, `dy`, gradient prefills)
/// and whether the column path asks for `dx`.
struct ConvIn {
    x: Vec<f64>,
    w: Vec<f64>,
    b: Option<Vec<f64>>,
    dy: Vec<f64>,
    dx0: Vec<f64>,
    dw0: Vec<f64>,
    db0: Vec<f64>,
    cols_dx: bool,
}

impl ConvIn {
    fn random(g: &mut Gen, c: &Case2) -> Self {
        let b = if g.coin() { Some(g.vec(c.cout)) } else { None };
        ConvIn {
            x: g.vec(c.x_len()),
            w: g.vec(c.weights()),
            b,
            dy: g.vec(c.y_len()),
            dx0: g.vec(c.x_len()),
            dw0: g.vec(c.weights()),
            db0: g.vec(c.cout),
            cols_dx: g.coin(),
        }
    }
}

fn run_conv_fast(c: &Case2, i: &ConvIn) -> ConvOut {
    let Case2 { geom, n, cout } = *c;
    let mut y = vec![f64::NAN; c.y_len()];
    forward(&geom, n, cout, &i.x, &i.w, i.b.as_deref(), &mut y, None);
    let mut y_keep = vec![f64::NAN; y.len()];
    let mut cols = vec![f64::NAN; n * geom.c * geom.taps() * geom.ho * geom.wo];
    forward(&geom, n, cout, &i.x, &i.w, i.b.as_deref(), &mut y_keep, Some(&mut cols));

    let (mut dx, mut dw) = (i.dx0.clone(), i.dw0.clone());
    let mut db = i.b.as_ref().map(|_| i.db0.clone());
    backward(
        &geom,
        n,
        cout,
        Source::Input(&i.x),
        &i.w,
        &i.dy,
        Some(&mut dx),
        &mut dw,
        db.as_deref_mut(),
    );

    let mut dx_cols = i.cols_dx.then(|| i.dx0.clone());
    let mut dw_cols = i.dw0.clone();
    let mut db_cols = i.b.as_ref().map(|_| i.db0.clone());
    backward(
        &geom,
        n,
        cout,
        Source::Cols(&cols),
        &i.w,
        &i.dy,
        dx_cols.as_deref_mut(),
        &mut dw_cols,
        db_cols.as_deref_mut(),
    );
    ConvOut { y, y_keep, cols, dx, dw, db, dx_cols, dw_cols, db_cols }
}

/// Compares the fast kernels with the naive references for one shape.
fn check_conv_case(c: &Case2, i: &ConvIn) {
    let Case2 { geom, n, cout } = *c;
    let fast = run_conv_fast(c, i);

    let mut y = vec![f64::NAN; fast.y.len()];
    conv_forward_naive(&geom, n, cout, &i.x, &i.w, i.b.as_deref(), &mut y);
    let (mut dx, mut dw) = (i.dx0.clone(), i.dw0.clone());
    let mut db = i.b.as_ref().map(|_| i.db0.clone());
    conv_backward_naive(
        &geom,
        n,
        cout,
        &i.x,
        &i.w,
        &i.dy,
        Some(&mut dx),
        &mut dw,
        db.as_deref_mut(),
    );

    let ctx = format!("{c:?} bias={} cols_dx={}", i.b.is_some(), i.cols_dx);
    let close = |what: &str, got: &[f64], want: &[f64]| close(what, &ctx, got, want);
    close("forward y", &fast.y, &y);
    close("forward (keeping cols) y", &fast.y_keep, &y);
    close("backward (input) dx", &fast.dx, &dx);
    close("backward (input) dweight", &fast.dw, &dw);
    close("backward (cols) dweight", &fast.dw_cols, &dw);
    if let (Some(got), Some(want)) = (&fast.db, &db) {
        close("backward (input) dbias", got, want);
    }
    if let (Some(got), Some(want)) = (&fast.db_cols, &db) {
        close("backward (cols) dbias", got, want);
    }
    if let Some(got) = &fast.dx_cols {
        close("backward (cols) dx", got, &dx);
    }
    assert!(fast.cols.iter().all(|v| v.is_finite()), "cols left unwritten for {ctx}");
}

/// `count` random convolution shapes from `seed`.
fn conv_shapes(seed: u64, count: usize) -> Vec<ConvShape> {
    let mut g = Gen(seed);
    (0..count).map(|_| ConvShape::random(&mut g, false)).collect()
}

#[test]
fn conv_kernels_match_naive_on_a_random_grid() {
    let shapes = conv_shapes(0xC0117, 1500);
    let mut g = Gen(7);
    for c in &shapes {
        let c = Case2::from(c);
        let inputs = ConvIn::random(&mut g, &c);
        check_conv_case(&c, &inputs);
    }
    let distinct: HashSet<_> = shapes.iter().collect();
    let floors = distinct.iter().filter(|c| c.floors()).count();
    let batches: HashSet<_> = shapes.iter().map(|c| c.n).collect();
    let over_chunks = distinct.iter().filter(|c| c.n > crate::CHUNKS).count();
    println!(
        "conv: {} distinct (K, S, P, CIN, COUT, H, W, N) shapes, {floors} of them floor mode \
         (stride does not tile), {over_chunks} with N > {} chunks, batches {:?}",
        distinct.len(),
        crate::CHUNKS,
        {
            let mut b: Vec<_> = batches.into_iter().collect();
            b.sort();
            b
        }
    );
    assert!(distinct.len() >= 1000, "only {} distinct conv shapes", distinct.len());
    assert!(floors >= 200 && over_chunks >= 100, "floor {floors}, over chunks {over_chunks}");
}

/// Every edge case at least once, not left to chance: 1×1 pointwise (the im2col-free path),
/// kernel as large as the padded input, batch exactly `CHUNKS` and one either side of it.
#[test]
fn conv_kernels_match_naive_on_edge_shapes() {
    let mut g = Gen(11);
    let chunks = crate::CHUNKS;
    let mut shapes = Vec::new();
    for n in [1, chunks - 1, chunks, chunks + 1, 11] {
        for (k, s, p, h, w) in [
            (1, 1, 0, 3, 5), // pointwise
            (1, 2, 0, 5, 4), // 1×1 with a stride: not pointwise
            (1, 1, 1, 2, 3), // 1×1 with padding: a zero border of outputs
            (5, 1, 0, 5, 6), // kernel = height
            (5, 3, 2, 1, 2), // a 1-pixel-high input, all but one row of the window padding
            (4, 3, 1, 7, 9), // floor mode both axes
        ] {
            shapes.push(ConvShape { k, s, p, cin: g.range(1, 5), cout: g.range(1, 5), h, w, n });
        }
    }
    for c in &shapes {
        let c = Case2::from(c);
        let inputs = ConvIn::random(&mut g, &c);
        check_conv_case(&c, &inputs);
    }
}

/// Rectangular kernels, strides and paddings that differ between the axes, and dilation: the
/// im2col + GEMM kernels against the naive loops of the definition on a random grid.
#[test]
fn conv_kernels_match_naive_on_rectangular_dilated_shapes() {
    let mut g = Gen(0xD11A7E);
    let cases: Vec<Case2> = (0..600).map(|_| Case2::random_rect(&mut g)).collect();
    for c in &cases {
        let inputs = ConvIn::random(&mut g, c);
        check_conv_case(c, &inputs);
    }
    let geoms: HashSet<_> = cases.iter().map(|c| c.geom).collect();
    let dilated = geoms.iter().filter(|g| g.dh > 1 || g.dw > 1).count();
    let rect = geoms.iter().filter(|g| g.kh != g.kw).count();
    let uneven = geoms.iter().filter(|g| g.sh != g.sw || g.ph != g.pw).count();
    println!(
        "conv rect: {} geometries, {dilated} dilated, {rect} non-square kernels, {uneven} with \
         per-axis strides or paddings",
        geoms.len()
    );
    assert!(geoms.len() >= 500 && dilated >= 300 && rect >= 300 && uneven >= 300);
}

/// Kernel outputs with 2 threads are bit-identical to those with 1 thread (the batch chunks and
/// their summation order are fixed). The only test in this binary that changes the thread count.
#[test]
fn two_threads_give_bit_identical_kernel_outputs() {
    let shapes = conv_shapes(0x7D, 300);
    let mut g = Gen(19);
    let mut compared = 0;
    for c in &shapes {
        let c2 = Case2::from(c);
        let inputs = ConvIn::random(&mut g, &c2);
        crate::set_threads(1);
        let one = run_conv_fast(&c2, &inputs);
        crate::set_threads(2);
        let two = run_conv_fast(&c2, &inputs);
        crate::set_threads(1);
        let bits = |o: &ConvOut| {
            let all = [&o.y, &o.y_keep, &o.cols, &o.dx, &o.dw, &o.dw_cols];
            let opt = [&o.db, &o.dx_cols, &o.db_cols];
            let mut v: Vec<u64> = all.iter().flat_map(|s| s.iter().map(|x| x.to_bits())).collect();
            for s in opt.iter().copied().flatten() {
                v.extend(s.iter().map(|x| x.to_bits()));
            }
            v
        };
        assert_eq!(bits(&one), bits(&two), "1 vs 2 threads differ for {c:?}");
        compared += 1;
    }
    // the transposed kernels, on the same geometries read as (output seen as a conv input)
    for c in shapes.iter().take(100) {
        let c2 = Case2::from(c);
        let (geom, n, cin) = (c2.geom, c2.n, c2.cout);
        let taps = geom.c * geom.taps();
        let x = g.vec(n * cin * geom.ho * geom.wo);
        let w = g.vec(cin * taps);
        let b = g.vec(geom.c);
        let dy = g.vec(n * geom.c * geom.h * geom.w);
        let run = |threads| {
            crate::set_threads(threads);
            let mut y = vec![f64::NAN; dy.len()];
            transposed_forward(&geom, n, cin, &x, &w, Some(&b), &mut y);
            let (mut dx, mut dw, mut db) =
                (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; b.len()]);
            transposed_backward(&geom, n, cin, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
            crate::set_threads(1);
            [y, dx, dw, db].concat().iter().map(|v| v.to_bits()).collect::<Vec<u64>>()
        };
        assert_eq!(run(1), run(2), "transposed: 1 vs 2 threads differ for {c:?}");
        compared += 1;
    }
    // the depthwise kernels, on the same geometries
    for c in shapes.iter().take(100) {
        let geom = c.geom();
        let x = g.vec(c.n * geom.c * geom.h * geom.w);
        let w = g.vec(geom.c * geom.taps());
        let b = g.vec(geom.c);
        let dy = g.vec(c.n * geom.c * geom.ho * geom.wo);
        let run = |threads| {
            crate::set_threads(threads);
            let mut y = vec![f64::NAN; dy.len()];
            depthwise_forward(&geom, c.n, &x, &w, Some(&b), &mut y);
            let (mut dx, mut dw, mut db) =
                (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; b.len()]);
            depthwise_backward(&geom, c.n, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
            crate::set_threads(1);
            [y, dx, dw, db].concat().iter().map(|v| v.to_bits()).collect::<Vec<u64>>()
        };
        assert_eq!(run(1), run(2), "depthwise: 1 vs 2 threads differ for {c:?}");
        compared += 1;
    }
    let multi_chunk = shapes.iter().filter(|c| c.n > 1).count();
    println!(
        "threads: {compared} conv, transposed and depthwise shapes bit-identical at 1 and 2 threads \
         ({multi_chunk} with N > 1)"
    );
}
