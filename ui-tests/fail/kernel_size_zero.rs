// A 0×0 kernel sees nothing.
use typed_cnn::prelude::*;

fn main() {
    let _ = AvgPool2d::<0, 1>::default().forward(Tensor::<1, 2, 8, 9>::zeros());
}
