//! `ThreadPoolExecutor`: runs jobs on up to `max_workers` threads.
//!
//! Jobs not yet started wait in a crossbeam channel: lock-free, and it only
//! wakes a worker that is actually blocked. Workers count themselves idle
//! while they block on it. `submit` sends the job to the channel, unless no
//! worker is idle and the pool is below `max_workers`: then it starts a
//! worker and hands it that job directly, marking the future `Running` before `submit` returns
//! (Python's `Thread.start()` also waits until the new thread runs, which is
//! why the seed's `flags_threadpool_ac.py` shows three futures running).
//! Workers start lazily and live until shutdown, which drops the sending
//! side: workers drain what is queued, see the channel close, and exit.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::{Future, FutureError};

type Job = Box<dyn FnOnce() + Send>;

/// What the workers share.
struct Shared {
    jobs: Receiver<Job>,
    /// Workers blocked waiting for a job.
    idle: AtomicUsize,
    /// Workers alive.
    alive: AtomicUsize,
}

/// What only submitters and `shutdown` touch (workers never lock it).
struct Submit {
    /// `None` once shut down; dropping it lets the workers drain and exit.
    jobs: Option<Sender<Job>>,
    started: usize,
    handles: Vec<JoinHandle<()>>,
}

/// A pool of worker threads that run submitted closures and hand back [`Future`]s.
///
/// Dropping the executor is `shutdown(true)`: queued jobs still run, then
/// every worker is joined.
pub struct ThreadPoolExecutor {
    shared: Arc<Shared>,
    submit: Mutex<Submit>,
    max_workers: usize,
}

impl Default for ThreadPoolExecutor {
    /// Python's default size: `min(32, cores + 4)`.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new((cores + 4).min(32))
    }
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads (at least one), none started yet.
    pub fn new(max_workers: usize) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        ThreadPoolExecutor {
            shared: Arc::new(Shared { jobs: rx, idle: AtomicUsize::new(0), alive: AtomicUsize::new(0) }),
            submit: Mutex::new(Submit { jobs: Some(tx), started: 0, handles: Vec::new() }),
            max_workers: max_workers.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Submit> {
        self.submit.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most threads this pool will run.
    pub fn max_workers(&self) -> usize {
        self.max_workers
    }

    /// Worker threads currently alive (0 after `shutdown(true)`).
    pub fn live_threads(&self) -> usize {
        self.shared.alive.load(Ordering::SeqCst)
    }

    /// Schedules `job` and returns its future. After `shutdown` the future
    /// is already finished with [`FutureError::Shutdown`].
    pub fn submit<T, F>(&self, job: F) -> Future<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.try_submit(job).unwrap_or_else(|e| Future::ready(Err(e)))
    }

    /// Like [`ThreadPoolExecutor::submit`], but refuses with an error after `shutdown`.
    pub fn try_submit<T, F>(&self, job: F) -> Result<Future<T>, FutureError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.try_submit_fallible(move || Ok(job()))
    }

    /// Schedules a job that can fail with a [`FutureError`] of its own (the
    /// process pool's jobs do, when their worker dies).
    pub(crate) fn try_submit_fallible<T, F>(&self, job: F) -> Result<Future<T>, FutureError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, FutureError> + Send + 'static,
    {
        let future = Future::pending();
        let handle = future.clone();
        let run: Job = Box::new(move || {
            if handle.set_running() {
                let result = catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|p| Err(FutureError::from_panic(p)));
                handle.finish(result);
            }
        });
        let mut submit = self.lock();
        let Some(jobs) = &submit.jobs else { return Err(FutureError::Shutdown) };
        if self.shared.idle.load(Ordering::SeqCst) == 0 && submit.started < self.max_workers {
            submit.started += 1;
            // Mark it running now: the new thread's first act is to run it.
            future.set_running();
            let shared = Arc::clone(&self.shared);
            shared.alive.fetch_add(1, Ordering::SeqCst);
            let handle = std::thread::Builder::new()
                .name("flags-worker".into())
                .spawn(move || worker(shared, run))
                .expect("failed to start a worker thread");
            submit.handles.push(handle);
        } else {
            jobs.send(run).expect("the workers hold the receiver");
        }
        Ok(future)
    }

    /// Runs `f` on every item and yields the results in input order, each as
    /// soon as it and those before it are done. All items are submitted
    /// before the first result is returned, as in Python.
    pub fn map<I, T, F>(&self, f: F, items: I) -> impl Iterator<Item = Result<T, FutureError>>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let futures: Vec<Future<T>> = items
            .into_iter()
            .map(|item| {
                let f = Arc::clone(&f);
                self.submit(move || f(item))
            })
            .collect();
        in_order(futures)
    }

    /// Stops accepting jobs. Queued jobs still run; with `wait`, blocks
    /// until every worker has finished and exited.
    pub fn shutdown(&self, wait: bool) {
        let handles = {
            let mut submit = self.lock();
            submit.jobs = None;
            if wait {
                std::mem::take(&mut submit.handles)
            } else {
                Vec::new()
            }
        };
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true);
    }
}

/// Yields each future's result in order, moving it out: `map`'s tail.
pub(crate) fn in_order<T>(futures: Vec<Future<T>>) -> impl Iterator<Item = Result<T, FutureError>> {
    futures.into_iter().map(|fut| fut.take_result(None))
}

fn worker(shared: Arc<Shared>, first: Job) {
    // Jobs catch their own panics, so a worker never dies of one.
    first();
    loop {
        let job = match shared.jobs.try_recv() {
            Ok(job) => job,
            Err(_) => {
                shared.idle.fetch_add(1, Ordering::SeqCst);
                let next = shared.jobs.recv();
                shared.idle.fetch_sub(1, Ordering::SeqCst);
                match next {
                    Ok(job) => job,
                    // Shut down and drained.
                    Err(_) => break,
                }
            }
        };
        job();
    }
    shared.alive.fetch_sub(1, Ordering::SeqCst);
}
