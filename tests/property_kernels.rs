//! Property tests of the run-time-sized kernels over wide random grids of shapes, against the
//! naive references of `typed_cnn::kernels::naive`: convolution forward and backward (from the
//! input and from the columns kept by the training forward), max pooling and average pooling
//! (both padding rules), forward and backward, in f64 with the gradients pre-filled (the
//! backward kernels accumulate). Every shape is drawn by a seeded generator, so a failure names
//! a reproducible shape. `cargo test --release --test property_kernels -- --nocapture` prints
//! how many distinct shapes each test covered.

use std::collections::HashSet;

use typed_cnn::gradcheck::assert_close;
use typed_cnn::kernels::Geom;
use typed_cnn::kernels::conv::{
    conv_backward, conv_backward_cols, conv_forward, conv_forward_keep,
};
use typed_cnn::kernels::naive::{
    avgpool_backward_naive, avgpool_forward_naive, conv_backward_naive, conv_forward_naive,
    maxpool_backward_naive, maxpool_forward_naive,
};
use typed_cnn::kernels::pool::{
    avgpool_backward, avgpool_forward, maxpool_backward, maxpool_forward,
};

/// SplitMix64: a small seeded generator of our own (no new dependency).
struct Gen(u64);

impl Gen {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
    fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
    /// Uniform in `[-1, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    fn vec(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.unit()).collect()
    }
    /// Small integers in `-2..=2`: many ties, for the max-pooling tie rule.
    fn ties(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.range(0, 4) as f64 - 2.0).collect()
    }
}

/// [`assert_close`] (the project's tolerance), naming the kernel and the shape on failure.
fn close(what: &str, ctx: &str, got: &[f64], want: &[f64]) {
    if let Err(e) = std::panic::catch_unwind(|| assert_close(got, want)) {
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        panic!("{what} differs for {ctx}: {msg}");
    }
}

/// One convolution case: `(K, S, P, CIN, COUT, H, W, N)` with `H ≠ W` and the window fitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ConvShape {
    k: usize,
    s: usize,
    p: usize,
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    n: usize,
}

impl ConvShape {
    fn random(g: &mut Gen, pool: bool) -> Self {
        let k = g.range(1, 5);
        let s = g.range(1, 3);
        // Pooling keeps PyTorch's 2P ≤ K (no window wholly in the padding).
        let p = if pool { g.range(0, k / 2) } else { g.range(0, 2) };
        let (cin, cout) = (g.range(1, 5), if pool { 0 } else { g.range(1, 5) });
        // The smallest side the window fits, up to a few strides beyond it.
        let lo = k.saturating_sub(2 * p).max(1);
        let h = g.range(lo, lo + 3 * s + 4);
        let w = loop {
            let w = g.range(lo, lo + 3 * s + 4);
            if w != h {
                break w;
            }
        };
        ConvShape { k, s, p, cin, cout, h, w, n: g.range(1, 11) }
    }
    fn geom(&self) -> Geom {
        Geom::new(self.cin, self.h, self.w, self.k, self.s, self.p)
    }
    /// The stride does not tile the padded input on some axis (floor mode drops a remainder).
    fn floors(&self) -> bool {
        !(self.h + 2 * self.p - self.k).is_multiple_of(self.s)
            || !(self.w + 2 * self.p - self.k).is_multiple_of(self.s)
    }
}

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
    fn random(g: &mut Gen, c: &ConvShape) -> Self {
        let geom = c.geom();
        let b = if g.coin() { Some(g.vec(c.cout)) } else { None };
        ConvIn {
            x: g.vec(c.n * c.cin * c.h * c.w),
            w: g.vec(c.cout * c.cin * c.k * c.k),
            b,
            dy: g.vec(c.n * c.cout * geom.oh * geom.ow),
            dx0: g.vec(c.n * c.cin * c.h * c.w),
            dw0: g.vec(c.cout * c.cin * c.k * c.k),
            db0: g.vec(c.cout),
            cols_dx: g.coin(),
        }
    }
}

fn run_conv_fast(c: &ConvShape, i: &ConvIn) -> ConvOut {
    let geom = c.geom();
    let (n, cout) = (c.n, c.cout);
    let mut y = vec![f64::NAN; n * cout * geom.oh * geom.ow];
    conv_forward(&geom, n, cout, &i.x, &i.w, i.b.as_deref(), &mut y);
    let mut y_keep = vec![f64::NAN; y.len()];
    let mut cols = vec![f64::NAN; n * c.cin * c.k * c.k * geom.oh * geom.ow];
    conv_forward_keep(&geom, n, cout, &i.x, &i.w, i.b.as_deref(), &mut y_keep, &mut cols);

    let (mut dx, mut dw) = (i.dx0.clone(), i.dw0.clone());
    let mut db = i.b.as_ref().map(|_| i.db0.clone());
    conv_backward(&geom, n, cout, &i.x, &i.w, &i.dy, Some(&mut dx), &mut dw, db.as_deref_mut());

    let mut dx_cols = i.cols_dx.then(|| i.dx0.clone());
    let mut dw_cols = i.dw0.clone();
    let mut db_cols = i.b.as_ref().map(|_| i.db0.clone());
    conv_backward_cols(
        &geom,
        n,
        cout,
        &cols,
        &i.w,
        &i.dy,
        dx_cols.as_deref_mut(),
        &mut dw_cols,
        db_cols.as_deref_mut(),
    );
    ConvOut { y, y_keep, cols, dx, dw, db, dx_cols, dw_cols, db_cols }
}

/// Compares the fast kernels with the naive references for one shape.
fn check_conv_case(c: &ConvShape, i: &ConvIn) {
    let geom = c.geom();
    let (n, cout) = (c.n, c.cout);
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
    close("conv_forward y", &fast.y, &y);
    close("conv_forward_keep y", &fast.y_keep, &y);
    close("conv_backward dx", &fast.dx, &dx);
    close("conv_backward dweight", &fast.dw, &dw);
    close("conv_backward_cols dweight", &fast.dw_cols, &dw);
    if let (Some(got), Some(want)) = (&fast.db, &db) {
        close("conv_backward dbias", got, want);
    }
    if let (Some(got), Some(want)) = (&fast.db_cols, &db) {
        close("conv_backward_cols dbias", got, want);
    }
    if let Some(got) = &fast.dx_cols {
        close("conv_backward_cols dx", got, &dx);
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
        let inputs = ConvIn::random(&mut g, c);
        check_conv_case(c, &inputs);
    }
    let distinct: HashSet<_> = shapes.iter().collect();
    let floors = distinct.iter().filter(|c| c.floors()).count();
    let batches: HashSet<_> = shapes.iter().map(|c| c.n).collect();
    let over_chunks = distinct.iter().filter(|c| c.n > typed_cnn::CHUNKS).count();
    println!(
        "conv: {} distinct (K, S, P, CIN, COUT, H, W, N) shapes, {floors} of them floor mode \
         (stride does not tile), {over_chunks} with N > {} chunks, batches {:?}",
        distinct.len(),
        typed_cnn::CHUNKS,
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
    let chunks = typed_cnn::CHUNKS;
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
        let inputs = ConvIn::random(&mut g, c);
        check_conv_case(c, &inputs);
    }
}

/// `count` random pooling shapes `(K, S, P, C, H, W, N)` with `2P ≤ K` (`cout` unused, 0).
fn pool_shapes(seed: u64, count: usize) -> Vec<ConvShape> {
    let mut g = Gen(seed);
    (0..count).map(|_| ConvShape::random(&mut g, true)).collect()
}

fn check_pool_case(c: &ConvShape, g: &mut Gen) {
    let geom = c.geom();
    let n = c.n;
    let (xlen, ylen) = (n * c.cin * c.h * c.w, n * c.cin * geom.oh * geom.ow);
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

/// Kernel outputs with 2 threads are bit-identical to those with 1 thread (the batch chunks and
/// their summation order are fixed). The only test in this binary that changes the thread count.
#[test]
fn two_threads_give_bit_identical_kernel_outputs() {
    let shapes = conv_shapes(0x7D, 300);
    let mut g = Gen(19);
    let mut compared = 0;
    for c in &shapes {
        let inputs = ConvIn::random(&mut g, c);
        typed_cnn::set_threads(1);
        let one = run_conv_fast(c, &inputs);
        typed_cnn::set_threads(2);
        let two = run_conv_fast(c, &inputs);
        typed_cnn::set_threads(1);
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
    let multi_chunk = shapes.iter().filter(|c| c.n > 1).count();
    println!(
        "threads: {compared} conv shapes bit-identical at 1 and 2 threads ({multi_chunk} with N > 1)"
    );
}
