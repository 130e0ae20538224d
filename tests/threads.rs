//! Results do not depend on the thread count: the batch is split into fixed chunks whose
//! gradients are summed in a fixed order (see `typed_cnn::threads`).

use rand::{SeedableRng, rngs::StdRng};
use typed_cnn::prelude::*;

type Net = (
    (Conv2d<1, 6, 5, 1, 2>, Relu, MaxPool2d<2>),
    (Conv2d<6, 16, 5>, Relu, MaxPool2d<2>),
    (Conv2d<16, 8, 1>, Relu),
    Flatten,
    (Linear<200, 32>, Relu, Linear<32, 10>),
);

/// Three SGD steps on a batch of 13 (not a multiple of the chunk count) with `threads` threads.
fn train(threads: usize) -> (Net, Tensor<13, 1, 28, 28>) {
    typed_cnn::set_threads(threads);
    let mut rng = StdRng::seed_from_u64(42);
    let mut net = Net::init(&mut rng);
    let x = Tensor::<13, 1, 28, 28>::uniform(&mut rng, 0.0, 1.0);
    let labels = Labels::<13, 10>::new((0..13).map(|i| i % 10).collect()).unwrap();
    let mut opt = Sgd::new(0.05).momentum(0.9);
    let mut grads = net.zeros_like();
    let mut dx = T4::zeros();
    for _ in 0..3 {
        let (logits, trace) = net.forward_train(x.clone());
        let (_, dy) = cross_entropy(&logits, &labels);
        grads.zero();
        dx = net.backward(trace, dy, &mut grads);
        opt.step(&mut net, &grads);
    }
    (net, dx)
}

#[test]
fn one_and_two_threads_give_bit_identical_training() {
    let (net1, dx1) = train(1);
    let (net2, dx2) = train(2);
    let (net3, _) = train(3);
    typed_cnn::set_threads(1);
    let bits = |net: &Net| {
        let mut all = Vec::new();
        Params::<f32>::visit(net, "", &mut |_, _, v| all.extend(v.iter().map(|x| x.to_bits())));
        all
    };
    assert_eq!(bits(&net1), bits(&net2), "weights differ between 1 and 2 threads");
    assert_eq!(bits(&net1), bits(&net3), "weights differ between 1 and 3 threads");
    assert_eq!(dx1, dx2, "input gradients differ between 1 and 2 threads");
}

#[test]
fn networks_can_be_shared_between_threads_for_inference() {
    let net = Net::init(&mut StdRng::seed_from_u64(1));
    let inputs: Vec<Tensor<13, 1, 28, 28>> =
        (0..4).map(|i| T4::uniform(&mut StdRng::seed_from_u64(i), 0.0, 1.0)).collect();
    let alone: Vec<Tensor2<13, 10>> = inputs.iter().map(|x| net.forward(x.clone())).collect();
    let together: Vec<Tensor2<13, 10>> = std::thread::scope(|s| {
        let handles: Vec<_> = inputs.iter().map(|x| s.spawn(|| net.forward(x.clone()))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(alone, together);
}

/// Four program threads train at once with 2 kernel threads each: they share the workers
/// (a call that finds them busy computes its chunks itself), so every run gives the one-thread
/// weights bit for bit, none waits forever, and no more workers exist than cores − 1.
#[test]
fn concurrent_calls_share_the_workers_and_give_the_same_results() {
    let bits = |net: &Net| {
        let mut all = Vec::new();
        Params::<f32>::visit(net, "", &mut |_, _, v| all.extend(v.iter().map(|x| x.to_bits())));
        all
    };
    let (alone, _) = train(1);
    let together: Vec<Vec<u32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| bits(&train(2).0))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, b) in together.iter().enumerate() {
        assert_eq!(*b, bits(&alone), "program thread {i} got other weights");
    }
    // Linux names every thread of the process under /proc/self/task.
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        let workers = tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with("typed-cnn-"))
            .count();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(workers < cores.max(2), "{workers} workers on {cores} cores");
    }
}
