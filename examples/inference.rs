//! Inference with static guarantees: load the LeNet weights that `--example mnist` saved, check
//! them against the network type, and classify test images.
//!
//! ```text
//! cargo run --release --example mnist                   # trains and saves the weights first
//! cargo run --release --example inference               # then classify
//! cargo run --release --example inference -- --weights path/to/lenet.safetensors --data path/to/mnist
//! ```
//!
//! Expected output (the accuracy is the one the mnist run ended with):
//! ```text
//! model: ((Conv2d<1, 6, 5>, Relu, MaxPool2d<2>), (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>), Flatten, (Linear<256, 120>, …))
//! input Tensor<1, 1, 28, 28> → output Tensor2<1, 10>, checked at compile time
//! weights: target/examples-out/lenet-mnist.safetensors (10 tensors, 44426 parameters)
//! test image 0: label 7, predicted 7 (p = 1.000)
//! …
//! all 10000 test images in batches of 100: accuracy 98.61%, 0.23 s (23 µs per image)
//! ```

use std::path::PathBuf;
use std::time::Instant;

use typed_cnn::data::Mnist;
use typed_cnn::prelude::*;
use typed_cnn::weights;

/// The type `examples/mnist.rs` trains (and `examples/cortex-m` runs): a file for another
/// architecture does not load.
type LeNet = typed_cnn::models::LeNet5;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut weights_file = root.join("target/examples-out/lenet-mnist.safetensors");
    let mut data = root.join("data/mnist");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--weights", Some(v)) => weights_file = v.into(),
            ("--data", Some(v)) => data = v.into(),
            ("-h" | "--help", _) => {
                println!("usage: inference [--weights FILE] [--data DIR]");
                return;
            }
            _ => {
                eprintln!("usage: inference [--weights FILE] [--data DIR]");
                std::process::exit(2);
            }
        }
    }

    println!("model: {}", short_type_name::<LeNet>());
    println!("input Tensor<1, 1, 28, 28> → output Tensor2<1, 10>, checked at compile time");

    // Any initial values: every one of them is overwritten by the file, or the load fails.
    let mut net = LeNet::init(&mut rand::rng());
    if let Err(e) = weights::load(&mut net, &weights_file) {
        eprintln!("error: {e}");
        if matches!(e, weights::WeightsError::Io { .. }) {
            eprintln!(
                "(train first: `cargo run --release --example mnist`, or pass --weights FILE)"
            );
        }
        std::process::exit(1);
    }
    let tensors = weights::StateDict::from_model(&net).entries.len();
    println!(
        "weights: {} ({tensors} tensors, {} parameters)",
        weights_file.display(),
        Params::<f32>::param_count(&net)
    );

    let (_, test) = Mnist::load(&data).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1);
    });

    // One image at a time: the batch size 1 is part of the type.
    for i in 0..test.len().min(5) {
        let x = Tensor::<1, 1, 28, 28>::from_slice(test.image(i)).expect("28·28 values");
        let probs: Tensor2<1, 10> = Softmax.forward(net.forward(x));
        let (best, p) = probs
            .as_slice()
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |acc, (k, &p)| if p > acc.1 { (k, p) } else { acc });
        println!("test image {i}: label {}, predicted {best} (p = {p:.3})", test.label(i));
    }

    // The whole test set in fixed batches of 100 (a last partial batch would be padded).
    let start = Instant::now();
    let accuracy = test.evaluate::<100>(&net).accuracy();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "all {} test images in batches of 100: accuracy {:.2}%, {secs:.2} s ({:.0} µs per image)",
        test.len(),
        100.0 * accuracy,
        1e6 * secs / test.len() as f64
    );
}

/// `std::any::type_name` without the module paths: `Conv2d<1, 6, 5>`, not
/// `typed_cnn::layers::conv::Conv2d<1, 6, 5>`.
fn short_type_name<T>() -> String {
    let mut out = String::new();
    for (i, part) in std::any::type_name::<T>().split("::").enumerate() {
        if i > 0 {
            // The identifier just before this `::` is a module: drop it.
            let keep = out.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_').len();
            out.truncate(keep);
        }
        out.push_str(part);
    }
    out
}
