// A convolution after Flatten: the image axes are gone.
use typed_cnn::prelude::*;

fn main() {
    let net = (Flatten, Conv2d::<1, 4, 3>::init(&mut rand::rng()));
    let _ = net.forward(Tensor::<2, 1, 8, 8>::zeros());
}
