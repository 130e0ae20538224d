// AvgPool2d with kernel 3, stride 2 on 8 columns: (8 − 3) % 2 = 1.
use typed_cnn::prelude::*;

fn main() {
    let _ = AvgPool2d::<3, 2>::default().forward(Tensor::<2, 6, 9, 8>::zeros());
}
