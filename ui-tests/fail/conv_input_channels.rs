// An RGB batch into a convolution declared for one input channel.
use typed_cnn::prelude::*;

fn main() {
    let conv = Conv2d::<1, 8, 3>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<4, 3, 32, 30>::zeros());
}
