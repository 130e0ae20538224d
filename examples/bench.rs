//! The speed benchmark: conv2d layers forward and forward+backward against the GEMMs they are
//! made of, a LeNet training epoch on MNIST, and LeNet inference, at 1 and 2 threads.
//! Also `dw144` (MobileNetV2's depthwise 3×3, 144 channels at 56×56, batch 32), `up2x2`
//! (U-Net's 2×2 stride-2 transposed convolution, 64 → 32 channels, 28×28 → 56×56, batch 16) and
//! `resnet18_step` (one SGD step of the zoo's ResNet-18 on 16 images of 64×64), whose PyTorch
//! times `scripts/bench_torch_layers.py` measures.
//!
//! ```text
//! cargo run --release --example bench                     # everything, about a minute
//! cargo run --release --example bench -- --quick          # fewer repetitions, no epoch
//! cargo run --release --example bench -- --cases lenet1,res64 --threads 1
//! ```
//!
//! The conv rows also give the achieved GFLOP/s (nominal im2col FLOPs, `2·N·COUT·CIN·K²·HO·WO`
//! forward and three times that forward + backward, as `bench-ref/conv_ref.py` counts) and its
//! share of this machine's single-core f32 FMA peak times the threads, the peak measured first
//! by a small probe (independent multiply-add chains on the widest FMA unit the CPU has).
//!
//! Prints a markdown table, then one line per measurement for tools:
//! `BENCH <case> <pass> <threads> <median> <min> <max>`, in milliseconds except `lenet_epoch`
//! (seconds) and `lenet_infer batch1` (microseconds). Timing follows `bench-ref/conv_ref.py`:
//! warm-up, then repetitions until about a second has passed (at least 10, at most 200).
//!
//! `gemm_only` is exactly the GEMMs of the convolution, per image, on columns computed before
//! the clock starts (fwd: `Cout × Cin·K·K × Ho·Wo`; fwdbwd adds `dW = dY·colᵀ` and
//! `dcol = Wᵀ·dY`), split over the threads like the layer's batch: the ceiling of an im2col
//! design. The layer is timed through its public API; the copy of the input that `forward`
//! consumes is timed apart and subtracted.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::Mnist;
use typed_cnn::kernels::{Geom, conv::im2col, gemm};
use typed_cnn::models::ResNet18;
use typed_cnn::prelude::*;

/// Repetition timing: (median, min, max) in milliseconds.
fn time(quick: bool, mut f: impl FnMut()) -> (f64, f64, f64) {
    let (warm, target, min_reps, max_reps) =
        if quick { (0.05, 0.25, 5, 50) } else { (0.2, 1.0, 10, 200) };
    let start = Instant::now();
    let mut w = 0;
    while w < 2 || (start.elapsed().as_secs_f64() < warm && w < 5) {
        f();
        w += 1;
    }
    let mut times = Vec::new();
    let mut total = 0.0;
    while times.len() < min_reps || (total < target && times.len() < max_reps) {
        let t = Instant::now();
        f();
        let dt = t.elapsed().as_secs_f64();
        total += dt;
        times.push(dt * 1e3);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0], times[times.len() - 1])
}

struct Row {
    case: String,
    pass: String,
    threads: usize,
    t: (f64, f64, f64),
    /// The matching gemm_only median, for the ratio column.
    gemm: Option<f64>,
    /// Nominal floating-point operations of one repetition (conv cases: `2·N·COUT·CIN·K²·HO·WO`
    /// forward, three times that forward + backward, as `bench-ref/conv_ref.py` counts).
    flops: Option<f64>,
}

struct Bench {
    quick: bool,
    rows: Vec<Row>,
}

impl Bench {
    fn push(
        &mut self,
        case: &str,
        pass: &str,
        threads: usize,
        t: (f64, f64, f64),
        gemm: Option<f64>,
    ) {
        let row = Row { case: case.into(), pass: pass.into(), threads, t, gemm, flops: None };
        eprintln!("  {case} {pass} {threads}: {:.3} (min {:.3})", t.0, t.1);
        self.rows.push(row);
    }
}

/// The GEMMs of one convolution on precomputed columns, images split over `threads` threads.
fn gemm_only(
    b: &Bench,
    g: Geom,
    n: usize,
    cout: usize,
    threads: usize,
    backward: bool,
) -> (f64, f64, f64) {
    let (ckk, hw_out) = (g.c * g.taps(), g.ho * g.wo);
    let mut rng = StdRng::seed_from_u64(1);
    let x: Vec<f32> =
        T4::<f32, 1, typenum::U1, typenum::U1, typenum::U1>::uniform(&mut rng, -1.0, 1.0)
            .into_vec()
            .into_iter()
            .cycle()
            .take(n * g.c * g.h * g.w)
            .enumerate()
            .map(|(i, v)| v + (i % 7) as f32 * 0.1)
            .collect();
    let w = vec![0.01f32; cout * ckk];
    let mut cols = vec![0.0f32; n * ckk * hw_out];
    for img in 0..n {
        let chw = g.c * g.h * g.w;
        im2col(
            &g,
            &x[img * chw..(img + 1) * chw],
            &mut cols[img * ckk * hw_out..(img + 1) * ckk * hw_out],
        );
    }
    let dy = vec![1.0f32; n * cout * hw_out];
    // The layer's split: min(n, CHUNKS) fixed chunks of near-equal size, dealt round-robin.
    let k = n.min(typed_cnn::CHUNKS);
    let chunk = |i: usize| (i * n / k)..((i + 1) * n / k);
    let threads = threads.clamp(1, k.max(1));
    let run = |t: usize, y: &mut [f32], dw: &mut [f32], dcol: &mut [f32]| {
        for img in (t..k).step_by(threads).flat_map(chunk) {
            let col = &cols[img * ckk * hw_out..(img + 1) * ckk * hw_out];
            gemm(cout, ckk, hw_out, &w, false, col, false, 0.0, &mut y[..cout * hw_out]);
            if backward {
                let dyi = &dy[img * cout * hw_out..(img + 1) * cout * hw_out];
                gemm(cout, hw_out, ckk, dyi, false, col, true, 1.0, dw);
                gemm(ckk, cout, hw_out, &w, true, dyi, false, 0.0, dcol);
            }
        }
    };
    let mut bufs: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = (0..threads)
        .map(|_| (vec![0.0; cout * hw_out], vec![0.0; cout * ckk], vec![0.0; ckk * hw_out]))
        .collect();
    time(b.quick, || {
        std::thread::scope(|s| {
            for (t, (y, dw, dcol)) in bufs.iter_mut().enumerate().take(threads) {
                if t + 1 == threads {
                    run(t, y, dw, dcol);
                } else {
                    s.spawn(move || run(t, y, dw, dcol));
                }
            }
        });
        black_box(&bufs);
    })
}

macro_rules! conv_case {
    ($b:expr, $threads:expr, $name:literal, $n:literal, $cin:literal, $h:literal, $cout:literal,
     $k:literal, $s:literal, $p:literal, $mode:ty) => {{
        let b: &mut Bench = $b;
        let mut rng = StdRng::seed_from_u64(0);
        let conv = Conv2d::<$cin, $cout, $k, $s, $p, $mode>::init(&mut rng);
        let x = Tensor::<$n, $cin, $h, $h>::uniform(&mut rng, 0.0, 1.0);
        let g = Geom::new($cin, $h, $h, $k, $s, $p);
        for &threads in $threads {
            typed_cnn::set_threads(threads);
            let copy = time(b.quick, || {
                black_box(x.clone());
            });
            let fwd = time(b.quick, || {
                black_box(conv.forward(black_box(x.clone())));
            });
            let (y, _) = conv.forward_train(x.clone());
            let ones = {
                let mut d = y;
                d.as_mut_slice().fill(1.0);
                d
            };
            let dy_copy = time(b.quick, || {
                black_box(ones.clone());
            });
            let mut grads = conv.zeros_like();
            let fwdbwd = time(b.quick, || {
                let (y, trace) = conv.forward_train(black_box(x.clone()));
                black_box(&y);
                black_box(conv.backward(trace, ones.clone(), &mut grads));
            });
            let less = |t: (f64, f64, f64), c: f64| (t.0 - c, t.1 - c, t.2 - c);
            let g_fwd = gemm_only(b, g, $n, $cout, threads, false);
            let g_bwd = gemm_only(b, g, $n, $cout, threads, true);
            b.push($name, "fwd", threads, less(fwd, copy.0), Some(g_fwd.0));
            b.push($name, "fwdbwd", threads, less(fwdbwd, copy.0 + dy_copy.0), Some(g_bwd.0));
            b.push($name, "gemm_fwd", threads, g_fwd, None);
            b.push($name, "gemm_fwdbwd", threads, g_bwd, None);
            let fwd_flops = 2.0 * ($n * $cout * $cin * $k * $k * g.ho * g.wo) as f64;
            let rows = b.rows.len();
            for (r, times) in b.rows[rows - 4..].iter_mut().zip([1.0, 3.0, 1.0, 3.0]) {
                r.flops = Some(fwd_flops * times);
            }
        }
    }};
}

type LeNet = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);

/// One training epoch of the mnist example (SGD 0.01 momentum 0.9, batch 64), in seconds, and
/// the test accuracy after it.
fn lenet_epoch(data: &PathBuf, threads: usize) -> Option<(f64, f64)> {
    let (train, test) = match Mnist::load(data) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("skipping lenet_epoch: {e}");
            return None;
        }
    };
    typed_cnn::set_threads(threads);
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = LeNet::init(&mut rng);
    let mut opt = Sgd::new(0.01).momentum(0.9);
    let mut grads = net.zeros_like();
    let start = Instant::now();
    for batch in train.shuffled_batches::<64>(&mut rng) {
        let (logits, trace) = net.forward_train(batch.images);
        let (_, dy) = cross_entropy(&logits, &batch.labels);
        grads.zero();
        net.backward_params(trace, dy, &mut grads);
        opt.step(&mut net, &grads);
    }
    let secs = start.elapsed().as_secs_f64();
    Some((secs, test.evaluate::<100>(&net).accuracy()))
}

/// Independent multiply-add chains, enough to cover the FMA latency on two FMA ports.
const CHAINS: usize = 12;

/// `CHAINS` arrays of 16 lanes, each `rounds` times `v = v·a + b`: `2 · 16 · CHAINS · rounds`
/// floating-point operations. `#[inline(always)]` so that the `target_feature` wrapper below
/// compiles it with AVX-512 and FMA.
#[inline(always)]
fn fma_chains(rounds: usize, a: f32, b: f32) -> f32 {
    let mut v = [1.0f32; 16 * CHAINS];
    for _ in 0..rounds {
        for x in v.iter_mut() {
            *x = x.mul_add(a, b);
        }
    }
    v.iter().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn fma_chains_avx512(rounds: usize, a: f32, b: f32) -> f32 {
    fma_chains(rounds, a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_chains_avx2(rounds: usize, a: f32, b: f32) -> f32 {
    fma_chains(rounds, a, b)
}

/// The instruction set [`fma_peak`] measures.
fn peak_unit() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
            return "f32 AVX-512 FMA";
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return "f32 AVX2 FMA";
        }
    }
    "f32, the build's baseline"
}

/// This machine's single-core f32 multiply-add peak in GFLOP/s, measured: the best of several
/// runs of [`fma_chains`] on the widest FMA unit the CPU has (as the kernels choose theirs).
#[allow(unsafe_code)]
fn fma_peak(quick: bool) -> f64 {
    let rounds = if quick { 200_000 } else { 1_000_000 };
    let run = |rounds: usize| -> f32 {
        let (a, b) = (black_box(0.999_999f32), black_box(1e-7f32));
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX-512F and FMA (checked just above).
                return unsafe { fma_chains_avx512(rounds, a, b) };
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { fma_chains_avx2(rounds, a, b) };
            }
        }
        fma_chains(rounds, a, b)
    };
    black_box(run(rounds / 10)); // warm up (clock ramp)
    (0..5)
        .map(|_| {
            let t = Instant::now();
            black_box(run(rounds));
            (2 * 16 * CHAINS * rounds) as f64 / t.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

fn main() {
    let mut quick = false;
    let mut only: Option<Vec<String>> = None;
    let mut thread_counts = vec![1, 2];
    let mut data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let mut epoch = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => (quick, epoch) = (true, false),
            "--no-epoch" => epoch = false,
            "--cases" => only = args.next().map(|v| v.split(',').map(String::from).collect()),
            "--threads" => {
                thread_counts = args
                    .next()
                    .map(|v| {
                        v.split(',')
                            .filter_map(|t| t.parse().ok())
                            .map(|t: usize| t.max(1))
                            .collect()
                    })
                    .unwrap_or(thread_counts)
            }
            "--data" => data = args.next().map(PathBuf::from).unwrap_or(data),
            _ => {
                eprintln!(
                    "usage: bench [--quick] [--no-epoch] [--cases a,b] [--threads 1,2] [--data DIR]"
                );
                std::process::exit(2);
            }
        }
    }
    let want = |c: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == c));
    let t = &thread_counts[..];
    let mut b = Bench { quick, rows: Vec::new() };
    eprintln!("timing (median, min) in ms:");
    if want("lenet1") {
        conv_case!(&mut b, t, "lenet1", 64, 1, 28, 6, 5, 1, 2, Exact);
    }
    if want("lenet2") {
        conv_case!(&mut b, t, "lenet2", 64, 6, 14, 16, 5, 1, 0, Exact);
    }
    if want("cifar1") {
        conv_case!(&mut b, t, "cifar1", 32, 3, 32, 32, 3, 1, 1, Exact);
    }
    if want("res64") {
        conv_case!(&mut b, t, "res64", 32, 64, 16, 64, 3, 1, 1, Exact);
    }
    if want("c128") {
        conv_case!(&mut b, t, "c128", 8, 128, 28, 128, 3, 1, 1, Exact);
    }
    if want("pw1x1") {
        conv_case!(&mut b, t, "pw1x1", 16, 64, 56, 64, 1, 1, 0, Exact);
    }
    if want("strided") {
        conv_case!(&mut b, t, "strided", 32, 32, 32, 64, 3, 2, 1, Floor);
    }
    if want("dw144") {
        // MobileNetV2's depthwise 3×3 at 56×56, 144 channels (groups = 144)
        let mut rng = StdRng::seed_from_u64(0);
        let dw = DepthwiseConv2d::<144, 3, 1, 1, Exact, f32, NoBias>::init(&mut rng);
        let x = Tensor::<32, 144, 56, 56>::uniform(&mut rng, 0.0, 1.0);
        let ones = T4::filled(1.0);
        for &threads in t {
            typed_cnn::set_threads(threads);
            let fwd = time(quick, || {
                black_box(dw.forward(black_box(x.clone())));
            });
            b.push("dw144", "fwd", threads, fwd, None);
            let mut grads = dw.zeros_like();
            let fwdbwd = time(quick, || {
                let (y, trace) = dw.forward_train(black_box(x.clone()));
                black_box(&y);
                black_box(dw.backward(trace, ones.clone(), &mut grads));
            });
            b.push("dw144", "fwdbwd", threads, fwdbwd, None);
        }
    }
    if want("up2x2") {
        // U-Net's up-convolution: 2×2 transposed, stride 2, 64 → 32 channels, 28×28 → 56×56
        let mut rng = StdRng::seed_from_u64(0);
        let up = ConvTranspose2d::<64, 32, 2, 2>::init(&mut rng);
        let x = Tensor::<16, 64, 28, 28>::uniform(&mut rng, 0.0, 1.0);
        let ones = T4::filled(1.0);
        for &threads in t {
            typed_cnn::set_threads(threads);
            let fwd = time(quick, || {
                black_box(up.forward(black_box(x.clone())));
            });
            b.push("up2x2", "fwd", threads, fwd, None);
            let mut grads = up.zeros_like();
            let fwdbwd = time(quick, || {
                let (y, trace) = up.forward_train(black_box(x.clone()));
                black_box(&y);
                black_box(up.backward(trace, ones.clone(), &mut grads));
            });
            b.push("up2x2", "fwdbwd", threads, fwdbwd, None);
        }
    }
    if want("resnet18_step") {
        // One SGD step of the zoo's ResNet-18 (10 classes) on a batch of 16 images of 64×64
        let mut rng = StdRng::seed_from_u64(0);
        let mut net = ResNet18::<10>::init(&mut rng);
        let x = Tensor::<16, 3, 64, 64>::uniform(&mut rng, 0.0, 1.0);
        let labels = Labels::<16, 10>::new((0..16).map(|i| i % 10).collect()).expect("labels");
        let mut opt = Sgd::new(0.01).momentum(0.9);
        let mut grads = net.zeros_like();
        for &threads in t {
            typed_cnn::set_threads(threads);
            let step = time(quick, || {
                let (logits, trace) = net.forward_train(black_box(x.clone()));
                let (_, dlogits) = cross_entropy(&logits, &labels);
                grads.zero();
                net.backward_params(trace, dlogits, &mut grads);
                opt.step(&mut net, &grads);
            });
            b.push("resnet18_step", "train", threads, step, None);
        }
    }
    if want("lenet_infer") {
        let net = LeNet::init(&mut StdRng::seed_from_u64(0));
        for &threads in t {
            typed_cnn::set_threads(threads);
            let x1 = Tensor::<1, 1, 28, 28>::filled(0.5);
            let one = time(quick, || {
                black_box(net.forward(black_box(x1.clone())));
            });
            b.push("lenet_infer", "batch1", threads, (one.0 * 1e3, one.1 * 1e3, one.2 * 1e3), None);
            let x64 = Tensor::<64, 1, 28, 28>::filled(0.5);
            let many = time(quick, || {
                black_box(net.forward(black_box(x64.clone())));
            });
            b.push("lenet_infer", "batch64", threads, many, None);
        }
    }
    let mut accuracy = Vec::new();
    if epoch && want("lenet_epoch") {
        for &threads in t {
            if let Some((secs, acc)) = lenet_epoch(&data, threads) {
                b.push("lenet_epoch", "train", threads, (secs, secs, secs), None);
                accuracy.push((threads, acc));
            }
        }
    }
    typed_cnn::set_threads(1);
    let peak = fma_peak(quick);

    println!(
        "single-core FMA peak, measured: {peak:.1} GFLOP/s ({}); % peak is of threads × that\n",
        peak_unit()
    );
    println!(
        "| case | pass | threads | median | min | max | gemm_only | ratio | GFLOP/s | % peak |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &b.rows {
        let unit = match (r.case.as_str(), r.pass.as_str()) {
            ("lenet_epoch", _) => " s",
            ("lenet_infer", "batch1") => " µs",
            _ => " ms",
        };
        let (g, ratio) = match r.gemm {
            Some(g) => (format!("{g:.3}"), format!("{:.2}", r.t.0 / g)),
            None => (String::new(), String::new()),
        };
        let (rate, share) = match r.flops {
            Some(f) => {
                let gflops = f / (r.t.0 * 1e-3) / 1e9;
                (
                    format!("{gflops:.1}"),
                    format!("{:.0}", 100.0 * gflops / (peak * r.threads as f64)),
                )
            }
            None => (String::new(), String::new()),
        };
        println!(
            "| {} | {} | {} | {:.3}{unit} | {:.3} | {:.3} | {g} | {ratio} | {rate} | {share} |",
            r.case, r.pass, r.threads, r.t.0, r.t.1, r.t.2
        );
    }
    for (threads, acc) in accuracy {
        println!(
            "\nlenet_epoch with {threads} thread(s): test accuracy {:.2}% after 1 epoch",
            100.0 * acc
        );
    }
    println!();
    for r in &b.rows {
        println!(
            "BENCH {} {} {} {:.4} {:.4} {:.4}",
            r.case, r.pass, r.threads, r.t.0, r.t.1, r.t.2
        );
    }
}
