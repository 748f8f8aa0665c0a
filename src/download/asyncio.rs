//! The async style (`flags_asyncio.py`): one tokio task per code, at most
//! `concurrency` requests in flight, held by an `Arc<Semaphore>`.
//!
//! asyncio has one event loop; this style runs tokio's multi-thread runtime
//! with one worker per core instead. Opening hundreds of connections at once
//! is CPU work (on loopback the client's `connect` also runs the server's
//! side of the handshake), and one thread did it all in turn: 676 codes at
//! once against a 1 s server took 1.13 s with one thread and 1.10 s with
//! two on a 2-core machine, with the same peak memory. With few requests
//! the flavour makes no difference. `examples/flags_asyncio.rs` keeps the
//! book's single loop.
//!
//! A task gives its permit back as soon as its response is read, before
//! the file is renamed into place. Files are created and renamed on a
//! blocking pool of two threads: that can stall (the profile of 676
//! requests at once showed a quarter of the time in ext4's inode
//! allocation), and more threads only spin on the directory's lock.
//!
//! With `--work` the style runs on one event loop, as asyncio does: a flag's
//! work, done in its task, blocks every other task until it ends, unless
//! `--offload` hands it to the blocking pool, whose threads are as many as
//! `run_in_executor`'s default pool has (cores + 4, at most 32).
//!
//! Ctrl-C drops every task's request at once: waiting for a permit,
//! connecting, or reading.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::job::{Done, Downloaded, Job, Outcome, Run, Style};
use super::pipeline::fetch_async;
use super::timeline::Timeline;
use crate::countries::CountryCode;
use crate::http::trace::Stamp;
use crate::http::AsyncClient;

/// The runtime for `job`: with `--work`, one event loop on this thread
/// as asyncio has, so that work done on it blocks every request as it
/// does in Python; with `--offload` its blocking pool has as many threads
/// as `run_in_executor`'s default pool (cores + 4, at most 32). Without
/// work, a worker per core (see the module's doc).
fn runtime(job: &Job) -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut builder = match job.work {
        Some(_) => tokio::runtime::Builder::new_current_thread(),
        None => {
            let mut many = tokio::runtime::Builder::new_multi_thread();
            many.worker_threads(cores.min(job.concurrency.max(1))).thread_name("flags-async");
            many
        }
    };
    let blocking = match job.work {
        Some(work) if work.offload => (cores + 4).min(32),
        _ => 2,
    };
    builder.max_blocking_threads(blocking).enable_all().build()
}

/// Downloads with async I/O on tokio's multi-thread runtime.
pub struct Asyncio;

impl Style for Asyncio {
    fn download_many(&self, run: &Run, codes: Vec<CountryCode>) -> Downloaded {
        let runtime = runtime(&run.job).expect("a tokio runtime starts");
        let outcomes = runtime.block_on(async {
            let limit = run.job.concurrency.clamp(1, Semaphore::MAX_PERMITS);
            let client = AsyncClient::new(run.job.limits(), run.job.trust.clone(), run.job.protocol, limit);
            let semaphore = Arc::new(Semaphore::new(limit));
            let mut tasks = JoinSet::new();
            for cc in codes {
                let (run, client, semaphore) = (run.clone(), client.clone(), semaphore.clone());
                let mut timeline = Timeline { queued: Some(Stamp::now()), ..Timeline::default() };
                tasks.spawn(async move {
                    let outcome = tokio::select! {
                        biased;
                        _ = run.cancel.cancelled() => Outcome::Cancelled,
                        permit = semaphore.acquire() => {
                            let permit = permit.expect("the semaphore is never closed");
                            fetch_async(&client, &run, cc, permit, &mut timeline).await
                        }
                    };
                    if timeline.done.is_none() {
                        timeline.done = Some(Stamp::now());
                    }
                    run.observer.outcome(cc, &outcome);
                    Done { cc, outcome, timeline }
                });
            }
            let mut outcomes = Vec::with_capacity(tasks.len());
            while let Some(done) = tasks.join_next().await {
                outcomes.push(done.expect("download tasks do not panic"));
            }
            outcomes
        });
        // Work still on the blocking pool (a file being made) is not waited for.
        runtime.shutdown_background();
        outcomes.into()
    }
}
