//! The sequential style (`flags.py`): one code after another, in sorted
//! order, on the calling thread, reusing one keep-alive connection.

use std::sync::Arc;

use super::{fetch_one, Job, Outcome, Sink, Style};
use crate::http::BlockingClient;

/// Downloads one code at a time.
pub struct Sequential;

impl Style for Sequential {
    fn download_many(&self, job: Arc<Job>, mut codes: Vec<String>, sink: Arc<dyn Sink>) -> Vec<(String, Outcome)> {
        let client = BlockingClient::with_stall(job.timeout, job.stall, 1);
        codes.sort();
        codes
            .into_iter()
            .map(|cc| {
                let outcome = fetch_one(&client, &job, &cc, &*sink);
                sink.outcome(&cc, &outcome);
                (cc, outcome)
            })
            .collect()
    }
}
