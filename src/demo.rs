//! The main job (`flags` with no arguments): the seed's experiment. Starts
//! the embedded server on a free loopback port with a CDN-like latency,
//! downloads POP20 with every style, and returns each style's times. What
//! a person sees along the way comes from the caller's [`DemoObserver`].

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::bench::peers::CommandPeer;
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
    /// Commands run after the styles, against the same server (`--peer`).
    pub peers: Vec<CommandPeer>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig { delay: Delay::fixed(0.35), seed: 0, runs: 1, dest: PathBuf::from("downloads"), peers: Vec::new() }
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

/// Who ran: one of the styles, or a `--peer` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    Style(Mode),
    Peer(String),
}

impl std::fmt::Display for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runner::Style(m) => write!(f, "{m}"),
            Runner::Peer(name) => f.write_str(name),
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
}

/// One run of a `--peer` command in the demo.
#[derive(Debug, Clone)]
pub struct PeerRun {
    pub name: String,
    /// The command line run.
    pub line: String,
    pub elapsed: Duration,
    /// Its exit status (none: a signal ended it), and what it printed.
    pub status: Option<i32>,
    pub output: Vec<u8>,
    /// The `.gif` files it left, and the flags asked for.
    pub saved: usize,
    pub wanted: usize,
    /// What the server saw: requests, the most at once, connections.
    pub requests: usize,
    pub peak: usize,
    pub connections: usize,
}

impl PeerRun {
    /// Why the run failed, if it did: a non-zero exit, or fewer flags.
    pub fn failure(&self) -> Option<String> {
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
    /// A `--peer` command is about to run (`line`, its placeholders filled).
    fn peer_started(&self, name: &str, line: &str);
    /// It ended.
    fn peer_ended(&self, run: &PeerRun);
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
        rows.push(StyleTimes { mode: Runner::Style(mode), times, waterfall, note: None });
    }
    for peer in &config.peers {
        let (mut times, mut waterfall, mut note) = (Vec::new(), Vec::new(), None);
        for _ in 1..=config.runs {
            if stop.is_stopped() {
                return Ok(rows);
            }
            let (run, served) = run_peer(peer, &server, &codes, observer, stop)?;
            observer.peer_ended(&run);
            if stop.is_stopped() {
                return Ok(rows);
            }
            note = Some(run.failure().map_or_else(|| run.seen(), |why| format!("failed: {why}")));
            times.push(run.elapsed);
            waterfall = served;
        }
        rows.push(StyleTimes { mode: Runner::Peer(peer.name.clone()), times, waterfall, note });
    }
    Ok(rows)
}

/// Runs `peer` once against `server` into a fresh folder (removed after),
/// as a step of `stop` (Ctrl-C sends it SIGINT); its run, and the server's
/// record of it as waterfall rows.
fn run_peer(
    peer: &CommandPeer,
    server: &server::RunningServer,
    codes: &[crate::countries::CountryCode],
    observer: &dyn DemoObserver,
    stop: &Stop,
) -> Result<(PeerRun, Vec<Row>), DemoError> {
    use std::sync::atomic::{AtomicU32, Ordering};
    let dir = tempfile::Builder::new().prefix("flags-demo-peer-").tempdir().map_err(DemoError::Scratch)?;
    let names: Vec<String> = codes.iter().map(|c| c.lower()).collect();
    let line = peer.line(&server.base().to_string(), dir.path(), &names, codes.len(), None);
    observer.peer_started(&peer.name, &line);
    let record = server.stats().timeline();
    let (before, conns) = (record.total(), server.stats().snapshot().connections);
    let pid = Arc::new(AtomicU32::new(0));
    let signal = |pid: Arc<AtomicU32>, sig| {
        move || {
            let p = pid.load(Ordering::SeqCst);
            if p != 0 {
                // SAFETY: kill(2) on the child this run started and has not reaped.
                unsafe { libc::kill(p as libc::pid_t, sig) };
            }
        }
    };
    let (gentle, now) = (signal(Arc::clone(&pid), libc::SIGINT), signal(Arc::clone(&pid), libc::SIGKILL));
    let t0 = std::time::Instant::now();
    let mut cmd = peer.command(&server.base().to_string(), dir.path(), &names, codes.len(), None);
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let output = stop.step(gentle, now, || {
        let child = cmd.spawn()?;
        pid.store(child.id(), Ordering::SeqCst);
        child.wait_with_output()
    });
    let elapsed = t0.elapsed();
    let output = output.map_err(DemoError::Peer)?;
    // The peer's rows on its own clock: from when it started.
    let origin = record.ms(t0);
    let mut served = record.after(before).requests;
    for r in &mut served {
        r.conn_ms = (r.conn_ms - origin).max(0.0);
        r.head_ms -= origin;
        for t in [&mut r.first_byte_ms, &mut r.last_byte_ms, &mut r.done_ms].into_iter().flatten() {
            *t -= origin;
        }
    }
    let spans: Vec<(f64, f64)> = served.iter().map(|r| (r.head_ms, r.done_ms.unwrap_or(r.head_ms))).collect();
    let run = PeerRun {
        name: peer.name.clone(),
        line,
        elapsed,
        status: output.status.code(),
        output: [output.stdout, output.stderr].concat(),
        saved: save::gifs_under(dir.path(), 3),
        wanted: codes.len(),
        requests: served.len(),
        peak: crate::download::timeline::peak_of(&spans),
        connections: (server.stats().snapshot().connections - conns) as usize,
    };
    Ok((run, crate::waterfall::served_rows(&served)))
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
pub fn where_the_time_goes(who: &StyleTimes, delay: Delay) -> String {
    let mode = match &who.mode {
        Runner::Style(mode) => *mode,
        Runner::Peer(name) => return format!("{name}: {}.", who.note.as_deref().unwrap_or("")),
    };
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
    let sequential = rows.iter().find(|r| r.mode == Runner::Style(Mode::Sequential)).map(last);
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
                escape(&where_the_time_goes(r, delay)),
                svg_on(&title, &r.waterfall, Some(shared)),
                svg(&title, &r.waterfall)
            );
            (title, content)
        })
        .collect();
    let times: Vec<String> = rows.iter().map(|r| format!("{} {:.2} s{}", r.mode, last(r), speedup(r))).collect();
    let intro = format!(
        "The same 20 flags, each answered after {delay}, four ways, on one time axis: {}. One row per flag, in \
         the order they started; grey while a flag waits for its turn, then its request. A --peer is drawn \
         from the server's record, a row per request grouped by connection. Hover a row for its times.",
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
