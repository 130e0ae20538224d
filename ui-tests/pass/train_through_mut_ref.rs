// A training step whose network comes in as `&mut Net`: `model.forward_train(x)` works (ModuleMut),
// where it used to report that `&mut Net` "cannot take an input".
use typed_cnn::prelude::*;

type Net = ((Conv2d<1, 4, 3>, Relu, MaxPool2d<2>), Flatten, Linear<36, 10>);

/// One training step, as a user writes it: the model comes in as `&mut Net`.
fn step(model: &mut Net, opt: &mut Sgd, x: Tensor<2, 1, 8, 8>, labels: &Labels<2, 10>) -> f32 {
    let (logits, trace) = model.forward_train(x);
    let (loss, dlogits) = cross_entropy(&logits, labels);
    let mut grads = model.zeros_like();
    model.backward_params(trace, dlogits, &mut grads);
    opt.step(model, &grads);
    loss
}

fn main() {
    let mut net = Net::init(&mut rand::rng());
    let mut opt = Sgd::new(0.1);
    let labels = Labels::<2, 10>::new(vec![1, 2]).unwrap();
    let loss = step(&mut net, &mut opt, Tensor::<2, 1, 8, 8>::zeros(), &labels);
    let y: Tensor2<2, 10> = (&mut net).forward(Tensor::<2, 1, 8, 8>::zeros());
    println!("{loss} {:?}", y.shape());
}
