// A grouped convolution with 0 groups.
use typed_cnn::prelude::*;

fn main() {
    let conv = GroupedConv2d::<4, 4, 3, 0>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<1, 4, 5, 5>::zeros());
}
