//! A server running on threads of its own ([`spawn`], [`RunningServer`]):
//! what `flags serve`, the demo, the benchmarks and the tests start.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::config::ServerConfig;
use super::handle::{Stop, StopHandle};
use super::listen::{bind_many, serve_loop, Shared};
use super::stats::Stats;
use super::tls::ServerTls;

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
    /// It serves the catalog's drawn images (not `--dir`'s files).
    catalog: bool,
    stats: Arc<Stats>,
    stop: StopHandle,
    threads: Vec<std::thread::JoinHandle<io::Result<()>>>,
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

    /// Returns once every image it serves from the catalog is drawn. They
    /// are drawn on a thread of their own from the start, or by the first
    /// request for each; a comparison waits for them first, so that its
    /// first leg does not pay for the drawing the later legs are spared.
    pub fn warm(&self) {
        if self.catalog {
            super::routes::warm_up();
        }
    }

    /// Serves until `shutdown` is stopped: then it stops accepting, lets
    /// the requests in flight finish (within the grace period) and waits
    /// for its threads; an abort ends the process without waiting.
    pub fn serve_until(self, shutdown: &crate::shutdown::Shutdown) -> io::Result<()> {
        let stop = self.stop.clone();
        shutdown.step(move || stop.graceful(), || {}, || self.wait())
    }

    /// Stops accepting, lets the requests in flight finish (within the
    /// configured grace period), and waits for its threads.
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop.graceful();
        self.join()
    }

    /// Waits until it has been stopped and its threads are done.
    fn wait(mut self) -> io::Result<()> {
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
    let catalog = matches!(shared.config.source, super::config::Source::Catalog);
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
    Ok(RunningServer { addr, tls, flags, catalog, stats, stop: StopHandle::new(stop), threads })
}
