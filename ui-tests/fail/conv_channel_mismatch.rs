// LeNet with the second conv declared for 5 input channels; the first produces 6.
use typed_cnn::prelude::*;

type Net = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<5, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);

fn main() {
    let net = Net::init(&mut rand::rng());
    let _ = net.forward(Tensor::<64, 1, 28, 28>::zeros());
}
