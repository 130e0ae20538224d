//! The worker threads: started once, on first use, kept for the life of the program, and
//! handed a borrowed job by the thread that needs help.
//!
//! Why not a crate: on the shared virtual machines this project is measured on, waking a
//! sleeping thread costs 25–50 µs (an inter-processor interrupt through the hypervisor), and
//! both `std::thread::scope` and rayon (whose idle workers go to sleep within microseconds)
//! paid it on nearly every kernel call of a LeNet step, which lasts about 2 ms in all. These
//! workers spin for [`SPIN`] after a job before they sleep, as OpenMP's do, so the calls of a
//! training step or a run of inferences find them awake: a hand-off costs about 3 µs.
//!
//! A job is `&dyn Fn() + Sync` on the caller's stack. The caller claims idle workers (never a
//! busy one, so calls from several program threads neither wait for each other nor start more
//! threads than there are cores: a caller that finds no idle worker does the work itself),
//! posts the job to them, runs it itself too, and returns only once every claimed worker has
//! finished with it, even if the job panics. That wait is what makes lending a stack reference
//! to another thread sound; the one `unsafe` below rests on it.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How long an idle worker keeps looking for a new job before it sleeps.
const SPIN: Duration = Duration::from_millis(2);

/// A worker's state: idle (may be claimed), claimed by a caller that is posting a job, or
/// holding a posted job (until it has run it).
const IDLE: u8 = 0;
const CLAIMED: u8 = 1;
const POSTED: u8 = 2;

/// What a caller shares with the workers it claimed, on its stack.
struct Shared<'a> {
    job: &'a (dyn Fn() + Sync),
    /// Claimed workers that have not finished the job yet.
    running: AtomicUsize,
    /// Set by a worker whose run of the job panicked.
    panicked: AtomicBool,
}

/// One worker thread's mailbox.
struct Worker {
    state: AtomicU8,
    /// The posted job; `Some` exactly while `state` is `POSTED`.
    job: Mutex<Option<&'static Shared<'static>>>,
    /// `true` while the worker sleeps (or is about to) on `wake`.
    sleeping: AtomicBool,
    wake: Condvar,
}

/// The workers: one fewer than the system's cores (the calling thread is the other), none on a
/// one-core system or where threads cannot be started.
fn workers() -> &'static [Worker] {
    static SLOTS: OnceLock<Box<[Worker]>> = OnceLock::new();
    /// How many of the slots have a running thread.
    static STARTED: OnceLock<usize> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (1..cores)
            .map(|_| Worker {
                state: AtomicU8::new(IDLE),
                job: Mutex::new(None),
                sleeping: AtomicBool::new(false),
                wake: Condvar::new(),
            })
            .collect()
    });
    let started = STARTED.get_or_init(|| {
        // run with the workers that started, if the system refuses more
        slots
            .iter()
            .enumerate()
            .take_while(|&(i, w)| {
                std::thread::Builder::new()
                    .name(format!("typed-cnn-{i}"))
                    .spawn(move || work(w))
                    .is_ok()
            })
            .count()
    });
    &slots[..*started]
}

/// A worker's loop: wait for a posted job (spinning for [`SPIN`], then sleeping), run it, report.
fn work(me: &'static Worker) {
    loop {
        let shared = wait_for_job(me);
        let result = catch_unwind(AssertUnwindSafe(|| (shared.job)()));
        if result.is_err() {
            shared.panicked.store(true, Ordering::Relaxed);
        }
        *me.job.lock().unwrap_or_else(PoisonError::into_inner) = None;
        // The last touch of `shared`: after this the caller may return and its stack be gone.
        shared.running.fetch_sub(1, Ordering::Release);
        me.state.store(IDLE, Ordering::Release);
    }
}

/// Waits until `me` holds a posted job and returns it.
fn wait_for_job(me: &Worker) -> &'static Shared<'static> {
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        if me.state.load(Ordering::Acquire) == POSTED {
            break;
        }
        spins = spins.wrapping_add(1);
        if !spins.is_multiple_of(64) {
            core::hint::spin_loop();
            continue;
        }
        if start.elapsed() < SPIN {
            std::thread::yield_now();
            continue;
        }
        // Sleep. `sleeping` is set before the state is checked, under the lock the poster
        // takes to notify, so a job posted meanwhile is either seen here or wakes us.
        let mut guard = me.job.lock().unwrap_or_else(PoisonError::into_inner);
        me.sleeping.store(true, Ordering::SeqCst);
        while me.state.load(Ordering::SeqCst) != POSTED {
            guard = me.wake.wait(guard).unwrap_or_else(PoisonError::into_inner);
        }
        me.sleeping.store(false, Ordering::Relaxed);
        break;
    }
    me.job.lock().unwrap_or_else(PoisonError::into_inner).expect("a posted job")
}

/// Runs `job` on the calling thread and on up to `helpers` idle workers at once, and returns
/// when every one of those runs has returned. `job` must split its work itself (each run takes
/// what is left, e.g. from an atomic counter), so it is correct whatever number of workers
/// joined. A panic in any run is raised here once all runs are over.
pub(crate) fn run_shared(helpers: usize, job: &(dyn Fn() + Sync)) {
    let shared = Shared { job, running: AtomicUsize::new(0), panicked: AtomicBool::new(false) };
    // SAFETY: the workers receive `&'static Shared`, but use it only until they decrement
    // `running` (`work` touches it no more after that). `WaitForWorkers` below, dropped at the
    // end of this function on return and on unwind alike, spins until `running` is 0, so no
    // worker holds the reference once `shared` (and the job it borrows) goes out of scope.
    let lent: &'static Shared<'static> =
        unsafe { core::mem::transmute::<&Shared<'_>, &'static Shared<'static>>(&shared) };
    let wait = WaitForWorkers(&shared.running);
    let mut claimed = 0;
    for w in workers() {
        if claimed == helpers {
            break;
        }
        if w.state.compare_exchange(IDLE, CLAIMED, Ordering::Acquire, Ordering::Relaxed).is_err() {
            continue; // busy with another caller's job
        }
        shared.running.fetch_add(1, Ordering::Relaxed);
        *w.job.lock().unwrap_or_else(PoisonError::into_inner) = Some(lent);
        w.state.store(POSTED, Ordering::SeqCst);
        if w.sleeping.load(Ordering::SeqCst) {
            let _guard = w.job.lock().unwrap_or_else(PoisonError::into_inner);
            w.wake.notify_one();
        }
        claimed += 1;
    }
    let mine = catch_unwind(AssertUnwindSafe(job));
    drop(wait);
    if let Err(payload) = mine {
        resume_unwind(payload);
    }
    assert!(!shared.panicked.load(Ordering::Relaxed), "a typed-cnn worker thread panicked");
}

/// Spins (then yields) until the claimed workers are done with the caller's job.
struct WaitForWorkers<'a>(&'a AtomicUsize);

impl Drop for WaitForWorkers<'_> {
    fn drop(&mut self) {
        let mut spins = 0u32;
        while self.0.load(Ordering::Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins < 1 << 16 {
                core::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_finishes_before_run_shared_returns() {
        let next = AtomicUsize::new(0);
        let done: Vec<AtomicBool> = (0..1000).map(|_| AtomicBool::new(false)).collect();
        run_shared(8, &|| {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = done.get(i) else { break };
                assert!(!d.swap(true, Ordering::Relaxed), "item {i} taken twice");
            }
        });
        assert!(done.iter().all(|d| d.load(Ordering::Relaxed)));
    }

    #[test]
    fn a_panicking_job_is_raised_in_the_caller_and_the_workers_survive() {
        let r = catch_unwind(|| run_shared(8, &|| panic!("boom")));
        assert!(r.is_err());
        let runs = AtomicUsize::new(0);
        run_shared(8, &|| {
            runs.fetch_add(1, Ordering::Relaxed);
        });
        assert!(runs.load(Ordering::Relaxed) >= 1);
    }
}
