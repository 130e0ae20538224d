// A named network whose fields run in order: conv2 expects 4 channels, conv1 gives 8.
use typed_cnn::prelude::*;

typed_cnn::network! {
    struct Chain {
        conv1: Conv2d<4, 8, 3, 1, 1>,
        relu: Relu,
        conv2: Conv2d<4, 8, 3, 1, 1>,
    }
}

fn main() {
    let _ = Chain::default().forward(Tensor::<1, 4, 8, 8>::zeros());
}
