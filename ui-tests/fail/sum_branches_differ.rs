// A ResNet downsampling block whose projection shortcut forgot the stride: the main branch halves
// the size (stride 2), the 1×1 shortcut does not.
use typed_cnn::prelude::*;

type Down = Sum<
    (Conv2d<16, 32, 3, 2, 1, Floor>, BatchNorm2d<32>, Relu, Conv2d<32, 32, 3, 1, 1>, BatchNorm2d<32>),
    (Conv2d<16, 32, 1>, BatchNorm2d<32>),
>;

fn main() {
    let block = Down::init(&mut rand::rng());
    let _ = block.forward(Tensor::<2, 16, 8, 8>::zeros());
}
