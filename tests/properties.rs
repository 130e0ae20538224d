//! Typed layers over many shape combinations, each through the f64 finite-difference check
//! (`check_module`, step 1e-6, relative error below 1e-6): one generated `#[test]` per layer
//! instance, from the shape lists below. The lists include floor mode with strides that do not
//! tile, `H ≠ W`, padding, 1×1 kernels, batch 1 and a batch above the kernels' chunk count.
//! Max pooling gets inputs with distinct values (a scaled random permutation), and the
//! composite networks take the first seed that keeps every max-pool window away from a tie.
//!
//! Compile time matters here (every instance is a new monomorphization): keep the lists short
//! enough that `cargo build --release --tests` of this file stays well under a minute.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use typed_cnn::TensorData;
use typed_cnn::gradcheck::check_module;
use typed_cnn::prelude::*;

/// A seed from the test's name, so every instance draws different values.
fn seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// The finite-difference check, plus: every input and parameter coordinate was compared.
#[track_caller]
fn check<M, In>(model: &M, x: In)
where
    M: Trainable<In> + Params<f64> + Clone,
    In: TensorData<Elem = f64>,
    M::Output: TensorData<Elem = f64>,
{
    let expected = x.data().len() + model.param_count();
    let report = check_module(model, x, 1e-6);
    assert_eq!(report.coordinates, expected, "{report:?}");
    report.assert_below(1e-6);
}

/// Distinct values at least 0.1 apart (a random permutation of `0..len`, scaled and centred):
/// no ties, and no maximum within reach of a 1e-6 step of its runner-up.
fn distinct<T: TensorData<Elem = f64>>(rng: &mut StdRng, mut x: T) -> T {
    let len = x.data().len();
    let mut perm: Vec<usize> = (0..len).collect();
    perm.shuffle(rng);
    for (v, p) in x.data_mut().iter_mut().zip(perm) {
        *v = (p as f64 - len as f64 / 2.0) * 0.1;
    }
    x
}

/// For a `k × k`, stride-`s`, `−∞`-padded-by-`p` max pool over `[n, c, h, w]`: every window's
/// maximum beats its runner-up by at least `margin` (so central differences see no kink).
fn maxima_distinct(x: &[f64], [n, c, h, w]: [usize; 4], k: usize, s: usize, p: usize) -> bool {
    const MARGIN: f64 = 1e-4;
    let (ho, wo) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
    let clip = |i: usize, len: usize| {
        let start = (i * s) as isize - p as isize;
        (start.max(0) as usize)..((start + k as isize).min(len as isize) as usize)
    };
    x.chunks_exact(h * w).take(n * c).all(|plane| {
        (0..ho).all(|i| {
            (0..wo).all(|j| {
                let mut window: Vec<f64> =
                    clip(i, h).flat_map(|r| clip(j, w).map(move |q| plane[r * w + q])).collect();
                window.sort_by(|a, b| b.total_cmp(a));
                window.len() < 2 || window[0] - window[1] >= MARGIN
            })
        })
    })
}

/// `Conv2d<CIN, COUT, K, S, P, M, f64>` on `Tensor<N, CIN, H, W, f64>`; a trailing `no_bias`
/// drops the bias.
macro_rules! conv {
    ($($name:ident: $cin:literal, $cout:literal, $k:literal, $s:literal, $p:literal, $m:ident,
       $n:literal, $h:literal, $w:literal $(, $no_bias:ident)?;)*) => {$(
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(seed(stringify!($name)));
            let layer = Conv2d::<$cin, $cout, $k, $s, $p, $m, f64>::init(&mut rng);
            $(
                let _ = stringify!($no_bias);
                let layer = layer.without_bias();
            )?
            let x = Tensor::<$n, $cin, $h, $w, f64>::uniform(&mut rng, -1.0, 1.0);
            check(&layer, x);
        }
    )*};
}

/// `MaxPool2d<K, S, P, M>` on `Tensor<N, C, H, W, f64>` of distinct values.
macro_rules! maxpool {
    ($($name:ident: $k:literal, $s:literal, $p:literal, $m:ident,
       $n:literal, $c:literal, $h:literal, $w:literal;)*) => {$(
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(seed(stringify!($name)));
            let x = distinct(&mut rng, Tensor::<$n, $c, $h, $w, f64>::zeros());
            check(&MaxPool2d::<$k, $s, $p, $m>::default(), x);
        }
    )*};
}

/// `AvgPool2d<K, S, P, M>::new(count_include_pad)` on `Tensor<N, C, H, W, f64>`.
macro_rules! avgpool {
    ($($name:ident: $k:literal, $s:literal, $p:literal, $m:ident, $include_pad:literal,
       $n:literal, $c:literal, $h:literal, $w:literal;)*) => {$(
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(seed(stringify!($name)));
            let x = Tensor::<$n, $c, $h, $w, f64>::uniform(&mut rng, -1.0, 1.0);
            check(&AvgPool2d::<$k, $s, $p, $m>::new($include_pad), x);
        }
    )*};
}

/// `Linear<IN, OUT, f64>` on `Tensor2<N, IN, f64>`.
macro_rules! linear {
    ($($name:ident: $in:literal, $out:literal, $n:literal;)*) => {$(
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(seed(stringify!($name)));
            let layer = Linear::<$in, $out, f64>::init(&mut rng);
            check(&layer, Tensor2::<$n, $in, f64>::uniform(&mut rng, -1.0, 1.0));
        }
    )*};
}

/// `BatchNorm2d<C, f64>` (random γ, β and running statistics; train mode) on
/// `Tensor<N, C, H, W, f64>` with `N·H·W > 1`.
macro_rules! batchnorm {
    ($($name:ident: $c:literal, $n:literal, $h:literal, $w:literal;)*) => {$(
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(seed(stringify!($name)));
            let mut v = |lo: f64, hi: f64| (0..$c).map(|_| rng.random_range(lo..hi)).collect();
            let bn = BatchNorm2d::<$c, f64>::from_parts(
                v(0.5, 2.0), v(-1.0, 1.0), v(-1.0, 1.0), v(0.5, 2.0),
            ).unwrap();
            let x = Tensor::<$n, $c, $h, $w, f64>::uniform(&mut rng, -2.0, 2.0);
            check(&bn, x);
        }
    )*};
}

/// A parameter-free layer `$layer` on `$input` (uniform in ±1, moved at least 1e-3 away from
/// the kink at 0 of ReLU and LeakyReLU).
macro_rules! pointwise {
    ($($name:ident: $layer:expr, $input:ty;)*) => {$(
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(seed(stringify!($name)));
            let mut x = <$input>::uniform(&mut rng, -1.0, 1.0);
            x.map_inplace(|v| if v.abs() < 1e-3 { 0.5 } else { v });
            check(&$layer, x);
        }
    )*};
}

/// Whether a composite network's pool input is safe for finite differences (see [`net!`]).
macro_rules! pool_input_ok {
    (avg; $net:expr, $x:expr) => {{
        let _ = ($net, $x);
        true
    }};
    (max $k:literal $s:literal $p:literal; $net:expr, $x:expr) => {{
        let (mid, _) = $net.0.forward_train($x.clone());
        maxima_distinct(mid.as_slice(), mid.shape(), $k, $s, $p)
    }};
}

/// A composite network `(prefix, pool, suffix)` on `Tensor<N, C, H, W, f64>`. For a max pool
/// (`max k s p`), the first seed whose pool input (the prefix's training output) has every
/// window maximum ahead of its runner-up by 1e-4; for an average pool (`avg`), the first seed.
macro_rules! net {
    ($($name:ident: $prefix:ty, $pool:expr, $suffix:ty, [$n:literal, $c:literal, $h:literal, $w:literal],
       $kind:ident $($k:literal $s:literal $p:literal)?;)*) => {$(
        #[test]
        fn $name() {
            let (net, x) = (0..100)
                .map(|i| {
                    let mut rng = StdRng::seed_from_u64(seed(stringify!($name)) + i);
                    let net = (<$prefix>::init(&mut rng), $pool, <$suffix>::init(&mut rng));
                    (net, Tensor::<$n, $c, $h, $w, f64>::uniform(&mut rng, -1.0, 1.0))
                })
                .find(|(net, x)| pool_input_ok!($kind $($k $s $p)?; net, x))
                .expect("a seed below 100 keeps the max-pool windows away from ties");
            check(&net, x);
        }
    )*};
}

conv! {
    conv_pointwise_batch1: 1, 1, 1, 1, 0, Exact, 1, 3, 4;
    conv_pointwise_2to3: 2, 3, 1, 1, 0, Exact, 2, 3, 2;
    conv_1x1_stride2: 3, 2, 1, 2, 0, Exact, 2, 5, 3;
    conv_1x1_pad1: 2, 2, 1, 1, 1, Exact, 1, 2, 3;
    conv_1x1_stride3_floor: 3, 3, 1, 3, 0, Floor, 1, 5, 7;
    conv_k2: 1, 2, 2, 1, 0, Exact, 2, 3, 4;
    conv_k2_stride2: 2, 2, 2, 2, 0, Exact, 3, 4, 6;
    conv_k2_s2_p1_floor: 3, 1, 2, 2, 1, Floor, 1, 5, 4;
    conv_k2_s3_p1_floor: 2, 3, 2, 3, 1, Floor, 2, 5, 8;
    conv_k3_same: 2, 3, 3, 1, 1, Exact, 1, 4, 5;
    conv_k3_s2_p1: 2, 2, 3, 2, 1, Exact, 2, 5, 7;
    conv_k3_s2_floor: 1, 3, 3, 2, 0, Floor, 1, 6, 5;
    conv_k3_s3_p1_floor: 3, 2, 3, 3, 1, Floor, 2, 6, 4;
    conv_k3_s3: 1, 2, 3, 3, 0, Exact, 1, 6, 9;
    conv_k3_pad2: 1, 4, 3, 1, 2, Exact, 1, 2, 3;
    conv_k3_4to2: 4, 2, 3, 1, 0, Exact, 1, 4, 3;
    conv_k3_batch9: 2, 2, 3, 1, 1, Exact, 9, 3, 2;
    conv_k4_s3_p1_floor: 2, 2, 4, 3, 1, Floor, 1, 7, 9;
    conv_k4_s2_p2_floor: 2, 2, 4, 2, 2, Floor, 1, 3, 6;
    conv_k5_pad2: 1, 2, 5, 1, 2, Exact, 1, 3, 4;
    conv_k5_s2_p2_floor: 2, 1, 5, 2, 2, Floor, 2, 6, 5;
    conv_k5_full_height: 1, 1, 5, 1, 0, Exact, 1, 5, 6;
    conv_no_bias_floor: 2, 2, 3, 2, 1, Floor, 2, 4, 5, no_bias;
    conv_no_bias_pointwise: 1, 1, 1, 1, 0, Exact, 2, 2, 3, no_bias;
}

maxpool! {
    maxpool_2: 2, 2, 0, Exact, 1, 2, 4, 6;
    maxpool_2_floor: 2, 2, 0, Floor, 2, 1, 5, 7;
    maxpool_2_s1_p1: 2, 1, 1, Exact, 1, 1, 3, 4;
    maxpool_2_s3_p1_floor: 2, 3, 1, Floor, 1, 3, 5, 4;
    maxpool_3_s1_p1: 3, 1, 1, Exact, 1, 2, 4, 3;
    maxpool_3_s2_p1: 3, 2, 1, Exact, 2, 1, 5, 7;
    maxpool_3_s2_p1_floor: 3, 2, 1, Floor, 1, 2, 6, 4;
    maxpool_3_s3_floor_batch9: 3, 3, 0, Floor, 9, 1, 4, 7;
    maxpool_4_s1: 4, 1, 0, Exact, 1, 1, 4, 5;
    maxpool_4_s3_p2_floor: 4, 3, 2, Floor, 1, 2, 5, 8;
    maxpool_5_s2_p2_floor: 5, 2, 2, Floor, 2, 1, 4, 6;
    maxpool_1_s2: 1, 2, 0, Exact, 1, 2, 3, 5;
}

avgpool! {
    avgpool_2_incl: 2, 2, 0, Exact, true, 1, 2, 4, 6;
    avgpool_2_p1_excl: 2, 2, 1, Exact, false, 1, 1, 4, 6;
    avgpool_2_p1_incl: 2, 2, 1, Exact, true, 2, 1, 2, 4;
    avgpool_2_s1_excl_batch9: 2, 1, 0, Exact, false, 9, 1, 3, 2;
    avgpool_3_s1_p1_excl: 3, 1, 1, Exact, false, 1, 2, 3, 5;
    avgpool_3_s1_p1_incl: 3, 1, 1, Exact, true, 1, 2, 3, 5;
    avgpool_3_s2_p1_floor_excl: 3, 2, 1, Floor, false, 2, 1, 6, 5;
    avgpool_3_s2_p1_floor_incl: 3, 2, 1, Floor, true, 2, 1, 6, 5;
    avgpool_3_s3_floor_incl: 3, 3, 0, Floor, true, 1, 3, 7, 4;
    avgpool_4_s3_p2_floor_excl: 4, 3, 2, Floor, false, 1, 2, 5, 7;
    avgpool_4_s3_p2_floor_incl: 4, 3, 2, Floor, true, 1, 2, 5, 7;
    avgpool_5_s2_p2_floor_excl: 5, 2, 2, Floor, false, 1, 1, 4, 7;
    avgpool_5_s1_p2_incl: 5, 1, 2, Exact, true, 1, 1, 3, 2;
    avgpool_1_s2_floor_excl: 1, 2, 0, Floor, false, 1, 2, 4, 5;
}

linear! {
    linear_1_1_batch1: 1, 1, 1;
    linear_3_2: 3, 2, 4;
    linear_5_1: 5, 1, 2;
    linear_2_7_batch1: 2, 7, 1;
    linear_8_3: 8, 3, 3;
    linear_4_4_batch9: 4, 4, 9;
}

batchnorm! {
    batchnorm_c1_two_values: 1, 2, 1, 1;
    batchnorm_c2_batch1: 2, 1, 2, 3;
    batchnorm_c3: 3, 2, 2, 2;
    batchnorm_c1_row: 1, 1, 1, 5;
    batchnorm_c2_n3: 2, 3, 1, 2;
    batchnorm_c4_column: 4, 2, 3, 1;
}

pointwise! {
    relu_t4: Relu, Tensor<2, 2, 3, 4, f64>;
    leaky_relu_t4: LeakyRelu::new(0.1), Tensor<1, 3, 2, 5, f64>;
    tanh_t4: Tanh, Tensor<2, 1, 4, 3, f64>;
    sigmoid_t2: Sigmoid, Tensor2<3, 4, f64>;
    softmax_t2: Softmax, Tensor2<2, 5, f64>;
    log_softmax_t2: LogSoftmax, Tensor2<3, 3, f64>;
    global_avgpool: GlobalAvgPool2d, Tensor<2, 3, 3, 4, f64>;
    global_avgpool_batch1: GlobalAvgPool2d, Tensor<1, 2, 5, 2, f64>;
}

net! {
    net_conv_bn_tanh_avg_linear:
        (Conv2d<2, 3, 3, 1, 1, Exact, f64>, BatchNorm2d<3, f64>, Tanh),
        AvgPool2d::<2, 2, 0, Floor>::new(true),
        (Flatten, Linear<18, 4, f64>),
        [2, 2, 5, 7], avg;
    net_conv_bn_tanh_max_linear:
        (Conv2d<2, 3, 3, 1, 1, Exact, f64>, BatchNorm2d<3, f64>, Tanh),
        MaxPool2d::<3, 2, 1, Floor>::default(),
        (Flatten, Linear<36, 2, f64>),
        [2, 2, 5, 7], max 3 2 1;
    net_strided_floor_batch1:
        (Conv2d<1, 2, 4, 3, 1, Floor, f64>, BatchNorm2d<2, f64>, Tanh),
        MaxPool2d::<2, 1, 0, Exact>::default(),
        (Flatten, Linear<12, 3, f64>),
        [1, 1, 8, 11], max 2 1 0;
    net_pointwise_avg_exclude_pad:
        (Conv2d<3, 2, 1, 1, 0, Exact, f64>, BatchNorm2d<2, f64>, Tanh),
        AvgPool2d::<3, 2, 1, Floor>::new(false),
        (Flatten, Linear<12, 2, f64>),
        [3, 3, 6, 4], avg;
    net_two_convs_mlp:
        (Conv2d<1, 2, 3, 1, 1, Exact, f64>, BatchNorm2d<2, f64>, Tanh, Conv2d<2, 2, 3, 2, 0, Floor, f64>),
        MaxPool2d::<2, 2, 0, Floor>::default(),
        (Flatten, Linear<4, 3, f64>, Tanh, Linear<3, 2, f64>),
        [2, 1, 8, 9], max 2 2 0;
}
