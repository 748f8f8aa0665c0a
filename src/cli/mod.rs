//! Command-line arguments (clap derive) and the validated configurations
//! they turn into, so nothing downstream checks input again. A value that
//! fails a check is a clap error naming the argument, printed with the
//! subcommand's usage (exit 2).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};

use crate::bench::workload::Workload;
use crate::bench::BenchConfig;
use crate::countries::{CodeArg, Selection};
use crate::demo::DemoConfig;
use crate::download::{Job, Mode};
use crate::get::{default_concurrency, GetConfig, MAX_CONCURRENCY};
use crate::http::{BaseUrl, Protocol, Trust};
use crate::save;
use crate::server::{Delay, FaultPlan, FaultSettings, Label, ServerConfig, Source};

mod book;
mod exam;
mod parse;
mod work;
pub use book::BookArgs;
pub use exam::{ExamArgs, ExamCommand, ExamRun, MergeArgs, MergeRun, OutputArgs, Outputs, VerdictArgs, VerdictRun};
use parse::{invalid, parse_delay, parse_timeout};
pub use work::WorkArgs;

/// Download country flags in several concurrency styles and measure what each costs.
///
/// `flags` alone runs the demo: the chapter's experiment against the embedded
/// flag server, no network needed. The book's servers are LOCAL (port
/// 8000), DELAY (8001, 0.5..5 s delay) and ERROR (8002, 25% answered 418):
/// `flags serve --label DELAY` plays one, `flags get -s DELAY` downloads
/// from it.
#[derive(Debug, Parser)]
#[command(name = "flags", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The chapter's experiment: POP20 with each style against the embedded server, then a table (what `flags` alone runs).
    Demo(DemoArgs),
    /// Download flags (the book's flags2/flags3): choose codes, server, style and concurrency.
    Get(GetArgs),
    /// Run the flag server (the book's site on your machine, with delays and errors).
    Serve(ServeArgs),
    /// Measure every style (and curl, aria2c, wget2) on the chapter's workloads and sweeps.
    Bench(BenchArgs),
    /// Run the book's own scripts from your copy of its code, each beside the flags style that does the same.
    Book(BookArgs),
    /// Grade HTTP download clients (curl, wget2, your own) against a catalog of misbehaving servers.
    Exam(ExamArgs),
    /// Print a shell completion script: flags completions bash > /etc/bash_completion.d/flags
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): flags man > flags.1
    Man,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Fewer points, one run each: done within a minute.
    #[arg(long)]
    pub quick: bool,
    /// Directory for bench.json and bench.svg [default: a new folder in the
    /// system's temporary directory, named at the end].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs per point [default: 3, or 1 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: Option<u32>,
    /// Styles to measure, comma-separated [default: all].
    #[arg(long, value_delimiter = ',', value_enum)]
    pub styles: Vec<Mode>,
    /// Use this server (e.g. an nginx you run) instead of the embedded one; only
    /// the no-latency workloads run then.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub server: Option<BaseUrl>,
    /// Also run curl, aria2c and wget2 where installed.
    #[arg(long)]
    pub peers: bool,
    /// Also measure a command: NAME='COMMAND', with {base} (the server's base
    /// URL), {dir} (a fresh folder, its working directory), {cc} (the codes),
    /// {m} (requests at once) and {cacert} (an HTTPS server's CA file).
    /// Without {cc} it runs the workloads of the 20 flags only; without
    /// {cacert}, the plain-HTTP ones only. Repeatable.
    #[arg(long, value_name = "NAME=COMMAND")]
    pub peer: Vec<String>,
    /// The server's delay in place of the fixed latency of every workload
    /// that has one (W1, W3, W4, W5, the concurrency sweep): `0.5`, a range
    /// `0.2..0.5`, or `lognormal:MEDIAN,SIGMA`, a long tail as on the
    /// internet. Each tool meets the same delay for the same flag. The
    /// latency sweep keeps its levels.
    #[arg(long, value_name = "DELAY", value_parser = parse_delay)]
    pub delay: Option<Delay>,
    /// Only these workloads, comma-separated [default: all].
    #[arg(long, value_delimiter = ',', value_enum, ignore_case = true, value_name = "ID")]
    pub workloads: Vec<Workload>,
    /// Also write a Markdown report to this file (BENCHMARKS.md).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Another build of flags to measure beside this one, style for style,
    /// in the same run (e.g. the previous commit's target/release/flags).
    #[arg(long, value_name = "EXE")]
    pub baseline: Option<PathBuf>,
    /// Keep measuring when a run fails (exits as a failure, or saves fewer
    /// flags than the workload has) instead of stopping; the point counts
    /// its failed runs.
    #[arg(long)]
    pub ignore_failure: bool,
}

impl TryFrom<BenchArgs> for BenchConfig {
    type Error = clap::Error;
    fn try_from(a: BenchArgs) -> Result<Self, clap::Error> {
        let config = BenchConfig {
            quick: a.quick,
            out: a.out,
            ignore_failure: a.ignore_failure,
            runs: a.runs.map_or(if a.quick { 1 } else { 3 }, |r| r as usize),
            styles: if a.styles.is_empty() { Mode::ALL.to_vec() } else { a.styles },
            server: a.server,
            peers: a.peers,
            commands: a
                .peer
                .iter()
                .map(|p| crate::shell::CommandPeer::parse(p).map_err(|why| invalid("--peer <NAME=COMMAND>", p, why)))
                .collect::<Result<_, _>>()?,
            only: a.workloads,
            delay: a.delay,
            markdown: a.markdown,
            baseline: a.baseline,
        };
        crate::bench::check(&config).map_err(|msg| clap::Error::raw(ErrorKind::ValueValidation, msg))?;
        Ok(config)
    }
}

fn parse_url(s: &str) -> Result<BaseUrl, String> {
    s.parse::<BaseUrl>().map_err(|e| format!("{}; e.g. http://127.0.0.1:8080/flags", e.why))
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Country codes (BR), or single letters meaning all 26 codes that start
    /// with it (b = BA..BZ). Case-insensitive. Default: the 20 most populous.
    #[arg(value_name = "CC", value_parser = parse_code_arg)]
    pub codes: Vec<CodeArg>,
    /// All 194 flags the book's server holds.
    #[arg(short, long)]
    pub all: bool,
    /// Every two-letter code, AA..ZZ (676; most are 404).
    #[arg(short, long)]
    pub every: bool,
    /// Only the first N codes, after sorting.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// Most concurrent requests, 1 to 1000 [default: sequential 1, threadpool
    /// 30, async 100, processpool 4 x cores; at most 5 for REMOTE]. More than
    /// the codes is capped at the codes.
    #[arg(short = 'm', long, value_name = "N", value_parser = parse_max_req, allow_negative_numbers = true)]
    pub max_req: Option<u32>,
    /// Server: LOCAL (localhost:8000), DELAY (8001), ERROR (8002), REMOTE (the
    /// book's public site), or a base URL (http://host:port/flags).
    #[arg(short, long, default_value = "LOCAL", value_parser = parse_server)]
    pub server: ServerArg,
    /// One line per code instead of the progress bar.
    #[arg(short, long)]
    pub verbose: bool,
    /// Download style.
    #[arg(long, default_value = "async", value_enum)]
    pub mode: Mode,
    /// Directory to save to (created if missing).
    #[arg(short, long, default_value = "downloads", value_name = "DIR")]
    pub dest: PathBuf,
    /// Give up on a request after this many seconds (bytes that arrived
    /// by then are still taken).
    #[arg(long, default_value = "10", value_name = "SECS", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: Duration,
    /// A request fails when no byte arrives for this long [default: the --timeout].
    #[arg(long, value_name = "SECS", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub stall: Option<Duration>,
    /// The largest body taken (a flag is at most 36 KB): 256K, 2M, 40000...
    #[arg(long, value_name = "BYTES", default_value = "256K", value_parser = parse_size)]
    pub max_size: u64,
    /// Extra tries for transient failures (timeouts, resets, truncated bodies,
    /// 429/500/502/503/504), with exponential backoff; Retry-After is honoured.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// Also fetch metadata.json and name files after the country (Brazil-BR.gif).
    #[arg(long)]
    pub names: bool,
    /// Print a JSON report on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Also trust the CA certificates in this PEM file (the system's are
    /// trusted too), e.g. the one `flags serve --tls` prints.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// Check no server certificate (traffic is still encrypted, but anyone
    /// on the path could pose as the server).
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Speak HTTP/1.1 only.
    #[arg(long = "http1.1", conflicts_with = "http2")]
    pub http1_1: bool,
    /// Write the run's timeline here, in the form FILE's name asks for:
    /// .html (a page), .trace.json (Trace Event, for Perfetto), .har (HAR,
    /// for a browser's network panel), .json (the JSON report), else SVG.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Speak HTTP/2 only: over https as agreed in the TLS handshake, over
    /// http with prior knowledge. Async style only. [default: HTTP/2 over
    /// https when the server offers it, else HTTP/1.1]
    #[arg(long)]
    pub http2: bool,
    #[command(flatten)]
    pub work: WorkArgs,
}

/// A server named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerArg {
    Label(Label),
    Url(BaseUrl),
}

impl TryFrom<GetArgs> for GetConfig {
    type Error = clap::Error;
    fn try_from(a: GetArgs) -> Result<Self, clap::Error> {
        let selection = Selection { args: a.codes, all: a.all, every: a.every, limit: a.limit.map(|n| n as usize) };
        let codes = selection.codes();
        let (label, base) = match a.server {
            ServerArg::Label(l) => (Some(l), l.base()),
            ServerArg::Url(u) => (None, u),
        };
        let wanted = a.max_req.map_or_else(|| default_concurrency(a.mode, label), |m| m as usize);
        let concurrency = match a.mode {
            Mode::Sequential => 1,
            _ => wanted.min(MAX_CONCURRENCY).min(codes.len()).max(1),
        };
        if a.http2 && a.mode != Mode::Async {
            let why = format!("the {} style speaks HTTP/1.1 only; use --mode async", a.mode);
            return Err(clap::Error::raw(ErrorKind::ArgumentConflict, format!("--http2 cannot be used here: {why}")));
        }
        if let Some(path) = &a.cacert {
            crate::http::tls::check_cacert(path).map_err(|why| invalid("--cacert <FILE>", path.display(), why))?;
        }
        let protocol = match (a.http1_1, a.http2) {
            (true, _) => Protocol::Http1,
            (_, true) => Protocol::Http2,
            _ => Protocol::Auto,
        };
        if let Some(path) = &a.timeline {
            save::check_output(path).map_err(|why| invalid("--timeline <FILE>", path.display(), why))?;
        }
        let work = a.work.work(a.mode)?;
        save::prepare_dest(&a.dest).map_err(|e| invalid("--dest <DIR>", a.dest.display(), e))?;
        let job = Job {
            base,
            dest: a.dest,
            timeout: a.timeout,
            stall: a.stall.unwrap_or(a.timeout),
            concurrency,
            names: a.names,
            retries: a.retries,
            max_size: a.max_size,
            trust: Trust { cacert: a.cacert, insecure: a.insecure },
            protocol,
            work,
        };
        Ok(GetConfig { codes, label, mode: a.mode, job, verbose: a.verbose, json: a.json, timeline: a.timeline })
    }
}

fn parse_code_arg(s: &str) -> Result<CodeArg, String> {
    s.parse().map_err(|_| "expected a two-letter country code (BR) or a single letter (b = BA..BZ)".to_string())
}

fn parse_max_req(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err("must be a positive number, from 1 to 1000".into()),
        Ok(0) => Err("must be from 1 to 1000".into()),
        Ok(n) => Ok(n.min(u32::MAX as i64) as u32),
        Err(_) => Err("expected a number of requests, from 1 to 1000".into()),
    }
}

fn parse_server(s: &str) -> Result<ServerArg, String> {
    if s.contains("://") {
        return s.parse::<BaseUrl>().map(ServerArg::Url).map_err(|e| e.why.to_string());
    }
    s.parse()
        .map(ServerArg::Label)
        .map_err(|_| "expected LOCAL, DELAY, ERROR, REMOTE or a base URL (http://host:port/flags)".to_string())
}

/// `256K`, `2M`, `1G` or a number of bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err("expected a size such as 256K, 2M or 40000".into()),
    };
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && n.checked_shl(shift).is_some_and(|v| v >> shift == n) => Ok(n << shift),
        _ => Err("expected a size such as 256K, 2M or 40000 (more than 0)".into()),
    }
}

#[derive(Debug, Args, Default)]
pub struct DemoArgs {
    /// Latency of each response, in seconds: `0.35`, a range `0.2..0.5`, or
    /// `lognormal:MEDIAN,SIGMA` (a long tail, as on the internet).
    #[arg(long, default_value = "0.35", value_parser = parse_delay)]
    pub delay: Option<Delay>,
    /// Seed for the server's random delays.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How many times to run each style.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// Where to save the flags.
    #[arg(short, long, default_value = "downloads")]
    pub dest: PathBuf,
    /// Also run a command after the styles, against the same server:
    /// NAME='COMMAND' with {base} (the server's base URL), {dir} (a fresh
    /// folder, its working directory), {cc} (the 20 codes) and {m} (20).
    /// Repeatable.
    #[arg(long, value_name = "NAME=COMMAND")]
    pub peer: Vec<String>,
    /// The CPU work per flag of part two, under the model GIL (50ms, 0.1s).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = work::parse_work)]
    pub work: Duration,
    /// Leave out part two, the CPU-bound run.
    #[arg(long)]
    pub no_work: bool,
    /// Write the timeline here: an HTML page of every style's waterfall,
    /// or Trace Event (.trace.json) or HAR (.har) [default:
    /// demo-timeline.html beside DEST].
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
}

impl DemoArgs {
    /// What `flags` alone runs: the demo with its defaults.
    pub fn default_run() -> Self {
        DemoArgs {
            delay: None,
            seed: 0,
            runs: 1,
            dest: "downloads".into(),
            peer: Vec::new(),
            work: crate::demo::default_work().cpu,
            no_work: false,
            timeline: None,
        }
    }
}

impl TryFrom<DemoArgs> for DemoConfig {
    type Error = clap::Error;
    fn try_from(a: DemoArgs) -> Result<Self, clap::Error> {
        if let Some(path) = &a.timeline {
            use crate::waterfall::Format;
            if !matches!(Format::of(path), Format::Html | Format::Trace | Format::Har) {
                let why = "the demo writes an HTML page (.html), Trace Event (.trace.json) or HAR (.har)";
                return Err(invalid("--timeline <FILE>", path.display(), why));
            }
        }
        save::prepare_dest(&a.dest).map_err(|e| invalid("--dest <DEST>", a.dest.display(), e))?;
        let delay = a.delay.unwrap_or(Delay::fixed(0.35));
        let peers = a
            .peer
            .iter()
            .map(|p| crate::shell::CommandPeer::parse(p).map_err(|why| invalid("--peer <NAME=COMMAND>", p, why)))
            .collect::<Result<_, _>>()?;
        let work = (!a.no_work).then(|| crate::work::Work { cpu: a.work, ..crate::demo::default_work() });
        let timeline = a.timeline;
        let config = DemoConfig { delay, seed: a.seed, runs: a.runs as usize, dest: a.dest, peers, work, timeline };
        // A place its timeline cannot go is known now, before any request.
        let page = crate::demo::timeline_path(&config);
        save::check_output(&page).map_err(|why| match &config.timeline {
            Some(path) => invalid("--timeline <FILE>", path.display(), why),
            None => invalid("--dest <DEST>", config.dest.display(), format!("{}: {why}", page.display())),
        })?;
        Ok(config)
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Behave like one of the book's servers (its port, delay and errors).
    /// The book's ERROR server delays 0.5 s; its slow_server.py code draws
    /// 0.5..5 s for every label, as DELAY does here.
    #[arg(long, value_enum, ignore_case = true)]
    pub label: Option<Label>,
    /// Serve a directory laid out like the unpacked flags.zip (DIR/{cc}/{cc}.gif)
    /// instead of the embedded images.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one. Default: the label's port, else 8000.
    #[arg(long, value_parser = clap::value_parser!(u16))]
    pub port: Option<u16>,
    /// Delay before each flag response, seconds: `0.35`, `0.5..5` (uniform),
    /// or `lognormal:MEDIAN,SIGMA` (a long tail, as on the internet).
    #[arg(long, value_parser = parse_delay, allow_hyphen_values = true)]
    pub delay: Option<Delay>,
    /// Share of flag requests answered `418 I'm a Teapot`, 0 to 1.
    #[arg(long, value_parser = parse_rate, allow_hyphen_values = true)]
    pub error_rate: Option<f64>,
    /// Seed for delays, errors and faults, so runs are reproducible.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Faults to inject into image requests: `KIND[:RATE],...` with KIND one of
    /// latency, drip, 418, 429, 500, 503, truncate, reset, stall, slow-close,
    /// html, 204, redirect, gzip, length-lie, endless (RATE: share of
    /// requests, default 1).
    #[arg(long, value_name = "KIND[:RATE],...", value_parser = parse_faults)]
    pub fault: Option<FaultPlan>,
    /// `latency` fault: extra delay uniform in 0..SECS.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds)]
    pub jitter: Duration,
    /// `drip` fault: bytes per second.
    #[arg(long, value_name = "BYTES", default_value_t = 16384, value_parser = clap::value_parser!(u64).range(1..))]
    pub drip_rate: u64,
    /// `slow-close` fault: how long the connection stays open after the body.
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_seconds)]
    pub slow_close: Duration,
    /// `429` and `503` faults: the Retry-After they send, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub retry_after: u64,
    /// Most connections served at once; more wait to be accepted (each
    /// server thread may hold one accepted connection until a place frees).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Time a client has to send its request headers (a slowloris guard),
    /// and, from the moment it connects, its first request (HTTP/1.1 or
    /// HTTP/2, after TLS): a connection that sends nothing is closed then.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_timeout)]
    pub header_timeout: Duration,
    /// A connection with no request being answered is let go after this
    /// long: HTTP/1.1 keep-alive closes, HTTP/2 sends GOAWAY and closes.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_timeout)]
    pub idle_timeout: Duration,
    /// A connection whose answers the client takes none of for this long
    /// (it reads nothing, or keeps an HTTP/2 window at zero) is closed.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_timeout)]
    pub send_timeout: Duration,
    /// Worker threads answering requests [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Log every request: method, path, status and the fault injected.
    #[arg(short, long)]
    pub verbose: bool,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1, by ALPN), with a certificate made
    /// at start unless --cert and --key give one; the banner names the CA
    /// file to trust.
    #[arg(long)]
    pub tls: bool,
    /// With --tls: the certificate chain to serve, PEM.
    #[arg(long, value_name = "FILE", requires = "key", requires = "tls")]
    pub cert: Option<PathBuf>,
    /// With --tls: the certificate's private key, PEM.
    #[arg(long, value_name = "FILE", requires = "cert", requires = "tls")]
    pub key: Option<PathBuf>,
    /// When the server stops, write its timeline of the last requests
    /// (whatever client sent them) here: .svg, .html, .json (the record),
    /// .trace.json (Trace Event, for Perfetto) or .har (HAR).
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Serve one case of `flags exam` instead (its id, as `flags exam --list`
    /// shows), to poke at with your own tools; the other options but --bind
    /// and --port do not apply.
    #[arg(long, value_name = "ID")]
    pub scenario: Option<String>,
    /// With --scenario: when the server stops, write what it saw to FILE
    /// (JSON: its requests, connections, TLS handshakes begun, the mark on
    /// its flags), for `flags exam verdict --record FILE`.
    #[arg(long, value_name = "FILE", requires = "scenario")]
    pub record: Option<PathBuf>,
}

/// A validated `flags serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub server: ServerConfig,
    /// Log every request (the binary attaches the printer).
    pub verbose: bool,
    /// Serve HTTPS with this certificate (the binary sets it up).
    pub tls: Option<crate::server::CertSource>,
    /// Serve this exam case instead.
    pub scenario: Option<&'static crate::exam::Case>,
    /// With a scenario: write what its server saw here when it stops.
    pub record: Option<PathBuf>,
    /// Write the server's waterfall here when it stops.
    pub timeline: Option<PathBuf>,
}

impl TryFrom<ServeArgs> for ServeConfig {
    type Error = clap::Error;
    fn try_from(a: ServeArgs) -> Result<Self, clap::Error> {
        let (label_delay, label_rate) = a.label.map_or((Delay::NONE, 0.0), Label::behaviour);
        let source = match a.dir {
            Some(dir) if !dir.is_dir() => return Err(invalid("--dir <DIR>", dir.display(), "not a directory")),
            Some(dir) => Source::Dir(dir),
            None => Source::Catalog,
        };
        let scenario = match &a.scenario {
            Some(id) => match crate::exam::catalog().iter().find(|c| c.id == id.as_str()) {
                Some(case) => Some(case),
                None => return Err(invalid("--scenario <ID>", id, "no such case (flags exam --list shows them)")),
            },
            None => None,
        };
        for (arg, path) in [("--timeline <FILE>", &a.timeline), ("--record <FILE>", &a.record)] {
            if let Some(path) = path {
                save::check_output(path).map_err(|why| invalid(arg, path.display(), why))?;
            }
        }
        let port = a.port.or(a.label.and_then(Label::port)).unwrap_or(8000);
        for (arg, file) in [("--cert <FILE>", &a.cert), ("--key <FILE>", &a.key)] {
            if let Some(file) = file.as_ref().filter(|f| !f.is_file()) {
                return Err(invalid(arg, file.display(), "no such file"));
            }
        }
        let tls = match (a.tls, a.cert, a.key) {
            (false, ..) => None,
            (true, Some(cert), Some(key)) => Some(crate::server::CertSource::Files { cert, key }),
            (true, ..) => Some(crate::server::CertSource::Generate { extra: vec![a.bind] }),
        };
        let seed = a.seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
        });
        Ok(ServeConfig {
            addr: SocketAddr::new(a.bind, port),
            server: ServerConfig {
                source,
                delay: a.delay.unwrap_or(label_delay),
                error_rate: a.error_rate.unwrap_or(label_rate),
                faults: a.fault.unwrap_or_default(),
                fault_settings: FaultSettings {
                    jitter: a.jitter,
                    drip_rate: a.drip_rate,
                    retry_after: a.retry_after,
                    slow_close: a.slow_close,
                    ..FaultSettings::default()
                },
                seed,
                label: a.label,
                max_connections: a.max_connections as usize,
                threads: a.threads.map_or(0, usize::from),
                header_timeout: a.header_timeout,
                idle_timeout: a.idle_timeout,
                send_timeout: a.send_timeout,
                ..ServerConfig::default()
            },
            verbose: a.verbose,
            tls,
            scenario,
            record: a.record,
            timeline: a.timeline,
        })
    }
}

fn parse_faults(s: &str) -> Result<FaultPlan, String> {
    s.parse()
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && (0.0..=3600.0).contains(&t) => Ok(Duration::from_secs_f64(t)),
        _ => Err("expected seconds between 0 and 3600".into()),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a share between 0 and 1 (e.g. 0.25)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_req_messages_name_the_range() {
        assert_eq!(parse_max_req("-1").unwrap_err(), "must be a positive number, from 1 to 1000");
        assert_eq!(parse_max_req("0").unwrap_err(), "must be from 1 to 1000");
        assert_eq!(parse_max_req("5000"), Ok(5000), "capped later, at 1000 and the codes");
        assert_eq!(parse_size("256K"), Ok(256 << 10));
        assert!(parse_size("0").is_err() && parse_size("12Q").is_err());
    }

    /// The concurrency `flags get ARGS` would use.
    fn concurrency(args: &str) -> usize {
        let cli = Cli::try_parse_from(format!("flags get {args}").split_whitespace()).unwrap();
        let Some(Command::Get(get)) = cli.command else { unreachable!("a get command") };
        GetConfig::try_from(get).unwrap().job.concurrency
    }

    #[test]
    fn requests_in_flight_are_capped_and_remote_is_spared() {
        // At most 676 codes, so the cap of 1000 leaves the codes' to bind.
        assert_eq!(concurrency("-e -m 5000"), 676, "capped at 1000 and at the codes");
        assert_eq!(concurrency("-e -m 5000 --mode sequential"), 1);
        assert_eq!(concurrency("BR FR -m 50"), 2, "capped at the codes");
        assert_eq!(concurrency("-e -s REMOTE"), 5, "the book's public site gets at most 5");
        assert_eq!(concurrency("-e -s REMOTE --mode threadpool"), 5);
        assert_eq!(concurrency("-e -s REMOTE -m 50"), 50, "unless the user says so");
        assert_eq!(concurrency("-e -s LOCAL"), 100, "async's default elsewhere");
    }
}
