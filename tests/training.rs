//! Training end to end: the digits quick start reaches its accuracy, a seed reproduces a run bit
//! for bit, a checkpoint resumes exactly, and a batch-norm residual network trains.

use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::data::{Dataset, Digits};
use typed_cnn::optim::Optimizer;
use typed_cnn::prelude::*;
use typed_cnn::weights;

type DigitsNet = (
    (Conv2d<1, 8, 3, 1, 1>, Relu, MaxPool2d<2>),
    (Conv2d<8, 16, 3, 1, 1>, Relu, MaxPool2d<2>),
    Flatten,
    Linear<64, 10>,
);

/// A residual body with batch norm, sized for 8×8 digits: 16·4·4 = 256 features.
type Body = (
    (Conv2d<1, 16, 3, 1, 1>, BatchNorm2d<16>, Relu),
    Residual<(
        Conv2d<16, 16, 3, 1, 1>,
        BatchNorm2d<16>,
        Relu,
        Conv2d<16, 16, 3, 1, 1>,
        BatchNorm2d<16>,
    )>,
    Relu,
    MaxPool2d<2>,
    Flatten,
);
type ResNet = (Body, Dropout, Linear<256, 10>);
/// Dropout's masks come from its seed and call counter, which are not saved in weight files (as
/// PyTorch does not save its generator either), so the exact-resume test leaves dropout out.
type ResNetNoDropout = (Body, Linear<256, 10>);

fn digits() -> (Dataset<1, 8, 8, 10>, Dataset<1, 8, 8, 10>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let all = Digits::load(path).expect("the digits file ships in data/");
    (all.subset(0..1500), all.subset(1500..all.len()))
}

/// `epochs` epochs of shuffled batches of 32 with `opt`; returns the model.
fn train<M, O>(mut net: M, opt: &mut O, data: &Dataset<1, 8, 8, 10>, epochs: usize, seed: u64) -> M
where
    M: Params<f32>
        + Trainable<Tensor<32, 1, 8, 8>>
        + Forward<Tensor<32, 1, 8, 8>, Output = Tensor2<32, 10>>,
    O: Optimizer<f32>,
{
    let mut rng = StdRng::seed_from_u64(seed);
    let mut grads = net.zeros_like();
    for _ in 0..epochs {
        for batch in data.shuffled_batches::<32>(&mut rng) {
            let (logits, trace) = net.forward_train(batch.images);
            let (_, dy) = cross_entropy(&logits, &batch.labels);
            grads.zero();
            net.backward_params(trace, dy, &mut grads);
            opt.step(&mut net, &grads);
        }
    }
    net
}

#[test]
fn digits_quick_start_reaches_92_percent() {
    let (train_set, test_set) = digits();
    let net = DigitsNet::init(&mut StdRng::seed_from_u64(0));
    let net = train(net, &mut Sgd::new(0.05).momentum(0.9), &train_set, 30, 0);
    let acc = test_set.evaluate::<32>(&net).accuracy();
    assert!(acc >= 0.92, "test accuracy {acc}");
}

#[test]
fn the_same_seed_reproduces_the_weights_bit_for_bit() {
    let (train_set, _) = digits();
    let run = |seed| {
        let net = ResNet::init(&mut StdRng::seed_from_u64(seed));
        train(net, &mut Adam::new(1e-3), &train_set, 2, seed)
    };
    let (a, b, c) = (run(1), run(1), run(2));
    let bits = |net: &ResNet| {
        weights::StateDict::from_model(net)
            .entries
            .into_iter()
            .flat_map(|e| match e.data {
                weights::EntryData::Values(v) => v.iter().map(|x| x.to_bits()).collect(),
                weights::EntryData::Count(n) => vec![n as u32],
            })
            .collect::<Vec<u32>>()
    };
    assert_eq!(bits(&a), bits(&b), "two runs with seed 1 differ");
    assert_ne!(bits(&a), bits(&c), "seeds 1 and 2 gave the same weights");
}

#[test]
fn batchnorm_residual_network_trains_on_digits() {
    let (train_set, test_set) = digits();
    let mut net = ResNet::init(&mut StdRng::seed_from_u64(3));
    net.1.set_p(0.2);
    let net = train(net, &mut Adam::new(2e-3), &train_set, 10, 3);
    // The running statistics were folded in: 10 epochs of 47 batches.
    let bn = &net.0.0.1;
    assert_eq!(bn.num_batches_tracked(), 10 * 47);
    assert!(bn.running_var().iter().all(|&v| v > 0.0 && v != 1.0), "{:?}", bn.running_var());
    let acc = test_set.evaluate::<32>(&net).accuracy();
    assert!(acc >= 0.90, "test accuracy {acc}");
}

/// Training 4 epochs straight and training 2, saving model and optimizer, loading both into fresh
/// values and training 2 more give bit-identical weights.
#[test]
fn checkpoints_resume_exactly() {
    let (train_set, _) = digits();
    let dir = std::env::temp_dir().join(format!("typed_cnn_resume_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (model_file, opt_file) = (dir.join("model.safetensors"), dir.join("opt.safetensors"));
    let init = || ResNetNoDropout::init(&mut StdRng::seed_from_u64(5));

    // The data order of epochs 3 and 4 must not depend on the split: one seed per pair of epochs.
    let straight_sgd = {
        let mut opt = Sgd::new(0.02).momentum(0.9).nesterov(true).weight_decay(1e-4);
        let net = train(init(), &mut opt, &train_set, 2, 10);
        train(net, &mut opt, &train_set, 2, 11)
    };
    let resumed_sgd = {
        let mut opt = Sgd::new(0.02).momentum(0.9).nesterov(true).weight_decay(1e-4);
        let net = train(init(), &mut opt, &train_set, 2, 10);
        weights::save(&net, &model_file).unwrap();
        opt.save(&opt_file).unwrap();
        let mut net = ResNetNoDropout::init(&mut StdRng::seed_from_u64(99));
        weights::load(&mut net, &model_file).unwrap();
        let mut opt = Sgd::new(1.0);
        opt.load(&net, &opt_file).unwrap();
        train(net, &mut opt, &train_set, 2, 11)
    };
    assert_eq!(straight_sgd, resumed_sgd);

    let straight_adam = {
        let mut opt = Adam::adamw(2e-3);
        let net = train(init(), &mut opt, &train_set, 2, 10);
        train(net, &mut opt, &train_set, 2, 11)
    };
    let resumed_adam = {
        let mut opt = Adam::adamw(2e-3);
        let net = train(init(), &mut opt, &train_set, 2, 10);
        weights::save(&net, &model_file).unwrap();
        opt.save(&opt_file).unwrap();
        let mut net = ResNetNoDropout::init(&mut StdRng::seed_from_u64(99));
        weights::load(&mut net, &model_file).unwrap();
        let mut opt = Adam::adamw(1.0);
        opt.load(&net, &opt_file).unwrap();
        train(net, &mut opt, &train_set, 2, 11)
    };
    assert_eq!(straight_adam, resumed_adam);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A learning rate of 1e38 overflows the weights to infinity within a few steps; the guard stops the run with
/// the step, instead of training on NaN.
#[test]
fn diverging_training_stops_with_the_step() {
    let (train_set, _) = digits();
    let mut net = DigitsNet::init(&mut StdRng::seed_from_u64(0));
    let mut opt = Sgd::new(1e38);
    let mut grads = net.zeros_like();
    let mut rng = StdRng::seed_from_u64(0);
    let mut stopped = None;
    'epochs: for _ in 0..5 {
        for (step, batch) in train_set.shuffled_batches::<32>(&mut rng).enumerate() {
            let (logits, trace) = net.forward_train(batch.images);
            let (loss, dy) = cross_entropy(&logits, &batch.labels);
            grads.zero();
            net.backward_params(trace, dy, &mut grads);
            if let Err(e) = typed_cnn::finite::check_finite(step as u64, loss, &grads) {
                stopped = Some(e);
                break 'epochs;
            }
            opt.step(&mut net, &grads);
        }
    }
    let e = stopped.expect("lr 1e38 should produce a non-finite loss or gradient");
    println!("{e}");
    assert!(e.step > 0, "{e}");
    assert!(e.to_string().starts_with(&format!("step {}: ", e.step)), "{e}");
}
