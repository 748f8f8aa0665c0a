//! `flags get`: the book's flags2/flags3 downloader. Takes a validated
//! [`GetConfig`], runs one style over the codes, telling the caller's
//! [`GetObserver`] (the binary passes one that shows progress and the
//! book's report), writes the `--timeline` file, and returns a
//! [`GetReport`] that accounts for every code once. It prints nothing.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::countries::CountryCode;
use crate::download::{self, DownloadObserver, Job, Mode, Outcome, TimelineMs};
use crate::server::Label;
use crate::shutdown::Shutdown;

/// Most concurrent requests `-m` accepts.
pub const MAX_CONCURRENCY: usize = 1000;

/// Concurrent requests when `-m` is not given. Sequential is always 1; the
/// book's public site (`REMOTE`) gets at most 5, to be gentle with it.
pub fn default_concurrency(mode: Mode, label: Option<Label>) -> usize {
    let by_mode = match mode {
        Mode::Sequential => 1,
        Mode::ThreadPool => 30,
        Mode::Async => 100,
        Mode::ProcessPool => 4 * std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    if label == Some(Label::Remote) {
        by_mode.min(5)
    } else {
        by_mode
    }
}

/// A validated `flags get`.
#[derive(Debug, Clone)]
pub struct GetConfig {
    /// The codes, sorted, each once.
    pub codes: Vec<CountryCode>,
    /// The label the user named, if any.
    pub label: Option<Label>,
    /// What to download and how (its concurrency already capped).
    pub job: Job,
    pub mode: Mode,
    pub verbose: bool,
    pub json: bool,
    /// Where to write the waterfall (`--timeline`).
    pub timeline: Option<PathBuf>,
}

/// How a code ended, in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Saved.
    Ok,
    /// The server has no flag for it (404).
    NotFound,
    /// Failed; `reason` says why.
    Error,
    /// Not downloaded: the run was stopped.
    Cancelled,
}

/// How one code ended, for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct FlagReport {
    /// The country code, upper case.
    pub cc: CountryCode,
    /// `ok`, `not_found`, `error` or `cancelled`.
    pub outcome: OutcomeKind,
    /// Why it failed (errors only), e.g. `HTTP 418 - I'm a Teapot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the file was saved (ok only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Size of the saved file in bytes (ok only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    /// When each step happened, in ms since the run started.
    pub timeline: TimelineMs,
}

impl FlagReport {
    fn new(cc: CountryCode, outcome: &Outcome, timeline: TimelineMs) -> Self {
        let report = |outcome| FlagReport { cc, outcome, reason: None, file: None, bytes: None, timeline };
        match outcome {
            Outcome::Saved { path, bytes } => {
                FlagReport { file: Some(path.clone()), bytes: Some(*bytes), ..report(OutcomeKind::Ok) }
            }
            Outcome::NotFound => report(OutcomeKind::NotFound),
            Outcome::Failed(e) => FlagReport { reason: Some(e.to_string()), ..report(OutcomeKind::Error) },
            Outcome::Cancelled => report(OutcomeKind::Cancelled),
        }
    }
}

/// The result of a `flags get`: every requested code lands in exactly one
/// of `ok`, `not_found`, `errors`, `cancelled`.
#[derive(Debug, Clone, Serialize)]
pub struct GetReport {
    /// The style used: sequential, threadpool, async or processpool.
    pub mode: String,
    /// The server label (`LOCAL`, ...), or `URL` for a base URL given as is.
    pub server: String,
    /// The base URL the flags came from (without credentials).
    pub base_url: String,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// How many codes were requested.
    pub requested: usize,
    /// Files saved.
    pub ok: usize,
    /// Codes the server has no flag for (404); not errors.
    pub not_found: usize,
    /// Codes that failed for any other reason.
    pub errors: usize,
    /// Codes not downloaded because the run was stopped (Ctrl-C, SIGTERM).
    pub cancelled: usize,
    /// Requests that timed out before any byte of an answer (a sign of an
    /// overloaded server, see the report's hint).
    pub unanswered_timeouts: usize,
    /// Of those, the ones whose request was sent on a connection that was
    /// open: the server was there, and slower to answer than `--timeout`.
    #[serde(skip)]
    pub slow_answers: usize,
    /// The per-request timeout, in seconds.
    #[serde(skip)]
    pub timeout_s: f64,
    /// Why a connection could not be made (refused, host not found), the
    /// first such reason: nobody is there.
    #[serde(skip)]
    pub unreachable: Option<String>,
    /// Wall time of the downloads, in seconds.
    pub elapsed_s: f64,
    /// The run's requests, for the timeline files that list them (Trace
    /// Event, HAR).
    #[serde(skip)]
    pub recording: crate::waterfall::exchange::Recording,
    /// The CPU work per flag (`--work`): what it cost, and what one unit cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<crate::work::Summary>,
    /// The worker processes the process pool started (that style only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<download::Workers>,
    /// One entry per requested code, sorted by code.
    pub flags: Vec<FlagReport>,
}

impl GetReport {
    /// True if any code failed (exit status 1).
    pub fn failed(&self) -> bool {
        self.errors > 0
    }
}

/// The server's name in reports: its label, or `URL`.
pub fn server_name(label: Option<Label>) -> String {
    label.map_or_else(|| "URL".to_string(), |l| l.name().to_string())
}

/// What `flags get` tells as it goes.
pub trait GetObserver {
    /// The run starts: the observer told of each code as it ends.
    fn started(&self, config: &GetConfig) -> Arc<dyn DownloadObserver>;
    /// Every code is accounted for (some cancelled, after a stop).
    fn ended(&self, config: &GetConfig, report: &GetReport);
    /// The `--timeline` file is written.
    fn timeline_written(&self, path: &std::path::Path);
}

/// Why `flags get` failed as a whole (a code that fails is in the report).
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    /// The run was reported, but its `--timeline` file could not be written.
    #[error("cannot write the timeline {}: {error}", .path.display())]
    Timeline { path: PathBuf, error: std::io::Error },
}

/// Runs the download as a step of `shutdown` (a stop cancels it; every
/// code still gets an outcome), telling `observer`, then writes the
/// `--timeline` file; the report.
pub fn run(config: &GetConfig, observer: &dyn GetObserver, shutdown: &Shutdown) -> Result<GetReport, GetError> {
    let outcomes = observer.started(config);
    let report = download_report(config, outcomes, shutdown);
    observer.ended(config, &report);
    if let Some(path) = &config.timeline {
        write_timeline(&report, path).map_err(|error| GetError::Timeline { path: path.clone(), error })?;
        observer.timeline_written(path);
    }
    Ok(report)
}

/// Runs the download, telling `observer` of each code as it ends, and returns
/// the report.
fn download_report(config: &GetConfig, observer: Arc<dyn DownloadObserver>, shutdown: &Shutdown) -> GetReport {
    let result = download::run(config.mode, config.job.clone(), config.codes.clone(), observer, shutdown);
    let timelines = result.timelines();
    let mut flags: Vec<FlagReport> =
        result.done.iter().zip(timelines).map(|(d, t)| FlagReport::new(d.cc, &d.outcome, t)).collect();
    flags.sort_by_key(|f| f.cc);
    let count = |kind: OutcomeKind| flags.iter().filter(|f| f.outcome == kind).count();
    let failures = || result.outcomes().filter_map(|(_, o)| if let Outcome::Failed(f) = o { Some(f) } else { None });
    let mut report = GetReport {
        mode: config.mode.to_string(),
        server: server_name(config.label),
        base_url: config.job.base.to_string(),
        concurrency: config.job.concurrency,
        requested: config.codes.len(),
        ok: count(OutcomeKind::Ok),
        not_found: count(OutcomeKind::NotFound),
        errors: count(OutcomeKind::Error),
        cancelled: count(OutcomeKind::Cancelled),
        unanswered_timeouts: failures().filter(|f| f.is_unanswered_timeout()).count(),
        slow_answers: result
            .done
            .iter()
            .filter(|d| matches!(&d.outcome, Outcome::Failed(f) if f.is_unanswered_timeout()))
            .filter(|d| d.timeline.trace.sent.is_some())
            .count(),
        timeout_s: config.job.timeout.as_secs_f64(),
        unreachable: failures().find(|f| f.is_connect()).map(|f| f.to_string()),
        elapsed_s: result.elapsed.as_secs_f64(),
        recording: crate::waterfall::exchange::of_run(String::new(), &result, &config.job.base),
        work: config.job.work.map(|work| work_summary(&work, &result, &flags)),
        workers: result.workers.clone(),
        flags,
    };
    report.recording.title = timeline_title(&report);
    debug_assert_eq!(report.ok + report.not_found + report.errors + report.cancelled, report.requested);
    report
}

/// What the run's work came to: its CPU, the cost of a unit, and the most
/// flags that computed at once.
fn work_summary(work: &crate::work::Work, result: &download::RunResult, flags: &[FlagReport]) -> crate::work::Summary {
    let computing: Vec<(f64, f64)> =
        flags.iter().filter_map(|f| f.timeline.work.as_ref()).flat_map(|w| w.computing()).collect();
    let done = result.done.iter().filter_map(|d| d.timeline.work.as_ref());
    crate::work::Summary::of(work, done, download::timeline::peak_of(&computing))
}

/// The waterfall of a run: one row per code, in the order they started.
pub fn waterfall_rows(report: &GetReport) -> Vec<crate::waterfall::Row> {
    let mut flags: Vec<&FlagReport> = report.flags.iter().collect();
    flags.sort_by(|a, b| {
        let at = |f: &FlagReport| f.timeline.started.or(f.timeline.done).unwrap_or(f64::MAX);
        at(a).total_cmp(&at(b)).then(a.cc.cmp(&b.cc))
    });
    flags
        .into_iter()
        .map(|f| crate::waterfall::Row {
            label: f.cc.to_string(),
            timeline: f.timeline.clone(),
            ending: match f.outcome {
                OutcomeKind::Error => crate::waterfall::Ending::Failed,
                OutcomeKind::NotFound => crate::waterfall::Ending::NotFound,
                _ => crate::waterfall::Ending::Ok,
            },
        })
        .collect()
}

/// `flags get --mode async: 20 codes from LOCAL, 20 at once, 0.36 s`.
fn timeline_title(report: &GetReport) -> String {
    format!(
        "flags get --mode {}: {} codes from {}, {} at once, {:.2} s",
        report.mode, report.requested, report.server, report.concurrency, report.elapsed_s
    )
}

/// Writes the timeline of `report` to `path`, in the form its name asks
/// for (`Format`): the SVG waterfall, an HTML
/// page with it, Trace Event, HAR, or the JSON report (`.json`, as
/// `--json` prints it). The file appears whole or not at all.
pub fn write_timeline(report: &GetReport, path: &std::path::Path) -> std::io::Result<()> {
    use crate::waterfall::{har, trace, Format};
    let format = Format::of(path);
    let bytes = match format {
        Format::Trace => trace::document(std::slice::from_ref(&report.recording)),
        Format::Har => har::document(std::slice::from_ref(&report.recording)),
        Format::Json => {
            let mut json = serde_json::to_vec_pretty(report)?;
            json.push(b'\n');
            json
        }
        Format::Svg | Format::Html => {
            let svg = crate::waterfall::svg(&timeline_title(report), &waterfall_rows(report));
            match format {
                Format::Html => crate::waterfall::html(
                    "flags get: the timeline",
                    "One row per code, in the order they started; hover a row for its times. The curve above \
                     counts the requests in flight.",
                    &[(format!("{} from {}", report.mode, report.base_url), svg)],
                ),
                _ => svg,
            }
            .into_bytes()
        }
    };
    crate::save::write_output(path, &bytes)
}
