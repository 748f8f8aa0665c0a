//! `ThreadPoolExecutor`: runs jobs on up to `max_workers` threads.
//!
//! Jobs not yet started wait in a crossbeam channel: lock-free, and it only
//! wakes a worker that is actually blocked. Workers count themselves idle
//! while they block on it, and `submit` *claims* one of them (takes one off
//! the count) before sending its job, so a burst of submits never queues
//! behind a single idle worker. With no idle worker to claim and the pool
//! below `max_workers`, `submit` starts a worker and hands it that job
//! directly, marking the future `Running` before `submit` returns
//! (Python's `Thread.start()` also waits until the new thread runs, which is
//! why the book's `flags_threadpool_ac.py` shows three futures running).
//! Workers start lazily and live until shutdown, which drops the sending
//! side: workers drain what is queued, see the channel close, and exit.
//!
//! The claim count stays true whoever takes a job: a worker that was
//! counted and takes an unclaimed job uncounts itself; one that was not
//! counted (it found the job without waiting) and takes a claimed job gives
//! the claim back, since the claimed worker still waits.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::{FutureError, FutureHandle};

type Job = Box<dyn FnOnce() + Send>;

/// A job in the queue, and whether its `submit` claimed an idle worker.
struct Queued {
    run: Job,
    claimed: bool,
}

/// What the workers share.
struct Shared {
    jobs: Receiver<Queued>,
    /// Workers blocked waiting for a job.
    idle: AtomicUsize,
    /// Workers alive.
    alive: AtomicUsize,
}

/// What only submitters and `shutdown` touch (workers never lock it).
struct Submit {
    /// `None` once shut down; dropping it lets the workers drain and exit.
    jobs: Option<Sender<Queued>>,
    started: usize,
    handles: Vec<JoinHandle<()>>,
}

/// A pool of worker threads that run submitted closures and hand back [`FutureHandle`]s.
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
        quiet_panics_in_pools();
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

    /// Workers waiting for a job that no `submit` has claimed yet: what the
    /// next submits claim before they start a new worker.
    pub fn idle_workers(&self) -> usize {
        self.shared.idle.load(Ordering::SeqCst)
    }

    /// Schedules `job` and returns its future. After `shutdown` the future
    /// is already finished with [`FutureError::Shutdown`].
    pub fn submit<T, F>(&self, job: F) -> FutureHandle<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.try_submit(job).unwrap_or_else(|e| FutureHandle::ready(Err(e)))
    }

    /// Like [`ThreadPoolExecutor::submit`], but refuses with an error after `shutdown`.
    pub fn try_submit<T, F>(&self, job: F) -> Result<FutureHandle<T>, FutureError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.try_submit_fallible(move || Ok(job()))
    }

    /// Schedules a job that can fail with a [`FutureError`] of its own (the
    /// process pool's jobs do, when their worker dies).
    pub(crate) fn try_submit_fallible<T, F>(&self, job: F) -> Result<FutureHandle<T>, FutureError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, FutureError> + Send + 'static,
    {
        let future = FutureHandle::pending();
        let handle = future.clone();
        let run: Job = Box::new(move || {
            if handle.set_running() {
                let result = catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|p| Err(FutureError::from_panic(p)));
                handle.finish(result);
            }
        });
        let mut submit = self.lock();
        let Some(jobs) = submit.jobs.clone() else { return Err(FutureError::Shutdown) };
        let claimed = self.shared.idle.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |i| i.checked_sub(1)).is_ok();
        if !claimed && submit.started < self.max_workers {
            // Mark it running now: the new thread's first act is to run it.
            future.set_running();
            let shared = Arc::clone(&self.shared);
            shared.alive.fetch_add(1, Ordering::SeqCst);
            let first = Arc::new(Mutex::new(Some(run)));
            let given = Arc::clone(&first);
            let spawned = std::thread::Builder::new().name("pool-worker".into()).spawn(move || {
                let first = given.lock().unwrap_or_else(|e| e.into_inner()).take();
                worker(shared, first)
            });
            match spawned {
                Ok(handle) => {
                    submit.started += 1;
                    submit.handles.push(handle);
                }
                Err(e) => {
                    self.shared.alive.fetch_sub(1, Ordering::SeqCst);
                    let run = first.lock().unwrap_or_else(|e| e.into_inner()).take().expect("not taken");
                    if submit.started == 0 {
                        return Err(FutureError::Spawn(e.to_string()));
                    }
                    // The workers already running will take it.
                    future.set_pending();
                    jobs.send(Queued { run, claimed: false }).expect("the workers hold the receiver");
                }
            }
        } else {
            jobs.send(Queued { run, claimed }).expect("the workers hold the receiver");
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
        let futures: Vec<FutureHandle<T>> = items
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
            if wait { std::mem::take(&mut submit.handles) } else { Vec::new() }
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
pub(crate) fn in_order<T>(futures: Vec<FutureHandle<T>>) -> impl Iterator<Item = Result<T, FutureError>> {
    futures.into_iter().map(|fut| fut.take_result(None))
}

fn worker(shared: Arc<Shared>, first: Option<Job>) {
    IN_POOL.with(|p| p.set(true));
    // Jobs catch their own panics, so a worker never dies of one.
    if let Some(first) = first {
        first();
    }
    loop {
        let (queued, waited) = match shared.jobs.try_recv() {
            Ok(job) => (job, false),
            Err(crossbeam_channel::TryRecvError::Disconnected) => break,
            Err(crossbeam_channel::TryRecvError::Empty) => {
                shared.idle.fetch_add(1, Ordering::SeqCst);
                match shared.jobs.recv() {
                    Ok(job) => (job, true),
                    // Shut down and drained.
                    Err(_) => break,
                }
            }
        };
        match (waited, queued.claimed) {
            // Counted while waiting, and nobody claimed this job: uncount.
            (true, false) => {
                let _ = shared.idle.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |i| i.checked_sub(1));
            }
            // Took a job claimed for a worker that still waits: give it back.
            (false, true) => {
                shared.idle.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
        (queued.run)();
    }
    shared.alive.fetch_sub(1, Ordering::SeqCst);
}

thread_local! {
    /// True on the pools' own threads.
    static IN_POOL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs, once, a panic hook that says nothing for panics on the pools'
/// threads (their jobs' panics come back as [`FutureError::Panicked`]) and
/// leaves every other panic to the hook that was there before.
fn quiet_panics_in_pools() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_POOL.with(|p| p.get()) {
                previous(info);
            }
        }));
    });
}
