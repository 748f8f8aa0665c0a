//! The flag server (`flags serve`): the book's flag site on your own machine,
//! with injectable delays and errors, because a load test belongs on your
//! own server, never a public one.
//!
//! - `config`: labels, delays, sources, [`ServerConfig`]; `stats`: the
//!   counters tests read ([`Stats`]).
//! - [`image`] draws the catalog's images; [`routes`] answers requests;
//!   [`pages`] renders the gallery and listings; [`faults`] says which
//!   fault a request gets and [`body`] produces the faulty bodies;
//!   [`conditional`] handles ETag, Last-Modified and Range.
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
mod config;
pub mod faults;
pub mod image;
pub mod pages;
pub mod routes;
mod stats;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::os::fd::AsRawFd;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;

pub use config::{Delay, Label, LogEntry, RequestLog, ServerConfig, Source};
pub use faults::{FaultKind, FaultPlan, FaultSettings};
pub use stats::Stats;

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

/// The tokio runtime a server runs on: `threads` workers (0: one per core).
pub fn runtime(threads: usize) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if threads > 0 {
        builder.worker_threads(threads);
    }
    builder.thread_name("flags-server").enable_all().build()
}

/// Starts a server on `addr` (port 0 picks a free one) on a thread of its
/// own, with a runtime of `config.threads` workers; returns once it is
/// listening.
pub fn spawn(config: ServerConfig, addr: SocketAddr) -> io::Result<RunningServer> {
    let runtime = runtime(config.threads)?;
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
