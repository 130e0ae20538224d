//! How many threads the kernels use, and the fixed batch chunks that make the results
//! independent of that number.
//!
//! Convolution splits the batch into [`CHUNKS`] fixed chunks (fewer for a smaller batch). Each
//! chunk's weight and bias gradients are computed into a buffer of their own and summed in chunk
//! order, whatever the thread count, so a run gives **bit-identical** results with 1 and with
//! 2 threads. The threads only decide which chunks run at the same time.
//!
//! The count comes from [`set_threads`], or else from the environment variable
//! `TYPED_CNN_THREADS`, or else is 1. Chunks are dealt out round-robin, so more than
//! [`CHUNKS`] threads add nothing (and 5 to 7 threads no more than 4); the threads are started
//! per call (about 40 µs each here), which small layers notice.
//!
//! ```
//! typed_cnn::set_threads(2);
//! assert_eq!(typed_cnn::threads(), 2);
//! typed_cnn::set_threads(1);
//! ```

use core::sync::atomic::{AtomicUsize, Ordering};
use std::ops::Range;

/// The number of fixed chunks a batch is split into (at most; one image per chunk below that).
pub const CHUNKS: usize = 8;

/// 0: not set yet (read the environment on first use).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the number of threads the kernels use (at least 1; 0 counts as 1). Results do not
/// depend on it.
///
/// ```
/// typed_cnn::set_threads(0);
/// assert_eq!(typed_cnn::threads(), 1);
/// ```
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The number of threads the kernels use: the last [`set_threads`], else `TYPED_CNN_THREADS`
/// (a positive integer), else 1.
///
/// ```
/// typed_cnn::set_threads(3);
/// assert_eq!(typed_cnn::threads(), 3);
/// # typed_cnn::set_threads(1);
/// ```
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = std::env::var("TYPED_CNN_THREADS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or(1);
            // Another thread may have set it meanwhile; keep theirs.
            let _ = THREADS.compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed);
            THREADS.load(Ordering::Relaxed)
        }
        n => n,
    }
}

/// The fixed chunks of `n` items: `min(n, CHUNKS)` ranges of near-equal size, in order.
pub(crate) fn chunks(n: usize) -> Vec<Range<usize>> {
    let k = n.min(CHUNKS);
    (0..k).map(|i| (i * n / k)..((i + 1) * n / k)).collect()
}

/// Runs `f(chunk_index, state)` for every chunk, on up to [`threads`] threads; `states` has one
/// element per chunk (its own output buffers), so no two calls share mutable data. Chunk `i` is
/// always computed the same way whatever thread runs it.
pub(crate) fn run_chunks<S: Send>(states: &mut [S], f: impl Fn(usize, &mut S) + Sync) {
    let t = threads().min(states.len());
    if t <= 1 {
        states.iter_mut().enumerate().for_each(|(i, s)| f(i, s));
        return;
    }
    // Thread j takes chunks j, j + t, j + 2t, …: a static split, no work queue.
    let mut per_thread: Vec<Vec<(usize, &mut S)>> = (0..t).map(|_| Vec::new()).collect();
    for (i, s) in states.iter_mut().enumerate() {
        per_thread[i % t].push((i, s));
    }
    let f = &f;
    std::thread::scope(|scope| {
        let mut rest = per_thread.into_iter();
        let mine = rest.next();
        for work in rest {
            scope.spawn(move || work.into_iter().for_each(|(i, s)| f(i, s)));
        }
        mine.into_iter().flatten().for_each(|(i, s)| f(i, s));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_batch_in_order() {
        assert_eq!(chunks(3), [0..1, 1..2, 2..3]);
        assert_eq!(chunks(64).len(), 8);
        assert_eq!(chunks(64)[1], 8..16);
        assert_eq!(chunks(10), [0..1, 1..2, 2..3, 3..5, 5..6, 6..7, 7..8, 8..10]);
        assert!(chunks(0).is_empty());
    }
}
