//! Row-wise log-softmax, shared by the `LogSoftmax` layer and the cross-entropy loss.

use crate::Float;

/// Writes `log softmax` of each row of `x` (rows of `f`) into `out`.
pub(crate) fn log_softmax_rows<E: Float>(x: &[E], f: usize, out: &mut [E]) {
    if f == 0 {
        return; // no features, nothing to normalize
    }
    for (row, o) in x.chunks_exact(f).zip(out.chunks_exact_mut(f)) {
        let max = row.iter().fold(E::NEG_INFINITY, |m, &v| m.max(v));
        let sum = row.iter().fold(E::ZERO, |s, &v| s + (v - max).exp());
        let log_sum = max + sum.ln();
        o.iter_mut().zip(row).for_each(|(o, &v)| *o = v - log_sum);
    }
}
