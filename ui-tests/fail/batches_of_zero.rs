// An epoch in batches of 0 samples would never end.
use typed_cnn::data::Dataset;

fn main() {
    let data = Dataset::<1, 2, 2, 10>::from_parts(vec![0.0; 8], vec![1, 2]).unwrap();
    for batch in data.batches::<0>() {
        let _ = batch.len;
    }
}
