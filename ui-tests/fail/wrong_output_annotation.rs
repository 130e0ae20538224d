// A wrong output annotation: after the pool the image is 12×12, not 24×24. A plain annotation
// prints typenum's binary form; see expect_shape_mismatch.rs for the decimal helper.
use typed_cnn::prelude::*;

fn main() {
    let net = (Conv2d::<1, 6, 5>::init(&mut rand::rng()), Relu, MaxPool2d::<2>::default());
    let _y: Tensor<64, 6, 24, 24> = net.forward(Tensor::<64, 1, 28, 28>::zeros());
}
