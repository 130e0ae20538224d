//! Row-wise softmax and log-softmax, shared by the `Softmax` and `LogSoftmax` layers (their
//! training forward and their allocation-free inference) and the cross-entropy loss.

use crate::Float;

/// `max + ln Σ e^(v − max)` over a row: the log of its softmax's denominator.
fn log_sum_exp<E: Float>(row: &[E]) -> E {
    let max = row.iter().fold(E::NEG_INFINITY, |m, &v| m.max(v));
    let sum = row.iter().fold(E::ZERO, |s, &v| s + (v - max).exp());
    max + sum.ln()
}

/// Writes `log softmax` of each row of `x` (rows of `f`) into `out`.
pub(crate) fn log_softmax_rows<E: Float>(x: &[E], f: usize, out: &mut [E]) {
    if f == 0 {
        return; // no features, nothing to normalize
    }
    for (row, o) in x.chunks_exact(f).zip(out.chunks_exact_mut(f)) {
        let log_sum = log_sum_exp(row);
        o.iter_mut().zip(row).for_each(|(o, &v)| *o = v - log_sum);
    }
}

/// [`log_softmax_rows`] over its input.
pub(crate) fn log_softmax_rows_in_place<E: Float>(xy: &mut [E], f: usize) {
    if f == 0 {
        return;
    }
    for row in xy.chunks_exact_mut(f) {
        let log_sum = log_sum_exp(row);
        row.iter_mut().for_each(|v| *v -= log_sum);
    }
}

/// `softmax` of each row of `xy` (rows of `f`), over it: `e^(v − max) / Σ e^(v − max)`, so
/// the largest term is exactly `e⁰ = 1`.
pub(crate) fn softmax_rows_in_place<E: Float>(xy: &mut [E], f: usize) {
    if f == 0 {
        return;
    }
    for row in xy.chunks_exact_mut(f) {
        let max = row.iter().fold(E::NEG_INFINITY, |m, &v| m.max(v));
        row.iter_mut().for_each(|v| *v = (*v - max).exp());
        let sum = row.iter().fold(E::ZERO, |s, &v| s + v);
        row.iter_mut().for_each(|v| *v /= sum);
    }
}
