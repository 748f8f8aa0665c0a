//! What the demo is given, what it tells as it goes, and what it returns.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::capture::Captured;
use crate::download::{DownloadObserver, Mode, RunResult};
use crate::http::BaseUrl;
use crate::server::Delay;
use crate::shell::CommandPeer;
use crate::waterfall::exchange::Recording;
use crate::waterfall::Row;
use crate::work::Work;

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
    /// Commands run after the styles, against the same server (`--peer`).
    pub peers: Vec<CommandPeer>,
    /// The CPU work of part two (`None`: no part two).
    pub work: Option<Work>,
    /// Where its timeline goes (`--timeline`); none: `demo-timeline.html`
    /// beside the destination folder.
    pub timeline: Option<PathBuf>,
}

/// Part two's work: 50 ms of CPU per flag under the model GIL.
pub fn default_work() -> Work {
    Work { gil: true, ..Work::new(Duration::from_millis(50)) }
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            delay: Delay::fixed(0.35),
            seed: 0,
            runs: 1,
            dest: PathBuf::from("downloads"),
            peers: Vec::new(),
            work: Some(default_work()),
            timeline: None,
        }
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
    #[error("cannot make a folder for a peer")]
    Scratch(#[source] std::io::Error),
    #[error("cannot run a peer")]
    Peer(#[source] std::io::Error),
}

/// Who ran: one of the styles, the async style handing its work to the
/// blocking pool (part two), or a `--peer` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    Style(Mode),
    Offloaded,
    Peer(String),
}

impl std::fmt::Display for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runner::Style(m) => write!(f, "{m}"),
            Runner::Offloaded => f.write_str("async --offload"),
            Runner::Peer(name) => f.write_str(name),
        }
    }
}

/// One run of a style in the demo: the style, its requests at once, and
/// the work it does per flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leg {
    pub mode: Mode,
    pub concurrency: usize,
    pub work: Option<Work>,
    /// flags3: fetch `metadata.json` too and name files after the country.
    pub names: bool,
}

impl Leg {
    /// The `flags get` command that does what it does, e.g. `flags get
    /// --mode threadpool -m 20 --names`, with its `--work` options.
    pub fn command(&self) -> String {
        let m = if self.mode == Mode::Sequential { String::new() } else { format!(" -m {}", self.concurrency) };
        let names = if self.names { " --names" } else { "" };
        let work = self.work.map(|w| format!(" {}", w.args())).unwrap_or_default();
        format!("flags get --mode {}{m}{names}{work}", self.mode)
    }

    /// Who runs it.
    pub fn runner(&self) -> Runner {
        match self.work {
            Some(w) if w.offload => Runner::Offloaded,
            _ => Runner::Style(self.mode),
        }
    }
}

/// One style's (or peer's) times, and the waterfall of its last run: the
/// client's own for a style, the server's record for a peer.
#[derive(Debug, Clone)]
pub struct StyleTimes {
    pub mode: Runner,
    pub times: Vec<Duration>,
    pub waterfall: Vec<Row>,
    /// For a peer: what the server saw of its last run, or why it failed.
    pub note: Option<String>,
    /// The last run's requests, for the timeline files that list them:
    /// the client's for a style, the server's record for a peer.
    pub recording: Option<Recording>,
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

    /// The last run's time.
    pub fn last(&self) -> Duration {
        self.times.last().copied().unwrap_or_default()
    }
}

/// What the demo measured: part one (I/O-bound, at the demo's delay) and
/// part two (CPU-bound, at no delay, with `work` per flag).
#[derive(Debug, Clone, Default)]
pub struct Demo {
    pub io: Vec<StyleTimes>,
    pub cpu: Vec<StyleTimes>,
    pub work: Option<Work>,
}

/// One run of a `--peer` command in the demo.
#[derive(Debug, Clone)]
pub struct PeerRun {
    pub name: String,
    /// The command line run.
    pub line: String,
    pub elapsed: Duration,
    /// Its exit status (none: a signal ended it).
    pub status: Option<i32>,
    /// What it printed on stdout and on stderr: the ends, and the count.
    pub stdout: Captured,
    pub stderr: Captured,
    /// The `.gif` files it left, and the flags asked for.
    pub saved: usize,
    pub wanted: usize,
    /// It ran past its time limit (`flags book --limit`) and was stopped.
    pub overran: Option<std::time::Duration>,
    /// What the server saw: requests, the most at once, connections.
    pub requests: usize,
    pub peak: usize,
    pub connections: usize,
}

impl PeerRun {
    /// Why the run failed, if it did: the server saw none of its requests,
    /// a non-zero exit, or fewer flags.
    pub fn failure(&self) -> Option<String> {
        if let Some(limit) = self.overran {
            let saved = format!("having saved {} of {} flags", self.saved, self.wanted);
            return Some(format!("it ran past its limit of {} s and was stopped, {saved}", limit.as_secs_f64()));
        }
        if self.requests == 0 && self.wanted > 0 && self.status == Some(0) {
            return Some(format!(
                "the server saw no request: the {} flags it saved came from elsewhere (a base URL not pointed at the server?)",
                self.saved
            ));
        }
        match self.status {
            Some(0) if self.saved >= self.wanted => None,
            Some(0) => Some(format!("it saved {} of {} flags", self.saved, self.wanted)),
            Some(code) => Some(format!("it exited {code}, having saved {} of {} flags", self.saved, self.wanted)),
            None => Some("a signal ended it".into()),
        }
    }

    /// What the server saw, in words.
    pub fn seen(&self) -> String {
        format!(
            "the server saw {} requests, at most {} at once, on {} connections",
            self.requests, self.peak, self.connections
        )
    }
}

/// What a style's runs tell as they go (the demo's, the book's).
pub trait LegObserver {
    /// Run `run` of `runs` of `leg` begins; its outcomes go to the observer returned.
    fn run_started(&self, leg: &Leg, run: usize, runs: usize) -> Arc<dyn DownloadObserver>;
    /// That run is over.
    fn run_ended(&self, result: &RunResult);
}

/// What the demo tells as it goes.
pub trait DemoObserver: LegObserver {
    /// The server is up at `base`, answering after `delay`; `codes` flags per run.
    fn started(&self, base: &BaseUrl, delay: Delay, codes: usize);
    /// Part two begins: a server at `base` with no delay, `work` per flag.
    fn cpu_started(&self, base: &BaseUrl, work: &Work, codes: usize);
    /// A `--peer` command is about to run (`line`, its placeholders filled).
    fn peer_started(&self, name: &str, line: &str);
    /// It ended.
    fn peer_ended(&self, run: &PeerRun);
    /// A part ran to its end: part one (`work` none) or part two; `times`
    /// are its styles', for its table and its pictures.
    fn part_ended(&self, times: &[StyleTimes], work: Option<&Work>);
    /// A signal stopped the demo; `demo` holds the styles that ran to
    /// their end.
    fn interrupted(&self, demo: &Demo);
    /// The demo of `config` ran to its end; its timeline page went to the
    /// path, or could not be written, for the reason given.
    fn ended(&self, demo: &Demo, config: &DemoConfig, timeline: Result<&std::path::Path, std::io::Error>);
}
