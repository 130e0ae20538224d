//! How many threads the kernels use, and the fixed batch chunks that make the results
//! independent of that number.
//!
//! Convolution splits the batch into [`CHUNKS`] fixed chunks (fewer for a smaller batch). Each
//! chunk's weight and bias gradients are computed into a buffer of their own and summed in chunk
//! order, whatever the thread count, so a run gives **bit-identical** results with 1 and with
//! 2 threads. The threads only decide which chunks run at the same time.
//!
//! The count comes from [`set_threads`], or else from the environment variable
//! `TYPED_CNN_THREADS`, or else is every core the system reports
//! ([`std::thread::available_parallelism`]), as PyTorch's default is. Chunks are dealt out
//! round-robin, so more than [`CHUNKS`] threads add nothing (and 5 to 7 threads no more than 4).
//!
//! The calling thread takes chunks in order together with up to `threads() − 1` worker threads,
//! started once, on first use, and kept for the life of the program (one fewer than the
//! system's cores; see `runtime/workers.rs` for why they are ours). Handing work to them costs
//! a few microseconds. Calls from several threads of a program share the workers and never wait
//! for each other's: a call that finds them busy computes its chunks itself, so no more threads
//! run than the program's own plus the workers.
//!
//! ```
//! typed_cnn::set_threads(2);
//! assert_eq!(typed_cnn::threads(), 2);
//! typed_cnn::set_threads(1);
//! ```

use core::sync::atomic::{AtomicUsize, Ordering};
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use super::workers::run_shared;

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
/// (a positive integer), else the number of cores ([`std::thread::available_parallelism`], 1
/// if the system does not tell).
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
                .unwrap_or_else(cores);
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

/// `buf` cut into one slice per range of images, `per_image` elements each.
pub(crate) fn split_by_images<'a, E>(
    mut buf: &'a mut [E],
    ranges: &[Range<usize>],
    per_image: usize,
) -> Vec<&'a mut [E]> {
    let mut parts = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (head, tail) = buf.split_at_mut(r.len() * per_image);
        parts.push(head);
        buf = tail;
    }
    parts
}

/// The number of cores the system reports, 1 if it does not tell.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
    // The calling thread and up to t − 1 workers take the chunks in order from a shared
    // counter; each chunk's state is handed out once, through its own slot.
    let slots: Vec<Mutex<Option<&mut S>>> =
        states.iter_mut().map(|s| Mutex::new(Some(s))).collect();
    let next = AtomicUsize::new(0);
    run_shared(t - 1, &|| {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else { break };
            let state = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            f(i, state.expect("each chunk is taken once"));
        }
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
