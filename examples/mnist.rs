//! The main job: LeNet-5 on MNIST (60,000 train / 10,000 test), with every layer's shape checked
//! by the compiler.
//!
//! `main` spells out the training loop: forward, loss, backward, NaN check, optimizer step;
//! `common/` holds only the command line, progress bar, epoch line and output files.
//!
//! ```text
//! cargo run --release --example mnist                      # 5 epochs, data from data/mnist
//! cargo run --release --example mnist -- --epochs 1 --data path/to/mnist --out weights-dir
//! ```
//!
//! Expected output (2 threads on a 2-core machine; accuracy reproduces with the same seed for any
//! thread count, times vary with the machine and its load):
//! ```text
//! mnist: 60000 train / 10000 test images, Tensor<64, 1, 28, 28> → Tensor2<64, 10>, 44426 parameters
//! epoch 1/5: loss 0.5294  train acc 82.89%  test acc 97.42%  (1.5 s)
//! epoch 2/5: loss 0.0811  train acc 97.55%  test acc 98.09%  (1.5 s)
//! epoch 3/5: loss 0.0569  train acc 98.23%  test acc 98.35%  (1.5 s)
//! epoch 4/5: loss 0.0427  train acc 98.69%  test acc 98.53%  (1.5 s)
//! epoch 5/5: loss 0.0366  train acc 98.84%  test acc 98.64%  (1.5 s)
//! ```
//! then the confusion matrix; the weights go to `target/examples-out/lenet-mnist.safetensors`
//! (PyTorch names: `0.0.weight`, `3.4.bias`, …) and the curve to `…/mnist-curve.svg`.

mod common;

use common::{Args, EpochMeter, exit_with, print_confusion, save_curve, save_weights};
use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::Mnist;
use typed_cnn::finite::check_finite;
use typed_cnn::prelude::*;

/// LeNet-5 for 28×28 input, the crate's [`typed_cnn::models::LeNet5`], the very type the
/// Cortex-M example (`examples/cortex-m`) runs on a microcontroller with these weights:
///
/// ```text
/// (
///     (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),   // 28 → conv 5 → 24 → pool → 12
///     (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),  // 12 → conv 5 → 8 → pool → 4
///     Flatten,                                  // 16·4·4 = 256 features
///     (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
/// )
/// ```
/// Change any number in it and it fails to compile.
type LeNet = typed_cnn::models::LeNet5;

const BATCH: usize = 64;

fn main() {
    let args = Args::parse("mnist", 5, "data/mnist");
    let (train, test) = Mnist::load(&args.data).unwrap_or_else(|e| exit_with(e));

    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut net = LeNet::init(&mut rng);
    println!(
        "mnist: {} train / {} test images, Tensor<{BATCH}, 1, 28, 28> → Tensor2<{BATCH}, 10>, {} parameters",
        train.len(),
        test.len(),
        Params::<f32>::param_count(&net)
    );
    let mut opt = Sgd::new(0.01).momentum(0.9);
    // The gradients have the network's own type, zero-filled: one tensor per parameter.
    let mut grads = net.zeros_like();
    let mut history = Vec::new();
    for epoch in 1..=args.epochs {
        // ⌈60000 / 64⌉ = 938 batches: the last one is topped up by wrapping around.
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
            // SGD with momentum, as PyTorch: v = 0.9·v + g, then w −= 0.01·v for every parameter.
            opt.step(&mut net, &grads);
            // For the epoch line: the loss, and the accuracy on the batch's real rows.
            meter.record(loss, &logits, &batch.labels, batch.len);
        }
        meter.clear(); // the progress bar
        // After each epoch, the accuracy on the test set (inference forward, no trace).
        let test_acc = test.evaluate::<BATCH>(&net).accuracy();
        let line = meter.finish(test_acc);
        println!("{line}"); // epoch 1/5: loss 0.5294  train acc 82.89%  test acc 97.42%  (1.5 s)
        history.push(line);
    }

    print_confusion(&test.evaluate::<BATCH>(&net));
    if save_weights(&args.out, "lenet-mnist.safetensors", &net) {
        println!("try `cargo run --release --example inference`");
    }
    save_curve(
        &args.out,
        "mnist-curve.svg",
        "MNIST: LeNet-5, SGD 0.01 momentum 0.9, batch 64",
        &history,
    );
}
