// A transposed convolution whose padding crops its whole output: (1 − 1)·1 + 2 + 0 − 2·1 = 0.
use typed_cnn::prelude::*;

fn main() {
    let up = ConvTranspose2d::<4, 4, 2, 1, 1>::init(&mut rand::rng());
    let _ = up.forward(Tensor::<1, 4, 1, 6>::zeros());
}
