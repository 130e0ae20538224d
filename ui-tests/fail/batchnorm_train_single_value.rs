// Batch norm trained on one value per channel (batch 1, 1×1 planes), as PyTorch refuses at run
// time. Before: a const assert that only `cargo build` reported. Eval mode (`forward`) is fine.
use typed_cnn::prelude::*;
fn main() {
    let net = (Conv2d::<3, 4, 3>::default(), BatchNorm2d::<4>::default(), Relu);
    let _ = net.forward(Tensor::<1, 3, 3, 3>::zeros()); // eval: 1·1·1 values per channel, fine
    let (_y, _t) = net.forward_train(Tensor::<1, 3, 3, 3>::zeros());
}
