//! `ThreadPoolExecutor`: runs jobs on up to `max_workers` threads.
//!
//! One `Mutex<Queue>` holds the jobs not yet started, the number of idle
//! workers and the shutdown flag; one `Condvar` wakes idle workers. `submit`
//! pushes a job and, when the queue holds more jobs than there are idle
//! workers and the pool is below `max_workers`, starts a worker and hands it
//! that job directly, marking the future `Running` before `submit` returns
//! (Python's `Thread.start()` also waits until the new thread runs, which is
//! why the seed's `flags_threadpool_ac.py` shows three futures running).
//! Workers start lazily and live until shutdown.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use super::{Future, FutureError};

type Job = Box<dyn FnOnce() + Send>;

struct Queue {
    jobs: VecDeque<Job>,
    idle: usize,
    started: usize,
    shutdown: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    alive: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A pool of worker threads that run submitted closures and hand back [`Future`]s.
///
/// Dropping the executor is `shutdown(true)`: queued jobs still run, then
/// every worker is joined.
pub struct ThreadPoolExecutor {
    shared: Arc<Shared>,
    max_workers: usize,
    handles: Mutex<Vec<JoinHandle<()>>>,
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
        ThreadPoolExecutor {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    jobs: VecDeque::new(),
                    idle: 0,
                    started: 0,
                    shutdown: false,
                }),
                wake: Condvar::new(),
                alive: AtomicUsize::new(0),
            }),
            max_workers: max_workers.max(1),
            handles: Mutex::new(Vec::new()),
        }
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
        self.try_submit(job)
            .unwrap_or_else(|e| Future::ready(Err(e)))
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
                let result = catch_unwind(AssertUnwindSafe(job))
                    .unwrap_or_else(|p| Err(FutureError::from_panic(p)));
                handle.finish(result);
            }
        });
        let mut q = self.shared.lock();
        if q.shutdown {
            return Err(FutureError::Shutdown);
        }
        if q.jobs.len() >= q.idle && q.started < self.max_workers {
            q.started += 1;
            drop(q);
            // Mark it running now: the new thread's first act is to run it.
            future.set_running();
            self.spawn_worker(run);
        } else {
            q.jobs.push_back(run);
            drop(q);
            self.shared.wake.notify_one();
        }
        Ok(future)
    }

    fn spawn_worker(&self, first: Job) {
        let shared = Arc::clone(&self.shared);
        shared.alive.fetch_add(1, Ordering::SeqCst);
        let handle = std::thread::Builder::new()
            .name("flags-worker".into())
            .spawn(move || worker(shared, first))
            .expect("failed to start a worker thread");
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle);
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
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_all();
        if wait {
            let handles =
                std::mem::take(&mut *self.handles.lock().unwrap_or_else(|e| e.into_inner()));
            for h in handles {
                let _ = h.join();
            }
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
    first();
    loop {
        let job = {
            let mut q = shared.lock();
            loop {
                if let Some(job) = q.jobs.pop_front() {
                    break Some(job);
                }
                if q.shutdown {
                    break None;
                }
                q.idle += 1;
                q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                q.idle -= 1;
            }
        };
        match job {
            // Jobs catch their own panics, so a worker never dies of one.
            Some(job) => job(),
            None => break,
        }
    }
    shared.alive.fetch_sub(1, Ordering::SeqCst);
}
