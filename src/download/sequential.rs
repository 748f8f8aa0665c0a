//! The sequential style (`flags.py`): one code after another, in sorted
//! order, on the calling thread, reusing one keep-alive connection.

use super::job::{Outcome, Run, Style};
use super::pipeline::fetch_one;
use crate::countries::CountryCode;
use crate::http::BlockingClient;

/// Downloads one code at a time.
pub struct Sequential;

impl Style for Sequential {
    fn download_many(&self, run: &Run, mut codes: Vec<CountryCode>) -> Vec<(CountryCode, Outcome)> {
        let client = BlockingClient::new(run.job.limits(), run.job.trust.clone(), 1, run.cancel.sockets().clone());
        codes.sort();
        codes
            .into_iter()
            .map(|cc| {
                let outcome = fetch_one(&client, run, cc);
                run.sink.outcome(cc, &outcome);
                (cc, outcome)
            })
            .collect()
    }
}
