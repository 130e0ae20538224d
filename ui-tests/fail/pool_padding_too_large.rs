// Padding 2 on a 3×3 max pool: a window could lie wholly in the padding (PyTorch needs 2P ≤ K).
use typed_cnn::prelude::*;

fn main() {
    let _ = MaxPool2d::<3, 1, 2>::default().forward(Tensor::<1, 2, 8, 9>::zeros());
}
