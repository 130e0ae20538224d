//! What the compiler checks: networks whose every intermediate shape is inferred, and (in the
//! comments, with the messages you get) the mistakes that do not compile.
//!
//! Run: `cargo run --release --example shapes`
//!
//! Prints each network's layer-by-layer shapes and one training step, e.g.
//! ```text
//! LeNet-5 on (64, 1, 28, 28): 44426 parameters
//!   conv 1→6 k5, relu, maxpool 2  → [64, 6, 12, 12]
//!   ...
//! ```
//! The failing variants live in `ui-tests/fail/`, one file per rule, each with the exact
//! compiler output next to it (`.stderr`).

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use typed_cnn::prelude::*;

/// LeNet-5 for 28×28 input.
type LeNet = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);

/// PyTorch's MNIST example: Linear(9216, 128) is spelled FlatLinear<64, 12, 12, 128>.
type TorchMnist = (
    (Conv2d<1, 32, 3>, Relu, Conv2d<32, 64, 3>, Relu, MaxPool2d<2>),
    Flatten,
    (FlatLinear<64, 12, 12, 128>, Relu, Linear<128, 10>),
);

/// A small residual network with PyTorch's floor rule on the strided stem: with kernel 3, stride 2
/// and padding 1, height 32 does not tile ((32 + 2 − 3) % 2 = 1); width 31 does.
type ResNetLet = (
    Conv2d<3, 16, 3, 2, 1, Floor>, // (N, 3, 32, 31) → (N, 16, 16, 16)
    Relu,
    Residual<(Conv2d<16, 16, 3, 1, 1>, Relu, Conv2d<16, 16, 3, 1, 1>)>,
    Relu,
    GlobalAvgPool2d,
    Flatten,
    Linear<16, 10>,
);

fn main() {
    let mut rng = StdRng::seed_from_u64(0);

    // ---- LeNet, block by block: each annotation is checked by the compiler. ----
    let net = LeNet::init(&mut rng);
    let x = Tensor::<64, 1, 28, 28>::uniform(&mut rng, 0.0, 1.0);
    println!("LeNet-5 on {:?}: {} parameters", x.shape(), Params::<f32>::param_count(&net));
    let h: Tensor<64, 6, 12, 12> = net.0.forward(x.clone());
    println!("  conv 1→6 k5, relu, maxpool 2   → {:?}", h.shape());
    let h: Tensor<64, 16, 4, 4> = net.1.forward(h);
    println!("  conv 6→16 k5, relu, maxpool 2  → {:?}", h.shape());
    let h: Tensor2<64, 256> = net.2.forward(h);
    println!("  flatten                        → {:?}", h.shape());
    let y: Tensor2<64, 10> = net.3.forward(h);
    println!("  linear 256→120→84→10           → {:?}", y.shape());

    // One training step on random data.
    let labels = Labels::<64, 10>::new((0..64).map(|i| i % 10).collect()).expect("64 labels < 10");
    let start = Instant::now();
    let (logits, trace) = net.forward_train(x);
    let (loss, dlogits) = cross_entropy(&logits, &labels);
    let mut grads = net.zeros_like();
    let dx = net.backward(trace, dlogits, &mut grads);
    println!(
        "  one forward+backward: loss {loss:.4}, dL/dx {:?} ({:.1} ms)\n",
        dx.shape(),
        start.elapsed().as_secs_f64() * 1e3
    );

    // ---- PyTorch's own MNIST net: 9216 in-features. ----
    let net = TorchMnist::init(&mut rng);
    let y: Tensor2<8, 10> = net.forward(Tensor::<8, 1, 28, 28>::zeros());
    println!(
        "PyTorch MNIST net on [8, 1, 28, 28]: {} parameters → {:?}",
        Params::<f32>::param_count(&net),
        y.shape()
    );

    // ---- Residual blocks and floor mode. ----
    let net = ResNetLet::init(&mut rng);
    let y = net.forward(Tensor::<4, 3, 32, 31>::zeros()).expect_shape::<4, 10>();
    println!("residual net on [4, 3, 32, 31] → {:?}\n", y.shape());

    // ---- What does not compile (uncomment a line to see the message). ----
    // Channel mismatch, ui-tests/fail/conv_channel_mismatch.rs:
    //   let _ = ((Conv2d::<1, 6, 5>::init(&mut rng), Conv2d::<5, 16, 5>::init(&mut rng))).forward(x);
    //   error[E0277]: `Conv2d<5, 16, 5>` expects 5 input channels, but the input has `Dim<6>` channels
    // Linear in-features ≠ flattened size, ui-tests/fail/linear_features_mismatch.rs:
    //   error[E0277]: `Linear<400, 120>` expects `Dim<400>` input features, but the input has `Dim<256>`
    // Kernel larger than the padded input, ui-tests/fail/kernel_larger_than_input.rs:
    //   error[E0277]: `Conv2d<1, 1, 5>`: kernel 5 is larger than the input Height `Dim<3>` plus 2 × padding 0
    // A stride that does not tile (7×7, kernel 3, stride 3), ui-tests/fail/stride_does_not_fit.rs:
    //   error[E0277]: `Conv2d<1, 1, 3, 3>` doesn't fit: kernel 3 with stride 3 and padding 0 does not
    //   tile the input Height `Dim<7>`   (opt in to PyTorch's rule with the `Floor` mode parameter)
    // A residual branch that changes the shape, ui-tests/fail/residual_changes_size.rs:
    //   error[E0277]: this residual branch changes the shape: it maps `Shape<2, Dim<8>, Dim<7>, Dim<6>>`
    //   to `Shape<2, Dim<8>, Dim<3>, Dim<2>>`
    // A wrong shape assertion, ui-tests/fail/expect_shape_mismatch.rs:
    //   error[E0277]: shape assertion failed: expected `Shape<64, Dim<6>, Dim<24>, Dim<24>>`, found
    //   `Shape<64, Dim<6>, Dim<12>, Dim<12>>`
    // Labels for the wrong class count, ui-tests/fail/loss_class_count.rs:
    //   error[E0277]: cross-entropy gets logits with `Dim<5>` classes but labels for 10 classes
    // Labels for the wrong batch, ui-tests/fail/loss_batch_mismatch.rs:
    //   error[E0308]: mismatched types: expected `&Labels<64, 10>`, found `&Labels<32, 10>`
    println!("the shape errors this library turns into compile errors: see ui-tests/fail/*.stderr");
}
