// A second 2×2 pool after the image is already 1×1.
use typed_cnn::prelude::*;

fn main() {
    let net = (MaxPool2d::<2>::default(), MaxPool2d::<2>::default());
    let _ = net.forward(Tensor::<1, 3, 2, 2>::zeros());
}
