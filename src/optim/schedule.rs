//! Learning-rate schedules: the rate as a function of the epoch (or step).

/// A learning-rate schedule: the rate for epoch (or step) `t`, counted from 0.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::optim::{LrSchedule, StepLr};
/// let mut opt = Sgd::<f32>::new(0.1);
/// let schedule = StepLr { base_lr: 0.1, step_size: 2, gamma: 0.5 };
/// for epoch in 0..5 {
///     opt.lr = schedule.lr(epoch); // 0.1, 0.1, 0.05, 0.05, 0.025
/// }
/// assert_eq!(opt.lr, 0.025);
/// ```
pub trait LrSchedule {
    /// The learning rate at `t`.
    fn lr(&self, t: usize) -> f64;
}

/// `base_lr · gamma^⌊t / step_size⌋`, PyTorch's `StepLR`.
///
/// ```
/// use typed_cnn::optim::{LrSchedule, StepLr};
/// let s = StepLr { base_lr: 1.0, step_size: 3, gamma: 0.1 };
/// assert_eq!([s.lr(0), s.lr(2), s.lr(3), s.lr(6)], [1.0, 1.0, 0.1, 1.0 * 0.1 * 0.1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    /// The rate at `t = 0`.
    pub base_lr: f64,
    /// How many epochs between decays (at least 1).
    pub step_size: usize,
    /// The factor of each decay.
    pub gamma: f64,
}

impl LrSchedule for StepLr {
    fn lr(&self, t: usize) -> f64 {
        let k = t / self.step_size.max(1);
        self.base_lr * self.gamma.powi(i32::try_from(k).unwrap_or(i32::MAX))
    }
}

/// `eta_min + (base_lr − eta_min)·(1 + cos(π·t/t_max))/2`, PyTorch's `CosineAnnealingLR`
/// (closed form) for `t < t_max`; from `t_max` on the rate stays at `eta_min` (PyTorch's would
/// rise again along the cosine: a deliberate difference).
///
/// ```
/// use typed_cnn::optim::{CosineLr, LrSchedule};
/// let s = CosineLr { base_lr: 0.1, t_max: 10, eta_min: 0.0 };
/// assert_eq!(s.lr(0), 0.1);
/// assert!((s.lr(5) - 0.05).abs() < 1e-15); // half way: the mean of the two
/// assert_eq!(s.lr(10), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineLr {
    /// The rate at `t = 0`.
    pub base_lr: f64,
    /// The length of the half cosine.
    pub t_max: usize,
    /// The final rate.
    pub eta_min: f64,
}

impl LrSchedule for CosineLr {
    fn lr(&self, t: usize) -> f64 {
        if t >= self.t_max {
            return self.eta_min;
        }
        let frac = t as f64 / self.t_max as f64;
        self.eta_min
            + (self.base_lr - self.eta_min) * (1.0 + (core::f64::consts::PI * frac).cos()) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_by_hand() {
        let cos = CosineLr { base_lr: 1.0, t_max: 4, eta_min: 0.2 };
        // t = 1: 0.2 + 0.8·(1 + cos(π/4))/2 = 0.2 + 0.4·(1 + 0.70710678) = 0.88284271
        assert!((cos.lr(1) - 0.882_842_712_474_619).abs() < 1e-12);
        assert_eq!(cos.lr(9), 0.2);
        assert_eq!(CosineLr { base_lr: 1.0, t_max: 0, eta_min: 0.5 }.lr(0), 0.5);
        // StepLr, γ = 0.1 every 2: 1, 1, 0.1, 0.1, 0.01
        let s = StepLr { base_lr: 1.0, step_size: 2, gamma: 0.1 };
        let got: Vec<f64> = (0..5).map(|t| s.lr(t)).collect();
        assert_eq!(got, [1.0, 1.0, 0.1, 0.1, 0.1f64.powi(2)]);
        let step = StepLr { base_lr: 0.5, step_size: 0, gamma: 0.5 }; // step_size 0 acts as 1
        assert_eq!(step.lr(2), 0.125);
    }
}
