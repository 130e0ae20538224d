// A route naming a field the network does not have (a typo).
use typed_cnn::prelude::*;

typed_cnn::network! {
    struct Block {
        conv1: Conv2d<4, 4, 3, 1, 1>,
        relu: Relu,
    }
    forward: conv1 -> rleu
}

fn main() {
    let _ = Block::default().forward(Tensor::<1, 4, 8, 8>::zeros());
}
