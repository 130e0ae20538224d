// LeNet-5 on MNIST-sized input: every intermediate type is inferred, the output is (64, 10).
use typed_cnn::prelude::*;

type LeNet = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);

/// Generic over the batch size: no bounds needed, the batch is never computed.
fn classify<const N: usize>(net: &LeNet, x: Tensor<N, 1, 28, 28>) -> Tensor2<N, 10> {
    net.forward(x)
}

fn main() {
    let net = LeNet::init(&mut rand::rng());
    let y: Tensor2<64, 10> = classify(&net, Tensor::<64, 1, 28, 28>::zeros());
    let y1: Tensor2<1, 10> = classify(&net, Tensor::<1, 1, 28, 28>::zeros());
    assert_eq!((y.shape(), y1.shape()), ([64, 10], [1, 10]));
}
