// A residual branch that widens 8 channels to 16: y = F(x) + x cannot add them.
use typed_cnn::prelude::*;

type Block = Residual<(Conv2d<8, 16, 3, 1, 1>, Relu)>;

fn main() {
    let block = Block::init(&mut rand::rng());
    let _ = block.forward(Tensor::<2, 8, 7, 6>::zeros());
}
