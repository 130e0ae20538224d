// A grouped convolution whose 8 output channels do not split into 3 groups.
use typed_cnn::prelude::*;

fn main() {
    let conv = GroupedConv2d::<6, 8, 3, 3>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<1, 6, 5, 5>::zeros());
}
