//! typed-cnn's `Upsample` (nearest) and `UpsampleBilinear` (`align_corners=False`) against
//! PyTorch's `nn.Upsample` at factors 2 and 3: outputs and input gradients, f64 within
//! `1e-9·|exp| + 1e-12`. Fixture: `tests/fixtures/make_torch_upsample.py` (torch 2.15.0).

use typed_cnn::prelude::*;

mod torch_support;
use torch_support::{close64 as close, load, values};

macro_rules! check {
    ($layer:expr, $name:literal, $h:literal, $w:literal) => {{
        let s = load("torch_upsample.safetensors");
        let x = Tensor::<2, 2, 3, 4, f64>::from_vec(values(&s, "x")).unwrap();
        let (y, trace): (Tensor<2, 2, $h, $w, f64>, _) = $layer.forward_train(x);
        close(y.as_slice(), &values(&s, concat!($name, ".y")), concat!($name, ".y"));
        let r = T4::from_vec(values(&s, concat!($name, ".upstream"))).unwrap();
        let dx = $layer.backward(trace, r, &mut $layer.zeros_like());
        close(dx.as_slice(), &values(&s, concat!($name, ".grad")), concat!($name, ".grad"));
    }};
}

#[test]
fn nearest_matches_pytorch() {
    check!(Upsample::<2>, "nearest2", 6, 8);
    check!(Upsample::<3>, "nearest3", 9, 12);
}

#[test]
fn bilinear_matches_pytorch() {
    check!(UpsampleBilinear::<2>, "bilinear2", 6, 8);
    check!(UpsampleBilinear::<3>, "bilinear3", 9, 12);
}
