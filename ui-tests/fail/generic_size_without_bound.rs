// A function of one's own, generic over a channel count, without the one bound it needs.
use typed_cnn::prelude::*;
fn double<const C: usize>(x: Tensor<1, C, 8, 8>) -> Tensor<1, C, 8, 8> { x }
fn main() {
    let _ = double::<4>(Tensor::<1, 4, 8, 8>::zeros());
}
