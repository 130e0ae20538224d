// A 5×5 kernel on a 3×3 input with no padding.
use typed_cnn::prelude::*;

fn main() {
    let conv = Conv2d::<1, 1, 5>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<1, 1, 3, 3>::zeros());
}
