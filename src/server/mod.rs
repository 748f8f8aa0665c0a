//! The flag server (`flags serve`): the book's flag site on your own machine,
//! with injectable delays and errors, because a load test belongs on your
//! own server, never a public one.
//!
//! - [`image`] draws the catalog's images; [`routes`] answers requests.
//! - [`run`] is the accept loop: it takes a bound listener and a shutdown
//!   future, so tests bind `127.0.0.1:0` and the CLI passes Ctrl-C.
//! - [`spawn`] starts a server on a background thread with its own tokio
//!   runtime, for the demo, benchmarks and tests; dropping it stops it.
//!
//! Delays are `tokio::time::sleep`, so they hold no thread: thousands of
//! delayed responses can be in flight. Which requests are delayed how long
//! and which get a 418 is drawn from a hash of (seed, path, how many times
//! that path was asked for), so a given seed reproduces the same run
//! whatever order the requests arrive in.

pub mod body;
pub mod conditional;
pub mod faults;
pub mod image;
pub mod pages;
pub mod routes;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::os::fd::AsRawFd;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;

pub use faults::{FaultKind, FaultPlan, FaultSettings};

/// The book's servers, by the names `-s/--server` and `--label` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// http://localhost:8000/flags, no delay.
    Local,
    /// http://localhost:8001/flags, delay uniform 0.5..5 s (`slow_server.py`).
    Delay,
    /// http://localhost:8002/flags, 0.5 s delay, 25% 418s.
    Error,
    /// https://www.fluentpython.com/data/flags, the book's public site.
    Remote,
}

impl Label {
    /// The base URL a client uses for this label.
    pub fn base_url(self) -> &'static str {
        match self {
            Label::Local => "http://localhost:8000/flags",
            Label::Delay => "http://localhost:8001/flags",
            Label::Error => "http://localhost:8002/flags",
            Label::Remote => "https://www.fluentpython.com/data/flags",
        }
    }

    /// The port `flags serve --label` listens on (none for `REMOTE`).
    pub fn port(self) -> Option<u16> {
        match self {
            Label::Local => Some(8000),
            Label::Delay => Some(8001),
            Label::Error => Some(8002),
            Label::Remote => None,
        }
    }

    /// Delay and error rate of the book's server for this label.
    pub fn behaviour(self) -> (Delay, f64) {
        match self {
            Label::Local | Label::Remote => (Delay::NONE, 0.0),
            Label::Delay => (Delay::range(0.5, 5.0), 0.0),
            Label::Error => (Delay::fixed(0.5), 0.25),
        }
    }

    /// The label's name in upper case, as the book prints it.
    pub fn name(self) -> &'static str {
        match self {
            Label::Local => "LOCAL",
            Label::Delay => "DELAY",
            Label::Error => "ERROR",
            Label::Remote => "REMOTE",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "LOCAL" => Ok(Label::Local),
            "DELAY" => Ok(Label::Delay),
            "ERROR" => Ok(Label::Error),
            "REMOTE" => Ok(Label::Remote),
            _ => Err(format!("unknown server label {s:?} (expected LOCAL, DELAY, ERROR, REMOTE or an http(s):// URL)")),
        }
    }
}

/// A response delay: fixed, or uniform between `min` and `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay {
    pub min: Duration,
    pub max: Duration,
}

impl Delay {
    /// No delay.
    pub const NONE: Delay = Delay { min: Duration::ZERO, max: Duration::ZERO };

    /// Always `secs` seconds.
    pub fn fixed(secs: f64) -> Self {
        let d = Duration::from_secs_f64(secs);
        Delay { min: d, max: d }
    }

    /// Uniform between `min` and `max` seconds.
    pub fn range(min: f64, max: f64) -> Self {
        Delay { min: Duration::from_secs_f64(min), max: Duration::from_secs_f64(max) }
    }

    /// The delay for a uniform draw `u` in [0, 1).
    pub fn at(&self, u: f64) -> Duration {
        self.min + (self.max - self.min).mul_f64(u)
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{:.2} s", self.min.as_secs_f64())
        } else {
            write!(f, "{:.2}..{:.2} s", self.min.as_secs_f64(), self.max.as_secs_f64())
        }
    }
}

impl FromStr for Delay {
    type Err = String;
    /// `0.35` or `0.5..5` (seconds).
    fn from_str(s: &str) -> Result<Self, String> {
        let secs = |t: &str| -> Result<f64, String> {
            match t.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(v),
                _ => Err(format!("invalid delay {t:?}: expected seconds between 0 and 3600, e.g. 0.35 or 0.5..5")),
            }
        };
        match s.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (secs(a)?, secs(b)?);
                if a > b {
                    return Err(format!("invalid delay {s:?}: the minimum is larger than the maximum"));
                }
                Ok(Delay::range(a, b))
            }
            None => secs(s).map(Delay::fixed),
        }
    }
}

/// What the server serves.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The 194 catalog flags, drawn by [`image`].
    Catalog,
    /// A directory laid out like the unpacked `flags.zip`: `DIR/{cc}/{cc}.gif`.
    Dir(PathBuf),
}

/// One answered request, for the request log (`flags serve -v`).
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    /// The status sent (0 if the connection was dropped without an answer).
    pub status: u16,
    /// The fault injected, if any (`418`, `reset`, ...).
    pub fault: Option<String>,
}

/// Where the server reports each request; the binary passes a printer.
#[derive(Clone)]
pub struct RequestLog(pub Arc<dyn Fn(&LogEntry) + Send + Sync>);

impl RequestLog {
    fn log(&self, entry: &LogEntry) {
        (self.0)(entry)
    }
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestLog")
    }
}

/// How a server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub source: Source,
    /// Delay before each flag API response.
    pub delay: Delay,
    /// Share of flag API requests answered `418 I'm a Teapot`.
    pub error_rate: f64,
    /// Faults injected into image requests.
    pub faults: FaultPlan,
    /// Sizes of the faults that have one.
    pub fault_settings: FaultSettings,
    /// Seed for the delay, error and fault draws.
    pub seed: u64,
    /// The label this server plays, if any (shown on the index page).
    pub label: Option<Label>,
    /// Most connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Time a client has to send its request headers (slowloris guard).
    pub header_timeout: Duration,
    /// Called for every request, if set.
    pub log: Option<RequestLog>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            source: Source::Catalog,
            delay: Delay::NONE,
            error_rate: 0.0,
            faults: FaultPlan::default(),
            fault_settings: FaultSettings::default(),
            seed: 0,
            label: None,
            max_connections: 10_000,
            header_timeout: Duration::from_secs(10),
            log: None,
        }
    }
}

/// Counters a running server keeps; tests use them to check clients.
#[derive(Debug)]
pub struct Stats {
    requests: AtomicU64,
    teapots: AtomicU64,
    /// Requests per flag API URL: two per two-letter code (image, metadata).
    asked: Vec<AtomicU64>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            requests: AtomicU64::new(0),
            teapots: AtomicU64::new(0),
            asked: (0..26 * 26 * 2).map(|_| AtomicU64::new(0)).collect(),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }
}

impl Stats {
    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with an injected `418 I'm a Teapot`.
    pub fn teapots(&self) -> u64 {
        self.teapots.load(Ordering::SeqCst)
    }

    /// The most times any one flag URL was requested.
    pub fn most_asked(&self) -> u64 {
        self.asked.iter().map(|n| n.load(Ordering::SeqCst)).max().unwrap_or(0)
    }

    /// Counts a request for the image (or metadata) of `cc`, two lower-case
    /// letters, and says which request of that URL it was (1, 2, ...).
    pub(crate) fn nth(&self, cc: &str, image: bool) -> u64 {
        let b = cc.as_bytes();
        let slot = ((b[0] - b'a') as usize * 26 + (b[1] - b'a') as usize) * 2 + image as usize;
        self.asked[slot].fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn count_teapot(&self) {
        self.teapots.fetch_add(1, Ordering::SeqCst);
    }

    /// The most requests that were being answered at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(self))
    }
}

/// Counts a request as in flight until dropped.
pub(crate) struct InFlight(Arc<Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Binds `addr` with a listen backlog of 1024 (the book's server has 5,
/// which costs clients a 1 s SYN retry under load). Needs a tokio runtime.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Serves HTTP/1.1 (keep-alive) on `listener` until `shutdown` completes.
pub async fn run(listener: TcpListener, config: ServerConfig, shutdown: impl std::future::Future) -> io::Result<()> {
    run_with_stats(listener, config, Arc::new(Stats::default()), shutdown).await
}

async fn run_with_stats(
    listener: TcpListener,
    config: ServerConfig,
    stats: Arc<Stats>,
    shutdown: impl std::future::Future,
) -> io::Result<()> {
    let state = Arc::new(routes::State::new(config, stats));
    if state.config.source == Source::Catalog {
        // Draw the images off the request path, so the first requests
        // don't pay for it.
        let warm = Arc::clone(&state);
        tokio::task::spawn_blocking(move || warm.warm_up());
    }
    let connections = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        // At the cap, stop accepting: new clients wait in the backlog while
        // established ones keep being served.
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.expect("never closed"),
            _ = &mut shutdown => return Ok(()),
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => return Ok(()),
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: back off, keep serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let fd = stream.as_raw_fd();
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let _permit = permit;
            let header_timeout = state.config.header_timeout;
            let service = service_fn(move |req| routes::handle(Arc::clone(&state), fd, req));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(16 * 1024)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A server running on a background thread; dropping it shuts it down.
pub struct RunningServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on (with the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of its flags: `http://127.0.0.1:PORT/flags`.
    pub fn base_url(&self) -> String {
        format!("http://{}/flags", self.addr)
    }

    /// Its request counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts a server on `addr` (port 0 picks a free one) on a thread of its
/// own, with a two-thread tokio runtime; returns once it is listening.
pub fn spawn(config: ServerConfig, addr: SocketAddr) -> io::Result<RunningServer> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("flags-server")
        .enable_all()
        .build()?;
    let listener = runtime.block_on(async { bind(addr) })?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_stats = Arc::clone(&stats);
    let thread = std::thread::Builder::new().name("flags-server-main".into()).spawn(move || {
        let _ = runtime.block_on(run_with_stats(listener, config, server_stats, stopped));
        runtime.shutdown_background();
    })?;
    Ok(RunningServer { addr, stats, stop: Some(stop), thread: Some(thread) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_parse() {
        assert_eq!("0.35".parse::<Delay>().unwrap(), Delay::fixed(0.35));
        assert_eq!("0.5..5".parse::<Delay>().unwrap(), Delay::range(0.5, 5.0));
        assert!("-1".parse::<Delay>().is_err());
        assert!("5..1".parse::<Delay>().is_err());
        assert!("x".parse::<Delay>().is_err());
    }

    #[test]
    fn labels_parse_case_insensitively() {
        assert_eq!("delay".parse::<Label>().unwrap(), Label::Delay);
        assert_eq!(Label::Error.behaviour(), (Delay::fixed(0.5), 0.25));
        assert_eq!(Label::Local.port(), Some(8000));
        assert!("NOWHERE".parse::<Label>().is_err());
    }
}
