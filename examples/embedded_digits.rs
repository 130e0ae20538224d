//! The desktop's answer for the Cortex-M example (`examples/cortex-m`): the same weight file and
//! the same 16 MNIST test images, classified with the `std` forward (its threads and GEMM
//! kernels), printed in the firmware's format so that `.ci/embedded.sh` can compare the lines.
//!
//! ```text
//! cargo run --release --example embedded_digits
//! ```
//!
//! It also runs the allocation-free `infer` path (the firmware's code, here on the desktop) and
//! prints an FNV-1a hash of its logits' bits, which the firmware prints too: the same hash means
//! bit-identical logits on the two CPUs.
//!
//! Expected output:
//! ```text
//! digits: 7 2 1 0 4 1 4 9 5 9 0 6 9 0 1 5
//! logits FNV-1a: … (the firmware's)
//! labels: 7 2 1 0 4 1 4 9 5 9 0 6 9 0 1 5
//! ```

use typed_cnn::infer::SafeTensors;
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

    // The firmware's path: weights viewed in place, `infer` one image at a time.
    let bytes = std::fs::read(dir.join("lenet-mnist.safetensors"))?;
    let viewed = LeNet5::view(&SafeTensors::leak(&bytes)?)?;
    let mut workspace = [0.0f32; <LeNet5 as Infer<Tensor<1, 1, 28, 28>>>::WORKSPACE_LEN];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for image in digits.chunks_exact(784).take(COUNT) {
        let x: Vec<f32> = image.iter().map(|&p| f32::from(p) / 255.0).collect();
        let logits = viewed.infer::<Tensor<1, 1, 28, 28>>(&x, &mut workspace)?;
        for v in logits {
            for byte in v.to_bits().to_le_bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    println!("logits FNV-1a: {hash:016x}");
    println!("labels: {}", labels.join(" "));
    Ok(())
}
