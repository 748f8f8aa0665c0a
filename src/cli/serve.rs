//! `flags serve`: its arguments, the validated [`ServeConfig`] they
//! become, and the command run as the binary runs it ([`run`]): the
//! server, or one exam case (`--scenario`), until the [`Shutdown`] stops
//! it, then the files it writes. What a person sees comes from the
//! caller's [`ServeObserver`].

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::Args;

use super::exit::Exit;
use super::parse::{invalid, parse_delay, parse_timeout};
use crate::exam::stage::{Saw, Stage};
use crate::exam::{certs::Certs, outside, Case};
use crate::save;
use crate::server::{self, Delay, FaultPlan, FaultSettings, Label, RequestLog, ServerConfig, Source};
use crate::shutdown::Shutdown;

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
    /// Log every request (with the observer's log).
    pub verbose: bool,
    /// Serve HTTPS with this certificate (set up when the server starts).
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

/// What `flags serve` tells as it goes.
pub trait ServeObserver {
    /// Where each request goes with `--verbose`.
    fn log(&self) -> RequestLog;
    /// The server listens at `addr`, serving `flags` flags as `config` says.
    fn serving(&self, addr: &SocketAddr, config: &ServerConfig, flags: usize);
    /// The server's timeline, of `requests` requests, is written to `path`.
    fn timeline_written(&self, path: &Path, requests: usize);
    /// It could not be.
    fn timeline_failed(&self, path: &Path, error: &std::io::Error);
    /// The server stopped.
    fn stopped(&self);
    /// `--scenario`: `case` is served on `stage`, its CA in `ca`.
    fn scenario(&self, case: &Case, stage: &Stage, ca: &Path);
    /// The scenario's server stopped, having seen `saw`.
    fn scenario_log(&self, saw: &Saw);
}

/// Why `flags serve` failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] server::tls::TlsSetupError),
    #[error("cannot listen on {addr}: {error}{hint}")]
    Listen { addr: SocketAddr, error: std::io::Error, hint: &'static str },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Certs(String),
    #[error(transparent)]
    Record(#[from] serde_json::Error),
    #[error("cannot write {}: {error}", .path.display())]
    Write { path: PathBuf, error: std::io::Error },
}

impl ServeError {
    /// Why the server could not listen on `addr`, with what to try.
    fn listen(error: std::io::Error, addr: SocketAddr) -> ServeError {
        let hint = match error.kind() {
            std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges; --port 0 picks a free one)",
            _ => "",
        };
        ServeError::Listen { addr, error, hint }
    }
}

/// Serves as `config` says until `shutdown` is stopped: its first stop
/// ends accepting and lets the requests in flight finish (within the
/// grace period), then the timeline is written; an abort leaves no file
/// (the CA file made for `--tls` is scratch). A timeline that cannot be
/// written is a failure, as for `flags get`.
pub fn run(config: &ServeConfig, observer: &dyn ServeObserver, shutdown: &Shutdown) -> Result<Exit, ServeError> {
    if let Some(case) = config.scenario {
        return scenario(case, config.addr, config.record.as_deref(), observer, shutdown);
    }
    let mut server = config.server.clone();
    if config.verbose {
        server.log = Some(observer.log());
    }
    if let Some(source) = &config.tls {
        // The made CA file goes when the server does (its key goes with
        // it), or at once on an abort.
        server.tls = Some(shutdown.holding(|| {
            let tls = server::tls::setup(source)?;
            if let Some(ca) = &tls.ca_file {
                shutdown.scratch(ca);
            }
            Ok::<_, ServeError>(tls)
        })?);
    }
    let running = match server::spawn(server.clone(), config.addr) {
        Ok(running) => running,
        // Like a bad argument: exit 2, with the usage line.
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let why = format!(
                "port {} is in use: another server listens on it; --port 0 picks a free one",
                config.addr.port()
            );
            return Ok(Exit::Usage("serve", clap::Error::raw(ErrorKind::ValueValidation, why)));
        }
        Err(e) => return Err(ServeError::listen(e, config.addr)),
    };
    observer.serving(&running.addr(), &server, running.flags());
    // The running server holds the CA file now: it is removed when the
    // server is done.
    drop(server);
    let record = Arc::clone(running.stats().timeline());
    let addr = running.addr();
    let waited = running.serve_until(shutdown);
    let mut exit = Exit::Success;
    if let Some(path) = &config.timeline {
        let doc = record.since(f64::NEG_INFINITY);
        match save::write_output(path, &crate::waterfall::served_file(&doc, path, &addr.to_string())) {
            Ok(()) => observer.timeline_written(path, doc.requests.len()),
            Err(e) => {
                observer.timeline_failed(path, &e);
                exit = Exit::Failure;
            }
        }
    }
    waited?;
    observer.stopped();
    Ok(exit)
}

/// `flags serve --scenario ID`: one exam case on `addr`, until `shutdown`
/// is stopped; then what the server saw, told and, with `--record FILE`,
/// written for `flags exam verdict`. It ends as stopped (only a stop ends
/// it).
fn scenario(
    case: &'static Case,
    addr: SocketAddr,
    record: Option<&Path>,
    observer: &dyn ServeObserver,
    shutdown: &Shutdown,
) -> Result<Exit, ServeError> {
    let certs = Certs::make().map_err(ServeError::Certs)?;
    // An abort removes the CA file, made and registered as one step.
    let ca = shutdown.holding(|| {
        let ca = tempfile::Builder::new().prefix("flags-exam-ca-").suffix(".pem").tempfile()?;
        shutdown.scratch(ca.path());
        std::fs::write(ca.path(), &certs.ca_pem).map(|()| ca)
    })?;
    let mark = outside::scenario_stamp();
    let stage = Stage::start_on(case, &certs, addr, mark.clone()).map_err(|e| ServeError::listen(e, addr))?;
    observer.scenario(case, &stage, ca.path());
    shutdown.wait();
    let other_port = stage.other.port();
    let saw = stage.stop();
    observer.scenario_log(&saw);
    if let Some(path) = record {
        let record = outside::Record { case: case.id.into(), mark, other_port, server: saw };
        save::write_output(path, &serde_json::to_vec_pretty(&record)?)
            .map_err(|error| ServeError::Write { path: path.to_path_buf(), error })?;
    }
    Ok(Exit::Stopped)
}
