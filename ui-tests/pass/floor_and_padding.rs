// Opting in to PyTorch's floor rule, padding, overlapping pools and a residual block.
use typed_cnn::prelude::*;

type Net = (
    Conv2d<3, 16, 3, 2, 1, Floor>, // 32×31 → 16×16
    Relu,
    Residual<(Conv2d<16, 16, 3, 1, 1>, Relu, Conv2d<16, 16, 1>)>,
    MaxPool2d<3, 1, 1>, // overlapping, padded: 16×16 → 16×16
    AvgPool2d<2>,       // 16×16 → 8×8
    GlobalAvgPool2d,    // → 1×1
    Flatten,
    Linear<16, 10>,
    LogSoftmax,
);

fn main() {
    let net = Net::init(&mut rand::rng());
    let x = Tensor::<4, 3, 32, 31>::zeros();
    let y = net.forward(x).expect_shape::<4, 10>();
    assert_eq!(y.shape(), [4, 10]);
}
