//! The model zoo's U-Net on a synthetic segmentation task made here: 32×32 grey images of discs
//! and squares on a noisy, unevenly lit background; every pixel is to be labelled background,
//! disc or square. Both kinds of shape have the same brightness range, so only their outline
//! tells them apart, and they may overlap (the later one is on top).
//!
//! ```text
//! cargo run --release --example unet                  # 8 epochs
//! cargo run --release --example unet -- --epochs 3 --seed 7
//! ```
//!
//! Trains on 2,048 scenes and reports, on 512 others, each class's IoU (intersection over union
//! of the predicted and true pixels), their mean (mIoU) and pixel accuracy, beside what labelling
//! every pixel background scores. Each epoch's line gives the training loss, the pixel accuracy
//! on the training batches as trained and the test mIoU. Expected output: see the README. The
//! weights go to `target/examples-out/unet-shapes.safetensors` under the names of the PyTorch
//! module in `tests/fixtures/make_torch_models.py`, the curve to `…/unet-curve.svg`.

mod common;

use common::{Args, EpochMeter, save_curve, save_weights};
use rand::{Rng, SeedableRng, rngs::StdRng};
use typed_cnn::finite::check_finite;
use typed_cnn::models::UNet;
use typed_cnn::optim::{CosineLr, LrSchedule};
use typed_cnn::prelude::*;

const SIDE: usize = 32;
const CLASSES: usize = 3;
const NAMES: [&str; CLASSES] = ["background", "disc", "square"];
const BATCH: usize = 16;
const TRAIN: usize = 2048;
const TEST: usize = 512;

/// One image and its per-pixel classes, `SIDE × SIDE` each, row-major.
struct Scene {
    image: Vec<f32>,
    mask: Vec<usize>,
}

/// One to three discs or squares (radius or half side 3 to 7 pixels, brightness 0.45 to 1) on a
/// background lit by a random linear ramp (0 to 0.35), with uniform noise of ±0.25 on every pixel.
fn scene(rng: &mut impl Rng) -> Scene {
    let mut mask = vec![0; SIDE * SIDE];
    let mut level = vec![0.0f32; SIDE * SIDE];
    for _ in 0..rng.random_range(1..=3) {
        let class = rng.random_range(1..CLASSES);
        let r = rng.random_range(3.0f32..7.5);
        let (cy, cx) = (rng.random_range(r..SIDE as f32 - r), rng.random_range(r..SIDE as f32 - r));
        let brightness = rng.random_range(0.45f32..1.0);
        for y in 0..SIDE {
            for x in 0..SIDE {
                let (dy, dx) = (y as f32 + 0.5 - cy, x as f32 + 0.5 - cx);
                let inside = match class {
                    1 => dy * dy + dx * dx <= r * r,
                    _ => dy.abs() <= r && dx.abs() <= r,
                };
                if inside {
                    mask[y * SIDE + x] = class;
                    level[y * SIDE + x] = brightness;
                }
            }
        }
    }
    let (ramp_y, ramp_x) = (rng.random_range(-0.35f32..0.35), rng.random_range(-0.35f32..0.35));
    let image = (0..SIDE * SIDE)
        .map(|i| {
            let (y, x) = ((i / SIDE) as f32 / SIDE as f32, (i % SIDE) as f32 / SIDE as f32);
            let light = (ramp_y * y + ramp_x * x).abs();
            let lit = if mask[i] == 0 { light } else { level[i] };
            lit + rng.random_range(-0.25f32..0.25)
        })
        .collect();
    Scene { image, mask }
}

/// `BATCH` scenes as the network's input and the loss's labels.
fn batch(
    scenes: &[&Scene],
) -> (Tensor<BATCH, 1, SIDE, SIDE>, PixelLabels<BATCH, SIDE, SIDE, CLASSES>) {
    let images: Vec<f32> = scenes.iter().flat_map(|s| s.image.iter().copied()).collect();
    let masks: Vec<usize> = scenes.iter().flat_map(|s| s.mask.iter().copied()).collect();
    let x = Tensor::<BATCH, 1, SIDE, SIDE>::from_slice(&images).expect("BATCH images of SIDE²");
    (x, PixelLabels::new(masks).expect("every class is below CLASSES"))
}

/// Per-pixel class counts over a data set: `[true][predicted]`.
#[derive(Default)]
struct Confusion([[u64; CLASSES]; CLASSES]);

impl Confusion {
    /// Adds a batch of predictions.
    fn add(&mut self, logits: &Tensor<BATCH, CLASSES, SIDE, SIDE>, truth: &[usize]) {
        let images = logits.as_slice().chunks_exact(CLASSES * SIDE * SIDE);
        for (image, truth) in images.zip(truth.chunks_exact(SIDE * SIDE)) {
            for (&t, p) in truth.iter().zip(predict(image)) {
                self.0[t][p] += 1;
            }
        }
    }
    /// Class `c`'s intersection over union, `TP / (TP + FP + FN)` (1 for a class never present
    /// nor predicted).
    fn iou(&self, c: usize) -> f64 {
        let tp = self.0[c][c];
        let fn_: u64 = self.0[c].iter().sum::<u64>() - tp;
        let fp: u64 = (0..CLASSES).map(|t| self.0[t][c]).sum::<u64>() - tp;
        if tp + fp + fn_ == 0 { 1.0 } else { tp as f64 / (tp + fp + fn_) as f64 }
    }
    fn miou(&self) -> f64 {
        (0..CLASSES).map(|c| self.iou(c)).sum::<f64>() / CLASSES as f64
    }
    fn accuracy(&self) -> f64 {
        let right: u64 = (0..CLASSES).map(|c| self.0[c][c]).sum();
        right as f64 / self.0.iter().flatten().sum::<u64>() as f64
    }
    /// What predicting background everywhere would score on the same pixels.
    fn all_background(&self) -> Confusion {
        let mut base = Confusion::default();
        for t in 0..CLASSES {
            base.0[t][0] = self.0[t].iter().sum();
        }
        base
    }
}

/// Each pixel's predicted class, its largest logit, from one image's `(CLASSES, SIDE, SIDE)`
/// logits.
fn predict(image: &[f32]) -> Vec<usize> {
    let plane = SIDE * SIDE;
    let class = |p: usize| {
        (0..CLASSES).max_by(|&a, &b| image[a * plane + p].total_cmp(&image[b * plane + p]))
    };
    (0..plane).map(|p| class(p).unwrap_or(0)).collect()
}

/// The test set through the network in inference mode (batch norm's running statistics).
fn evaluate(net: &UNet<1, CLASSES>, test: &[Scene]) -> Confusion {
    let mut cm = Confusion::default();
    for group in test.chunks_exact(BATCH) {
        let refs: Vec<&Scene> = group.iter().collect();
        let (x, labels) = batch(&refs);
        cm.add(&net.forward(x), labels.as_slice());
    }
    cm
}

fn main() {
    let args = Args::parse("unet", 8, ".");
    let mut rng = StdRng::seed_from_u64(args.seed);
    let train: Vec<Scene> = (0..TRAIN).map(|_| scene(&mut rng)).collect();
    let test: Vec<Scene> = (0..TEST).map(|_| scene(&mut rng)).collect();
    let mut net = UNet::<1, CLASSES>::init(&mut rng);
    println!(
        "unet: {TRAIN} train / {TEST} test scenes of {SIDE}×{SIDE}, classes {}, {} parameters",
        NAMES.join(", "),
        Params::<f32>::param_count(&net)
    );
    let mut opt = Adam::new(3e-3);
    let schedule = CosineLr { base_lr: 3e-3, t_max: args.epochs, eta_min: 1e-4 };
    let mut grads = net.zeros_like();
    let mut order: Vec<usize> = (0..TRAIN).collect();
    let mut history = Vec::new();
    for epoch in 1..=args.epochs {
        opt.set_lr(schedule.lr(epoch - 1));
        // a fresh order each epoch (Fisher–Yates)
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut meter = EpochMeter::start(epoch, args.epochs, TRAIN / BATCH);
        for chunk in order.chunks_exact(BATCH) {
            let scenes: Vec<&Scene> = chunk.iter().map(|&i| &train[i]).collect();
            let (x, labels) = batch(&scenes);
            let (logits, trace): (Tensor<BATCH, CLASSES, SIDE, SIDE>, _) = net.forward_train(x);
            let (loss, dlogits) = pixel_cross_entropy(&logits, &labels);
            grads.zero();
            net.backward_params(trace, dlogits, &mut grads);
            if let Err(e) = check_finite(opt.steps(), loss, &grads) {
                meter.exit_with(e);
            }
            opt.step(&mut net, &grads);
            // the pixels predicted right, as trained on (train mode)
            let mut seen = Confusion::default();
            seen.add(&logits, labels.as_slice());
            let right: u64 = (0..CLASSES).map(|c| seen.0[c][c]).sum();
            meter.record_counts(loss, right as usize, BATCH * SIDE * SIDE);
        }
        meter.clear();
        let line = meter.finish_as(evaluate(&net, &test).miou(), "test mIoU");
        println!("{line}");
        history.push(line);
    }

    let cm = evaluate(&net, &test);
    let base = cm.all_background();
    println!("\ntest set, {TEST} scenes ({} pixels):", TEST * SIDE * SIDE);
    println!("{:>12} {:>8} {:>16}", "class", "IoU", "all-background");
    for (c, name) in NAMES.iter().enumerate() {
        println!("{name:>12} {:>8.3} {:>16.3}", cm.iou(c), base.iou(c));
    }
    println!("{:>12} {:>8.3} {:>16.3}", "mean (mIoU)", cm.miou(), base.miou());
    println!("{:>12} {:>8.3} {:>16.3}", "pixel acc.", cm.accuracy(), base.accuracy());
    show(&net, &test[0]);
    save_weights(&args.out, "unet-shapes.safetensors", &net);
    save_curve(
        &args.out,
        "unet-curve.svg",
        "Synthetic shapes: U-Net (16/32/64), Adam 3e-3 cosine, batch 16 (train acc: pixels)",
        &history,
    );
}

/// The first test scene: its image, true mask and predicted mask as text (`·` background, `o`
/// disc, `#` square).
fn show(net: &UNet<1, CLASSES>, first: &Scene) {
    let (x, _) = batch(&[first; BATCH]);
    let logits = net.forward(x);
    let predicted = predict(&logits.as_slice()[..CLASSES * SIDE * SIDE]);
    let glyph = |c: usize| ['·', 'o', '#'][c];
    let shade = |v: f32| [' ', '░', '▒', '▓', '█'][((v.clamp(0.0, 0.99)) * 5.0) as usize];
    println!("\nfirst test scene: image, true mask, predicted mask");
    for y in (0..SIDE).step_by(2) {
        let row =
            |f: &dyn Fn(usize) -> char| (0..SIDE).map(|x| f(y * SIDE + x)).collect::<String>();
        println!(
            "{}   {}   {}",
            row(&|i| shade(first.image[i])),
            row(&|i| glyph(first.mask[i])),
            row(&|i| glyph(predicted[i]))
        );
    }
}
