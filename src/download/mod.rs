//! The download styles, behind one trait.
//!
//! Every style runs the same per-code pipeline ([`pipeline`]: GET the image
//! into a temporary file, with `names` the metadata too, then commit it
//! under its name), with the same client policy (`http::policy`), giving
//! one [`Outcome`] per code that goes to the [`Sink`] the moment it is
//! known. What differs is only the scheduling:
//!
//! | style | module | schedules the codes |
//! |---|---|---|
//! | sequential | [`sequential`] | one after another, sorted (`flags.py`) |
//! | thread pool | [`threadpool`] | `ThreadPoolExecutor::map` (`flags_threadpool.py`) |
//! | async | [`asyncio`] | tokio tasks, capped by a semaphore (`flags_asyncio.py`) |
//! | process pool | [`processpool`] | `ProcessPoolExecutor`: N worker processes |
//!
//! Styles never print; the sink (see `report`) decides what a person sees.
//! A run is stopped through its [`Cancel`] the same way in every style: see
//! [`cancel`].

pub mod asyncio;
pub mod cancel;
pub mod pipeline;
pub mod processpool;
pub mod sequential;
pub mod threadpool;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use cancel::Cancel;
pub use pipeline::{fetch_async, fetch_one, retry_wait};

use crate::http::policy::DEFAULT_MAX_SIZE;
use crate::http::{BaseUrl, FetchError, Limits};

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
        }
    }

    /// The clients' limits.
    pub fn limits(&self) -> Limits {
        Limits { timeout: self.timeout, stall: self.stall.min(self.timeout) }
    }
}

/// One run: the job, where outcomes go, and how it is stopped.
#[derive(Clone)]
pub struct Run {
    pub job: Arc<Job>,
    pub sink: Arc<dyn Sink>,
    pub cancel: Arc<Cancel>,
}

/// How one code ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    /// Saved to `path`, `bytes` long.
    Saved { path: PathBuf, bytes: usize },
    /// The server has no flag for this code (404). Not an error.
    NotFound,
    /// Anything else: the reason.
    Failed(FetchError),
    /// Not downloaded because the run was cancelled (Ctrl-C, SIGTERM).
    Cancelled,
}

/// Receives each outcome as soon as it is known, from whatever thread or
/// task produced it.
pub trait Sink: Send + Sync {
    /// One code is done.
    fn outcome(&self, cc: &str, outcome: &Outcome);

    /// A request for `cc` failed with `error` and will be tried again
    /// (try number `attempt + 1`) after `wait`.
    fn retrying(&self, _cc: &str, _attempt: u32, _error: &FetchError, _wait: Duration) {}
}

/// A download style: how codes are scheduled. That is all a style decides.
pub trait Style {
    /// Downloads every code in `codes`, sends each outcome to the run's
    /// sink as it happens, and returns them all in completion order.
    fn download_many(&self, run: &Run, codes: Vec<String>) -> Vec<(String, Outcome)>;
}

/// The styles a user can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Sequential,
    ThreadPool,
    Async,
    ProcessPool,
}

impl Mode {
    /// Every mode, in the order the demo runs them.
    pub const ALL: [Mode; 4] = [Mode::Sequential, Mode::ThreadPool, Mode::Async, Mode::ProcessPool];

    /// The style that implements this mode.
    pub fn style(self) -> Box<dyn Style> {
        match self {
            Mode::Sequential => Box::new(sequential::Sequential),
            Mode::ThreadPool => Box::new(threadpool::ThreadPool),
            Mode::Async => Box::new(asyncio::Asyncio),
            Mode::ProcessPool => Box::new(processpool::ProcessPool),
        }
    }

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sequential => "sequential",
            Mode::ThreadPool => "threadpool",
            Mode::Async => "async",
            Mode::ProcessPool => "processpool",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown mode {s:?} (expected sequential, threadpool, async or processpool)"))
    }
}

/// The outcomes of one run and how long it took.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub mode: Mode,
    pub outcomes: Vec<(String, Outcome)>,
    pub elapsed: Duration,
}

impl RunResult {
    /// How many files were saved.
    pub fn saved(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Saved { .. })).count()
    }
}

/// Runs one style over `codes` and times it.
pub fn run(mode: Mode, job: Job, codes: Vec<String>, sink: Arc<dyn Sink>, cancel: Arc<Cancel>) -> RunResult {
    let style = mode.style();
    let run = Run { job: Arc::new(job), sink, cancel };
    let start = Instant::now();
    let outcomes = style.download_many(&run, codes);
    RunResult { mode, outcomes, elapsed: start.elapsed() }
}
