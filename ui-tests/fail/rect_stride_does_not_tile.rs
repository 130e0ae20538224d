// A 1×7 kernel, strides (1, 2), paddings (0, 3): 10 + 2·3 − 7 = 9 columns do not tile by 2.
use typed_cnn::prelude::*;

fn main() {
    let conv = Conv2dHW::<4, 4, 1, 7, 1, 2, 0, 3>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<2, 4, 10, 10>::zeros());
}
