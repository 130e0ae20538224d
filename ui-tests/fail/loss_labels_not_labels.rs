// Labels passed as a plain Vec: cross-entropy takes them typed, Labels<N, CLASSES>.
use typed_cnn::prelude::*;
fn main() {
    let z = Tensor2::<2, 3>::zeros();
    let _ = cross_entropy(&z, &vec![0usize, 1]);
}
