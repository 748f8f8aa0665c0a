//! The download styles, behind one trait.
//!
//! Every style runs the same per-code pipeline ([`pipeline`]: GET the image
//! into a temporary file, with `names` the metadata too, then commit it
//! under its name), with the same client policy (`http::policy`), giving
//! one [`Outcome`] per code that goes to the [`DownloadObserver`] the moment it is
//! known. What differs is only the scheduling:
//!
//! | style | module | schedules the codes |
//! |---|---|---|
//! | sequential | `sequential` | one after another, sorted (`flags.py`) |
//! | thread pool | `threadpool` | `ThreadPoolExecutor::map` (`flags_threadpool.py`) |
//! | async | `asyncio` | tokio tasks, capped by a semaphore (`flags_asyncio.py`) |
//! | process pool | [`processpool`] | `ProcessPoolExecutor`: N worker processes |
//!
//! `job` holds what they share: the job, outcomes, the observer and the
//! [`Style`] trait. Styles never print; the observer decides what a person
//! sees. A run is stopped by the caller's [`Shutdown`], the same way in
//! every style:
//! [`run`] makes the run's `Cancel` and lets the
//! Shutdown drive it (see `cancel`).

pub(crate) mod asyncio;
pub(crate) mod cancel;
pub(crate) mod job;
pub(crate) mod mode;
pub mod pipeline;
pub mod processpool;
pub(crate) mod sequential;
pub(crate) mod threadpool;
pub mod timeline;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use job::{Done, DownloadObserver, Downloaded, Failure, Job, Outcome, Quiet, Run, Style, Workers};
pub use mode::Mode;
pub use timeline::{Timeline, TimelineMs};

use crate::countries::CountryCode;
use crate::http::trace::Stamp;
use crate::shutdown::Shutdown;
use cancel::Cancel;

/// The outcomes of one run, with their timelines, and how long it took.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub mode: Mode,
    /// Every code's end, in completion order.
    pub done: Vec<Done>,
    /// When the run started: the timelines' zero.
    pub start: Stamp,
    pub elapsed: Duration,
    /// The worker processes the process pool started (that style only).
    pub workers: Option<Workers>,
}

impl RunResult {
    /// How many files were saved.
    pub fn saved(&self) -> usize {
        self.done.iter().filter(|d| d.outcome.saved()).count()
    }

    /// Each code and its outcome.
    pub fn outcomes(&self) -> impl Iterator<Item = (CountryCode, &Outcome)> {
        self.done.iter().map(|d| (d.cc, &d.outcome))
    }

    /// The timelines in ms since the run started, in the order of
    /// [`RunResult::done`].
    pub fn timelines(&self) -> Vec<TimelineMs> {
        let raw: Vec<Timeline> = self.done.iter().map(|d| d.timeline.clone()).collect();
        timeline::in_ms(self.start, &raw)
    }
}

/// Runs one style over `codes` and times it, as a step of `shutdown`: a
/// stop cancels the run (every code still ends in one outcome), an abort
/// removes its temporary files and holds its destination shut while the
/// process exits.
pub fn run(
    mode: Mode,
    job: Job,
    codes: Vec<CountryCode>,
    observer: Arc<dyn DownloadObserver>,
    shutdown: &Shutdown,
) -> RunResult {
    let cancel = Cancel::new(&job.dest);
    let (gentle, now) = (Arc::clone(&cancel), Arc::clone(&cancel));
    // The process exits right after an abort: the gate stays held
    // (forgotten) so that nothing is committed meanwhile.
    let abort = move || std::mem::forget(now.abort());
    shutdown.step(
        move || gentle.cancel(),
        abort,
        || {
            let style = mode.style();
            let run = Run { job: Arc::new(job), observer, cancel };
            let (start, started) = (Stamp::now(), Instant::now());
            let Downloaded { done, workers } = style.download_many(&run, codes);
            RunResult { mode, done, start, elapsed: started.elapsed(), workers }
        },
    )
}
