// A stride of 0 would never move the window.
use typed_cnn::prelude::*;

fn main() {
    let conv = Conv2d::<1, 4, 3, 0>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<1, 1, 8, 9>::zeros());
}
