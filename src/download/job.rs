//! What a run is made of: the [`Job`] (what to download and how), the
//! [`Run`] a style is given, the [`Outcome`] of each code, where outcomes go
//! ([`DownloadObserver`]), and the [`Style`] trait every scheduling implements.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cancel::Cancel;
use super::timeline::Timeline;
use crate::countries::CountryCode;
use crate::http::error::IoFailure;
use crate::http::policy::DEFAULT_MAX_SIZE;
use crate::http::{BaseUrl, FetchError, Limits, Protocol, Trust};
use crate::work::Work;

/// What to download and how: the same for every style, and what crosses
/// to a worker process.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Job {
    /// Where the flags are, e.g. `http://127.0.0.1:8000/flags`.
    pub base: BaseUrl,
    /// Directory the files go to (created by the caller, see `save::prepare_dest`).
    pub dest: PathBuf,
    /// Per-request timeout, and the longest wait for a byte.
    pub timeout: Duration,
    pub stall: Duration,
    /// Most requests in flight at once (ignored by the sequential style).
    pub concurrency: usize,
    /// flags3: fetch `metadata.json` too and name files `{Country}-{CC}.gif`.
    pub names: bool,
    /// Extra tries for transient failures (0: the book's behaviour).
    pub retries: u32,
    /// The largest body taken, in bytes (`--max-size`).
    pub max_size: u64,
    /// Which https servers are believed (`--cacert`, `--insecure`).
    pub trust: Trust,
    /// Which HTTP version the async style speaks (`--http1.1`, `--http2`);
    /// the blocking styles speak HTTP/1.1.
    pub protocol: Protocol,
    /// CPU work per flag once it has arrived (`--work`), if any.
    #[serde(default)]
    pub work: Option<Work>,
}

impl Job {
    /// A job with the book's defaults: 10 s timeout, no retries.
    pub fn new(base: BaseUrl, dest: impl Into<PathBuf>, concurrency: usize) -> Self {
        Job {
            base,
            dest: dest.into(),
            timeout: Duration::from_secs(10),
            stall: Duration::from_secs(10),
            concurrency,
            names: false,
            retries: 0,
            max_size: DEFAULT_MAX_SIZE,
            trust: Trust::default(),
            protocol: Protocol::Auto,
            work: None,
        }
    }

    /// The clients' limits.
    pub fn limits(&self) -> Limits {
        Limits { timeout: self.timeout, stall: self.stall.min(self.timeout), max_size: self.max_size }
    }
}

/// One run: the job, where outcomes go, and how it is stopped.
#[derive(Clone)]
pub struct Run {
    pub job: Arc<Job>,
    pub observer: Arc<dyn DownloadObserver>,
    pub cancel: Arc<Cancel>,
}

/// How one code ended: a value that crosses from a worker process as
/// JSON unchanged, so every style hands the same outcome to the observer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    /// Saved to `path`, `bytes` long.
    Saved { path: PathBuf, bytes: usize },
    /// The server has no flag for this code (404). Not an error.
    NotFound,
    /// Anything else: why.
    Failed(Failure),
    /// Not downloaded because the run was stopped (Ctrl-C, SIGTERM).
    Cancelled,
}

impl Outcome {
    /// True for a saved flag.
    pub fn saved(&self) -> bool {
        matches!(self, Outcome::Saved { .. })
    }
}

/// Why a code failed. Made of kinds and data, as [`FetchError`] is, so a
/// worker process's failure is the same value a thread's is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum Failure {
    /// The request gave no flag.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The flag could not be written into the destination.
    #[error("saving {name}: {why}")]
    Save {
        /// The file's name, or what was being written.
        name: String,
        why: IoFailure,
    },
    /// The worker process running the download died or could not run it.
    #[error("{0}")]
    Worker(String),
}

impl Failure {
    /// A file that could not be made or written as `name`.
    pub fn save(name: impl Into<String>, e: &io::Error) -> Self {
        Failure::Save { name: name.into(), why: IoFailure::from(e) }
    }

    /// True when no connection could be made: the server isn't there.
    pub fn is_connect(&self) -> bool {
        matches!(self, Failure::Fetch(e) if e.is_connect())
    }

    /// True for a timeout before any byte of an answer.
    pub fn is_unanswered_timeout(&self) -> bool {
        matches!(self, Failure::Fetch(e) if e.is_unanswered_timeout())
    }
}

/// One code's end: its outcome and how it got there.
#[derive(Debug, Clone)]
pub struct Done {
    pub cc: CountryCode,
    pub outcome: Outcome,
    pub timeline: Timeline,
}

/// What a style returns: every code's end, and, for the process pool, the
/// workers it started.
#[derive(Debug, Clone, Default)]
pub struct Downloaded {
    pub done: Vec<Done>,
    pub workers: Option<Workers>,
}

impl FromIterator<Done> for Downloaded {
    fn from_iter<I: IntoIterator<Item = Done>>(iter: I) -> Self {
        Downloaded { done: iter.into_iter().collect(), workers: None }
    }
}

impl From<Vec<Done>> for Downloaded {
    fn from(done: Vec<Done>) -> Self {
        Downloaded { done, workers: None }
    }
}

/// The worker processes a process-pool run started: how many, the most
/// alive at once, and how long one took from being asked for to being
/// ready for jobs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Workers {
    pub started: usize,
    pub peak_live: usize,
    pub start_up_median_ms: f64,
    pub start_up_max_ms: f64,
}

impl Workers {
    /// From the pool's own record of its workers.
    pub fn of(stats: &concurrent_futures::WorkerStats) -> Workers {
        let mut ms: Vec<f64> = stats.start_ups.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let median = match ms.len() {
            0 => 0.0,
            n if n % 2 == 1 => ms[n / 2],
            n => (ms[n / 2 - 1] + ms[n / 2]) / 2.0,
        };
        Workers {
            started: stats.started,
            peak_live: stats.peak_live,
            start_up_median_ms: median,
            start_up_max_ms: ms.last().copied().unwrap_or(0.0),
        }
    }
}

/// Receives each outcome as soon as it is known, from whatever thread or
/// task produced it.
pub trait DownloadObserver: Send + Sync {
    /// One code is done.
    fn outcome(&self, cc: CountryCode, outcome: &Outcome);

    /// A request for `cc` failed with `error` and will be tried again
    /// (try number `attempt + 1`) after `wait`.
    fn retrying(&self, _cc: CountryCode, _attempt: u32, _error: &Failure, _wait: Duration) {}
}

/// An observer that keeps nothing, for callers that only want the result.
pub struct Quiet;

impl DownloadObserver for Quiet {
    fn outcome(&self, _: CountryCode, _: &Outcome) {}
}

/// A download style: how codes are scheduled. That is all a style decides.
pub trait Style {
    /// Downloads every code in `codes`, sends each outcome to the run's
    /// observer as it happens, and returns them all, with their timelines, in
    /// completion order.
    fn download_many(&self, run: &Run, codes: Vec<CountryCode>) -> Downloaded;
}
