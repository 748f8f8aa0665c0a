//! The download styles, behind one trait.
//!
//! Every style runs the same per-code pipeline, [`fetch_one`] (blocking)
//! or [`fetch_async`] then [`store_async`]: GET the image (and, with
//! `names`, the metadata), retrying transient failures as [`retry_wait`]
//! says, then store it atomically, giving one [`Outcome`] that goes to the
//! [`Sink`] the moment it is known. What differs is only the scheduling:
//!
//! | style | module | schedules the codes |
//! |---|---|---|
//! | sequential | [`sequential`] | one after another, sorted (`flags.py`) |
//! | thread pool | [`threadpool`] | `ThreadPoolExecutor::map` (`flags_threadpool.py`) |
//! | async | [`asyncio`] | tokio tasks, capped by a semaphore (`flags_asyncio.py`) |
//! | process pool | [`processpool`] | `ProcessPoolExecutor`: N worker processes |
//!
//! Styles never print; the sink (see `report`) decides what a person sees.
//!
//! **Cancellation** (Ctrl-C): once [`Cancel::cancel`] is called no code
//! starts; each is reported [`Outcome::Cancelled`]. The async style also
//! drops the requests in flight. The blocking styles can't interrupt a
//! blocking read, so a request in flight finishes (within `--timeout`) and
//! is reported as it ended. Either way the destination holds exactly the
//! files reported saved.

pub mod asyncio;
pub mod processpool;
pub mod sequential;
pub mod threadpool;

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::{flag_url, metadata_url, AsyncClient, BlockingClient, FetchError};
use crate::save;

/// What to download and how: the same for every style.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Job {
    /// Base URL, e.g. `http://127.0.0.1:8000/flags`.
    pub base: String,
    /// Directory the files go to (created by the caller, see `save::prepare_dest`).
    pub dest: PathBuf,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most requests in flight at once (ignored by the sequential style).
    pub concurrency: usize,
    /// flags3: fetch `metadata.json` too and name files `{Country}-{CC}.gif`.
    pub names: bool,
    /// Extra tries for transient failures (0: the book's behaviour).
    pub retries: u32,
    /// A request fails when no byte arrives for this long.
    pub stall: Duration,
    /// Set on Ctrl-C; not sent to worker processes.
    #[serde(skip)]
    pub cancel: Arc<Cancel>,
}

impl Job {
    /// A job with the book's defaults: 10 s timeout, no retries.
    pub fn new(base: impl Into<String>, dest: impl Into<PathBuf>, concurrency: usize) -> Self {
        Job {
            base: base.into(),
            dest: dest.into(),
            timeout: Duration::from_secs(10),
            concurrency,
            names: false,
            retries: 0,
            stall: Duration::from_secs(10),
            cancel: Arc::default(),
        }
    }
}

/// A cancellation flag the styles check before each code; async tasks can
/// also wait on it.
#[derive(Debug, Default)]
pub struct Cancel {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    /// Stops new downloads (and the async style's downloads in flight).
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Completes when cancelled.
    pub async fn cancelled(&self) {
        let notified = self.notify.notified();
        if self.is_cancelled() {
            return;
        }
        notified.await
    }
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
    /// Not downloaded because the run was cancelled (Ctrl-C).
    Cancelled,
}

impl From<Result<(PathBuf, usize), FetchError>> for Outcome {
    fn from(r: Result<(PathBuf, usize), FetchError>) -> Self {
        match r {
            Ok((path, bytes)) => Outcome::Saved { path, bytes },
            Err(FetchError::NotFound) => Outcome::NotFound,
            Err(e) => Outcome::Failed(e),
        }
    }
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
    /// Downloads every code in `codes`, sends each outcome to `sink` as it
    /// happens, and returns them all in completion order.
    fn download_many(&self, job: Arc<Job>, codes: Vec<String>, sink: Arc<dyn Sink>) -> Vec<(String, Outcome)>;
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
pub fn run(mode: Mode, job: Job, codes: Vec<String>, sink: Arc<dyn Sink>) -> RunResult {
    let style = mode.style();
    let start = Instant::now();
    let outcomes = style.download_many(Arc::new(job), codes, sink);
    RunResult { mode, outcomes, elapsed: start.elapsed() }
}

/// How long to wait before try `attempt + 1` (attempt 0 failed first), or
/// `None` to give up: not transient, or out of retries. Exponential backoff
/// from 100 ms, capped at 5 s, with jitter (x0.5..1.5); a `Retry-After`
/// from the server is honoured up to 10 s.
pub fn retry_wait(attempt: u32, retries: u32, error: &FetchError) -> Option<Duration> {
    if attempt >= retries || !error.is_transient() {
        return None;
    }
    let backoff = Duration::from_millis(100).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(5));
    let jitter = 0.5 + (std::collections::hash_map::RandomState::new().build_hasher().finish() % 1000) as f64 / 1000.0;
    let wait = backoff.mul_f64(jitter);
    Some(match error.retry_after() {
        Some(asked) => wait.max(asked.min(Duration::from_secs(10))),
        None => wait,
    })
}

/// After try `attempt` failed with `error`: how long to wait before the
/// next one (and the sink is told), or `None` to give up. A cancelled job
/// is not retried.
fn next_try(job: &Job, cc: &str, attempt: u32, error: &FetchError, sink: &dyn Sink) -> Option<Duration> {
    if job.cancel.is_cancelled() {
        return None;
    }
    let wait = retry_wait(attempt, job.retries, error)?;
    sink.retrying(cc, attempt, error, wait);
    Some(wait)
}

/// One GET with retries, blocking.
fn get_with_retries(
    client: &BlockingClient,
    job: &Job,
    cc: &str,
    url: &str,
    sink: &dyn Sink,
) -> Result<Vec<u8>, FetchError> {
    let mut attempt = 0;
    loop {
        let error = match client.get(url) {
            Err(e) => e,
            ok => return ok,
        };
        std::thread::sleep(next_try(job, cc, attempt, &error, sink).ok_or(error)?);
        attempt += 1;
    }
}

/// One GET with retries, async.
async fn get_with_retries_async(
    client: &AsyncClient,
    job: &Job,
    cc: &str,
    url: &str,
    sink: &dyn Sink,
) -> Result<Vec<u8>, FetchError> {
    let mut attempt = 0;
    loop {
        let error = match client.get(url).await {
            Err(e) => e,
            ok => return ok,
        };
        tokio::time::sleep(next_try(job, cc, attempt, &error, sink).ok_or(error)?).await;
        attempt += 1;
    }
}

/// The blocking pipeline for one code: fetch, name, store.
pub fn fetch_one(client: &BlockingClient, job: &Job, cc: &str, sink: &dyn Sink) -> Outcome {
    if job.cancel.is_cancelled() {
        return Outcome::Cancelled;
    }
    let get = |url: String| get_with_retries(client, job, cc, &url, sink);
    let fetched = get(flag_url(&job.base, cc)).and_then(|image| {
        let country = match job.names {
            true => Some(country_name(&get(metadata_url(&job.base, cc))?)?),
            false => None,
        };
        Ok((image, country))
    });
    store(&job.dest, cc, fetched)
}

/// What the network part of the pipeline gives: the image and, with
/// `names`, the country's name.
pub type Fetched = Result<(Vec<u8>, Option<String>), FetchError>;

/// The async pipeline's network part for one code: the same requests as
/// [`fetch_one`]. The caller cancels it by dropping it.
pub async fn fetch_async(client: &AsyncClient, job: &Job, cc: &str, sink: &dyn Sink) -> Fetched {
    let image = get_with_retries_async(client, job, cc, &flag_url(&job.base, cc), sink).await?;
    let country = match job.names {
        true => {
            Some(country_name(&get_with_retries_async(client, job, cc, &metadata_url(&job.base, cc), sink).await?)?)
        }
        false => None,
    };
    Ok((image, country))
}

/// The async pipeline's last step: saves what [`fetch_async`] gave, on
/// tokio's blocking pool. Creating a file can block for a while (ext4
/// searching for a free inode, the disk), and the event loop must keep
/// reading other responses meanwhile. Not cancellable: a body that arrived
/// is saved (or fails) and reported as such.
pub async fn store_async(job: &Job, cc: &str, fetched: Fetched) -> Outcome {
    let (dest, cc) = (job.dest.clone(), cc.to_string());
    tokio::task::spawn_blocking(move || store(&dest, &cc, fetched))
        .await
        .unwrap_or_else(|e| Outcome::Failed(FetchError::Save(format!("the save task failed: {e}"))))
}

/// The `country` field of a `metadata.json` body.
fn country_name(meta: &[u8]) -> Result<String, FetchError> {
    let v: serde_json::Value =
        serde_json::from_slice(meta).map_err(|e| FetchError::Io(format!("bad metadata.json: {e}")))?;
    v["country"].as_str().map(str::to_string).ok_or_else(|| FetchError::Io("metadata.json has no \"country\"".into()))
}

/// Saves a fetched image atomically and turns the whole thing into an outcome.
fn store(dest: &std::path::Path, cc: &str, fetched: Fetched) -> Outcome {
    fetched
        .and_then(|(image, country)| {
            let name = save::file_name(cc, country.as_deref());
            save::save_atomic(dest, &name, &image)
                .map(|path| (path, image.len()))
                .map_err(|e| FetchError::Save(format!("saving {name}: {e}")))
        })
        .into()
}
