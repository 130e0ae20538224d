// Allocation-free inference checks the same shape rules as `forward`: LeNet-5 takes one channel.
use typed_cnn::models::LeNet5;
use typed_cnn::prelude::*;

fn main() {
    let net = LeNet5::init(&mut rand::rng());
    let mut workspace = [0.0f32; 4586];
    let _ = net.infer::<Tensor<1, 3, 28, 28>>(&[0.0; 3 * 28 * 28], &mut workspace);
}
