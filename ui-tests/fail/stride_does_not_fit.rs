// The seeds' "doesn't fit": 7×7 input, 3×3 kernel, stride 3 gives (7 − 3)/3 + 1 = 2.33.
use typed_cnn::prelude::*;

fn main() {
    let conv = Conv2d::<1, 1, 3, 3>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<1, 1, 7, 7>::zeros());
}
