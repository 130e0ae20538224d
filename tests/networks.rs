//! Whole networks: inferred output types, forward and backward on real sizes, gradient checks of
//! composite nets in f64, PyTorch-style parameter names, and one SGD step that lowers the loss.

use rand::SeedableRng;
use rand::rngs::StdRng;
use typed_cnn::gradcheck::check_module;
use typed_cnn::prelude::*;

/// LeNet-5 for 28×28 input, as in the README.
type LeNet = (
    (Conv2d<1, 6, 5>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    Flatten,
    (Linear<256, 120>, Relu, Linear<120, 84>, Relu, Linear<84, 10>),
);

/// PyTorch's `examples/mnist` net (without dropout): 64·12·12 = 9216 features into the first
/// fully connected layer.
type TorchMnist = (
    (Conv2d<1, 32, 3>, Relu, Conv2d<32, 64, 3>, Relu, MaxPool2d<2>),
    Flatten,
    (FlatLinear<64, 12, 12, 128>, Relu, Linear<128, 10>),
);

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn labels<const N: usize>(seed: usize) -> Labels<N, 10> {
    Labels::new((0..N).map(|i| (i * 7 + seed) % 10).collect()).unwrap()
}

/// Every value is at least `margin` from 0 (the kink of ReLU and LeakyReLU).
fn away_from_zero(values: &[f64], margin: f64) -> bool {
    values.iter().all(|v| v.abs() >= margin)
}

/// For a stride-1, unpadded `k × k` max pool over `[n, c, h, w]`: every window whose maximum is
/// positive has a unique maximum, ahead of the runner-up by at least `margin`. (Windows of ReLU
/// zeros tie harmlessly: no gradient flows through any of them.)
fn pool_maxima_distinct(x: &[f64], [n, c, h, w]: [usize; 4], k: usize, margin: f64) -> bool {
    x.chunks_exact(h * w).take(n * c).all(|plane| {
        (0..=h - k).all(|i| {
            (0..=w - k).all(|j| {
                let mut window: Vec<f64> =
                    (0..k * k).map(|t| plane[(i + t / k) * w + j + t % k]).collect();
                window.sort_by(|a, b| b.total_cmp(a));
                window[0] <= 0.0 || window[0] - window[1] >= margin
            })
        })
    })
}

#[test]
fn lenet_infers_64x10_and_runs_forward_and_backward() {
    let mut rng = rng(1);
    let net = LeNet::init(&mut rng);
    let x = Tensor::<64, 1, 28, 28>::uniform(&mut rng, 0.0, 1.0);

    let (y, trace) = net.forward_train(x.clone());
    let y: Tensor2<64, 10> = y; // the inferred type, checked by the compiler
    assert_eq!(y, net.forward(x), "inference and training forward disagree");

    let (loss, dy) = cross_entropy(&y, &labels(0));
    // Ten classes at initialization: the loss is near ln 10 = 2.30.
    assert!((loss - 10f32.ln()).abs() < 0.3, "initial loss {loss}");
    let mut grads = net.zeros_like();
    let dx: Tensor<64, 1, 28, 28> = net.backward(trace, dy, &mut grads);
    assert!(dx.as_slice().iter().all(|v| v.is_finite()));
    grads.visit("", &mut |name, _, g| {
        assert!(g.iter().all(|v| v.is_finite()), "{name} has a non-finite gradient");
        assert!(g.iter().any(|v| *v != 0.0), "{name} got no gradient");
    });
}

#[test]
fn pytorch_mnist_net_takes_9216_features_forward_and_backward() {
    let mut rng = rng(2);
    let net = TorchMnist::init(&mut rng);
    assert_eq!(
        Params::<f32>::param_count(&net),
        // conv1 + conv2 + fc1 + fc2, as `sum(p.numel() for p in Net().parameters())` minus nothing
        (32 * 9 + 32) + (64 * 32 * 9 + 64) + (9216 * 128 + 128) + (128 * 10 + 10)
    );
    let x = Tensor::<64, 1, 28, 28>::uniform(&mut rng, 0.0, 1.0);
    let (y, trace) = net.forward_train(x);
    let y: Tensor2<64, 10> = y;
    let (_, dy) = cross_entropy(&y, &labels(3));
    let mut grads = net.zeros_like();
    let dx = net.backward(trace, dy, &mut grads);
    assert_eq!(dx.shape(), [64, 1, 28, 28]);
    assert!(grads.2.0.weight().iter().any(|v| *v != 0.0));
}

#[test]
fn parameter_names_follow_pytorch_sequential() {
    let net = LeNet::init(&mut rng(3));
    let mut names = Vec::new();
    Params::<f32>::visit(&net, "", &mut |name, shape, v| {
        assert_eq!(shape.iter().product::<usize>(), v.len());
        names.push(format!("{name}{shape:?}"));
    });
    assert_eq!(
        names,
        [
            "0.0.weight[6, 1, 5, 5]",
            "0.0.bias[6]",
            "1.0.weight[16, 6, 5, 5]",
            "1.0.bias[16]",
            "3.0.weight[120, 256]",
            "3.0.bias[120]",
            "3.2.weight[84, 120]",
            "3.2.bias[84]",
            "3.4.weight[10, 84]",
            "3.4.bias[10]",
        ]
    );
    // 156 + 2,416 + 30,840 + 10,164 + 850 (the classic 61,706 is for 32×32 input, 400 features).
    assert_eq!(Params::<f32>::param_count(&net), 44_426);
}

/// A small LeNet-shaped net in f64 through the finite-difference check: conv with padding,
/// ReLU, overlapping max pool, strided conv, tanh, flatten, linear, log-softmax.
#[test]
fn composite_cnn_backward_matches_finite_differences() {
    type Small = (
        (Conv2d<2, 3, 3, 1, 1, Exact, f64>, Relu, MaxPool2d<3, 1>),
        (Conv2d<3, 4, 3, 2, 1, Exact, f64>, Tanh),
        Flatten,
        (Linear<24, 5, f64>, Sigmoid, Linear<5, 3, f64>, LogSoftmax),
    );
    // Finite differences are only valid away from kinks: take the first seed whose ReLU inputs
    // are all at least 1e-3 from 0 and whose positive max-pool maxima win by at least 1e-3.
    let (net, x) = (0..100)
        .map(|seed| {
            let mut rng = rng(seed);
            let net = Small::init(&mut rng);
            (net, Tensor::<2, 2, 7, 5, f64>::uniform(&mut rng, -1.0, 1.0))
        })
        .find(|(net, x)| {
            let pre_relu = net.0.0.forward(x.clone());
            away_from_zero(pre_relu.as_slice(), 1e-3)
                && pool_maxima_distinct(Relu.forward(pre_relu).as_slice(), [2, 3, 7, 5], 3, 1e-3)
        })
        .expect("a seed below 100 keeps the inputs away from kinks");

    let y: Tensor2<2, 3, f64> = net.forward(x.clone());
    assert_eq!(y.shape(), [2, 3]);
    let report = check_module(&net, x, 1e-6);
    report.assert_below(1e-6);
    assert!(report.coordinates > 400, "{report:?}");
}

#[test]
fn residual_network_backward_matches_finite_differences() {
    type ResNetLet = (
        Conv2d<1, 3, 3, 1, 1, Exact, f64>,
        Tanh,
        Residual<(Conv2d<3, 3, 3, 1, 1, Exact, f64>, LeakyRelu, Conv2d<3, 3, 1, 1, 0, Exact, f64>)>,
        AvgPool2d<2, 2, 1, Floor>,
        GlobalAvgPool2d,
        Flatten,
        Linear<3, 2, f64>,
    );
    // The first seed whose LeakyReLU inputs all stay at least 1e-3 from its kink at 0.
    let (net, x) = (0..100)
        .map(|seed| {
            let mut rng = rng(seed);
            let net = ResNetLet::init(&mut rng);
            (net, Tensor::<2, 1, 5, 6, f64>::uniform(&mut rng, -1.0, 1.0))
        })
        .find(|(net, x)| {
            let branch_in = net.1.forward(net.0.forward(x.clone()));
            away_from_zero(net.2.0.0.forward(branch_in).as_slice(), 1e-3)
        })
        .expect("a seed below 100 keeps the inputs away from kinks");
    check_module(&net, x, 1e-6).assert_below(1e-6);
}

#[test]
fn one_sgd_step_lowers_the_loss() {
    type Net = ((Conv2d<1, 4, 3>, Relu, MaxPool2d<2>), Flatten, Linear<144, 10>);
    let mut rng = rng(6);
    let mut net = Net::init(&mut rng);
    let x = Tensor::<16, 1, 14, 14>::uniform(&mut rng, 0.0, 1.0);
    let y = labels::<16>(1);

    let loss_of = |net: &Net| cross_entropy(&net.forward(x.clone()), &y).0;
    let before = loss_of(&net);
    let (logits, trace) = net.forward_train(x.clone());
    let (loss, dlogits) = cross_entropy(&logits, &y);
    assert_eq!(loss, before);
    let mut grads = net.zeros_like();
    net.backward(trace, dlogits, &mut grads);
    Sgd::new(0.1).step(&mut net, &grads);
    let after = loss_of(&net);
    assert!(after < before, "loss went from {before} to {after}");
}

#[test]
fn backward_accumulates_and_zero_resets() {
    let mut rng = rng(7);
    let net = Linear::<3, 2, f64>::init(&mut rng);
    let x = Tensor2::<4, 3, f64>::uniform(&mut rng, -1.0, 1.0);
    let dy = Tensor2::<4, 2, f64>::uniform(&mut rng, -1.0, 1.0);
    let mut once = net.zeros_like();
    let (_, t) = net.forward_train(x.clone());
    net.backward(t, dy.clone(), &mut once);
    let mut twice = net.zeros_like();
    for _ in 0..2 {
        let (_, t) = net.forward_train(x.clone());
        net.backward(t, dy.clone(), &mut twice);
    }
    for (a, b) in once.weight().iter().zip(twice.weight()) {
        assert!((2.0 * a - b).abs() < 1e-12);
    }
    twice.zero();
    assert!(twice.weight().iter().chain(twice.bias()).all(|v| *v == 0.0));
}

#[test]
fn networks_and_tensors_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<LeNet>();
    shareable::<TorchMnist>();
    shareable::<Tensor<64, 1, 28, 28>>();
    shareable::<typed_cnn::Trace<LeNet, Tensor<64, 1, 28, 28>>>();
}

/// `backward_params` (no input gradient; the first convolution skips its `Wᵀ·dY` and col2im)
/// gives exactly the parameter gradients of `backward`.
#[test]
fn backward_params_matches_backward() {
    let mut rng = rng(8);
    let net = LeNet::init(&mut rng);
    let x = Tensor::<16, 1, 28, 28>::uniform(&mut rng, 0.0, 1.0);
    let labels = Labels::<16, 10>::new((0..16).map(|i| i % 10).collect()).unwrap();
    let (mut full, mut params) = (net.zeros_like(), net.zeros_like());
    let (logits, trace) = net.forward_train(x.clone());
    let (_, dy) = cross_entropy(&logits, &labels);
    let _dx = net.backward(trace, dy.clone(), &mut full);
    let (_, trace) = net.forward_train(x);
    net.backward_params(trace, dy, &mut params);
    assert_eq!(full, params);
}
