// Sizes above 1024 written directly: PyTorch's MNIST net with `Linear<9216, 128>`,
// MobileNetV2's last 1×1 convolution to 1280 channels, and a 720p frame.
use typed_cnn::prelude::*;

type MnistNet = (
    (Conv2d<1, 32, 3>, Relu, Conv2d<32, 64, 3>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<9216, 128>, Relu, Linear<128, 10>),
);

fn main() {
    let net = MnistNet::default();
    let y: Tensor2<1, 10> = net.forward(Tensor::<1, 1, 28, 28>::zeros());
    assert_eq!(y.shape(), [1, 10]);

    let last = (Conv2d::<320, 1280, 1>::default(), GlobalAvgPool2d, Flatten, Linear::<1280, 1000>::default());
    let z: Tensor2<1, 1000> = last.forward(Tensor::<1, 320, 7, 7>::zeros());
    assert_eq!(z.shape(), [1, 1000]);

    let frame = Tensor::<1, 3, 720, 1280>::zeros();
    let pooled: Tensor<1, 3, 360, 640> = MaxPool2d::<2>::default().forward(frame);
    assert_eq!(pooled.shape(), [1, 3, 360, 640]);
    let wide = Linear::<12544, 16>::default();
    let _: Tensor2<1, 16> = wide.forward(Tensor2::<1, 12544>::zeros());
}
