// VGG-style features written flat: 13 layers in one tuple, one more than a tuple network takes.
// Before: "no function `init` found" or "cannot take an input of type `_`" with the wrong note
// "put `Flatten` before it"; the limit of 12 was never named.
use typed_cnn::prelude::*;

type Net = (
    Conv2d<1, 4, 3, 1, 1>, Relu, Conv2d<4, 4, 3, 1, 1>, Relu, MaxPool2d<2>,
    Conv2d<4, 8, 3, 1, 1>, Relu, Conv2d<8, 8, 3, 1, 1>, Relu, MaxPool2d<2>,
    Flatten, Linear<32, 10>, Relu,
);

fn main() {
    let net = Net::init(&mut rand::rng());
    let (y, _trace): (Tensor2<2, 10>, _) = net.forward_train(Tensor::<2, 1, 8, 8>::zeros());
    let _grads = net.zeros_like();
    println!("{:?}", y.shape());
}
