//! typed-cnn's `Upsample` (nearest) and `UpsampleBilinear` (`align_corners=False`) against
//! PyTorch's `nn.Upsample` at factors 2 and 3: outputs and input gradients, f64 within
//! `1e-9·|exp| + 1e-12`. Fixture: `tests/fixtures/make_torch_upsample.py` (torch 2.15.0).

use std::path::PathBuf;

use typed_cnn::prelude::*;
use typed_cnn::weights::{self, EntryData, StateDict};

fn fixture() -> StateDict<f64> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch_upsample.safetensors");
    weights::load_state_dict(path).expect("the fixture ships in tests/fixtures/")
}

fn values(state: &StateDict<f64>, name: &str) -> Vec<f64> {
    match &state.get(name).unwrap_or_else(|| panic!("no `{name}` in the fixture")).data {
        EntryData::Values(v) => v.clone(),
        EntryData::Count(c) => panic!("`{name}` is a count ({c}), not values"),
    }
}

fn close(got: &[f64], exp: &[f64], what: &str) {
    assert_eq!(got.len(), exp.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(exp).enumerate() {
        assert!((g - e).abs() <= 1e-9 * e.abs() + 1e-12, "{what}[{i}]: got {g}, PyTorch {e}");
    }
}

macro_rules! check {
    ($layer:expr, $name:literal, $h:literal, $w:literal) => {{
        let s = fixture();
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
