//! The thread-pool style (`flags_threadpool.py`): `ThreadPoolExecutor::map`
//! over the codes with `min(concurrency, codes)` workers, each running the
//! blocking pipeline. Outcomes reach the sink from the worker threads in
//! completion order; `map` hands them back in input order.

use std::sync::Arc;

use super::{fetch_one, Job, Outcome, Sink, Style};
use crate::executor::ThreadPoolExecutor;
use crate::http::BlockingClient;

/// Downloads on a pool of threads.
pub struct ThreadPool;

impl Style for ThreadPool {
    fn download_many(&self, job: Arc<Job>, codes: Vec<String>, sink: Arc<dyn Sink>) -> Vec<(String, Outcome)> {
        let workers = job.concurrency.min(codes.len()).max(1);
        let client = BlockingClient::with_stall(job.timeout, job.stall, workers);
        let executor = ThreadPoolExecutor::new(workers);
        let download_one = move |cc: String| {
            let outcome = fetch_one(&client, &job, &cc, &*sink);
            sink.outcome(&cc, &outcome);
            (cc, outcome)
        };
        executor.map(download_one, codes).map(|r| r.expect("download jobs do not panic")).collect()
    }
}
