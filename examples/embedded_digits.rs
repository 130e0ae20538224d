//! The desktop's answer for the Cortex-M example (`examples/cortex-m`): the same weight file and
//! the same 16 MNIST test images, classified with the `std` forward (its threads and GEMM
//! kernels), printed in the firmware's format so that `.ci/embedded.sh` can compare the lines.
//!
//! ```text
//! cargo run --release --example embedded_digits
//! ```
//!
//! Expected output:
//! ```text
//! digits: 7 2 1 0 4 1 4 9 5 9 0 6 9 0 1 5
//! labels: 7 2 1 0 4 1 4 9 5 9 0 6 9 0 1 5
//! ```

use typed_cnn::models::LeNet5;
use typed_cnn::prelude::*;
use typed_cnn::weights;

const COUNT: usize = 16;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cortex-m");
    let mut net = LeNet5::default();
    weights::load(&mut net, dir.join("lenet-mnist.safetensors"))?;
    let path = dir.join("digits.bin");
    let digits = std::fs::read(&path)?;
    if digits.len() != COUNT * 785 {
        let found = digits.len();
        return Err(format!("{}: {found} bytes, expected {COUNT}·785", path.display()).into());
    }
    let x = Tensor::<COUNT, 1, 28, 28>::from_fn(|n, _, h, w| {
        f32::from(digits[n * 784 + h * 28 + w]) / 255.0 // the MNIST loader's scaling
    });
    let logits: Tensor2<COUNT, 10> = net.forward(x);
    let argmax = |row: &[f32]| (0..10).fold(0, |b, i| if row[i] > row[b] { i } else { b });
    let predicted: Vec<String> = (0..COUNT).map(|n| argmax(logits.row(n)).to_string()).collect();
    let labels: Vec<String> = digits[COUNT * 784..].iter().map(u8::to_string).collect();
    println!("digits: {}", predicted.join(" "));
    println!("labels: {}", labels.join(" "));
    Ok(())
}
