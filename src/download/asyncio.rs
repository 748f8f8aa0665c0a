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
//! saving, so a slow disk never holds back the next request. Files are saved
//! on a blocking pool of two threads: creating files can stall (the profile
//! of 676 requests at once showed a quarter of the time in ext4's inode
//! allocation), and more threads only spin on the directory's lock.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{fetch_async, store_async, Job, Outcome, Sink, Style};
use crate::http::AsyncClient;

/// Downloads with async I/O on tokio's multi-thread runtime.
pub struct Asyncio;

impl Style for Asyncio {
    fn download_many(&self, job: Arc<Job>, codes: Vec<String>, sink: Arc<dyn Sink>) -> Vec<(String, Outcome)> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores.min(job.concurrency.max(1)))
            .thread_name("flags-async")
            .max_blocking_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime starts");
        runtime.block_on(async move {
            let limit = job.concurrency.clamp(1, Semaphore::MAX_PERMITS);
            let client = AsyncClient::with_stall(job.timeout, job.stall, limit);
            let semaphore = Arc::new(Semaphore::new(limit));
            let mut tasks = JoinSet::new();
            for cc in codes {
                let (job, client, sink, semaphore) = (job.clone(), client.clone(), sink.clone(), semaphore.clone());
                tasks.spawn(async move {
                    // Ctrl-C drops the wait for a permit or the requests in flight.
                    let fetched = tokio::select! {
                        biased;
                        _ = job.cancel.cancelled() => None,
                        permit = semaphore.acquire() => {
                            let _permit = permit.expect("the semaphore is never closed");
                            Some(fetch_async(&client, &job, &cc, &*sink).await)
                        }
                    };
                    let outcome = match fetched {
                        Some(fetched) => store_async(&job, &cc, fetched).await,
                        None => Outcome::Cancelled,
                    };
                    sink.outcome(&cc, &outcome);
                    (cc, outcome)
                });
            }
            let mut outcomes = Vec::with_capacity(tasks.len());
            while let Some(done) = tasks.join_next().await {
                outcomes.push(done.expect("download tasks do not panic"));
            }
            outcomes
        })
    }
}
