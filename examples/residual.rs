//! A residual CNN with batch norm on MNIST: two residual blocks, a strided convolution in
//! PyTorch's floor mode, global average pooling, random 2-pixel shifts, SGD with Nesterov momentum,
//! weight decay and a cosine learning-rate schedule.
//!
//! `main` spells out the training loop: forward, loss, backward, NaN check, optimizer step;
//! `common/` holds only the command line, progress bar, epoch line and output files.
//!
//! ```text
//! cargo run --release --example residual                   # 3 epochs, data from data/mnist
//! cargo run --release --example residual -- --epochs 1 --data path/to/mnist
//! ```
//!
//! Expected output (see the README for a full run; times vary with the machine):
//! ```text
//! residual: 60000 train / 10000 test images, 28554 parameters
//! epoch 1/3: loss 0.2070  train acc 93.93%  test acc 98.52%  (19.0 s)
//! epoch 2/3: loss 0.0539  train acc 98.47%  test acc 98.14%  (18.4 s)
//! epoch 3/3: loss 0.0339  train acc 99.08%  test acc 99.17%  (18.5 s)
//! ```
//! then the confusion matrix and the curve in `target/examples-out/residual-curve.svg`.

mod common;

use common::{Args, EpochMeter, exit_with, print_confusion, save_curve};
use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::Mnist;
use typed_cnn::data::augment::random_shift;
use typed_cnn::finite::check_finite;
use typed_cnn::init::{Scheme, reinit};
use typed_cnn::optim::{CosineLr, LrSchedule};
use typed_cnn::prelude::*;

/// `x + f(x)` with `f` = conv, batch norm, relu, conv, batch norm; the compiler checks that `f`
/// keeps the shape.
type Block<const C: usize> =
    Residual<(Conv2d<C, C, 3, 1, 1>, BatchNorm2d<C>, Relu, Conv2d<C, C, 3, 1, 1>, BatchNorm2d<C>)>;

/// 28 → 14 (pool) → 7 (stride 2, padding 1: (14 + 2 − 3)/2 + 1 = 7.5, floored as in PyTorch;
/// the default exact mode would refuse it) → global average → 10 classes.
type ResNet = (
    (Conv2d<1, 16, 3, 1, 1>, BatchNorm2d<16>, Relu, MaxPool2d<2>),
    (Block<16>, Relu),
    (Conv2d<16, 32, 3, 2, 1, Floor>, BatchNorm2d<32>, Relu),
    (Block<32>, Relu),
    (GlobalAvgPool2d, Flatten, Linear<32, 10>),
);

const BATCH: usize = 64;

fn main() {
    let args = Args::parse("residual", 3, "data/mnist");
    let (train, test) = Mnist::load(&args.data).unwrap_or_else(|e| exit_with(e));

    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut net = ResNet::init(&mut rng);
    reinit(&mut net, Scheme::HeNormal, &mut rng);
    println!(
        "residual: {} train / {} test images, {} parameters",
        train.len(),
        test.len(),
        Params::<f32>::param_count(&net)
    );
    let mut opt = Sgd::new(0.05).momentum(0.9).nesterov(true).weight_decay(5e-4);
    let schedule = CosineLr { base_lr: 0.05, t_max: args.epochs, eta_min: 0.0 };
    // The gradients have the network's own type, zero-filled: one tensor per parameter.
    let mut grads = net.zeros_like();
    let mut history = Vec::new();
    for epoch in 1..=args.epochs {
        // The cosine schedule sets this epoch's learning rate: 0.05 at the start, down to 0.
        opt.set_lr(schedule.lr(epoch - 1));
        // ⌈60000 / 64⌉ = 938 batches: the last one is topped up by wrapping around.
        let mut meter = EpochMeter::start(epoch, args.epochs, train.len().div_ceil(BATCH));
        for batch in train.shuffled_batches::<BATCH>(&mut rng) {
            // Augmentation: shift each image by up to 2 pixels (a fresh draw every epoch).
            let mut images = batch.images;
            random_shift(&mut images, 2, &mut rng);
            // Forward: the logits (the annotation is a shape the compiler checks) and a trace of
            // what backward needs (im2col columns, pooling argmaxes, ReLU masks, inputs).
            let (logits, trace): (Tensor2<BATCH, 10>, _) = net.forward_train(images);
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
            // SGD: Nesterov momentum 0.9, weight decay 5e-4 added to the gradient.
            opt.step(&mut net, &grads);
            // For the epoch line: the loss, and the accuracy on the batch's real rows.
            meter.record(loss, &logits, &batch.labels, batch.len);
        }
        meter.clear(); // the progress bar
        // After each epoch, the accuracy on the test set: inference forward, where batch norm
        // uses its running statistics.
        let test_acc = test.evaluate::<BATCH>(&net).accuracy();
        let line = meter.finish(test_acc);
        println!("{line}"); // epoch 1/3: loss 0.2070  train acc 93.93%  test acc 98.52%  (19.0 s)
        history.push(line);
    }

    print_confusion(&test.evaluate::<BATCH>(&net));
    save_curve(&args.out, "residual-curve.svg", "MNIST: residual CNN with batch norm", &history);
}
