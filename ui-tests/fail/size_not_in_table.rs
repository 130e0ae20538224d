// 5000 in-features: neither at most 4096 nor a multiple of 16, so no type can hold it.
use typed_cnn::prelude::*;

fn main() {
    let fc = Linear::<5000, 10>::default();
    let _ = fc.forward(Tensor2::<1, 5000>::zeros());
}
