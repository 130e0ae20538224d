// A residual branch without padding: 3×3 convs shrink 7×6 to 3×2.
use typed_cnn::prelude::*;

type Block = Residual<(Conv2d<8, 8, 3>, Relu, Conv2d<8, 8, 3>)>;

fn main() {
    let block = Block::init(&mut rand::rng());
    let _ = block.forward(Tensor::<2, 8, 7, 6>::zeros());
}
