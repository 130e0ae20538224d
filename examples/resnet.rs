//! A small ResNet on Fashion-MNIST (60,000 train / 10,000 test images of clothing, 28×28), built
//! from the model zoo's torchvision blocks with `network!`: a 3×3 stem, then a basic block at 16
//! channels (28×28), and two stages that halve the size with a projection shortcut and double
//! the channels (32 at 14×14, 64 at 7×7), global average pooling and a linear classifier —
//! ResNet-8 in the CIFAR style of He et al. (2016): one block per stage.
//!
//! ```text
//! sudo apt-get install dataset-fashion-mnist                # Debian / Ubuntu
//! cargo run --release --example resnet                      # 10 epochs
//! cargo run --release --example resnet -- --epochs 3 --data path/to/fashion-mnist
//! ```
//!
//! The files are the four IDX files of <https://github.com/zalandoresearch/fashion-mnist>
//! (`train-images-idx3-ubyte.gz`, …, as for MNIST). Expected output: see the README.
//! Then the confusion matrix; the weights go to `target/examples-out/resnet-fashion.safetensors`
//! under torchvision's names (`layer2.downsample.0.weight`, …) and the curve to
//! `…/resnet-curve.svg`.

mod common;

use common::{Args, EpochMeter, print_confusion, save_curve, save_weights};
use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::Mnist;
use typed_cnn::data::augment::{random_flip, random_shift};
use typed_cnn::finite::check_finite;
use typed_cnn::init::{Scheme, reinit};
use typed_cnn::models::{BasicBlock, DownBlock};
use typed_cnn::optim::{CosineLr, LrSchedule};
use typed_cnn::prelude::*;

typed_cnn::network! {
    /// 28 → 28 (stem, layer1) → 14 (layer2) → 7 (layer3) → global average → 10 classes.
    struct FashionResNet {
        conv1: Conv2d<1, 16, 3, 1, 1, Exact, f32, NoBias>,
        bn1: BatchNorm2d<16>,
        relu: Relu,
        layer1: BasicBlock<16>,
        layer2: (DownBlock<16, 32>, BasicBlock<32>),
        layer3: (DownBlock<32, 64>, BasicBlock<64>),
        avgpool: GlobalAvgPool2d,
        flatten: Flatten,
        fc: Linear<64, 10>,
    }
}

const BATCH: usize = 64;
const CLASSES: [&str; 10] = [
    "T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
];

fn main() {
    let args = Args::parse("resnet", 10, "/usr/share/datasets/fashion-mnist");
    let (train, test) = Mnist::load(&args.data).unwrap_or_else(|e| {
        eprintln!(
            "error: {e}\nFashion-MNIST is not there: install it with `sudo apt-get install \
             dataset-fashion-mnist` (files in /usr/share/datasets/fashion-mnist), or download the \
             four files of https://github.com/zalandoresearch/fashion-mnist (data/fashion) and \
             pass their directory with --data DIR"
        );
        std::process::exit(1)
    });

    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut net = FashionResNet::init(&mut rng);
    reinit(&mut net, Scheme::HeNormal, &mut rng);
    println!(
        "resnet: Fashion-MNIST, {} train / {} test images, {} parameters, classes {}",
        train.len(),
        test.len(),
        Params::<f32>::param_count(&net),
        CLASSES.join(", ")
    );
    let mut opt = Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(5e-4);
    let schedule = CosineLr { base_lr: 0.1, t_max: args.epochs, eta_min: 0.0 };
    let mut grads = net.zeros_like();
    let mut history = Vec::new();
    for epoch in 1..=args.epochs {
        opt.set_lr(schedule.lr(epoch - 1));
        let mut meter = EpochMeter::start(epoch, args.epochs, train.len().div_ceil(BATCH));
        for batch in train.shuffled_batches::<BATCH>(&mut rng) {
            // Augmentation: shifts of up to 2 pixels and left-right mirroring (clothing keeps
            // its class when mirrored; digits would not).
            let mut images = batch.images;
            random_shift(&mut images, 2, &mut rng);
            random_flip(&mut images, &mut rng);
            let (logits, trace): (Tensor2<BATCH, 10>, _) = net.forward_train(images);
            let (loss, dlogits) = cross_entropy(&logits, &batch.labels);
            grads.zero();
            net.backward_params(trace, dlogits, &mut grads);
            if let Err(e) = check_finite(opt.steps(), loss, &grads) {
                meter.exit_with(e);
            }
            opt.step(&mut net, &grads);
            meter.record(loss, &logits, &batch.labels, batch.len);
        }
        meter.clear();
        let test_acc = test.evaluate::<BATCH>(&net).accuracy();
        let line = meter.finish(test_acc);
        println!("{line}");
        history.push(line);
    }

    print_confusion(&test.evaluate::<BATCH>(&net));
    save_weights(&args.out, "resnet-fashion.safetensors", &net);
    save_curve(
        &args.out,
        "resnet-curve.svg",
        "Fashion-MNIST: ResNet-8 (16/32/64), SGD Nesterov 0.1 cosine, batch 64",
        &history,
    );
}
