// The height fits (8 ≥ 5) but the width does not (3 + 2·0 < 5).
use typed_cnn::prelude::*;

fn main() {
    let conv = Conv2d::<1, 1, 5>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<1, 1, 8, 3>::zeros());
}
