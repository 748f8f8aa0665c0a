//! The sequential style (`flags.py`): one code after another, in sorted
//! order, on the calling thread, reusing one keep-alive connection.

use super::job::{Done, Downloaded, Run, Style};
use super::pipeline::fetch_one;
use super::timeline::Timeline;
use crate::countries::CountryCode;
use crate::http::trace::Stamp;
use crate::http::BlockingClient;

/// Downloads one code at a time.
pub struct Sequential;

impl Style for Sequential {
    fn download_many(&self, run: &Run, mut codes: Vec<CountryCode>) -> Downloaded {
        let client = BlockingClient::new(run.job.limits(), run.job.trust.clone(), 1, run.cancel.sockets().clone());
        codes.sort();
        // All are handed over at once, as the book's loop has them all.
        let queued = Some(Stamp::now());
        codes
            .into_iter()
            .map(|cc| {
                let mut timeline = Timeline { queued, ..Timeline::default() };
                let outcome = fetch_one(&client, run, cc, &mut timeline);
                run.observer.outcome(cc, &outcome);
                Done { cc, outcome, timeline }
            })
            .collect()
    }
}
