// Floor mode on the conv does not extend to the pool after it: the pool is still Exact.
use typed_cnn::prelude::*;

fn main() {
    let conv = Conv2d::<1, 4, 3, 2, 0, Floor>::init(&mut rand::rng()); // 28 → 13
    let net = (conv, MaxPool2d::<2>::default());
    let _ = net.forward(Tensor::<1, 1, 28, 28>::zeros());
}
