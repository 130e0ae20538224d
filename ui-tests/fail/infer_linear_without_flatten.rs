// Allocation-free inference reports a rank mistake as `forward` does: Flatten is missing.
use typed_cnn::prelude::*;

type Net = ((Conv2d<1, 6, 5>, Relu, MaxPool2d<2>), Linear<864, 10>);

fn main() {
    let net = Net::init(&mut rand::rng());
    let mut workspace = [0.0f32; 5000];
    let _ = net.infer::<Tensor<1, 1, 28, 28>>(&[0.0; 784], &mut workspace);
}
