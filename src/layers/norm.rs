//! `BatchNorm2d`: per-channel normalization with learned scale and shift and running statistics.
//!
//! # Train and eval modes
//! The mode is the method, so inference cannot use batch statistics by accident:
//! - [`Module::forward`](crate::Module::forward) is **eval mode**: it normalizes with the running
//!   mean and variance and never changes them (it takes `&self`);
//! - [`Module::forward_train`](crate::Module::forward_train) is **train mode**: it normalizes with
//!   the batch's own mean and (biased) variance and keeps them in the trace.
//!
//! # How the running statistics are updated
//! Forward and backward take `&self`, so neither can write the running statistics. Instead,
//! backward adds the batch mean and the unbiased batch variance into the *gradient value*'s
//! `running_mean` / `running_var` buffers and counts the batch in its `num_batches_tracked`;
//! the optimizer's `step` then calls [`Params::update_buffers`], which folds their average into
//! the model: `running = (1 − momentum)·running + momentum·batch` (PyTorch's rule, momentum 0.1).
//! With gradients accumulated over k backward calls before one step, the average of the k batch
//! statistics is folded in once (PyTorch would fold each in turn); `num_batches_tracked` still
//! grows by k. [`Params::zero`] clears the gathered statistics with the gradients.

#[cfg(feature = "std")]
use core::marker::PhantomData;
#[cfg(feature = "std")]
use core::ops::Mul;
#[cfg(feature = "std")]
use rand::Rng;
#[cfg(feature = "std")]
use typenum::{B1, Gr, IsGreater, Prod, U1};
use typenum::{Eq, IsEqual, Unsigned};

use crate::Float;
use crate::infer::{Infer, Name, SafeTensors, View, ViewError};
#[cfg(feature = "std")]
use crate::layers::LayerInput;
#[cfg(feature = "std")]
use crate::module::{
    Buffer, BufferFn, BufferFnMut, BufferMut, Init, PairFn, ParamFn, ParamFnMut, Params,
    TrainCache, ZerosLike, join,
};
use crate::param::Param1;
use crate::shape::{ChannelsMatch, Decimal, Dims, Num, Show, Size};
use crate::tensor::T4;

/// Batch normalization over `(N, H, W)` for each of `C` channels.
///
/// **PyTorch equivalent**: `torch.nn.BatchNorm2d(C)` (eps 1e-5, momentum 0.1, affine, tracking
/// running statistics); state-dict names `weight`, `bias`, `running_mean`, `running_var`,
/// `num_batches_tracked`. See the [module documentation](self) for the two modes and for how the
/// running statistics are updated.
///
/// # Shapes
/// - input and output: `(N, C, H, W)`
///
/// # Panics
/// Training forward with a single value per channel (`N·H·W = 1`) is a compile error through
/// [`Trainable`](crate::Trainable); it panics only if a layer of your own before this one changes
/// the batch size so that the compiler's check does not see it.
///
/// ```
/// use typed_cnn::prelude::*;
/// let bn = BatchNorm2d::<2, f64>::init(&mut rand::rng()); // γ = 1, β = 0, mean 0, var 1
/// let x = Tensor::<2, 2, 1, 1, f64>::from_slice(&[1.0, 10.0, 3.0, 30.0]).unwrap();
/// // Train mode: channel 0 has values {1, 3} (mean 2, variance 1), channel 1 {10, 30}.
/// let (y, _trace) = bn.forward_train(x.clone());
/// let expect = [-1.0, -1.0, 1.0, 1.0]; // (x − mean)/√(var + 1e-5) ≈ ±1
/// assert!(y.as_slice().iter().zip(expect).all(|(a, b)| (a - b).abs() < 1e-4));
/// // Eval mode: running mean 0, running variance 1, so the input passes (almost) unchanged.
/// let y = bn.forward(x);
/// assert!((y.as_slice()[1] - 10.0 / (1.0 + 1e-5f64).sqrt()).abs() < 1e-12);
/// ```
/// Train mode with one value per channel (PyTorch's run-time error) is an error at
/// `cargo check` ("`BatchNorm2d` in train mode needs more than one value per channel, but this
/// batch has N·H·W = 1·Dim<1>·Dim<1>"); eval mode takes it:
/// ```compile_fail,E0277
/// use typed_cnn::prelude::*;
/// let bn = BatchNorm2d::<3>::init(&mut rand::rng());
/// let _ = bn.forward(Tensor::<1, 3, 1, 1>::zeros()); // eval: fine
/// let _ = bn.forward_train(Tensor::<1, 3, 1, 1>::zeros()); // N·H·W = 1
/// ```
///
/// The rule needs the batch size `N` as a typenum number, so batch norm takes the batch sizes of
/// the size table (see [`Size`]: up to 4096, then multiples of 16 up to 16,384), in either mode.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm2d<const C: usize, E: Float = f32> {
    weight: Param1<C, E>,
    bias: Param1<C, E>,
    running_mean: Param1<C, E>,
    running_var: Param1<C, E>,
    num_batches_tracked: u64,
    /// Added to the variance before the square root (PyTorch's `eps`, 1e-5).
    pub eps: f64,
    /// The weight of a new batch in the running statistics (PyTorch's `momentum`, 0.1).
    pub momentum: f64,
}

impl<const C: usize, E: Float> BatchNorm2d<C, E> {
    /// A layer with scale `weight` (γ), shift `bias` (β), running mean and running variance, each
    /// of length `C`; eps 1e-5, momentum 0.1, `num_batches_tracked` 0.
    ///
    /// # Errors
    /// [`crate::LengthError`] if a length is not `C`.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// let bn = BatchNorm2d::<1, f64>::from_parts(vec![2.0], vec![1.0], vec![3.0], vec![4.0]).unwrap();
    /// let y = bn.forward(Tensor::<1, 1, 1, 1, f64>::filled(7.0));
    /// // 2·(7 − 3)/√(4 + 1e-5) + 1 ≈ 5
    /// assert!((y.as_slice()[0] - 5.0).abs() < 1e-5);
    /// assert!(BatchNorm2d::<2, f64>::from_parts(vec![1.0], vec![0.0; 2], vec![0.0; 2], vec![1.0; 2]).is_err());
    /// ```
    #[cfg(feature = "std")]
    pub fn from_parts(
        weight: Vec<E>,
        bias: Vec<E>,
        running_mean: Vec<E>,
        running_var: Vec<E>,
    ) -> Result<Self, crate::LengthError> {
        Ok(Self {
            weight: Param1::from_vec(weight)?,
            bias: Param1::from_vec(bias)?,
            running_mean: Param1::from_vec(running_mean)?,
            running_var: Param1::from_vec(running_var)?,
            num_batches_tracked: 0,
            eps: 1e-5,
            momentum: 0.1,
        })
    }

    /// The scale γ, one per channel.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(BatchNorm2d::<3>::init(&mut rand::rng()).weight(), [1.0; 3]);
    /// ```
    pub fn weight(&self) -> &[E] {
        &self.weight
    }
    /// The shift β, one per channel.
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(BatchNorm2d::<3>::init(&mut rand::rng()).bias(), [0.0; 3]);
    /// ```
    pub fn bias(&self) -> &[E] {
        &self.bias
    }
    /// The running mean, one per channel (in a gradient value: the sum of the batch means
    /// gathered since the last [`Params::zero`]).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(BatchNorm2d::<2>::init(&mut rand::rng()).running_mean(), [0.0; 2]);
    /// ```
    pub fn running_mean(&self) -> &[E] {
        &self.running_mean
    }
    /// The running variance, one per channel (in a gradient value: the sum of the unbiased batch
    /// variances gathered since the last [`Params::zero`]).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(BatchNorm2d::<2>::init(&mut rand::rng()).running_var(), [1.0; 2]);
    /// ```
    pub fn running_var(&self) -> &[E] {
        &self.running_var
    }
    /// How many batches have been folded into the running statistics (in a gradient value: how
    /// many backward calls gathered statistics).
    ///
    /// ```
    /// use typed_cnn::prelude::*;
    /// assert_eq!(BatchNorm2d::<2>::init(&mut rand::rng()).num_batches_tracked(), 0);
    /// ```
    pub fn num_batches_tracked(&self) -> u64 {
        self.num_batches_tracked
    }
}

#[cfg(feature = "std")]
impl<const C: usize, E: Float> Default for BatchNorm2d<C, E> {
    /// PyTorch's fresh `nn.BatchNorm2d(C)`: γ = 1, β = 0, running mean 0, running variance 1.
    fn default() -> Self {
        Self {
            weight: Param1::from_fn(|_| E::ONE),
            bias: Param1::zeros(),
            running_mean: Param1::zeros(),
            running_var: Param1::from_fn(|_| E::ONE),
            num_batches_tracked: 0,
            eps: 1e-5,
            momentum: 0.1,
        }
    }
}

#[cfg(feature = "std")]
impl<const C: usize, E: Float> Init for BatchNorm2d<C, E> {
    /// PyTorch's init (no randomness): the same as `Default`.
    fn init<R: Rng + ?Sized>(_: &mut R) -> Self {
        Self::default()
    }
}

#[cfg(feature = "std")]
impl<const C: usize, E: Float> ZerosLike for BatchNorm2d<C, E> {
    fn zeros_like_impl(&self) -> Self {
        let zero = || Param1::zeros();
        Self {
            weight: zero(),
            bias: zero(),
            running_mean: zero(),
            running_var: zero(),
            num_batches_tracked: 0,
            eps: self.eps,
            momentum: self.momentum,
        }
    }
}

#[cfg(feature = "std")]
impl<const C: usize, E: Float> Params<E> for BatchNorm2d<C, E> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut ParamFn<'a, '_, E>) {
        f(&join(prefix, "weight"), &[C], &self.weight);
        f(&join(prefix, "bias"), &[C], &self.bias);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut ParamFnMut<'_, E>) {
        f(&join(prefix, "weight"), &[C], &mut self.weight);
        f(&join(prefix, "bias"), &[C], &mut self.bias);
    }
    fn visit_with_grads(&mut self, grads: &Self, f: &mut PairFn<'_, E>) {
        f(&mut self.weight, &grads.weight);
        f(&mut self.bias, &grads.bias);
    }
    fn visit_buffers<'a>(&'a self, prefix: &str, f: &mut BufferFn<'a, '_, E>) {
        f(&join(prefix, "running_mean"), &[C], Buffer::Values(&self.running_mean));
        f(&join(prefix, "running_var"), &[C], Buffer::Values(&self.running_var));
        f(&join(prefix, "num_batches_tracked"), &[], Buffer::Count(self.num_batches_tracked));
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut BufferFnMut<'_, E>) {
        f(&join(prefix, "running_mean"), &[C], BufferMut::Values(&mut self.running_mean));
        f(&join(prefix, "running_var"), &[C], BufferMut::Values(&mut self.running_var));
        f(
            &join(prefix, "num_batches_tracked"),
            &[],
            BufferMut::Count(&mut self.num_batches_tracked),
        );
    }
    fn update_buffers(&mut self, stats: &Self) {
        let k = stats.num_batches_tracked;
        if k == 0 {
            return;
        }
        let m = self.momentum;
        let fold = |run: &mut [E], sum: &[E]| {
            for (r, &s) in run.iter_mut().zip(sum) {
                *r = E::from_f64((1.0 - m) * r.to_f64() + m * s.to_f64() / k as f64);
            }
        };
        fold(&mut self.running_mean, &stats.running_mean);
        fold(&mut self.running_var, &stats.running_var);
        self.num_batches_tracked += k;
    }
}

/// What backward needs: the normalized input x̂, `1/√(σ² + eps)` per channel, and the batch
/// statistics (mean, unbiased variance) that the optimizer step folds into the running ones.
///
/// `Check` is [`TrainValues`]: whether the batch has more than one value per channel, which
/// [`TrainCache`] demands of a cache that is trained.
#[cfg(feature = "std")]
#[derive(Clone, Debug)]
pub struct BatchNormCache<E, Check> {
    xhat: Box<[E]>,
    inv_std: Box<[E]>,
    mean: Box<[E]>,
    unbiased_var: Box<[E]>,
    check: PhantomData<Check>,
}

/// Batch norm's train-mode rule as a type: `Enough` is typenum's `True` when `N·H·W > 1`, and
/// `N`, `H`, `W` (decimal) are for the message.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug)]
pub struct TrainValues<Enough, const N: usize, H, W>(PhantomData<(Enough, H, W)>);

#[cfg(feature = "std")]
impl<E, Enough, const N: usize, H, W> TrainCache for BatchNormCache<E, TrainValues<Enough, N, H, W>> where
    Enough: MoreThanOneValue<N, H, W>
{
}

/// Marker: batch norm in train mode sees more than one value per channel, `N·H·W > 1`
/// (implemented for `True`). PyTorch refuses the same batch at run time ("Expected more than 1
/// value per channel when training"); eval mode has no such rule.
#[cfg(feature = "std")]
#[diagnostic::on_unimplemented(
    message = "`BatchNorm2d` in train mode needs more than one value per channel, but this batch has N·H·W = {N}·{H}·{W}",
    label = "batch statistics of a single value",
    note = "the batch variance of one value is undefined: train with a larger batch (or larger images), or call `forward` (eval mode), which has no such rule"
)]
pub trait MoreThanOneValue<const N: usize, H, W> {}
#[cfg(feature = "std")]
impl<const N: usize, H, W> MoreThanOneValue<N, H, W> for B1 {}

#[cfg(feature = "std")]
impl<const C: usize, E, const N: usize, Ch, H, W> LayerInput<BatchNorm2d<C, E>>
    for T4<E, N, Ch, H, W>
where
    E: Float,
    Dims<C>: Size,
    Ch: Unsigned + Decimal + IsEqual<Num<C>>,
    Eq<Ch, Num<C>>: ChannelsMatch<BatchNorm2d<C, E>, C, Show<Ch>>,
    H: Unsigned + Decimal,
    W: Unsigned + Decimal,
    Dims<N>: Size,
    Num<N>: Mul<H>,
    Prod<Num<N>, H>: Mul<W>,
    Prod<Prod<Num<N>, H>, W>: IsGreater<U1>,
{
    type Output = T4<E, N, Ch, H, W>;
    type Cache =
        BatchNormCache<E, TrainValues<Gr<Prod<Prod<Num<N>, H>, W>, U1>, N, Show<H>, Show<W>>>;

    fn forward(layer: &BatchNorm2d<C, E>, mut x: Self) -> Self::Output {
        layer.normalize_eval(H::USIZE * W::USIZE, x.as_mut_slice());
        x
    }

    fn train(layer: &BatchNorm2d<C, E>, mut x: Self) -> (Self::Output, Self::Cache) {
        // N·H·W > 1 is checked by `forward_train`'s bound (`Trainable`): from the cache type
        // (`TrainValues`) for a batch of one, from the batch alone for several, which holds as
        // long as no layer before this one changes the batch size. One of your own that does,
        // or a direct call of `train_impl`, is stopped here rather than given NaN statistics.
        let plane = H::USIZE * W::USIZE;
        assert!(
            N * plane > 1,
            "BatchNorm2d in train mode needs more than one value per channel, got N·H·W = {N}·{}·{}",
            H::USIZE,
            W::USIZE
        );
        let m = (N * plane) as f64;
        // Per-channel sums in f64: two passes (mean, then squared deviations) for accuracy.
        let mut sum = vec![0.0f64; C];
        for (i, chunk) in x.as_slice().chunks_exact(plane).enumerate() {
            sum[i % C] += chunk.iter().map(|v| v.to_f64()).sum::<f64>();
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / m).collect();
        let mut sq = vec![0.0f64; C];
        for (i, chunk) in x.as_slice().chunks_exact(plane).enumerate() {
            let mu = mean[i % C];
            sq[i % C] += chunk.iter().map(|v| (v.to_f64() - mu).powi(2)).sum::<f64>();
        }
        let inv_std: Vec<f64> = sq.iter().map(|s| 1.0 / (s / m + layer.eps).sqrt()).collect();
        let mut xhat = vec![E::ZERO; x.as_slice().len()].into_boxed_slice();
        for (i, (chunk, xh)) in
            x.as_mut_slice().chunks_exact_mut(plane).zip(xhat.chunks_exact_mut(plane)).enumerate()
        {
            let c = i % C;
            let (mu, is) = (E::from_f64(mean[c]), E::from_f64(inv_std[c]));
            for (v, h) in chunk.iter_mut().zip(xh) {
                *h = (*v - mu) * is;
                *v = layer.weight[c] * *h + layer.bias[c];
            }
        }
        // The running variance uses the unbiased estimate, as PyTorch does (m > 1, see above).
        let unbiased = |s: f64| s / (m - 1.0);
        let to_e = |v: &[f64]| v.iter().map(|&v| E::from_f64(v)).collect::<Box<[E]>>();
        let cache = BatchNormCache {
            xhat,
            inv_std: to_e(&inv_std),
            mean: to_e(&mean),
            unbiased_var: sq.iter().map(|&s| E::from_f64(unbiased(s))).collect(),
            check: PhantomData,
        };
        (x, cache)
    }

    fn backward(
        layer: &BatchNorm2d<C, E>,
        cache: Self::Cache,
        mut dy: Self::Output,
        grads: &mut BatchNorm2d<C, E>,
    ) -> Self {
        let plane = H::USIZE * W::USIZE;
        let m = (N * plane) as f64;
        // Σ dy and Σ dy·x̂ per channel: the gradients of β and γ, and the two sums dx needs.
        let mut sum_dy = vec![0.0f64; C];
        let mut sum_dy_xhat = vec![0.0f64; C];
        for (i, (d, h)) in
            dy.as_slice().chunks_exact(plane).zip(cache.xhat.chunks_exact(plane)).enumerate()
        {
            for (&d, &h) in d.iter().zip(h) {
                sum_dy[i % C] += d.to_f64();
                sum_dy_xhat[i % C] += (d * h).to_f64();
            }
        }
        // dx = γ/(m·σ) · (m·dy − Σdy − x̂·Σ(dy·x̂))
        for (i, (d, h)) in dy
            .as_mut_slice()
            .chunks_exact_mut(plane)
            .zip(cache.xhat.chunks_exact(plane))
            .enumerate()
        {
            let c = i % C;
            let k = E::from_f64(layer.weight[c].to_f64() * cache.inv_std[c].to_f64() / m);
            let (m_e, s1, s2) =
                (E::from_f64(m), E::from_f64(sum_dy[c]), E::from_f64(sum_dy_xhat[c]));
            for (d, &h) in d.iter_mut().zip(h) {
                *d = k * (m_e * *d - s1 - h * s2);
            }
        }
        for c in 0..C {
            grads.weight[c] += E::from_f64(sum_dy_xhat[c]);
            grads.bias[c] += E::from_f64(sum_dy[c]);
            grads.running_mean[c] += cache.mean[c];
            grads.running_var[c] += cache.unbiased_var[c];
        }
        grads.num_batches_tracked += 1;
        dy
    }
}

impl<const C: usize, E: Float> View for BatchNorm2d<C, E> {
    /// `weight`, `bias`, `running_mean`, `running_var`; eps 1e-5 (PyTorch's default, which a
    /// state dict does not store).
    fn view_at(file: &SafeTensors, prefix: &Name) -> Result<Self, ViewError> {
        Ok(Self {
            weight: Param1::view(file, &prefix.join("weight"))?,
            bias: Param1::view(file, &prefix.join("bias"))?,
            running_mean: Param1::view(file, &prefix.join("running_mean"))?,
            running_var: Param1::view(file, &prefix.join("running_var"))?,
            num_batches_tracked: 0,
            eps: 1e-5,
            momentum: 0.1,
        })
    }
}

/// Eval mode (`normalize_eval`, the `std` forward's arithmetic).
impl<const C: usize, E, const N: usize, Ch, H, W> Infer<T4<E, N, Ch, H, W>> for BatchNorm2d<C, E>
where
    E: Float,
    Dims<C>: Size,
    Ch: Unsigned + Decimal + IsEqual<Num<C>>,
    Eq<Ch, Num<C>>: ChannelsMatch<BatchNorm2d<C, E>, C, Show<Ch>>,
    H: Unsigned,
    W: Unsigned,
{
    type Output = T4<E, N, Ch, H, W>;
    const IN_PLACE: bool = true;
    const WEIGHTS: usize = 4 * C;

    fn infer_into(&self, x: &[E], y: &mut [E], _: &mut [E]) {
        y.copy_from_slice(x);
        Infer::<T4<E, N, Ch, H, W>>::infer_in_place(self, y);
    }

    fn infer_in_place(&self, xy: &mut [E]) {
        self.normalize_eval(H::USIZE * W::USIZE, xy);
    }
}

impl<const C: usize, E: Float> BatchNorm2d<C, E> {
    /// Eval mode over `xy`, planes of `plane` values, channel `i mod C` for plane `i`:
    /// `(x − mean)·(γ/√(var + eps)) + β`, the scale computed in `f64`. The `std` forward and
    /// [`Infer`] both run it.
    fn normalize_eval(&self, plane: usize, xy: &mut [E]) {
        if plane == 0 {
            return; // an empty (H, W) plane: nothing to normalize, as in PyTorch
        }
        for (i, chunk) in xy.chunks_exact_mut(plane).enumerate() {
            let c = i % C;
            let inv_std = E::from_f64(1.0 / Float::sqrt(self.running_var[c].to_f64() + self.eps));
            let (scale, mean, shift) =
                (self.weight[c] * inv_std, self.running_mean[c], self.bias[c]);
            chunk.iter_mut().for_each(|v| *v = (*v - mean) * scale + shift);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_module;
    use crate::module::Buffer;
    use crate::prelude::*;
    use crate::testing::seeded;

    /// A training forward the compiler's check did not see (a direct `train_impl`, or a layer
    /// of the user's that shrinks the batch) stops instead of producing NaN statistics.
    #[test]
    #[should_panic(expected = "needs more than one value per channel, got N·H·W = 1·1·1")]
    fn train_with_one_value_per_channel_panics_when_unchecked() {
        use crate::Forward;
        let bn = BatchNorm2d::<2, f64>::default();
        let _ = bn.train_impl(Tensor::<1, 2, 1, 1, f64>::zeros());
    }

    #[test]
    fn eval_on_an_empty_plane_is_the_empty_tensor() {
        // PyTorch's eval-mode batch norm returns an empty input unchanged; before, a build-time
        // assert refused H·W = 0.
        let bn = BatchNorm2d::<3>::default();
        let y: Tensor<2, 3, 0, 5> = bn.forward(Tensor::<2, 3, 0, 5>::zeros());
        assert_eq!(y.shape(), [2, 3, 0, 5]);
        assert!(y.as_slice().is_empty());
    }

    #[test]
    fn batchnorm_backward_matches_finite_differences() {
        let mut rng = seeded(21);
        let mut bn = BatchNorm2d::<3, f64>::init(&mut rng);
        // Non-trivial γ and β, so that their gradients and dx's scale are exercised.
        bn.visit_mut("", &mut |_, _, v| {
            v.iter_mut().enumerate().for_each(|(i, p)| *p = 0.5 + 0.3 * i as f64)
        });
        let x = Tensor::<2, 3, 3, 2, f64>::uniform(&mut rng, -2.0, 3.0);
        check_module(&bn, x, 1e-6).assert_below(1e-6);
    }

    #[test]
    fn batchnorm_in_a_network_matches_finite_differences() {
        let mut rng = seeded(22);
        let net = <(
            Conv2d<2, 3, 3, 1, 1, Exact, f64>,
            BatchNorm2d<3, f64>,
            Tanh,
            Conv2d<3, 2, 1, 1, 0, Exact, f64>,
        )>::init(&mut rng);
        let x = Tensor::<3, 2, 4, 3, f64>::uniform(&mut rng, -1.0, 1.0);
        check_module(&net, x, 1e-6).assert_below(1e-6);
    }

    /// Hand-worked: one channel, values {1, 2, 3, 6} (mean 3, biased variance 3.5, unbiased
    /// 14/3). Running mean after one step with momentum 0.1: 0.9·0 + 0.1·3 = 0.3; running
    /// variance 0.9·1 + 0.1·14/3 = 1.3666…
    #[test]
    fn running_statistics_are_folded_in_by_the_optimizer_step() {
        let mut bn = BatchNorm2d::<1, f64>::init(&mut seeded(0));
        let x = Tensor::<2, 1, 1, 2, f64>::from_slice(&[1., 2., 3., 6.]).unwrap();
        let (y, trace) = bn.forward_train(x.clone());
        let s = (3.5f64 + 1e-5).sqrt();
        let expect = [-2.0 / s, -1.0 / s, 0.0, 3.0 / s];
        assert!(y.as_slice().iter().zip(expect).all(|(a, b)| (a - b).abs() < 1e-12), "{y:?}");
        // Eval mode is unchanged by a training forward.
        assert_eq!(bn.running_mean(), [0.0]);
        let mut grads = bn.zeros_like();
        let _ = bn.backward(trace, T4::zeros(), &mut grads);
        assert_eq!(grads.running_mean(), [3.0]);
        assert!((grads.running_var()[0] - 14.0 / 3.0).abs() < 1e-12);
        assert_eq!(grads.num_batches_tracked(), 1);
        Sgd::new(0.1).step(&mut bn, &grads);
        assert!((bn.running_mean()[0] - 0.3).abs() < 1e-12);
        assert!((bn.running_var()[0] - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-12);
        assert_eq!(bn.num_batches_tracked(), 1);
        // Zeroing the gradients clears the gathered statistics.
        grads.zero();
        assert_eq!((grads.running_mean(), grads.num_batches_tracked()), ([0.0].as_slice(), 0));
    }

    /// Two backward calls before one step: the two batches' statistics are averaged and folded
    /// in once. Batch A = {1, 2, 3, 6} (mean 3, unbiased variance 14/3), batch B = {0, 0, 2, 2}
    /// (mean 1, unbiased variance 4/3): averages 2 and 3, so running mean 0.9·0 + 0.1·2 = 0.2,
    /// running variance 0.9·1 + 0.1·3 = 1.2, and 2 batches tracked.
    #[test]
    fn accumulated_statistics_are_averaged() {
        let mut bn = BatchNorm2d::<1, f64>::init(&mut seeded(0));
        let mut grads = bn.zeros_like();
        for batch in [[1., 2., 3., 6.], [0., 0., 2., 2.]] {
            let (_, trace) =
                bn.forward_train(Tensor::<2, 1, 1, 2, f64>::from_slice(&batch).unwrap());
            let _ = bn.backward(trace, T4::zeros(), &mut grads);
        }
        Sgd::new(0.0).step(&mut bn, &grads);
        assert!((bn.running_mean()[0] - 0.2).abs() < 1e-12, "{:?}", bn.running_mean());
        assert!((bn.running_var()[0] - 1.2).abs() < 1e-12, "{:?}", bn.running_var());
        assert_eq!(bn.num_batches_tracked(), 2);
    }

    #[test]
    fn buffers_have_pytorch_names() {
        let net = <(Conv2d<1, 2, 3>, BatchNorm2d<2>)>::init(&mut seeded(1));
        let mut names = Vec::new();
        net.visit_buffers("", &mut |name, shape, b| {
            let kind = match b {
                Buffer::Values(v) => format!("values {}", v.len()),
                Buffer::Count(c) => format!("count {c}"),
            };
            names.push(format!("{name} {shape:?} {kind}"));
        });
        assert_eq!(
            names,
            [
                "1.running_mean [2] values 2",
                "1.running_var [2] values 2",
                "1.num_batches_tracked [] count 0"
            ]
        );
    }
}
