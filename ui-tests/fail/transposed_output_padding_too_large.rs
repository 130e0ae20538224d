// A transposed convolution whose output padding (2) is not below its stride (2).
use typed_cnn::prelude::*;

fn main() {
    let up = ConvTranspose2d::<8, 4, 3, 2, 1, 2>::init(&mut rand::rng());
    let _ = up.forward(Tensor::<1, 8, 7, 7>::zeros());
}
