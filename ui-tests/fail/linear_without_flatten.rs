// A Linear applied to a 4-D tensor: Flatten is missing.
use typed_cnn::prelude::*;

fn main() {
    let net = (Conv2d::<1, 4, 3>::init(&mut rand::rng()), Relu, Linear::<100, 10>::init(&mut rand::rng()));
    let _ = net.forward(Tensor::<2, 1, 7, 7>::zeros());
}
