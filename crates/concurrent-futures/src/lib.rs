#![doc = include_str!("../README.md")]
//!
//! # Design
//!
//! No crate offers these semantics (rayon and crossbeam give scoped
//! parallelism and channels, not result handles with states), so this one
//! is written by hand on `std::sync` and a crossbeam channel.
//!
//! - **Queue.** [`ThreadPoolExecutor`] keeps the jobs not yet started in
//!   a crossbeam channel (lock-free; it wakes only workers that are blocked
//!   on it). Workers start lazily, up to `max_workers`: a `submit` claims an
//!   idle worker if there is one, else starts a worker and hands it the job
//!   directly.
//! - **States.** A [`FutureHandle`] is an `Arc` around a slot that moves
//!   `Pending -> Running -> Finished` or `Pending -> Cancelled`. A worker
//!   flips it to `Running` under the slot's lock, so `cancel` and the start
//!   of the job can't both win.
//! - **Wake-ups.** Finishing a future wakes the threads blocked in
//!   `result` (its `Condvar`) and runs its done-callbacks outside the lock.
//!   [`as_completed`] and [`wait`] register a callback that sends the
//!   future's index down a channel, so they sleep until something finishes
//!   instead of polling.
//! - **Start methods.** A [`ProcessPoolExecutor`] starts each worker from
//!   the executable ([`StartMethod::Spawn`], the default), or forks it from
//!   a fork server started once ([`StartMethod::ForkServer`], Python's
//!   `forkserver`; see [`forkserver`] for when it pays).
//! - **Panics** in jobs and callbacks are caught. Those in jobs come back as
//!   [`FutureError::Panicked`]; neither is printed (a panic hook installed
//!   with the first pool stays quiet on the pools' own threads).

pub mod forkserver;
mod future;
pub mod process_pool;
mod thread_pool;

use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use future::{FutureHandle, FutureState};
pub use process_pool::{
    ProcessPoolExecutor, Registry, START_ENV, StartMethod, WORKER_ARG, WorkerStats, run_worker_if_requested,
    serve as serve_worker,
};
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
    /// No worker thread could be started for the job.
    #[error("cannot start a worker thread: {0}")]
    Spawn(String),
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
            FutureError::Spawn(_) => "Spawn",
            FutureError::Taken => "Taken",
        }
    }
}

/// Sends each future's index down a channel when it is done, done ones first.
fn completion_channel<T: 'static>(futures: &[FutureHandle<T>]) -> mpsc::Receiver<usize> {
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
    futures: &[FutureHandle<T>],
    timeout: Option<Duration>,
) -> impl Iterator<Item = Result<FutureHandle<T>, FutureError>> {
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
    /// As soon as any future finishes with an error (a cancelled one does
    /// not count, as in Python), or all are done.
    FirstException,
    /// When all are done.
    AllCompleted,
}

/// Waits for the futures (at most `timeout`) and returns `(done, not_done)`,
/// each in the input order.
pub fn wait<T: 'static>(
    futures: &[FutureHandle<T>],
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<FutureHandle<T>>, Vec<FutureHandle<T>>) {
    let deadline = timeout.map(|t| Instant::now() + t);
    let rx = completion_channel(futures);
    let mut done = vec![false; futures.len()];
    let mut count = 0;
    let failed =
        |f: &FutureHandle<T>| matches!(f.exception(Some(Duration::ZERO)), Ok(Some(e)) if e != FutureError::Cancelled);
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
