//! The quick start: a small CNN on the UCI 8×8 digits, trained in seconds.
//!
//! `main` spells out the training loop: forward, loss, backward, NaN check, optimizer step;
//! `common/` holds only the command line, progress bar, epoch line and output files.
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

use common::{Args, EpochMeter, exit_with, print_confusion, save_curve, save_weights};
use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::Digits;
use typed_cnn::finite::check_finite;
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
    // The gradients have the network's own type, zero-filled: one tensor per parameter.
    let mut grads = net.zeros_like();
    let mut history = Vec::new();
    for epoch in 1..=args.epochs {
        // ⌈1500 / 32⌉ = 47 batches: the last one is topped up by wrapping around.
        let mut meter = EpochMeter::start(epoch, args.epochs, train.len().div_ceil(BATCH));
        for batch in train.shuffled_batches::<BATCH>(&mut rng) {
            // Forward: the logits (the annotation is a shape the compiler checks) and a trace of
            // what backward needs (im2col columns, pooling argmaxes, ReLU masks, inputs).
            let (logits, trace): (Tensor2<BATCH, 10>, _) = net.forward_train(batch.images);
            // The batch's mean cross-entropy and its gradient dL/dlogits, in one call.
            let (loss, dlogits) = cross_entropy(&logits, &batch.labels);
            // Backward adds (+=) into the gradients: clear the last step's first. A training
            // step needs no dL/dx, so `backward_params` skips it.
            grads.zero();
            net.backward_params(trace, dlogits, &mut grads);
            // Stop at the first NaN or infinity instead of writing it into the weights.
            if let Err(e) = check_finite(opt.steps(), loss, &grads) {
                meter.exit_with(e);
            }
            // SGD with momentum, as PyTorch: v = 0.9·v + g, then w −= 0.05·v for every parameter.
            opt.step(&mut net, &grads);
            // For the epoch line: the loss, and the accuracy on the batch's real rows.
            meter.record(loss, &logits, &batch.labels, batch.len);
        }
        meter.clear(); // the progress bar
        // After each epoch, the accuracy on the test set (inference forward, no trace).
        let test_acc = test.evaluate::<BATCH>(&net).accuracy();
        let line = meter.finish(test_acc);
        println!("{line}"); // epoch 1/30: loss 2.2210  train acc 25.20%  test acc 37.71%  (0.0 s)
        history.push(line);
    }

    print_confusion(&test.evaluate::<BATCH>(&net));
    save_weights(&args.out, "digits.safetensors", &net);
    save_curve(&args.out, "digits-curve.svg", "digits: small CNN, SGD 0.05 momentum 0.9", &history);
}
