//! `pixel_cross_entropy` against PyTorch 2.15's `F.cross_entropy` on `(N, C, H, W)` logits with
//! `(N, H, W)` labels (fixture by `tests/fixtures/make_torch_pixel_ce.py`): the loss and its
//! gradient in f64 within `1e-9·|exp| + 1e-12`, in f32 within the brief's tolerance.

use typed_cnn::gradcheck::assert_close;
use typed_cnn::prelude::*;

mod torch_support;
use torch_support::{close64, load, values};

#[test]
fn pixel_cross_entropy_matches_pytorch() {
    let f = load("torch_pixel_ce.safetensors");
    let z = Tensor::<2, 3, 4, 5, f64>::from_slice(&values(&f, "z")).unwrap();
    let labels: Vec<usize> = values(&f, "labels").iter().map(|&l| l as usize).collect();
    let labels = PixelLabels::<2, 4, 5, 3>::new(labels).unwrap();
    let (loss, dz) = pixel_cross_entropy(&z, &labels);
    close64(&[loss], &values(&f, "loss"), "loss");
    close64(dz.as_slice(), &values(&f, "dz"), "dz");

    let (loss32, dz32) = pixel_cross_entropy(&z.cast::<f32>(), &labels);
    assert_close(&[loss32], &values(&f, "loss"));
    assert_close(dz32.as_slice(), &values(&f, "dz"));
}
