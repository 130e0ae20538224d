// A forgotten pooling layer: Flatten gives 16·8·8 = 1024 features, beyond the decimal table,
// so the found size prints as thousands and remainder.
use typed_cnn::prelude::*;

type Net = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu),
    Flatten,
    Linear<256, 10>,
);

fn main() {
    let net = Net::init(&mut rand::rng());
    let _ = net.forward(Tensor::<8, 1, 28, 28>::zeros());
}
