// The shape-assertion helper prints both shapes in decimal.
use typed_cnn::prelude::*;

fn main() {
    let net = (Conv2d::<1, 6, 5>::init(&mut rand::rng()), Relu, MaxPool2d::<2>::default());
    let _y = net.forward(Tensor::<64, 1, 28, 28>::zeros()).expect_shape::<64, 6, 24, 24>();
}
