// MobileNetV2's head without Flatten: global pooling keeps the (N, C, 1, 1) shape, and Linear
// takes (N, features). Before, the input printed as binary typenum.
use typed_cnn::prelude::*;

type Head = (Conv2d<320, 1280, 1>, Relu, GlobalAvgPool2d, Linear<1280, 1000>);

fn main() {
    let head = Head::init(&mut rand::rng());
    let _ = head.forward(Tensor::<1, 320, 7, 7>::zeros());
}
