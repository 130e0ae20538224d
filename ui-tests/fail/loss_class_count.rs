// Labels for 10 classes against a network with 5 outputs.
use typed_cnn::prelude::*;

fn main() {
    let logits = Tensor2::<64, 5>::zeros();
    let labels = Labels::<64, 10>::new(vec![0; 64]).unwrap();
    let _ = cross_entropy(&logits, &labels);
}
