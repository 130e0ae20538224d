// PyTorch's MNIST net with the convs' output miscounted: 64×12×12 is declared, 64×13×13 arrives.
use typed_cnn::prelude::*;

type Net = (
    Conv2d<1, 32, 3>,
    Relu,
    Conv2d<32, 64, 3>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    FlatLinear<64, 13, 13, 128>,
);

fn main() {
    let net = Net::init(&mut rand::rng());
    let _ = net.forward(Tensor::<2, 1, 28, 28>::zeros());
}
