//! A residual CNN with batch norm on MNIST: two residual blocks, a strided convolution in
//! PyTorch's floor mode, global average pooling, random 2-pixel shifts, SGD with Nesterov momentum,
//! weight decay and a cosine learning-rate schedule.
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

use common::{Args, Plan, exit_with, fit, save_curve};
use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::Mnist;
use typed_cnn::init::{Scheme, reinit};
use typed_cnn::optim::CosineLr;
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
    let plan = Plan { epochs: args.epochs, shift: 2, schedule: Some(&schedule) };
    let history = fit::<_, _, BATCH, 1, 28, 28>(&mut net, &mut opt, &train, &test, &plan, &mut rng);

    println!("\ntest set, row = true digit, column = predicted:\n{}", test.evaluate::<BATCH>(&net));
    save_curve(&args.out, "residual-curve.svg", "MNIST: residual CNN with batch norm", &history);
}
