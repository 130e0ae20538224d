// A batch of 32 labels against 64 logits (the last partial batch passed with the wrong type).
use typed_cnn::prelude::*;

fn main() {
    let logits = Tensor2::<64, 10>::zeros();
    let labels = Labels::<32, 10>::new(vec![0; 32]).unwrap();
    let _ = cross_entropy(&logits, &labels);
}
