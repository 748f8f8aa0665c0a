//! The main job (`flags` with no arguments): the seed's experiment. Starts
//! the embedded server on a free loopback port with a CDN-like latency,
//! downloads POP20 with every style, and returns each style's times. What
//! a person sees along the way comes from the caller's [`DemoObserver`].

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::countries::pop20_sorted;
use crate::download::{self, Cancel, Job, Mode, RunResult, Sink};
use crate::http::BaseUrl;
use crate::save;
use crate::server::{self, Delay, ServerConfig};
use crate::signals::Stop;
use crate::waterfall::{Ending, Row};

/// Settings of the demo.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Latency of each response (the book's CDN answered in about 0.35 s).
    pub delay: Delay,
    /// Seed for the server's delay draws.
    pub seed: u64,
    /// Runs of each style.
    pub runs: usize,
    /// Where the files go.
    pub dest: PathBuf,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig { delay: Delay::fixed(0.35), seed: 0, runs: 1, dest: PathBuf::from("downloads") }
    }
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write to {}", .dir.display())]
    Dest {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the embedded flag server")]
    Server(#[source] std::io::Error),
}

/// One style's times, and the waterfall of its last run.
#[derive(Debug, Clone)]
pub struct StyleTimes {
    pub mode: Mode,
    pub times: Vec<Duration>,
    pub waterfall: Vec<Row>,
}

impl StyleTimes {
    /// Mean of the runs.
    pub fn mean(&self) -> Duration {
        self.times.iter().sum::<Duration>() / self.times.len().max(1) as u32
    }

    /// Fastest run.
    pub fn best(&self) -> Duration {
        self.times.iter().copied().min().unwrap_or_default()
    }
}

/// What the demo tells as it goes.
pub trait DemoObserver {
    /// The server is up at `base`, answering after `delay`; `codes` flags per run.
    fn started(&self, base: &BaseUrl, delay: Delay, codes: usize);
    /// Run `run` of `runs` of `mode`, with `concurrency` requests at once,
    /// begins; its outcomes go to the sink returned.
    fn run_started(&self, mode: Mode, concurrency: usize, run: usize, runs: usize) -> Arc<dyn Sink>;
    /// That run is over.
    fn run_ended(&self, result: &RunResult);
}

/// Runs the demo; returns the times of each style that ran to its end.
/// When `stop` is stopped, the run in progress is cancelled as `flags get`
/// cancels one (its temporary files removed) and no other starts.
pub fn run(config: &DemoConfig, observer: &dyn DemoObserver, stop: &Stop) -> Result<Vec<StyleTimes>, DemoError> {
    save::prepare_dest(&config.dest).map_err(|source| DemoError::Dest { dir: config.dest.clone(), source })?;
    let server_config = ServerConfig { delay: config.delay, seed: config.seed, ..ServerConfig::default() };
    let server = server::spawn(server_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(DemoError::Server)?;
    let codes = pop20_sorted();
    observer.started(&server.base(), config.delay, codes.len());
    let mut rows = Vec::new();
    for mode in Mode::ALL {
        let (mut times, mut waterfall) = (Vec::new(), Vec::new());
        for i in 1..=config.runs {
            if stop.is_stopped() {
                return Ok(rows);
            }
            let concurrency = if mode == Mode::Sequential { 1 } else { codes.len() };
            let sink = observer.run_started(mode, concurrency, i, config.runs);
            let mut job = Job::new(server.base(), config.dest.clone(), concurrency);
            job.timeout = Duration::from_secs(10) + config.delay.max;
            job.stall = job.timeout;
            let cancel = Cancel::new(&config.dest);
            let (gentle, now) = (Arc::clone(&cancel), Arc::clone(&cancel));
            // The process exits right after an abort: the gate stays held
            // (forgotten) so that nothing is committed meanwhile.
            let abort = move || std::mem::forget(now.abort());
            let result =
                stop.step(move || gentle.cancel(), abort, || download::run(mode, job, codes.clone(), sink, cancel));
            observer.run_ended(&result);
            if stop.is_stopped() {
                return Ok(rows);
            }
            times.push(result.elapsed);
            waterfall = waterfall_rows(&result);
        }
        rows.push(StyleTimes { mode, times, waterfall });
    }
    Ok(rows)
}

/// A run's waterfall: a row per code, in the order they started.
pub fn waterfall_rows(result: &RunResult) -> Vec<Row> {
    let mut rows: Vec<Row> = result
        .done
        .iter()
        .zip(result.timelines())
        .map(|(d, timeline)| Row {
            label: d.cc.to_string(),
            timeline,
            ending: match d.outcome {
                download::Outcome::Failed(_) => Ending::Failed,
                download::Outcome::NotFound => Ending::NotFound,
                _ => Ending::Ok,
            },
        })
        .collect();
    rows.sort_by(|a, b| {
        let at = |r: &Row| r.timeline.started.unwrap_or(f64::MAX);
        at(a).total_cmp(&at(b)).then_with(|| a.label.cmp(&b.label))
    });
    rows
}

/// Where the demo's HTML waterfall goes: beside the destination folder.
pub fn timeline_path(config: &DemoConfig) -> PathBuf {
    let dir = config.dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    dir.join("demo-timeline.html")
}

/// Where each style's time goes, in one sentence, for the demo's page.
pub fn where_the_time_goes(mode: Mode, delay: Delay) -> String {
    match mode {
        Mode::Sequential => format!(
            "One request at a time: the one thread waits out each {delay} delay in turn, so the run is twenty \
             delays end to end, and nearly all of it is waiting."
        ),
        Mode::ThreadPool => "Twenty threads each block in recv on a request of their own, and the waits overlap. \
            In Python a thread blocked in recv releases the GIL, so the GIL does not slow this down."
            .into(),
        Mode::Async => "One thread and its event loop send all twenty requests at once, then sit idle while all \
            twenty wait, and wake for each answer as it comes."
            .into(),
        Mode::ProcessPool => "Twenty worker processes each wait on one request, so the waits overlap as the \
            threads' do, plus the time to start the processes."
            .into(),
    }
}

/// Writes the styles' waterfalls side by side into an HTML page at `path`:
/// on one shared time axis (a checkbox gives each its own), with the
/// speedups and where each style's time goes.
pub fn write_timeline(rows: &[StyleTimes], delay: Delay, path: &std::path::Path) -> std::io::Result<()> {
    use crate::waterfall::{escape, svg, svg_on};
    let last = |r: &StyleTimes| r.times.last().copied().unwrap_or_default().as_secs_f64();
    let sequential = rows.iter().find(|r| r.mode == Mode::Sequential).map(last);
    let speedup = |r: &StyleTimes| match sequential {
        Some(s) if last(r) > 0.0 => format!(", {:.1}x sequential's speed", s / last(r)),
        _ => String::new(),
    };
    let shared =
        rows.iter().map(|r| r.times.last().copied().unwrap_or_default().as_secs_f64() * 1000.0).fold(0.0, f64::max);
    let panels: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            let title = format!("{}: {:.2} s{}", r.mode, last(r), speedup(r));
            let content = format!(
                "<p>{}</p><div class=\"shared\">{}</div><div class=\"own\">{}</div>",
                escape(&where_the_time_goes(r.mode, delay)),
                svg_on(&title, &r.waterfall, Some(shared)),
                svg(&title, &r.waterfall)
            );
            (title, content)
        })
        .collect();
    let times: Vec<String> = rows.iter().map(|r| format!("{} {:.2} s{}", r.mode, last(r), speedup(r))).collect();
    let intro = format!(
        "The same 20 flags, each answered after {delay}, four ways, on one time axis: {}. One row per flag, in \
         the order they started; grey while a flag waits for its turn, then its request. Hover a row for its times.",
        times.join("; ")
    );
    let page = crate::waterfall::html_with(
        "flags demo: the same 20 flags, four ways",
        &intro,
        &panels,
        Some("each style on its own time scale"),
    );
    save::write_output(path, page.as_bytes())
}
