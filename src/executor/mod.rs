//! `concurrent.futures` for Rust: executors that run closures on a pool of
//! threads ([`ThreadPoolExecutor`]) or named jobs in worker processes
//! ([`ProcessPoolExecutor`]) and hand back [`Future`]s you can poll, wait on, cancel, attach
//! callbacks to and collect as they complete.
//!
//! No crate offers these semantics (rayon and crossbeam give scoped
//! parallelism and channels, not result handles with states), so this module
//! is written by hand on `std::sync`.
//!
//! # Design
//! - **Queue.** [`ThreadPoolExecutor`] keeps the jobs not yet started in
//!   a crossbeam channel (lock-free; it wakes only workers that are blocked
//!   on it). Workers start lazily, one per submit that finds no idle
//!   worker, up to `max_workers`; the submit that starts one hands it the
//!   job directly.
//! - **States.** A [`Future`] is an `Arc` around a slot that moves
//!   `Pending -> Running -> Finished` or `Pending -> Cancelled`. A worker
//!   flips it to `Running` under the slot's lock, so `cancel` and the start
//!   of the job can't both win.
//! - **Wake-ups.** Finishing a future wakes the threads blocked in
//!   `result` (its `Condvar`) and runs its done-callbacks outside the lock.
//!   [`as_completed`] and [`wait`] register a callback that sends the
//!   future's index down a channel, so they sleep until something finishes
//!   instead of polling.
//!
//! # Differences from Python
//! - Results are typed: `result()` returns `Result<T, FutureError>`; a
//!   panic in the job is caught and comes back as
//!   [`FutureError::Panicked`] with the panic message. No GIL: jobs run in
//!   parallel on all cores.
//! - `result()` clones the value (`T: Clone`), so it can be called many
//!   times; `map` moves results out instead and needs no `Clone`.
//! - `submit` after `shutdown` returns a future already finished with
//!   [`FutureError::Shutdown`] (Python raises); `try_submit` returns the error.
//! - Process pools run named, registered functions with JSON arguments and
//!   results, since closures can't cross a process boundary; a worker that
//!   dies fails only its own job ([`FutureError::WorkerDied`]) and is replaced.
//! - A job handed to a freshly started worker is `Running` when `submit`
//!   returns, as in CPython, where starting a thread waits for it to run.

mod future;
pub mod process_pool;
mod thread_pool;

use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use future::{Future, FutureState};
pub use process_pool::{run_worker_if_requested, serve as serve_worker, ProcessPoolExecutor, Registry, WORKER_ARG};
pub use thread_pool::ThreadPoolExecutor;

/// Why a future has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FutureError {
    /// The wait ended before the future was done.
    #[error("timed out waiting for the future")]
    Timeout,
    /// The future was cancelled before it ran.
    #[error("the future was cancelled")]
    Cancelled,
    /// The job panicked; the panic message.
    #[error("the job panicked: {0}")]
    Panicked(String),
    /// The job was submitted after the executor shut down.
    #[error("cannot schedule new jobs after shutdown")]
    Shutdown,
    /// The worker process running the job died (process pools).
    #[error("the worker running the job died: {0}")]
    WorkerDied(String),
    /// A process pool could not run the job: unknown name, or an argument
    /// or result that does not fit its type.
    #[error("the worker could not run the job: {0}")]
    Remote(String),
    /// `map` already moved the value out of this future.
    #[error("the result was already taken by map")]
    Taken,
}

impl FutureError {
    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_string());
        FutureError::Panicked(msg)
    }

    /// The variant's name, as the future's `Display` shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            FutureError::Timeout => "Timeout",
            FutureError::Cancelled => "Cancelled",
            FutureError::Panicked(_) => "Panicked",
            FutureError::Shutdown => "Shutdown",
            FutureError::WorkerDied(_) => "WorkerDied",
            FutureError::Remote(_) => "Remote",
            FutureError::Taken => "Taken",
        }
    }
}

/// Sends each future's index down a channel when it is done, done ones first.
fn completion_channel<T: 'static>(futures: &[Future<T>]) -> mpsc::Receiver<usize> {
    let (tx, rx) = mpsc::channel();
    for (i, f) in futures.iter().enumerate() {
        let tx = tx.clone();
        f.add_done_callback(move |_| {
            let _ = tx.send(i);
        });
    }
    rx
}

/// Yields the futures as they complete (those already done first). If
/// `timeout` passes before all are done, yields one `Err(Timeout)` and stops.
pub fn as_completed<T: 'static>(
    futures: &[Future<T>],
    timeout: Option<Duration>,
) -> impl Iterator<Item = Result<Future<T>, FutureError>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let rx = completion_channel(futures);
    let futures = futures.to_vec();
    let mut left = futures.len();
    let mut timed_out = false;
    std::iter::from_fn(move || {
        if left == 0 || timed_out {
            return None;
        }
        let got = match deadline {
            None => rx.recv().ok(),
            Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())).ok(),
        };
        match got {
            Some(i) => {
                left -= 1;
                Some(Ok(futures[i].clone()))
            }
            None => {
                timed_out = true;
                Some(Err(FutureError::Timeout))
            }
        }
    })
}

/// When [`wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any future is done.
    FirstCompleted,
    /// As soon as any future finishes with an error, or all are done.
    FirstException,
    /// When all are done.
    AllCompleted,
}

/// Waits for the futures (at most `timeout`) and returns `(done, not_done)`,
/// each in the input order.
pub fn wait<T: 'static>(
    futures: &[Future<T>],
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<Future<T>>, Vec<Future<T>>) {
    let deadline = timeout.map(|t| Instant::now() + t);
    let rx = completion_channel(futures);
    let mut done = vec![false; futures.len()];
    let mut count = 0;
    let failed = |f: &Future<T>| matches!(f.exception(Some(Duration::ZERO)), Ok(Some(_)));
    while count < futures.len() {
        let got = match deadline {
            None => rx.recv().ok(),
            Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())).ok(),
        };
        let Some(i) = got else { break };
        done[i] = true;
        count += 1;
        let stop = match return_when {
            ReturnWhen::FirstCompleted => true,
            ReturnWhen::FirstException => failed(&futures[i]),
            ReturnWhen::AllCompleted => false,
        };
        if stop {
            // Take in whatever else is done already.
            while let Ok(j) = rx.try_recv() {
                done[j] = true;
            }
            break;
        }
    }
    let (d, n): (Vec<_>, Vec<_>) = futures.iter().zip(done).partition(|(_, d)| *d);
    (d.into_iter().map(|(f, _)| f.clone()).collect(), n.into_iter().map(|(f, _)| f.clone()).collect())
}
