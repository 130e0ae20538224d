//! The quick start: a small CNN on the UCI 8×8 digits, trained in seconds.
//!
//! ```text
//! cargo run --release --example digits                 # 30 epochs, data from data/digits
//! cargo run --release --example digits -- --epochs 5 --data path/to/dir
//! ```
//!
//! Expected output (a 2-core machine; accuracy reproduces exactly with the same seed, times vary):
//! ```text
//! digits: 1500 train / 297 test images, Tensor<32, 1, 8, 8> → Tensor2<32, 10>, 1898 parameters
//! epoch 1/30: loss 2.2210  train acc 25.20%  test acc 37.71%  (0.0 s)
//! epoch 2/30: loss 0.8997  train acc 72.87%  test acc 84.51%  (0.0 s)
//! …
//! epoch 30/30: loss 0.0007  train acc 100.00%  test acc 94.95%  (0.0 s)
//! ```
//! then the test-set confusion matrix, the weights in `target/examples-out/digits.safetensors`
//! and the curve in `target/examples-out/digits-curve.svg`.

mod common;

use common::{Args, Plan, exit_with, fit, save_curve, save_weights};
use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::Digits;
use typed_cnn::prelude::*;

/// conv 3×3 pad 1 (1→8), relu, maxpool 2, conv 3×3 pad 1 (8→16), relu, maxpool 2, flatten,
/// linear 64→10: 8×8 → 4×4 → 2×2, and 16·2·2 = 64 features, checked by the compiler.
type Net = (
    (Conv2d<1, 8, 3, 1, 1>, Relu, MaxPool2d<2>),
    (Conv2d<8, 16, 3, 1, 1>, Relu, MaxPool2d<2>),
    Flatten,
    Linear<64, 10>,
);

const BATCH: usize = 32;

fn main() {
    let args = Args::parse("digits", 30, "data/digits");
    let file = ["digits.csv.gz", "digits.csv"]
        .iter()
        .map(|f| args.data.join(f))
        .find(|p| p.exists())
        .unwrap_or_else(|| args.data.join("digits.csv.gz"));
    let all = Digits::load(&file).unwrap_or_else(|e| exit_with(e));
    if all.len() <= 1500 {
        exit_with(format!(
            "{}: {} rows, but the split needs more than 1500",
            file.display(),
            all.len()
        ));
    }
    let (train, test) = (all.subset(0..1500), all.subset(1500..all.len()));

    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut net = Net::init(&mut rng);
    println!(
        "digits: {} train / {} test images, Tensor<{BATCH}, 1, 8, 8> → Tensor2<{BATCH}, 10>, {} parameters",
        train.len(),
        test.len(),
        Params::<f32>::param_count(&net)
    );
    let mut opt = Sgd::new(0.05).momentum(0.9);
    let plan = Plan { epochs: args.epochs, shift: 0, schedule: None };
    let history = fit::<_, _, BATCH, 1, 8, 8>(&mut net, &mut opt, &train, &test, &plan, &mut rng);

    println!("\ntest set, row = true digit, column = predicted:\n{}", test.evaluate::<BATCH>(&net));
    save_weights(&args.out, "digits.safetensors", &net);
    save_curve(&args.out, "digits-curve.svg", "digits: small CNN, SGD 0.05 momentum 0.9", &history);
}
