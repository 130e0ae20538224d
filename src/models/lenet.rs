//! LeNet-5 for 28×28 digits, the network the `mnist` example trains and the Cortex-M example
//! (`examples/cortex-m`) runs: one type on both.

use crate::layers::{Conv2d, Flatten, Linear, MaxPool2d, Relu};

/// LeNet-5 for 28×28 input: 28 → conv 5 → 24 → pool → 12 → conv 5 → 8 → pool → 4, so the
/// classifier sees 16·4·4 = 256 features; 44,426 parameters. Weight names are `nn.Sequential`'s
/// for the same nesting (`0.0.weight`, `3.4.bias`).
///
/// ```
/// use typed_cnn::models::LeNet5;
/// use typed_cnn::prelude::*;
/// let net = LeNet5::init(&mut rand::rng());
/// let logits: Tensor2<8, 10> = net.forward(Tensor::<8, 1, 28, 28>::zeros());
/// # let _ = logits;
/// assert_eq!(<LeNet5 as Infer<Tensor<1, 1, 28, 28>>>::WEIGHT_BYTES, 44_426 * 4);
/// ```
pub type LeNet5 = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);
