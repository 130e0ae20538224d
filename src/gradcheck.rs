//! Numerical gradient checking by central differences, one coordinate at a time, in `f64`.
//!
//! [`check_module`] compares a layer's or a whole network's analytic backward (input gradient and
//! every parameter gradient) against `(L(θ + h) − L(θ − h)) / 2h` for the scalar
//! `L = Σ y ⊙ r` with a fixed pseudo-random `r`. It is slow by design (two forwards per
//! coordinate): use small shapes.

use crate::Float;
use crate::module::{Module, Params, Trainable};
use crate::tensor::TensorData;

/// The worst disagreement a gradient check found.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::gradcheck::check_module;
/// let fc = Linear::<2, 1, f64>::from_parts(vec![1.0, -2.0], vec![0.5]).unwrap();
/// let report = check_module(&fc, Tensor2::<3, 2, f64>::filled(1.0), 1e-6);
/// assert_eq!(report.coordinates, 3 * 2 + 2 + 1); // input 3·2, weight 1·2, bias 1
/// report.assert_below(1e-8);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradReport {
    /// The number of coordinates compared (input and parameters).
    pub coordinates: usize,
    /// `max |analytic − numeric|` over all coordinates.
    pub max_abs_error: f64,
    /// `max |numeric|` over all coordinates.
    pub max_numeric: f64,
    /// Where the largest error is: `"input[17]"` or `"0.weight[3]"`.
    pub worst: String,
    /// The analytic and numeric values at `worst`.
    pub worst_values: (f64, f64),
}

impl GradReport {
    /// `max |analytic − numeric| / max(1, max |numeric|)`.
    ///
    /// ```
    /// use typed_cnn::gradcheck::GradReport;
    /// let report = GradReport {
    ///     coordinates: 4,
    ///     max_abs_error: 0.5,
    ///     max_numeric: 4.0,
    ///     worst: "0.weight[3]".to_string(),
    ///     worst_values: (2.5, 3.0),
    /// };
    /// assert_eq!(report.relative_error(), 0.125); // 0.5 / max(1, 4)
    /// ```
    pub fn relative_error(&self) -> f64 {
        self.max_abs_error / self.max_numeric.max(1.0)
    }

    /// **Panics** with the full report if the relative error is `tol` or more.
    ///
    /// ```
    /// use typed_cnn::gradcheck::GradReport;
    /// let report = GradReport { coordinates: 1, max_abs_error: 1e-3, max_numeric: 0.5,
    ///     worst: "input[0]".to_string(), worst_values: (0.501, 0.5) };
    /// report.assert_below(1e-2); // relative error 1e-3 / max(1, 0.5) = 1e-3 < 1e-2
    /// assert!(std::panic::catch_unwind(|| report.assert_below(1e-3)).is_err()); // 1e-3 ≮ 1e-3
    /// ```
    #[track_caller]
    pub fn assert_below(&self, tol: f64) {
        assert!(
            self.relative_error() < tol,
            "gradient check failed: relative error {:.3e} ≥ {tol:.1e} at {} (analytic {}, numeric {}), \
             over {} coordinates",
            self.relative_error(),
            self.worst,
            self.worst_values.0,
            self.worst_values.1,
            self.coordinates
        );
    }

    fn record(&mut self, place: impl FnOnce() -> String, analytic: f64, numeric: f64) {
        self.coordinates += 1;
        self.max_numeric = self.max_numeric.max(numeric.abs());
        let err = (analytic - numeric).abs();
        if err > self.max_abs_error || self.worst.is_empty() || err.is_nan() {
            self.max_abs_error = if err.is_nan() { f64::INFINITY } else { err };
            self.worst = place();
            self.worst_values = (analytic, numeric);
        }
    }
}

/// The fixed upstream gradient `r` of the check: deterministic values in `[-1, 1]`, not
/// symmetric, so that errors cannot cancel.
fn upstream(i: usize) -> f64 {
    ((i as f64 + 1.0) * 0.618_033_988_749_895).fract() * 2.0 - 1.0
}

fn weighted_sum<T: TensorData<Elem = f64>>(y: &T) -> f64 {
    y.data().iter().enumerate().map(|(i, v)| v * upstream(i)).sum()
}

/// Checks `model`'s backward at input `x` against central differences with step `h`.
///
/// Both the input gradient and every parameter gradient (through the [`Params`] visitor) are
/// compared; the scalar is `L = Σᵢ yᵢ·rᵢ` with fixed `rᵢ ∈ [-1, 1]`. The training forward is used
/// throughout, so layers with a training mode are checked in it. Parameter gradients start at a
/// non-zero value, so a backward that overwrites instead of accumulating fails the check.
///
/// ```
/// use typed_cnn::prelude::*;
/// use typed_cnn::gradcheck::check_module;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let mut rng = StdRng::seed_from_u64(1);
/// let conv = Conv2d::<2, 3, 3, 2, 1, Exact, f64>::init(&mut rng);
/// let x = Tensor::<1, 2, 5, 7, f64>::uniform(&mut rng, -1.0, 1.0);
/// let report = check_module(&conv, x, 1e-6);
/// report.assert_below(1e-6);
/// ```
pub fn check_module<M, In>(model: &M, x: In, h: f64) -> GradReport
where
    M: Trainable<In> + Params<f64> + Clone,
    In: TensorData<Elem = f64>,
    M::Output: TensorData<Elem = f64>,
{
    // Analytic: one training forward, then backward from dy = r.
    let (y, cache) = model.train_impl(x.clone());
    let mut dy = y;
    dy.data_mut().iter_mut().enumerate().for_each(|(i, v)| *v = upstream(i));
    // Start the gradients at a known non-zero value: backward must add to them, not overwrite,
    // and the check compares what it added.
    const PREFILL: f64 = 0.25;
    let mut grads = model.zeros_like();
    grads.visit_mut("", &mut |_, _, g| g.fill(PREFILL));
    let dx = model.backward_impl(cache, dy, &mut grads);

    let loss = |m: &M, x: In| weighted_sum(&m.train_impl(x).0);
    let mut report = GradReport {
        coordinates: 0,
        max_abs_error: 0.0,
        max_numeric: 0.0,
        worst: String::new(),
        worst_values: (0.0, 0.0),
    };

    // Input coordinates.
    for i in 0..x.data().len() {
        let mut xp = x.clone();
        xp.data_mut()[i] += h;
        let mut xm = x.clone();
        xm.data_mut()[i] -= h;
        let numeric = (loss(model, xp) - loss(model, xm)) / (2.0 * h);
        report.record(|| format!("input[{i}]"), dx.data()[i], numeric);
    }

    // Parameter coordinates, in visitor order.
    let mut analytic: Vec<(String, Vec<f64>)> = Vec::new();
    grads.visit("", &mut |name, _, g| {
        analytic.push((name.to_string(), g.iter().map(|v| v - PREFILL).collect()));
    });
    for (t, (name, g)) in analytic.iter().enumerate() {
        for (j, &a) in g.iter().enumerate() {
            let shifted = |delta: f64| {
                let mut m = model.clone();
                let mut k = 0;
                m.visit_mut("", &mut |_, _, p| {
                    if k == t {
                        p[j] += delta;
                    }
                    k += 1;
                });
                loss(&m, x.clone())
            };
            let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
            report.record(|| format!("{name}[{j}]"), a, numeric);
        }
    }
    report
}

/// The central-difference gradient of a scalar function of a vector, one coordinate at a time.
///
/// ```
/// use typed_cnn::gradcheck::numeric_gradient;
/// let g = numeric_gradient(|v| v[0] * v[0] + 3.0 * v[1], &[2.0, 5.0], 1e-6);
/// assert!((g[0] - 4.0).abs() < 1e-8 && (g[1] - 3.0).abs() < 1e-8);
/// ```
pub fn numeric_gradient<E: Float>(mut f: impl FnMut(&[E]) -> f64, x: &[E], h: f64) -> Vec<f64> {
    let mut v = x.to_vec();
    (0..x.len())
        .map(|i| {
            v[i] = E::from_f64(x[i].to_f64() + h);
            let up = f(&v);
            v[i] = E::from_f64(x[i].to_f64() - h);
            let down = f(&v);
            v[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// **Panics** unless `got` (any float type) agrees with the `f64` reference `expected`
/// element-wise within `|got − exp| ≤ 1e-4·|exp| + 1e-5·max(1, max|exp|)`, reporting the first bad
/// element and the largest difference.
///
/// ```
/// use typed_cnn::gradcheck::assert_close;
/// assert_close(&[1.0f32, 2.000_01], &[1.0, 2.0]);
/// ```
#[track_caller]
pub fn assert_close<E: Float>(got: &[E], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "assert_close: lengths differ");
    let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let mut first_bad = None;
    let mut max_diff = 0.0f64;
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let diff = (g.to_f64() - e).abs();
        max_diff = max_diff.max(if diff.is_nan() { f64::INFINITY } else { diff });
        if first_bad.is_none() && (diff.is_nan() || diff > 1e-4 * e.abs() + 1e-5 * scale) {
            first_bad = Some((i, g.to_f64(), *e));
        }
    }
    if let Some((i, g, e)) = first_bad {
        panic!(
            "assert_close: first bad element at index {i}: got {g}, expected {e}; \
             max |diff| = {max_diff:.3e} over {} elements",
            got.len()
        );
    }
}
