// Evaluating in batches of 0 samples: before, a const assert that only `cargo build` reported,
// with no line of this file.
use typed_cnn::data::Dataset;
use typed_cnn::prelude::*;

type Net = (Flatten, Linear<4, 10>);

fn main() {
    let data = Dataset::<1, 2, 2, 10>::from_parts(vec![0.0; 8], vec![1, 2]).unwrap();
    let net = Net::init(&mut rand::rng());
    let _ = data.evaluate::<0>(&net);
}
