//! `network!`: named and numbered networks, their routes (`->`, `+`, `cat`, `identity`), names,
//! gradients and the long sequentials a tuple cannot hold.

use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::gradcheck::check_module;
use typed_cnn::prelude::*;

typed_cnn::network! {
    /// torchvision's `BasicBlock` with a projection shortcut, in f64 for the gradient check.
    struct DownBlock<const CIN: usize, const COUT: usize, E: Float = f64> {
        conv1: Conv2d<CIN, COUT, 3, 2, 1, Floor, E, NoBias>,
        bn1: BatchNorm2d<COUT, E>,
        relu: Relu,
        conv2: Conv2d<COUT, COUT, 3, 1, 1, Exact, E, NoBias>,
        bn2: BatchNorm2d<COUT, E>,
        downsample: (Conv2d<CIN, COUT, 1, 2, 0, Floor, E, NoBias>, BatchNorm2d<COUT, E>),
    }
    forward: (conv1 -> bn1 -> relu -> conv2 -> bn2 + downsample) -> relu
}

/// The same block built from the structural pieces.
type Structural<const CIN: usize, const COUT: usize> = (
    Sum<
        (
            Conv2d<CIN, COUT, 3, 2, 1, Floor, f64, NoBias>,
            BatchNorm2d<COUT, f64>,
            Relu,
            Conv2d<COUT, COUT, 3, 1, 1, Exact, f64, NoBias>,
            BatchNorm2d<COUT, f64>,
        ),
        (Conv2d<CIN, COUT, 1, 2, 0, Floor, f64, NoBias>, BatchNorm2d<COUT, f64>),
    >,
    Relu,
);

typed_cnn::network! {
    /// A U-Net level: the input beside a down-up path, channels stacked, then a residual 1×1.
    struct Level {
        pool: MaxPool2d<2>,
        conv: Conv2d<2, 3, 3, 1, 1, Exact, f64>,
        act: Tanh,
        up: Upsample<2>,
        mix: Conv2d<5, 5, 1, 1, 0, Exact, f64>,
    }
    forward: cat(identity, pool -> conv -> act -> up) -> (mix + identity)
}

fn names<M: Params<f64>>(m: &M) -> Vec<String> {
    let mut names = Vec::new();
    m.visit("", &mut |name, _, _| names.push(name.to_string()));
    m.visit_buffers("", &mut |name, _, _| names.push(name.to_string()));
    names
}

#[test]
fn named_fields_name_the_parameters_as_torchvision_does() {
    let block = DownBlock::<2, 4>::default();
    assert_eq!(
        names(&block),
        [
            "conv1.weight",
            "bn1.weight",
            "bn1.bias",
            "conv2.weight",
            "bn2.weight",
            "bn2.bias",
            "downsample.0.weight",
            "downsample.1.weight",
            "downsample.1.bias",
            "bn1.running_mean",
            "bn1.running_var",
            "bn1.num_batches_tracked",
            "bn2.running_mean",
            "bn2.running_var",
            "bn2.num_batches_tracked",
            "downsample.1.running_mean",
            "downsample.1.running_var",
            "downsample.1.num_batches_tracked",
        ]
    );
}

#[test]
fn a_route_computes_what_the_structural_block_computes() {
    // Same parameters (visited in the same order), same input: the same outputs and gradients,
    // bit for bit, in eval and in train mode.
    let mut rng = StdRng::seed_from_u64(3);
    let block = DownBlock::<2, 4>::init(&mut rng);
    let mut structural = Structural::<2, 4>::init(&mut rng);
    let mut values = Vec::new();
    block.visit("", &mut |_, _, v| values.push(v.to_vec()));
    let mut it = values.into_iter();
    structural.visit_mut("", &mut |_, _, v| v.copy_from_slice(&it.next().unwrap()));
    assert!(it.next().is_none());

    let x = Tensor::<3, 2, 6, 5, f64>::uniform(&mut rng, -1.0, 1.0);
    let (a, b) = (block.forward(x.clone()), structural.forward(x.clone()));
    assert_eq!(a.as_slice(), b.as_slice());

    let (ya, ta) = block.forward_train(x.clone());
    let (yb, tb) = structural.forward_train(x);
    assert_eq!(ya.as_slice(), yb.as_slice());
    let dy = T4::<f64, 3, _, _, _>::uniform(&mut rng, -1.0, 1.0);
    let (mut ga, mut gb) = (block.zeros_like(), structural.zeros_like());
    let dxa = block.backward(ta, dy.clone(), &mut ga);
    let dxb = structural.backward(tb, dy, &mut gb);
    assert_eq!(dxa.as_slice(), dxb.as_slice());
    let (mut pa, mut pb) = (Vec::new(), Vec::new());
    ga.visit("", &mut |_, _, v| pa.extend_from_slice(v));
    gb.visit("", &mut |_, _, v| pb.extend_from_slice(v));
    assert_eq!(pa, pb);
}

#[test]
fn routes_backward_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(4);
    let block = DownBlock::<2, 3>::init(&mut rng);
    check_module(&block, Tensor::<2, 2, 5, 4, f64>::uniform(&mut rng, -1.0, 1.0), 1e-6)
        .assert_below(1e-6);
    let level = Level::init(&mut rng);
    let x = Tensor::<2, 2, 4, 6, f64>::uniform(&mut rng, -1.0, 1.0);
    let y: Tensor<2, 5, 4, 6, f64> = level.forward(x.clone());
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
    check_module(&level, x, 1e-6).assert_below(1e-6);
}

#[test]
fn identity_and_cat_by_hand() {
    typed_cnn::network! {
        struct Twice { act: Relu }
        forward: cat(identity, act) -> (act + identity)
    }
    // x = [-1, 2] (1 channel of 1×2): cat → [-1, 2, 0, 2]; relu + identity → [-1, 4, 0, 4]
    let x = Tensor::<1, 1, 1, 2, f64>::from_slice(&[-1.0, 2.0]).unwrap();
    let (y, trace): (Tensor<1, 2, 1, 2, f64>, _) = Twice::default().forward_train(x);
    assert_eq!(y.as_slice(), [-1.0, 4.0, 0.0, 4.0]);
    // dy = 1: through (act + identity): [1, 2, 1, 2]; cat splits: identity [1, 2], act [1·0, 2·1]
    let dx = Twice::default().backward(trace, T4::filled(1.0), &mut Twice::default());
    assert_eq!(dx.as_slice(), [1.0, 4.0]);
}

typed_cnn::network! {
    /// 40 members, numbered as `nn.Sequential` numbers them.
    struct Long(
        Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh,
        Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh,
        Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh,
        Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh,
        Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh, Linear<3, 3, f64>, Tanh,
    );
}

#[test]
fn a_sequential_of_forty_members() {
    let mut rng = StdRng::seed_from_u64(5);
    let net = Long::init(&mut rng);
    let n = names(&net);
    assert_eq!((n.len(), n[0].as_str(), n[39].as_str()), (40, "0.weight", "38.bias"));
    // The members run in order: by hand, layer by layer, the same output.
    let x = Tensor2::<2, 3, f64>::uniform(&mut rng, -1.0, 1.0);
    let mut h = x.clone();
    macro_rules! by_hand {
        ($($i:tt)+) => {$( h = Tanh.forward(net.$i.forward(h)); )+};
    }
    by_hand!(0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 32 34 36 38);
    assert_eq!(net.forward(x.clone()).as_slice(), h.as_slice());
    check_module(&net, x.clone(), 1e-6).assert_below(1e-6);
    // `backward_params` (no input gradient for the first member) gives the same gradients.
    let (y, trace) = net.forward_train(x.clone());
    let mut a = net.zeros_like();
    net.backward_params(trace, y.clone(), &mut a);
    let (_, trace) = net.forward_train(x);
    let mut b = net.zeros_like();
    let _ = net.backward(trace, y, &mut b);
    assert_eq!(a, b);
}
