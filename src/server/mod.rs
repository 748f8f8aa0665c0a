//! The flag server (`flags serve`): the book's flag site on your own machine,
//! with injectable delays and errors, because a load test belongs on your
//! own server, never a public one.
//!
//! - `config`: labels, delays, sources, [`ServerConfig`]; `stats`: the
//!   counters tests read ([`Stats`]).
//! - [`image`] draws the catalog's images; [`files`] serves `--dir`;
//!   [`routes`] answers requests; [`pages`] renders the gallery and
//!   listings; [`faults`] says which fault a request gets and [`body`]
//!   produces the faulty bodies; [`conditional`] handles ETag,
//!   Last-Modified and Range.
//! - [`spawn`] starts a server on threads of its own, one per core, each
//!   with its own event loop and listening socket (see [`RunningServer`]);
//!   `flags serve`, the demo, the benchmarks and the tests all use it.
//!   [`RunningServer::shutdown`] stops accepting, lets the requests in
//!   flight finish for up to [`ServerConfig::grace`], and returns.
//! - [`run`] is one such loop on the caller's runtime, given a bound
//!   listener and a shutdown future.
//! - [`h1`]: the server's own HTTP/1.1 (HTTP/2 is hyper's), so that a
//!   request held for a delay costs a few KB, not hyper's buffers.
//! - [`lifetime`]: every connection makes progress or is closed (header,
//!   idle and send timeouts, in every protocol).
//! - Nothing a client does ends the server: a connection that fails, is
//!   reset, or goes away is that connection's end only (SIGPIPE stays
//!   ignored, as Rust sets it, so a write to a closed socket is an error).
//!
//! Delays are `tokio::time::sleep`, so they hold no thread: thousands of
//! delayed responses can be in flight. Which requests are delayed how long
//! and which get a 418 is drawn from a hash of (seed, path, how many times
//! that path was asked for), so a given seed reproduces the same run
//! whatever order the requests arrive in.

pub mod body;
pub mod conditional;
pub mod config;
pub mod faults;
pub mod files;
pub mod h1;
pub mod image;
pub mod lifetime;
pub mod pages;
mod peer;
pub mod plan;
pub mod routes;
pub mod stats;
pub mod timeline;
pub mod timeline_page;
pub mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

pub use config::{Delay, Label, LogEntry, RequestLog, ServerConfig, Source};
pub use faults::{FaultKind, FaultPlan, FaultSettings};
use lifetime::{Progress, Verdict};
pub use peer::Peer;
pub use stats::Stats;
pub use tls::{CertSource, ServerTls};

/// The listen backlog: the book's server has 5, which costs clients a 1 s
/// SYN retry under load.
const BACKLOG: i32 = 1024;

/// Binds `count` listening sockets to `addr` with `SO_REUSEPORT`, so the
/// kernel spreads new connections over them (port 0 picks one free port
/// for all of them).
///
/// A port another process listens on is refused (`AddrInUse`), even when
/// that process set `SO_REUSEPORT` too (another `flags serve`): sharing it
/// would split the connections at random between two servers. A socket
/// bound without `SO_REUSEPORT` finds out first.
fn bind_many(addr: SocketAddr, count: usize) -> io::Result<Vec<std::net::TcpListener>> {
    let mut addr = addr;
    {
        let probe = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
        probe.set_reuse_address(true)?;
        probe.bind(&addr.into())?;
        addr = probe.local_addr()?.as_socket().unwrap_or(addr);
    }
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        let listener: std::net::TcpListener = socket.into();
        addr = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Binds `addr` with a listen backlog of 1024, for [`run`]. Needs a tokio runtime.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::from_std(bind_many(addr, 1)?.remove(0))
}

/// Serves HTTP/1.1 (keep-alive) on `listener` until `shutdown` completes,
/// then lets requests in flight finish for up to `config.grace`.
pub async fn run(listener: TcpListener, config: ServerConfig, shutdown: impl std::future::Future) -> io::Result<()> {
    let shared = Shared::new(config, Arc::new(Stats::default()))?;
    let state = shared.state(1)?;
    let (tx, rx) = watch::channel(Stop::Running);
    let watcher = async move {
        shutdown.await;
        let _ = tx.send(Stop::Graceful);
        // Keep the sender alive so the loop sees the value, not a close.
        std::future::pending::<()>().await
    };
    tokio::select! {
        result = serve_loop(listener, state, shared.connections, rx) => result,
        _ = watcher => unreachable!("the watcher never ends"),
    }
}

/// What the threads of one server share: the configuration, the counters
/// and the connection cap. Each thread makes its own [`routes::State`]
/// from it, with its own copies of the files it serves: two threads that
/// share one buffer bounce its reference count between their caches on
/// every request.
#[derive(Clone)]
struct Shared {
    config: ServerConfig,
    stats: Arc<Stats>,
    /// One permit per open connection, across all threads.
    connections: Arc<Semaphore>,
}

impl Shared {
    fn new(config: ServerConfig, stats: Arc<Stats>) -> io::Result<Self> {
        if let Source::Dir(dir) = &config.source {
            // Fail here, once, rather than in every thread.
            dir.canonicalize()?;
        } else {
            // Draw the images off the request path, so the first requests
            // don't pay for it.
            std::thread::spawn(routes::warm_up);
        }
        let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
        Ok(Shared { config, stats, connections })
    }

    /// The state one thread answers requests with; `threads` share the
    /// memory budget of a `--dir` cache.
    fn state(&self, threads: usize) -> io::Result<Arc<routes::State>> {
        Ok(Arc::new(routes::State::new(self.config.clone(), Arc::clone(&self.stats), threads)?))
    }
}

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Running,
    /// Stop accepting; let requests in flight finish within the grace period.
    Graceful,
    /// Stop now.
    Now,
}

/// Completes once `stop` leaves [`Stop::Running`] (or its sender is gone).
async fn stopping(stop: &mut watch::Receiver<Stop>) -> Stop {
    match stop.wait_for(|s| *s != Stop::Running).await {
        Ok(s) => *s,
        Err(_) => Stop::Now,
    }
}

/// One accept loop and the connections it accepted, on the current runtime.
async fn serve_loop(
    listener: TcpListener,
    state: Arc<routes::State>,
    connections: Arc<Semaphore>,
    mut stop: watch::Receiver<Stop>,
) -> io::Result<()> {
    // Each connection holds a sender; when all are dropped, they are all done.
    let (alive, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    let how = loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            how = stopping(&mut stop) => break how,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: back off, keep serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // At the cap, this connection waits unserved and this loop accepts
        // no other: new clients wait in the backlog while established ones
        // keep being served. (Taking the permit before accepting would let
        // a thread whose socket gets no connections hold a permit that
        // another thread's waiting client needs.)
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.expect("never closed"),
            how = stopping(&mut stop) => break how,
        };
        let _ = stream.set_nodelay(true);
        let (state, stop, alive) = (Arc::clone(&state), stop.clone(), alive.clone());
        tokio::spawn(async move {
            let _held = (permit, alive);
            serve_connection(stream, state, stop).await;
        });
    };
    // Stop accepting, then give the requests in flight their grace period.
    drop(listener);
    drop(alive);
    if how == Stop::Graceful {
        let grace = state.config.grace;
        tokio::select! {
            _ = tokio::time::timeout(grace, all_done.recv()) => {}
            _ = stop.wait_for(|s| *s == Stop::Now) => {}
        }
    }
    Ok(())
}

/// The largest request head taken over HTTP/1.1, and the largest header
/// list over HTTP/2; [`routes`] then answers 414 for a long target and 431
/// for too many or too large headers, past which [`h1`] or hyper answers
/// 431 itself.
const MAX_HEAD: usize = 32 << 10;

/// The most HTTP/2 streams a client may have open on one connection. Each
/// stream whose answer cannot be sent (a client that keeps its window at
/// zero) holds about 2.6 KB in hyper's HTTP/2 until the send timeout
/// closes the connection: at 32, 1 000 such connections asking 999 GETs
/// each hold 92 MB (at 100 they held 200 MB). Clients queue the rest, and
/// a stream refused before a client read this limit is sent again.
const MAX_STREAMS: u32 = 32;

/// Serves one accepted connection: TLS first when configured, then
/// HTTP/1.1 or HTTP/2 (chosen by ALPN under TLS, by the client's first
/// bytes in plain text, so h2c with prior knowledge works too), for as long
/// as it makes progress ([`lifetime`]). HTTP/1.1 is the server's own
/// ([`h1`]), HTTP/2 hyper's, boxed, so that the task of an HTTP/1.1
/// connection holds HTTP/1.1's state only.
async fn serve_connection(stream: TcpStream, state: Arc<routes::State>, mut stop: watch::Receiver<Stop>) {
    let peer = Peer::of(&stream);
    let timeouts = state.config.timeouts();
    let progress = Progress::new();
    let tls = state.config.tls.as_ref().map(|t| tokio_rustls::TlsAcceptor::from(Arc::clone(&t.config)));
    // The connection as the server's timeline names it.
    let record = state.stats.timeline();
    let conn =
        routes::ConnSeen { id: record.next_conn(), at_ms: record.ms(std::time::Instant::now()), tls: tls.is_some() };
    // What answers each request, in either protocol.
    let answer = |handshake: Option<Duration>| {
        let (state, progress) = (Arc::clone(&state), Arc::clone(&progress));
        let counted = std::sync::atomic::AtomicBool::new(false);
        move |req: hyper::Request<()>| {
            let held = progress.request();
            // A connection counts from its first request that is not
            // `/stats`: watching the counters does not change them.
            if req.uri().path() != "/stats" && !counted.swap(true, std::sync::atomic::Ordering::Relaxed) {
                state.stats.count_connection(req.version() == hyper::Version::HTTP_2, handshake);
            }
            // Boxed: an HTTP/2 stream's task keeps its future's room while
            // its answer waits to be sent, and the answer is all it needs.
            let answer = Box::pin(routes::handle(Arc::clone(&state), peer, conn, req));
            async move { answer.await.map(|resp| resp.map(|body| held.answer(body))) }
        }
    };
    let Some(acceptor) = tls else {
        let h2 = match tokio::time::timeout(timeouts.header, prior_knowledge(&stream, peer)).await {
            Ok(Ok(h2)) => h2,
            // Silent past the header timeout, or gone.
            _ => return,
        };
        return match h2 {
            false => serve_http1(stream, answer(None), &progress, timeouts, &mut stop).await,
            true => Box::pin(serve_http2(stream, answer(None), &progress, timeouts, &mut stop)).await,
        };
    };
    // Boxed: a TLS connection's state is rustls's, several KB, which a
    // plain connection's task need not make room for.
    Box::pin(async {
        let started = std::time::Instant::now();
        let stream = match tokio::time::timeout(timeouts.header, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            // A failed or slow handshake is that client's end only.
            _ => return,
        };
        let handshake = Some(started.elapsed());
        match stream.get_ref().1.alpn_protocol() == Some(b"h2") {
            false => serve_http1(stream, answer(handshake), &progress, timeouts, &mut stop).await,
            true => serve_http2(stream, answer(handshake), &progress, timeouts, &mut stop).await,
        }
    })
    .await
}

/// HTTP/1.1 on `io`, the server's own ([`h1`]).
async fn serve_http1<IO, A, F>(
    io: IO,
    answer: A,
    progress: &Progress,
    timeouts: lifetime::Timeouts,
    stop: &mut watch::Receiver<Stop>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    A: FnMut(hyper::Request<()>) -> F,
    F: std::future::Future<Output = io::Result<hyper::Response<lifetime::Tracked>>>,
{
    let closing = h1::Closing::default();
    let conn = h1::serve(io, &closing, MAX_HEAD, answer);
    supervise(conn, |_| closing.begin(), progress, timeouts, stop).await;
}

/// HTTP/2 on `io`, hyper's.
async fn serve_http2<IO, A, F>(
    io: IO,
    answer: A,
    progress: &Progress,
    timeouts: lifetime::Timeouts,
    stop: &mut watch::Receiver<Stop>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    A: Fn(hyper::Request<()>) -> F + Send + 'static,
    F: std::future::Future<Output = io::Result<hyper::Response<lifetime::Tracked>>> + Send + 'static,
{
    // The request's body is never read (only GET and HEAD are answered):
    // dropped now, so that a held request keeps none of hyper's buffers.
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| answer(req.map(|_| ())));
    let conn = http2().serve_connection(TokioIo::new(io), service);
    supervise(conn, |c| c.graceful_shutdown(), progress, timeouts, stop).await;
}

/// hyper's HTTP/2 connection as the server runs it.
fn http2() -> hyper::server::conn::http2::Builder<TokioExecutor> {
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEAD as u32)
        .max_send_buf_size(64 << 10);
    builder
}

/// What a plain-text client speaks: `true` when its first bytes are
/// HTTP/2's connection preface (h2c with prior knowledge), `false` as soon
/// as they cannot be. Peeks, so the connection reads the bytes again. A client that
/// has sent only part of the preface is peeked at again after 1 ms, then
/// 2, 4, ... up to 50 ms (a peek sees the same bytes until more come, so
/// it cannot wait for them), until the caller's header timeout; one that
/// has closed its end meanwhile is handed to HTTP/1.1, which reads the end.
async fn prior_knowledge(stream: &TcpStream, peer: Peer) -> io::Result<bool> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut seen = [0u8; PREFACE.len()];
    let mut pause = Duration::from_millis(1);
    loop {
        let n = stream.peek(&mut seen).await?;
        if n == 0 || seen[..n] != PREFACE[..n] {
            // A client that closed at once, or HTTP/1.1: [`h1`]'s to answer.
            return Ok(false);
        }
        if n == PREFACE.len() {
            return Ok(true);
        }
        if peer.gone() {
            return Ok(false);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Drives `conn` for as long as its [`Progress`] allows: closed (dropped)
/// when the verdict says so, let go politely (`shut`: GOAWAY, or close
/// when idle) when idle or when the server stops, and then given until
/// the send timeout to finish.
async fn supervise<F: std::future::Future>(
    conn: F,
    shut: impl Fn(std::pin::Pin<&mut F>),
    progress: &Progress,
    timeouts: lifetime::Timeouts,
    stop: &mut watch::Receiver<Stop>,
) {
    tokio::pin!(conn);
    let mut shutting = false;
    let mut let_go_by = None;
    loop {
        let wait = match progress.verdict(timeouts) {
            Verdict::Close(_) => return,
            Verdict::GoAway(_) if !shutting => {
                shut(conn.as_mut());
                shutting = true;
                let_go_by = Some(tokio::time::Instant::now() + timeouts.send);
                continue;
            }
            Verdict::GoAway(_) => timeouts.send,
            Verdict::Wait(wait) => wait,
        };
        let wait = match let_go_by {
            Some(by) if tokio::time::Instant::now() >= by => return,
            Some(by) => wait.min(by - tokio::time::Instant::now()),
            None => wait,
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = progress.wake.notified() => {}
            _ = stopping(stop), if !shutting => {
                shut(conn.as_mut());
                shutting = true;
            }
        }
    }
}

/// A server running on threads of its own. Dropping it stops it at once;
/// [`RunningServer::shutdown`] stops it gracefully.
///
/// Each thread runs a single-threaded tokio runtime with its own listening
/// socket on the shared port (`SO_REUSEPORT`): the kernel spreads the
/// connections and a connection stays on the thread that accepted it, as
/// with nginx's worker processes. A multi-threaded runtime moved
/// connections between threads and served a third fewer requests per
/// second under `wrk -c64` on two cores.
pub struct RunningServer {
    addr: SocketAddr,
    tls: Option<ServerTls>,
    flags: usize,
    stats: Arc<Stats>,
    stop: StopHandle,
    threads: Vec<std::thread::JoinHandle<io::Result<()>>>,
}

/// Stops a [`RunningServer`] from another thread (a signal handler's).
#[derive(Clone)]
pub struct StopHandle(Arc<watch::Sender<Stop>>);

impl StopHandle {
    /// Stop accepting; let the requests in flight finish within the grace period.
    pub fn graceful(&self) {
        self.0.send_if_modified(|s| {
            let was = *s;
            if was == Stop::Running {
                *s = Stop::Graceful;
            }
            was == Stop::Running
        });
    }

    /// Stop now, dropping whatever is in flight.
    pub fn now(&self) {
        let _ = self.0.send(Stop::Now);
    }
}

impl RunningServer {
    /// The address it listens on (with the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of its flags: `http://127.0.0.1:PORT/flags`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/flags", self.addr)
    }

    /// [`RunningServer::base_url`], parsed.
    pub fn base(&self) -> crate::http::BaseUrl {
        self.base_url().parse().expect("a socket address makes a valid URL")
    }

    /// With TLS and a certificate made at start: the file of the CA that
    /// signed it (it lasts as long as the server).
    pub fn ca_file(&self) -> Option<std::path::PathBuf> {
        self.tls.as_ref()?.ca_file.as_ref().map(|ca| ca.to_path_buf())
    }

    /// Its request counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// How many flags it serves: the catalog's 194, or the images found in `--dir`.
    pub fn flags(&self) -> usize {
        self.flags
    }

    /// What stops it from elsewhere.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Stops accepting, lets the requests in flight finish (within the
    /// configured grace period), and waits for its threads.
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop.graceful();
        self.join()
    }

    /// Waits until it has been stopped (through a [`StopHandle`]) and its
    /// threads are done.
    pub fn wait(mut self) -> io::Result<()> {
        self.join()
    }

    fn join(&mut self) -> io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads.drain(..) {
            match thread.join() {
                Ok(Err(e)) if result.is_ok() => result = Err(e),
                Err(_) if result.is_ok() => result = Err(io::Error::other("a server thread panicked")),
                _ => {}
            }
        }
        result
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop.now();
        let _ = self.join();
    }
}

/// Starts a server on `addr` (port 0 picks a free one) on `config.threads`
/// threads (0: one per core); returns once it is listening.
pub fn spawn(config: ServerConfig, addr: SocketAddr) -> io::Result<RunningServer> {
    let count = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let listeners = bind_many(addr, count)?;
    let addr = listeners[0].local_addr()?;
    let stats = Arc::new(Stats::default());
    let shared = Shared::new(config, Arc::clone(&stats))?;
    let flags = shared.state(1)?.codes().len();
    let tls = shared.config.tls.clone();
    let (stop, stopped) = watch::channel(Stop::Running);
    let mut threads = Vec::with_capacity(count);
    for (i, listener) in listeners.into_iter().enumerate() {
        let (state, connections, stopped) = (shared.state(count)?, Arc::clone(&shared.connections), stopped.clone());
        let thread = std::thread::Builder::new().name(format!("flags-server-{i}")).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let result = runtime.block_on(async move {
                let listener = TcpListener::from_std(listener)?;
                serve_loop(listener, state, connections, stopped).await
            });
            // Connections still open (a stalled request) end here.
            runtime.shutdown_background();
            result
        })?;
        threads.push(thread);
    }
    Ok(RunningServer { addr, tls, flags, stats, stop: StopHandle(Arc::new(stop)), threads })
}
