//! Listening: the sockets a server listens on (one per thread, sharing a
//! port through `SO_REUSEPORT`; [`bind`] makes one), and the accept loop
//! that hands each connection to [`super::connection`] under the server's
//! cap on open connections. [`run`] is one such loop on the caller's
//! runtime.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::config::{ServerConfig, Source};
use super::connection::serve_connection;
use super::handle::{stopping, Stop};
use super::routes;
use super::stats::Stats;

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
pub(super) fn bind_many(addr: SocketAddr, count: usize) -> io::Result<Vec<std::net::TcpListener>> {
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
pub(super) struct Shared {
    pub(super) config: ServerConfig,
    stats: Arc<Stats>,
    /// One permit per open connection, across all threads.
    pub(super) connections: Arc<Semaphore>,
}

impl Shared {
    pub(super) fn new(config: ServerConfig, stats: Arc<Stats>) -> io::Result<Self> {
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
    pub(super) fn state(&self, threads: usize) -> io::Result<Arc<routes::State>> {
        Ok(Arc::new(routes::State::new(self.config.clone(), Arc::clone(&self.stats), threads)?))
    }
}

/// One accept loop and the connections it accepted, on the current runtime.
pub(super) async fn serve_loop(
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
