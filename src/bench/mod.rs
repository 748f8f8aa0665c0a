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
//! | sweep-concurrency | the 194 flags | 20 ms latency | 1, 2, 5, 10, 20, 50, 100, 200, 500 |
//! | sweep-latency | POP20 | 0, 10 ms, 100 ms, 1 s | 20 |
//!
//! Each point runs `runs` times; the report gives median, min and max, the
//! ideal time (the latency bound) and the ratio to it, speedup over
//! sequential, peak RSS and CPU time. Submodules: [`measure`] (one process
//! run), [`peers`] (curl, aria2c, wget2), [`result`] (the JSON document),
//! [`chart`] (the SVG).

pub mod chart;
pub mod measure;
pub mod peers;
pub mod result;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;

use crate::countries::{catalog, every_code, pop20_sorted, POP20};
use crate::download::pipeline::gif_path;
use crate::download::Mode;
use crate::http::BaseUrl;
use crate::report::bench as print;
use crate::server::{self, Delay, RunningServer, ServerConfig};
use peers::Peer;
use result::{BenchReport, Point};

/// A validated `flags bench`.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Fewer points and one run: finishes within a minute.
    pub quick: bool,
    /// Where `bench.json` and `bench.svg` go.
    pub out: PathBuf,
    /// Runs per point.
    pub runs: usize,
    /// The styles to measure.
    pub styles: Vec<Mode>,
    /// An external server's base URL (only the no-latency workloads run then).
    pub server: Option<BaseUrl>,
    /// Also run curl, aria2c and wget2 where installed.
    pub peers: bool,
    /// Only these workloads (empty: all).
    pub only: Vec<String>,
    /// Also write this Markdown report (BENCHMARKS.md).
    pub markdown: Option<PathBuf>,
}

/// Which codes a workload asks for.
#[derive(Debug, Clone, Copy)]
enum Codes {
    Pop20,
    All,
    Every,
}

impl Codes {
    fn list(self) -> Vec<String> {
        match self {
            Codes::Pop20 => pop20_sorted(),
            Codes::All => catalog().iter().map(|c| c.cc.clone()).collect(),
            Codes::Every => every_code().collect(),
        }
    }

    /// How many codes [`Codes::list`] gives, without building the list.
    fn count(self) -> usize {
        match self {
            Codes::Pop20 => POP20.len(),
            Codes::All => catalog().len(),
            Codes::Every => 26 * 26, // AA..ZZ
        }
    }

    fn args(self) -> &'static [&'static str] {
        match self {
            Codes::Pop20 => &[],
            Codes::All => &["-a"],
            Codes::Every => &["-e"],
        }
    }
}

/// One point to measure, before its tools are chosen.
#[derive(Debug, Clone)]
struct Spec {
    workload: &'static str,
    codes: Codes,
    latency: f64,
    error_rate: f64,
    /// `None`: all codes at once.
    concurrency: Option<usize>,
    sequential: bool,
    peers: bool,
}

fn specs(cfg: &BenchConfig) -> Vec<Spec> {
    let spec = |workload, codes, latency, error_rate, concurrency, sequential, peers| Spec {
        workload,
        codes,
        latency,
        error_rate,
        concurrency,
        sequential,
        peers,
    };
    let mut v = vec![
        spec("W1", Codes::Pop20, 0.35, 0.0, None, true, true),
        spec("W2", Codes::All, 0.0, 0.0, Some(100), true, true),
        spec("W3", Codes::Every, 0.5, 0.25, Some(200), false, false),
        spec("W4", Codes::Every, 1.0, 0.0, None, false, true),
    ];
    let levels: &[usize] = if cfg.quick { &[1, 10, 100] } else { &[1, 2, 5, 10, 20, 50, 100, 200, 500] };
    // Levels past the number of codes all cap at it: measure that once.
    let all = catalog().len();
    let mut capped: Vec<usize> = levels.iter().map(|&c| c.min(all)).collect();
    capped.dedup();
    for c in capped {
        v.push(spec("sweep-concurrency", Codes::All, 0.02, 0.0, Some(c), c == 1, false));
    }
    let latencies: &[f64] = if cfg.quick { &[0.0, 0.01, 0.1] } else { &[0.0, 0.01, 0.1, 1.0] };
    for &l in latencies {
        v.push(spec("sweep-latency", Codes::Pop20, l, 0.0, Some(20), true, false));
    }
    if cfg.server.is_some() {
        // An external server has no latency to set.
        v.retain(|s| s.latency == 0.0 && s.error_rate == 0.0);
    }
    if !cfg.only.is_empty() {
        v.retain(|s| cfg.only.iter().any(|o| o.eq_ignore_ascii_case(s.workload)));
    }
    v
}

/// A tool to measure on a spec.
enum Tool {
    Flags(Mode),
    Peer(Peer),
}

impl Tool {
    fn name(&self) -> String {
        match self {
            Tool::Flags(m) => format!("flags {m}"),
            Tool::Peer(p) => p.name().to_string(),
        }
    }
}

/// Checks, before anything runs, what would otherwise fail at the end:
/// something to measure, an output directory and Markdown file that can be
/// written, and a `--server` that answers. The message names the option.
pub fn check(cfg: &BenchConfig) -> Result<(), String> {
    if specs(cfg).is_empty() {
        let which = if cfg.only.is_empty() { "the workloads".to_string() } else { cfg.only.join(",") };
        return Err(format!(
            "invalid value '{which}' for '--workloads <ID>': nothing to run{}",
            if cfg.server.is_some() {
                " against --server, where only the workloads without latency run (W2, sweep-latency at 0)"
            } else {
                ""
            }
        ));
    }
    let out = &cfg.out;
    std::fs::create_dir_all(out)
        .and_then(|()| tempfile::tempfile_in(out).map(drop))
        .map_err(|e| format!("invalid value '{}' for '--out <DIR>': cannot write there: {e}", out.display()))?;
    if let Some(md) = &cfg.markdown {
        let parent = md.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let fail = |e: String| format!("invalid value '{}' for '--markdown <FILE>': {e}", md.display());
        if md.is_dir() {
            return Err(fail("it is a directory".into()));
        }
        tempfile::tempfile_in(parent).map_err(|e| fail(format!("cannot write in {}: {e}", parent.display())))?;
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

/// Runs the benchmark, prints the table as it goes, writes the files.
pub fn run(cfg: &BenchConfig) -> anyhow::Result<BenchReport> {
    std::fs::create_dir_all(&cfg.out).with_context(|| format!("cannot create {}", cfg.out.display()))?;
    let exe = std::env::current_exe().context("cannot find the flags executable")?;
    let peers: Vec<Peer> = if cfg.peers { Peer::ALL.into_iter().filter(|p| p.installed()).collect() } else { vec![] };
    print::header(cfg, &peers);
    // Every run downloads into a fresh directory under one scratch root that
    // is removed only when the bench is over. Deleting a run's files before
    // the next run would slow the next tool's file creation on some
    // filesystems (see `Scratch`), so runs would not be measured alike.
    let mut scratch = Scratch::new()?;
    let mut points = Vec::new();
    for spec in specs(cfg) {
        let embedded = match cfg.server {
            Some(_) => None,
            None => Some(start_server(&spec)?),
        };
        let base = cfg.server.clone().unwrap_or_else(|| embedded.as_ref().expect("started").base());
        let mut tools: Vec<Tool> =
            cfg.styles.iter().filter(|m| **m != Mode::Sequential || spec.sequential).map(|m| Tool::Flags(*m)).collect();
        if spec.peers {
            tools.extend(peers.iter().map(|p| Tool::Peer(*p)));
        }
        // Round-robin: run 1 of every tool, then run 2, and so on, so a slow
        // phase of a shared machine lands on every tool alike.
        let mut samples: Vec<Vec<measure::Sample>> = tools.iter().map(|_| Vec::new()).collect();
        let mut saved = vec![0; tools.len()];
        for _ in 0..cfg.runs {
            for (i, tool) in tools.iter().enumerate() {
                let (sample, n) = run_once(&exe, &spec, &base, tool, &scratch.next_dir()?)?;
                samples[i].push(sample);
                saved[i] = n;
            }
        }
        let first = points.len();
        for ((tool, samples), saved) in tools.iter().zip(&samples).zip(saved) {
            points.push(point(&spec, tool, samples, saved));
        }
        result::add_speedups(&mut points);
        points[first..].iter().for_each(print::point);
    }
    let report = BenchReport {
        version: env!("CARGO_PKG_VERSION").to_string(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs: cfg.runs,
        quick: cfg.quick,
        external_server: cfg.server.as_ref().map(BaseUrl::to_string),
        points,
    };
    let json = serde_json::to_vec_pretty(&report)?;
    std::fs::write(cfg.out.join("bench.json"), json)?;
    std::fs::write(cfg.out.join("bench.svg"), chart::svg(&report)?)?;
    if let Some(md) = &cfg.markdown {
        let svg_path = cfg.out.join("bench.svg");
        std::fs::write(md, print::markdown(&report, &svg_path.display().to_string()))?;
    }
    print::footer(&report, &cfg.out);
    Ok(report)
}

fn start_server(spec: &Spec) -> anyhow::Result<RunningServer> {
    let config = ServerConfig {
        delay: Delay::fixed(spec.latency),
        error_rate: spec.error_rate,
        seed: 17,
        ..ServerConfig::default()
    };
    server::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).context("cannot start the embedded server")
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
    fn new() -> anyhow::Result<Self> {
        let root =
            tempfile::Builder::new().prefix("flags-bench-").tempdir().context("cannot make a scratch directory")?;
        Ok(Scratch { root, runs: 0 })
    }

    /// A new, empty directory for one run.
    fn next_dir(&mut self) -> anyhow::Result<PathBuf> {
        let dir = self.root.path().join(format!("run-{:04}", self.runs));
        self.runs += 1;
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }
}

/// How many requests at once `tool` gets for `spec`.
fn concurrency(spec: &Spec, tool: &Tool) -> usize {
    let codes = spec.codes.count();
    match tool {
        Tool::Flags(Mode::Sequential) => 1,
        _ => spec.concurrency.unwrap_or(codes).min(codes).min(crate::get::MAX_CONCURRENCY),
    }
}

/// Runs `tool` once over `spec`'s codes into `dir`; returns what it cost
/// and how many flags it saved.
fn run_once(
    exe: &Path,
    spec: &Spec,
    base: &BaseUrl,
    tool: &Tool,
    dir: &Path,
) -> anyhow::Result<(measure::Sample, usize)> {
    let m = concurrency(spec, tool);
    let cmd = match tool {
        Tool::Flags(mode) => {
            let mut cmd = Command::new(exe);
            cmd.arg("get").args(spec.codes.args()).args(["--json", "-s", &base.to_string(), "--mode", mode.as_str()]);
            cmd.args(["-m", &m.to_string(), "--timeout"]);
            cmd.arg((10.0 + spec.latency).to_string()).arg("-d").arg(dir);
            cmd
        }
        Tool::Peer(peer) => {
            let urls: Vec<(String, String)> = spec
                .codes
                .list()
                .iter()
                .map(|cc| (base.url_of(&gif_path(cc)), format!("{}.gif", cc.to_lowercase())))
                .collect();
            peer.command(&urls, dir, m)?
        }
    };
    let sample = measure::run(cmd).with_context(|| format!("cannot run {}", tool.name()))?;
    let saved = match tool {
        Tool::Flags(_) => {
            serde_json::from_slice::<serde_json::Value>(&sample.stdout).ok().and_then(|v| v["ok"].as_u64()).unwrap_or(0)
                as usize
        }
        Tool::Peer(_) => std::fs::read_dir(dir)?
            .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".gif")))
            .count(),
    };
    Ok((sample, saved))
}

/// One row of the table from a tool's runs.
fn point(spec: &Spec, tool: &Tool, samples: &[measure::Sample], saved: usize) -> Point {
    let codes = spec.codes.count();
    let concurrency = concurrency(spec, tool);
    let (median_s, min_s, max_s) = measure::spread(&samples.iter().map(|s| s.wall).collect::<Vec<_>>());
    let (cpu_s, ..) = measure::spread(&samples.iter().map(|s| s.cpu).collect::<Vec<Duration>>());
    let ideal_s = result::ideal(codes, concurrency, spec.latency);
    Point {
        workload: spec.workload.to_string(),
        tool: tool.name(),
        codes,
        concurrency,
        latency_s: spec.latency,
        error_rate: spec.error_rate,
        ideal_s,
        median_s,
        min_s,
        max_s,
        ratio_to_ideal: result::ratio(median_s, ideal_s),
        speedup_vs_sequential: None,
        peak_rss_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
        cpu_s,
        saved,
    }
}
