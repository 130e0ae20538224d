// MSE between a prediction and a target of different shapes.
use typed_cnn::prelude::*;

fn main() {
    let pred = Tensor2::<8, 3>::zeros();
    let target = Tensor2::<8, 4>::zeros();
    let _ = mse(&pred, &target);
}
