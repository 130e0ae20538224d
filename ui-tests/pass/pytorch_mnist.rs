// PyTorch's own MNIST example net: 64·12·12 = 9216 in-features through FlatLinear.
use typed_cnn::prelude::*;

type Net = (
    (Conv2d<1, 32, 3>, Relu, Conv2d<32, 64, 3>, Relu, MaxPool2d<2>),
    Flatten,
    (FlatLinear<64, 12, 12, 128>, Relu, Linear<128, 10>),
);

fn main() {
    let net = Net::init(&mut rand::rng());
    let y: Tensor2<2, 10> = net.forward(Tensor::<2, 1, 28, 28>::zeros());
    assert_eq!(y.shape(), [2, 10]);
}
