//! `flags bench`: the seed's experiment at scale. Starts the embedded
//! server (or uses `--server URL`), runs every style as a real `flags get`
//! process, and optionally the peers, on these workloads:
//!
//! | id | codes | server | concurrency |
//! |---|---|---|---|
//! | W1 | POP20 | 0.35 s latency (the seed) | all at once |
//! | W2 | the 194 flags | no latency | 100 |
//! | W3 | all 676 codes | ERROR-style: 0.5 s, 25% 418s | 200 |
//! | W4 | all 676 codes | 1 s latency | all at once |
//! | W5 | the 194 flags | HTTPS, 20 ms latency | 100: HTTP/1.1 connections, or HTTP/2 streams (32 per connection at most) |
//! | W6 | POP20, each with 50 ms of CPU work (`--work`) | no latency | 20, with and without `--gil`, beside Python |
//! | sweep-concurrency | the 194 flags | 20 ms latency | 1, 2, 5, 10, 20, 50, 100, 200, 500 |
//! | sweep-latency | POP20 | 0, 10 ms, 100 ms, 1 s | 20 |
//!
//! Each point runs `runs` times; the report gives median, min and max, the
//! ideal time (the latency bound) and the ratio to it, speedup over
//! sequential, peak RSS and CPU time, and from the embedded server's own
//! counters the connections each run opened and, over HTTPS, the TLS
//! handshakes and their time. Submodules: [`measure`] (one process
//! run), `run` (a tool's command, run as a step Ctrl-C can end, and
//! whether the run failed), `peers` (curl, aria2c, wget2), `result`
//! (the JSON document), `chart` (the SVG).

pub(crate) mod chart;
mod error;
pub use crate::shell::measure;
pub(crate) mod peers;
pub(crate) mod result;
mod run;
pub(crate) mod workload;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::download::Mode;
use crate::http::{BaseUrl, Protocol};
use crate::save;
use crate::server::{self, Delay, RunningServer, ServerConfig};
use crate::shutdown::Shutdown;
pub use error::BenchError;
use peers::{CommandPeer, Peer};
use result::{BenchReport, Point};
use run::{command, concurrency, failure, measure_stoppable, PyExecutor, Tool, PYTHON_REFERENCE};
use workload::{specs, Spec, Workload};

/// A validated `flags bench`.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Fewer points and one run: finishes within a minute.
    pub quick: bool,
    /// Where `bench.json` and `bench.svg` go (`None`: a new folder in the
    /// system's temporary directory, made when the run starts).
    pub out: Option<PathBuf>,
    /// Keep measuring when a run fails (`--ignore-failure`) instead of
    /// stopping the benchmark.
    pub ignore_failure: bool,
    /// Runs per point.
    pub runs: usize,
    /// The styles to measure.
    pub styles: Vec<Mode>,
    /// An external server's base URL (only the no-latency workloads run then).
    pub server: Option<BaseUrl>,
    /// Also run curl, aria2c and wget2 where installed.
    pub peers: bool,
    /// Commands to measure beside the styles (`--peer NAME='COMMAND'`).
    pub commands: Vec<CommandPeer>,
    /// Only these workloads (empty: all).
    pub only: Vec<Workload>,
    /// The delay in place of the fixed latency of the workloads that have
    /// one (`--delay`).
    pub delay: Option<Delay>,
    /// Also write this Markdown report (BENCHMARKS.md).
    pub markdown: Option<PathBuf>,
    /// Another `flags` build run beside this one (`--baseline`), as
    /// `baseline <style>` points.
    pub baseline: Option<PathBuf>,
}

/// The tools that run `spec`: the styles asked for (over HTTPS, the async
/// style once on HTTP/1.1 connections and once on HTTP/2 streams; the
/// other styles speak only HTTP/1.1), then the peers. With CPU work (W6),
/// the thread and process pools once more under `--gil`, the async style
/// once more with `--offload`, and `python` (the reference script's path,
/// when python3 is installed) with each of its executors.
fn tools(cfg: &BenchConfig, spec: &Spec, peers: &[Peer], python: Option<&Path>) -> Vec<Tool> {
    let mut tools = Vec::new();
    for &mode in &cfg.styles {
        match (mode, spec.tls) {
            (Mode::Sequential, _) if !spec.sequential => {}
            (_, false) if spec.work.is_some() => {
                tools.push(Tool::Flags(mode, Protocol::Auto));
                match mode {
                    Mode::ThreadPool | Mode::ProcessPool => tools.push(Tool::Gil(mode)),
                    Mode::Async => tools.push(Tool::Offload),
                    Mode::Sequential => {}
                }
            }
            (Mode::Async, true) => {
                tools.push(Tool::Flags(mode, Protocol::Http1));
                tools.push(Tool::Flags(mode, Protocol::Http2));
            }
            (_, true) => {}
            (_, false) => {
                tools.push(Tool::Flags(mode, Protocol::Auto));
                if cfg.baseline.is_some() {
                    tools.push(Tool::Baseline(mode));
                }
            }
        }
    }
    if spec.peers {
        tools.extend(peers.iter().map(|p| Tool::Peer(*p)));
    }
    if let (Some(_), Some(script)) = (spec.work, python) {
        tools.extend(PyExecutor::ALL.iter().map(|e| Tool::Python(script.to_path_buf(), *e)));
    }
    // A command runs where it fits: any workload when it takes the codes
    // ({cc}), else the workloads of the 20 flags; HTTPS when it takes the
    // CA file ({cacert}).
    for c in &cfg.commands {
        if (!spec.tls || c.takes_cacert()) && (c.takes_codes() || matches!(spec.codes, workload::Codes::Pop20)) {
            tools.push(Tool::Command(c.clone()));
        }
    }
    tools
}

/// What the embedded server counted during one run.
#[derive(Debug, Clone, Copy, Default)]
struct Counted {
    connections: u64,
    handshakes: u64,
    handshake_ms: f64,
    requests: u64,
    /// The server's record: its count, and the run's peak in flight.
    recorded: u64,
    peak: u64,
}

impl Counted {
    fn of(server: &RunningServer) -> Self {
        let s = server.stats().snapshot();
        Counted {
            connections: s.connections,
            handshakes: s.tls_handshakes,
            handshake_ms: s.tls_handshake_ms,
            requests: s.requests,
            recorded: server.stats().timeline().total(),
            peak: 0,
        }
    }

    /// What `server` counted since `before`, with the peak in flight from
    /// its record of the requests.
    fn since(server: &RunningServer, before: Counted) -> Counted {
        let now = Counted::of(server);
        let spans: Vec<(f64, f64)> = server
            .stats()
            .timeline()
            .after(before.recorded)
            .requests
            .iter()
            .map(|r| (r.head_ms, r.done_ms.unwrap_or(r.head_ms)))
            .collect();
        Counted {
            connections: now.connections - before.connections,
            handshakes: now.handshakes - before.handshakes,
            handshake_ms: now.handshake_ms - before.handshake_ms,
            requests: now.requests - before.requests,
            recorded: now.recorded,
            peak: crate::download::timeline::peak_of(&spans) as u64,
        }
    }
}

/// Checks, before anything runs, what would otherwise fail at the end:
/// something to measure, an output directory and Markdown file that can be
/// written, and a `--server` that answers. The message names the option.
pub fn check(cfg: &BenchConfig) -> Result<(), String> {
    if plan(cfg).is_empty() {
        let which = match cfg.only.is_empty() {
            true => "the workloads".to_string(),
            false => cfg.only.iter().map(|w| w.id()).collect::<Vec<_>>().join(","),
        };
        return Err(format!(
            "invalid value '{which}' for '--workloads <ID>': nothing to run{}",
            if cfg.server.is_some() {
                " against --server, where only the workloads without latency run (W2, sweep-latency at 0)"
            } else {
                ""
            }
        ));
    }
    if let (Some(delay), Some(_)) = (cfg.delay, &cfg.server) {
        return Err(format!(
            "the argument '--delay {}' cannot be used with '--server': the delay is the embedded server's",
            delay.as_arg()
        ));
    }
    if let Some(out) = &cfg.out {
        writable_dir(out).map_err(|e| format!("invalid value '{}' for '--out <DIR>': {e}", out.display()))?;
    }
    if let Some(md) = &cfg.markdown {
        save::check_output(md).map_err(|e| format!("invalid value '{}' for '--markdown <FILE>': {e}", md.display()))?;
    }
    if let Some(exe) = &cfg.baseline {
        let runs = Command::new(exe).arg("--version").output().is_ok_and(|o| o.status.success());
        if !runs {
            return Err(format!(
                "invalid value '{}' for '--baseline <EXE>': it does not run as `flags --version`",
                exe.display()
            ));
        }
    }
    if let Some(base) = &cfg.server {
        let addrs = std::net::ToSocketAddrs::to_socket_addrs(&(base.host.as_str(), base.port))
            .map_err(|e| format!("invalid value '{base}' for '--server <URL>': cannot resolve {}: {e}", base.host))?;
        let reachable = addrs
            .into_iter()
            .any(|a| std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(3)).is_ok());
        if !reachable {
            return Err(format!(
                "invalid value '{base}' for '--server <URL>': nothing answers at {}:{}",
                base.host, base.port
            ));
        }
    }
    Ok(())
}

/// Whether `dir` is a directory that can be written, or could be made
/// where it can be: asked of the system, without writing anything.
fn writable_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err("it is not a directory".into());
        }
        return save::writable(dir).map_err(|e| format!("cannot write there: {e}"));
    }
    let mut above = dir.parent();
    while let Some(p) = above.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        above = p.parent();
    }
    let above = above.filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match above.is_dir() {
        true => save::writable(above).map_err(|e| format!("cannot make it in {}: {e}", above.display())),
        false => Err(format!("{} is not a directory", above.display())),
    }
}

/// Where a benchmark's results go: `--out`, or a folder it made itself.
#[derive(Debug)]
pub struct OutDir {
    pub path: PathBuf,
    made: bool,
}

impl OutDir {
    /// Makes `cfg`'s output folder, when the run starts.
    pub fn make(cfg: &BenchConfig) -> Result<OutDir, BenchError> {
        let fail = |path: PathBuf| move |source| BenchError::Write { path, source };
        match &cfg.out {
            Some(dir) => std::fs::create_dir_all(dir)
                .map(|()| OutDir { path: dir.clone(), made: false })
                .map_err(fail(dir.clone())),
            None => tempfile::Builder::new()
                .prefix("flags-bench-")
                .tempdir()
                .map(|d| OutDir { path: d.keep(), made: true })
                .map_err(fail(std::env::temp_dir())),
        }
    }

    /// True when the benchmark made the folder (none was named).
    pub fn made(&self) -> bool {
        self.made
    }

    /// Removes the folder if the benchmark made it and nothing is in it
    /// (a run stopped before its results).
    pub fn discard(self) {
        if self.made {
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// The points `cfg` measures.
fn plan(cfg: &BenchConfig) -> Vec<Spec> {
    specs(cfg.quick, cfg.server.is_some(), &cfg.only, cfg.delay)
}

/// What the benchmark tells as it goes.
pub trait BenchObserver {
    /// It starts: with these settings and the peers found installed.
    fn started(&self, cfg: &BenchConfig, peers: &[Peer]);
    /// One tool's point is measured.
    fn measured(&self, point: &Point);
    /// A signal stopped it: nothing is written.
    fn interrupted(&self);
    /// The Markdown report of `report` (`--markdown`), its chart at `svg`.
    fn markdown(&self, report: &BenchReport, svg: &str) -> String;
    /// Its results are written into `out`.
    fn ended(&self, report: &BenchReport, out: &Path);
}

/// Runs the benchmark, telling `observer` of each point as it is measured,
/// and writes the results into its output folder ([`write_results`]) and
/// the Markdown report asked for. When `shutdown` is stopped, the process
/// group being measured is sent SIGINT, and SIGKILL after a grace period
/// (at once on abort), and the benchmark ends with
/// [`BenchError::Interrupted`], its scratch folder, its server (a CA file
/// included) and an output folder of its own making removed; an abort
/// removes them too.
pub fn run(cfg: &BenchConfig, observer: &dyn BenchObserver, shutdown: &Shutdown) -> Result<BenchReport, BenchError> {
    let out = OutDir::make(cfg)?;
    if out.made() {
        shutdown.scratch(&out.path);
    }
    let results = match measure_points(cfg, observer, shutdown) {
        Ok(results) => {
            shutdown.keep(&out.path);
            results
        }
        Err(e) => {
            out.discard();
            if shutdown.signal().is_some() {
                observer.interrupted();
                return Err(BenchError::Interrupted);
            }
            return Err(e);
        }
    };
    let svg = write_results(&results, &out.path)?;
    if let Some(md) = &cfg.markdown {
        let text = observer.markdown(&results, &svg.display().to_string());
        save::write_output(md, text.as_bytes()).map_err(|source| BenchError::Write { path: md.clone(), source })?;
    }
    observer.ended(&results, &out.path);
    Ok(results)
}

/// Measures every point of `cfg`, telling `observer` of each.
fn measure_points(
    cfg: &BenchConfig,
    observer: &dyn BenchObserver,
    shutdown: &Shutdown,
) -> Result<BenchReport, BenchError> {
    let exe = std::env::current_exe().map_err(BenchError::Exe)?;
    let peers: Vec<Peer> = if cfg.peers { Peer::ALL.into_iter().filter(|p| p.installed()).collect() } else { vec![] };
    observer.started(cfg, &peers);
    // Every run downloads into a fresh directory under one scratch root that
    // is removed only when the bench is over. Deleting a run's files before
    // the next run would slow the next tool's file creation on some
    // filesystems (see `Scratch`), so runs would not be measured alike.
    let mut scratch = Scratch::new()?;
    shutdown.scratch(scratch.root.path());
    let plan = plan(cfg);
    let python = match plan.iter().any(|s| s.work.is_some()) && peers::on_path("python3") {
        true => Some(scratch.python_reference()?),
        false => None,
    };
    let mut points = Vec::new();
    for spec in plan {
        let embedded = match cfg.server {
            Some(_) => None,
            None => Some(start_server(&spec)?),
        };
        let base = cfg.server.clone().unwrap_or_else(|| embedded.as_ref().expect("started").base());
        let ca = embedded.as_ref().and_then(|s| s.ca_file());
        if let Some(ca) = &ca {
            shutdown.scratch(ca);
        }
        let tools = tools(cfg, &spec, &peers, python.as_deref());
        let target = Target { server: embedded.as_ref(), base: &base, ca: ca.as_deref() };
        let first = points.len();
        points.extend(measure_spec(cfg, &spec, &tools, &target, &exe, &mut scratch, shutdown)?);
        result::add_speedups(&mut points);
        points[first..].iter().for_each(|p| observer.measured(p));
    }
    Ok(BenchReport {
        version: env!("CARGO_PKG_VERSION").to_string(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs: cfg.runs,
        quick: cfg.quick,
        external_server: cfg.server.as_ref().map(BaseUrl::to_string),
        points,
    })
}

/// What the runs of one spec go against: the embedded server (none with
/// `--server`), the base URL, and the CA file to trust.
struct Target<'a> {
    server: Option<&'a RunningServer>,
    base: &'a BaseUrl,
    ca: Option<&'a Path>,
}

/// Runs every tool of `spec` `cfg.runs` times against `target`: one point
/// per tool, in the order of `tools`. A failed run ends the benchmark
/// unless `cfg.ignore_failure`.
fn measure_spec(
    cfg: &BenchConfig,
    spec: &Spec,
    tools: &[Tool],
    target: &Target<'_>,
    exe: &Path,
    scratch: &mut Scratch,
    shutdown: &Shutdown,
) -> Result<Vec<Point>, BenchError> {
    // Round-robin: run 1 of every tool, then run 2, and so on, so a slow
    // phase of a shared machine lands on every tool alike.
    let mut samples: Vec<Vec<measure::Sample>> = tools.iter().map(|_| Vec::new()).collect();
    let mut counted: Vec<Vec<Counted>> = tools.iter().map(|_| Vec::new()).collect();
    let mut saved = vec![usize::MAX; tools.len()];
    let mut failed = vec![0; tools.len()];
    for run in 1..=cfg.runs {
        for (i, tool) in tools.iter().enumerate() {
            // Every tool's run meets the same delays and faults per flag.
            if let Some(server) = target.server {
                server.stats().start_leg();
            }
            let before = target.server.map(Counted::of);
            let exe = match (tool, &cfg.baseline) {
                (Tool::Baseline(_), Some(other)) => other.as_path(),
                _ => exe,
            };
            let dir = scratch.next_dir()?;
            let cmd = command(exe, spec, target.base, target.ca, tool, &dir)?;
            let shown = format!("{cmd:?}");
            let (sample, n) = measure_stoppable(cmd, tool, &dir, shutdown)?;
            if let Some(why) = failure(spec, tool, &sample, n) {
                failed[i] += 1;
                if !cfg.ignore_failure {
                    let workload = spec.workload.id().to_string();
                    return Err(BenchError::FailedRun { tool: tool.name(), workload, run, why, command: shown });
                }
            }
            if let (Some(server), Some(before)) = (target.server, before) {
                counted[i].push(Counted::since(server, before));
            }
            samples[i].push(sample);
            saved[i] = saved[i].min(n);
        }
    }
    let points = tools.iter().enumerate().map(|(i, tool)| {
        let mut point = point(spec, tool, &samples[i], &counted[i], saved[i]);
        point.failed_runs = failed[i];
        point
    });
    Ok(points.collect())
}

/// Writes `bench.json` and `bench.svg` into `out`; returns the SVG's path.
pub fn write_results(report: &BenchReport, out: &Path) -> Result<PathBuf, BenchError> {
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        save::write_output(&path, bytes).map_err(|source| BenchError::Write { path: path.clone(), source })?;
        Ok::<_, BenchError>(path)
    };
    let json = serde_json::to_vec_pretty(report).expect("a report always serializes");
    write("bench.json", &json)?;
    write("bench.svg", chart::svg(report).map_err(BenchError::Chart)?.as_bytes())
}

fn start_server(spec: &Spec) -> Result<RunningServer, BenchError> {
    let tls = match spec.tls {
        true => Some(server::tls::setup(&server::CertSource::Generate { extra: vec![] }).map_err(BenchError::Tls)?),
        false => None,
    };
    let config = ServerConfig {
        delay: spec.delay.unwrap_or(Delay::fixed(spec.latency)),
        error_rate: spec.error_rate,
        seed: 17,
        tls,
        ..ServerConfig::default()
    };
    let server = server::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(BenchError::Server)?;
    server.warm();
    Ok(server)
}

/// Where the runs' downloads go: a directory per run, all kept until the
/// bench ends. On ext4 without a journal (this project's own test machine),
/// a new inode skips every inode deleted in the last minute or so; with the
/// 194 files of the previous run just deleted, creating a file took 0.3 ms
/// instead of 0.02 ms, and whichever tool ran next paid for it.
struct Scratch {
    root: tempfile::TempDir,
    runs: usize,
}

impl Scratch {
    fn new() -> Result<Self, BenchError> {
        let root = tempfile::Builder::new()
            .prefix("flags-bench-runs-")
            .tempdir()
            .map_err(|source| BenchError::Write { path: std::env::temp_dir(), source })?;
        Ok(Scratch { root, runs: 0 })
    }

    /// The Python reference of W6, written into the scratch root.
    fn python_reference(&self) -> Result<PathBuf, BenchError> {
        let path = self.root.path().join("flags_work.py");
        std::fs::write(&path, PYTHON_REFERENCE).map_err(|source| BenchError::Write { path: path.clone(), source })?;
        Ok(path)
    }

    /// A new, empty directory for one run.
    fn next_dir(&mut self) -> Result<PathBuf, BenchError> {
        let dir = self.root.path().join(format!("run-{:04}", self.runs));
        self.runs += 1;
        std::fs::create_dir(&dir).map_err(|source| BenchError::Write { path: dir.clone(), source })?;
        Ok(dir)
    }
}

/// The median of the times the Python reference printed for itself
/// (`"elapsed_s"` in its `--json` line).
fn self_timed(tool: &Tool, samples: &[measure::Sample]) -> Option<f64> {
    if !matches!(tool, Tool::Python(..)) {
        return None;
    }
    let own: Vec<Duration> = samples
        .iter()
        .filter_map(|s| serde_json::from_slice::<serde_json::Value>(s.whole_stdout()?).ok()?["elapsed_s"].as_f64())
        .map(Duration::from_secs_f64)
        .collect();
    (own.len() == samples.len()).then(|| measure::spread(&own).0)
}

/// The process pool's workers over `samples`, from each run's `workers`
/// (`flags get --json`): the most started and alive at once in any run,
/// the median of the runs' median start-ups, the slowest start-up.
fn workers(samples: &[measure::Sample]) -> Option<crate::download::Workers> {
    let runs: Vec<crate::download::Workers> = samples
        .iter()
        .filter_map(|s| serde_json::from_slice::<serde_json::Value>(s.whole_stdout()?).ok())
        .filter_map(|v| serde_json::from_value(v.get("workers")?.clone()).ok())
        .collect();
    if runs.is_empty() {
        return None;
    }
    let medians: Vec<Duration> = runs.iter().map(|w| Duration::from_secs_f64(w.start_up_median_ms / 1000.0)).collect();
    Some(crate::download::Workers {
        started: runs.iter().map(|w| w.started).max().unwrap_or(0),
        peak_live: runs.iter().map(|w| w.peak_live).max().unwrap_or(0),
        start_up_median_ms: measure::spread(&medians).0 * 1000.0,
        start_up_max_ms: runs.iter().map(|w| w.start_up_max_ms).fold(0.0, f64::max),
    })
}

/// One row of the table from a tool's runs.
fn point(spec: &Spec, tool: &Tool, samples: &[measure::Sample], counted: &[Counted], saved: usize) -> Point {
    let codes = spec.codes.count();
    // A command decides for itself how many requests it has in flight: the
    // server's count says what it did.
    let peak = counted.iter().map(|c| c.peak as usize).max();
    let concurrency = match (tool, peak) {
        (Tool::Command(_), Some(peak)) if peak > 0 => peak,
        _ => concurrency(spec, tool),
    };
    let (median_s, min_s, max_s) = measure::spread(&samples.iter().map(|s| s.wall).collect::<Vec<_>>());
    let (cpu_s, ..) = measure::spread(&samples.iter().map(|s| s.cpu).collect::<Vec<Duration>>());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Under a random delay (`--delay`) no bound is known beforehand.
    let ideal_s = match spec.work {
        _ if spec.delay.is_some() => 0.0,
        Some(work) => result::ideal_with_work(codes, concurrency, spec.latency, work, cores),
        None => result::ideal(codes, concurrency, spec.latency),
    };
    // The median run by connections opened, and its handshakes.
    let mut by_connections = counted.to_vec();
    by_connections.sort_by_key(|c| c.connections);
    let typical = by_connections.get(by_connections.len() / 2).copied();
    Point {
        workload: spec.workload,
        tool: tool.name(),
        codes,
        concurrency,
        latency_s: spec.latency,
        delay: spec.delay.map(|d| d.as_arg()),
        error_rate: spec.error_rate,
        ideal_s,
        work_ms: spec.work.map(|w| w * 1000.0),
        self_timed_s: self_timed(tool, samples),
        median_s,
        min_s,
        max_s,
        ratio_to_ideal: result::ratio(median_s, ideal_s),
        speedup_vs_sequential: None,
        peak_rss_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
        cpu_s,
        saved,
        failed_runs: 0,
        connections: typical.map(|c| c.connections),
        tls_handshakes: typical.filter(|_| spec.tls).map(|c| c.handshakes),
        tls_handshake_ms: typical.filter(|_| spec.tls).map(|c| c.handshake_ms),
        requests: typical.map(|c| c.requests),
        peak_in_flight: typical.map(|c| c.peak),
        workers: workers(samples),
    }
}
