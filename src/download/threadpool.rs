//! The thread-pool style (`flags_threadpool.py`): `ThreadPoolExecutor::map`
//! over the codes with `min(concurrency, codes)` workers, each running the
//! blocking pipeline. Outcomes reach the observer from the worker threads in
//! completion order; `map` hands them back in input order.

use super::job::{Done, Downloaded, Run, Style};
use super::pipeline::fetch_one;
use super::timeline::Timeline;
use crate::countries::CountryCode;
use crate::http::trace::Stamp;
use crate::http::BlockingClient;
use concurrent_futures::ThreadPoolExecutor;

/// Downloads on a pool of threads.
pub struct ThreadPool;

impl Style for ThreadPool {
    fn download_many(&self, run: &Run, codes: Vec<CountryCode>) -> Downloaded {
        let workers = run.job.concurrency.min(codes.len()).max(1);
        let client =
            BlockingClient::new(run.job.limits(), run.job.trust.clone(), workers, run.cancel.sockets().clone());
        let executor = ThreadPoolExecutor::new(workers);
        let run = run.clone();
        let download_one = move |(cc, queued): (CountryCode, Stamp)| {
            let mut timeline = Timeline { queued: Some(queued), ..Timeline::default() };
            let outcome = fetch_one(&client, &run, cc, &mut timeline);
            run.observer.outcome(cc, &outcome);
            Done { cc, outcome, timeline }
        };
        // Each code is queued as `map` submits it.
        let submitted = codes.into_iter().map(|cc| (cc, Stamp::now()));
        executor.map(download_one, submitted).map(|r| r.expect("download jobs do not panic")).collect()
    }
}
