// A U-Net level on an odd size: the down-up path comes back at 8×8, the skip is 9×9.
use typed_cnn::prelude::*;

type Level = Concat<Identity, (MaxPool2d<2, 2, 0, Floor>, Conv2d<4, 8, 3, 1, 1>, Relu, Upsample<2>)>;

fn main() {
    let level = Level::init(&mut rand::rng());
    let _ = level.forward(Tensor::<2, 4, 9, 9>::zeros());
}
