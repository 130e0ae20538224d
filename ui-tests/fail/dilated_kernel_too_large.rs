// A 3×3 kernel with dilation 4 spans 9 rows; the 6×6 input padded by 1 has 8.
use typed_cnn::prelude::*;

fn main() {
    let conv = DilatedConv2d::<3, 8, 3, 4, 1, 1>::init(&mut rand::rng());
    let _ = conv.forward(Tensor::<1, 3, 6, 6>::zeros());
}
