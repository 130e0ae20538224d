// MaxPool2d<2> on an odd height: 25 rows cannot be split into 2×2 windows.
use typed_cnn::prelude::*;

fn main() {
    let _ = MaxPool2d::<2>::default().forward(Tensor::<2, 6, 25, 24>::zeros());
}
