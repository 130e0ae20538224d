// A named block whose residual route adds a stride-2 convolution's output to the full-size input:
// the sum's two sides must have the same shape.
use typed_cnn::prelude::*;

typed_cnn::network! {
    struct Block {
        conv1: Conv2d<4, 8, 3, 2, 1, Floor>,
        bn1: BatchNorm2d<8>,
    }
    forward: (conv1 -> bn1 + identity)
}

fn main() {
    let block = Block::init(&mut rand::rng());
    let _ = block.forward(Tensor::<1, 4, 8, 8>::zeros());
}
