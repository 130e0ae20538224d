//! Twenty networks of different shapes, each run forward and backward on a small batch: a test of
//! the layer set, and the file to time when the type machinery changes
//! (`cargo check --release --test many_networks` after an edit; see the README's figures).

use rand::SeedableRng;
use rand::rngs::StdRng;
use typed_cnn::prelude::*;

/// Runs one forward and backward and checks the shapes and that every gradient is finite.
macro_rules! run {
    ($name:ident: $net:ty, $input:ty => $out:ty) => {
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(line!() as u64);
            let net = <$net>::init(&mut rng);
            let x = <$input>::uniform(&mut rng, -1.0, 1.0);
            let (y, trace) = net.forward_train(x.clone());
            let y: $out = y;
            assert_eq!(y, net.forward(x));
            let mut grads = net.zeros_like();
            let dx: $input = net.backward(trace, y, &mut grads);
            assert!(dx.as_slice().iter().all(|v| v.is_finite()));
            Params::<<$input as typed_cnn::TensorData>::Elem>::visit(
                &grads,
                "",
                &mut |name, _, g| {
                    assert!(g.iter().all(|v| v.is_finite()), "{name}");
                },
            );
        }
    };
}

run!(lenet_32: ((Conv2d<1, 6, 5>, Relu, MaxPool2d<2>), (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>), Flatten, Linear<400, 10>),
    Tensor<2, 1, 32, 32> => Tensor2<2, 10>);
run!(lenet_28_rect: ((Conv2d<1, 6, 5>, Relu, MaxPool2d<2>), (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>), Flatten, Linear<384, 10>),
    Tensor<2, 1, 28, 36> => Tensor2<2, 10>);
run!(digits_cnn: ((Conv2d<1, 8, 3, 1, 1>, Relu, MaxPool2d<2>), (Conv2d<8, 16, 3, 1, 1>, Relu, MaxPool2d<2>), Flatten, Linear<64, 10>),
    Tensor<4, 1, 8, 8> => Tensor2<4, 10>);
run!(vgg_block: ((Conv2d<3, 8, 3, 1, 1>, Relu, Conv2d<8, 8, 3, 1, 1>, Relu, MaxPool2d<2>), (Conv2d<8, 16, 3, 1, 1>, Relu, MaxPool2d<2>), Flatten, Linear<128, 5>),
    Tensor<2, 3, 16, 8> => Tensor2<2, 5>);
run!(strided_stem: (Conv2d<3, 4, 7, 2, 3, Floor>, Relu, MaxPool2d<3, 2, 1, Floor>, GlobalAvgPool2d, Flatten, Linear<4, 3>),
    Tensor<1, 3, 32, 30> => Tensor2<1, 3>);
run!(resnet_pair: (Conv2d<2, 4, 3, 1, 1>, Residual<(Conv2d<4, 4, 3, 1, 1>, Relu, Conv2d<4, 4, 3, 1, 1>)>, Relu, Residual<(Conv2d<4, 4, 1>, Tanh)>, AvgPool2d<2>, Flatten, Linear<72, 2>),
    Tensor<2, 2, 6, 12> => Tensor2<2, 2>);
run!(pointwise: (Conv2d<8, 16, 1>, LeakyRelu, Conv2d<16, 4, 1>, Sigmoid),
    Tensor<2, 8, 5, 7> => Tensor<2, 4, 5, 7>);
run!(kernel_equals_input: (Conv2d<3, 10, 6, 1, 0>, Flatten, Softmax),
    Tensor<3, 3, 6, 6> => Tensor2<3, 10>);
run!(stride3_exact: (Conv2d<1, 2, 3, 3>, Relu, Flatten, Linear<54, 4>, LogSoftmax),
    Tensor<2, 1, 9, 27> => Tensor2<2, 4>);
run!(avg_exclude_pad: (AvgPool2d<3, 2, 1>, Conv2d<2, 2, 2>, Tanh),
    Tensor<2, 2, 9, 11> => Tensor<2, 2, 4, 5>);
run!(overlapping_pools: (MaxPool2d<3, 1>, MaxPool2d<2, 1>, AvgPool2d<2, 1>),
    Tensor<1, 3, 10, 7> => Tensor<1, 3, 6, 3>);
run!(deep_mlp: (Flatten, Linear<48, 32>, Relu, Linear<32, 32>, Tanh, Linear<32, 16>, Sigmoid, Linear<16, 8>, LeakyRelu, Linear<8, 2>),
    Tensor<5, 3, 4, 4> => Tensor2<5, 2>);
run!(wide_flatten: ((Conv2d<1, 32, 3>, Relu, Conv2d<32, 64, 3>, Relu, MaxPool2d<2>), Flatten, FlatLinear<64, 12, 12, 10>),
    Tensor<1, 1, 28, 28> => Tensor2<1, 10>);
run!(cifar_small: ((Conv2d<3, 16, 3, 1, 1>, Relu, MaxPool2d<2>), (Conv2d<16, 32, 3, 1, 1>, Relu, MaxPool2d<2>), (Conv2d<32, 32, 3, 1, 1>, Relu, GlobalAvgPool2d), Flatten, Linear<32, 10>),
    Tensor<2, 3, 32, 32> => Tensor2<2, 10>);
run!(nested_blocks: (((Conv2d<1, 2, 3, 1, 1>, Relu), (Conv2d<2, 2, 3, 1, 1>, Relu)), ((MaxPool2d<2>,), Flatten), (Linear<18, 3>,)),
    Tensor<2, 1, 6, 6> => Tensor2<2, 3>);
run!(residual_on_features: (Flatten, Residual<(Linear<12, 12>, Tanh)>, Linear<12, 1>),
    Tensor<3, 3, 2, 2> => Tensor2<3, 1>);
run!(f64_net: (Conv2d<1, 3, 3, 2, 1, Exact, f64>, Relu, Flatten, Linear<96, 2, f64>),
    Tensor<2, 1, 7, 15, f64> => Tensor2<2, 2, f64>);
run!(tall_input: (Conv2d<1, 2, 5, 1, 2>, MaxPool2d<4>, Conv2d<2, 2, 3>, Flatten),
    Tensor<1, 1, 64, 12> => Tensor2<1, 28>);
run!(twelve_members: (Conv2d<1, 2, 3>, Relu, Conv2d<2, 2, 3>, Relu, Conv2d<2, 2, 3>, Relu, Conv2d<2, 2, 3>, Relu, MaxPool2d<2>, Flatten, Linear<8, 4>, Softmax),
    Tensor<1, 1, 12, 12> => Tensor2<1, 4>);
run!(batch_one_floor: (Conv2d<2, 3, 4, 3, 1, Floor>, AvgPool2d<2, 2, 0, Floor>, Flatten),
    Tensor<1, 2, 17, 20> => Tensor2<1, 27>);
