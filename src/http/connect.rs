//! Opening connections without overwhelming a server's listen queue.
//!
//! A server that is slow to accept (Python's `http.server` queues 5
//! connections) drops the SYNs that find its queue full. The kernel sends
//! each one again after 1 s, then 3 s, then 7 s, all at the same moments,
//! and only a handful fit each time: with 100 requests at once, dozens ran
//! into the 10 s timeout although the server was idle most of that time.
//!
//! So each client keeps, per host, a **connect window**, as TCP keeps a
//! congestion window. Once a connection to the host has opened fast
//! ([`FAST`]), a connect still pending after [`patience`](Host::patience)
//! (at least [`MIN_PATIENCE`], and eight times the fastest seen) means its
//! SYN was dropped: it is abandoned and tried again after a short random
//! pause, and the window of connects allowed in progress at once is halved.
//! Each fast connect widens it again by one. A server that accepts
//! promptly (`flags serve`, nginx, any keep-alive server) never sees a
//! difference; the requests themselves are never limited, only how many
//! new connections are being opened at a time.
//!
//! [`open_blocking`] and [`open`] are the two drivers' ways in: they watch
//! a pending connect in short steps, so one that started before the host
//! had shown its speed is still abandoned in time.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::proto::attempt::TryError;
use crate::proto::error::{ConnectError, FetchError, IoFailure};

/// A connect this fast shows the host answers SYNs at once.
pub const FAST: Duration = Duration::from_millis(50);

/// The least time a connect is given before it is abandoned.
pub const MIN_PATIENCE: Duration = Duration::from_millis(250);

/// The per-host connect windows of one client.
#[derive(Debug, Default)]
pub struct Hosts {
    hosts: Mutex<HashMap<(String, u16), Arc<Host>>>,
}

impl Hosts {
    /// The window of `host:port`.
    pub fn get(&self, host: &str, port: u16) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(hosts.entry((host.to_string(), port)).or_default())
    }
}

/// One host's connects in progress and how many may be.
#[derive(Debug, Default)]
pub struct Host {
    state: Mutex<State>,
    /// Wakes blocking callers waiting for room in the window.
    room: Condvar,
    /// Wakes async callers waiting for room in the window.
    notify: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct State {
    connecting: usize,
    /// `None` until a SYN was dropped: no limit.
    window: Option<usize>,
    fastest: Option<Duration>,
}

/// How a connect attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialed {
    /// It opened, taking this long.
    Opened(Duration),
    /// It was abandoned after [`Host::patience`]: a dropped SYN.
    Abandoned,
    /// It failed otherwise (refused, unreachable).
    Failed,
}

impl State {
    fn has_room(&self) -> bool {
        self.window.is_none_or(|w| self.connecting < w)
    }
}

impl Host {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long a connect may be pending before it is abandoned; `None`
    /// (wait the whole connect timeout) until one connect has shown how
    /// fast this host answers.
    pub fn patience(&self) -> Option<Duration> {
        let fastest = self.lock().fastest?;
        (fastest <= FAST).then(|| MIN_PATIENCE.max(fastest * 8))
    }

    /// Takes a place in the window, waiting (blocking) until `deadline` at
    /// most; false if the deadline passed first.
    pub fn enter_blocking(&self, deadline: Instant) -> bool {
        let mut state = self.lock();
        while !state.has_room() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self.room.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        state.connecting += 1;
        true
    }

    /// Takes a place in the window, waiting as long as it takes (the caller
    /// bounds it with a timeout).
    pub async fn enter(&self) {
        loop {
            let notified = self.notify.notified();
            {
                let mut state = self.lock();
                if state.has_room() {
                    state.connecting += 1;
                    return;
                }
            }
            notified.await;
        }
    }

    /// Gives the place back and learns from how the attempt ended.
    pub fn leave(&self, attempt: Dialed) {
        let mut state = self.lock();
        state.connecting -= 1;
        match attempt {
            Dialed::Opened(took) => {
                state.fastest = Some(state.fastest.map_or(took, |f| f.min(took)));
                if took <= FAST {
                    state.window = state.window.map(|w| w + 1).filter(|&w| w < 1000);
                }
            }
            Dialed::Abandoned => {
                let base = state.window.unwrap_or(state.connecting + 1);
                state.window = Some((base / 2).max(2));
            }
            Dialed::Failed => {}
        }
        drop(state);
        self.room.notify_all();
        self.notify.notify_waiters();
    }
}

/// The environment variable that makes lookups of one name never answer:
/// a test hook, so that a test can show a hung resolver ended by the
/// request's deadline and by Ctrl-C. Nothing else reads it.
pub const HANG_LOOKUP_ENV: &str = "FLAGS_TEST_HANG_LOOKUP";

/// The addresses of the name `host` at `port`, from the system's resolver
/// (which blocks, for as long as it takes).
fn lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if std::env::var_os(HANG_LOOKUP_ENV).is_some_and(|name| name == host) {
        loop {
            std::thread::park();
        }
    }
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port)).map(Iterator::collect)
}

/// `host:port` when the host is an IP address: nothing to look up.
fn literal(host: &str, port: u16) -> Option<SocketAddr> {
    host.parse::<std::net::IpAddr>().ok().map(|ip| SocketAddr::new(ip, port))
}

/// [`lookup`] within `deadline` for a blocking caller. A name is looked up
/// on a thread of its own, so that the wait ends at the deadline
/// (`TimedOut`) or when `stopped` says so (Ctrl-C), even when the resolver
/// never answers; that thread is then left to finish alone.
pub(crate) fn resolve_blocking(
    host: &str,
    port: u16,
    deadline: Instant,
    stopped: &dyn Fn() -> bool,
) -> io::Result<Vec<SocketAddr>> {
    if let Some(addr) = literal(host, port) {
        return Ok(vec![addr]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new().name("flags-lookup".into()).spawn(move || {
        let _ = tx.send(lookup(&name, port));
    })?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        match rx.recv_timeout(left.min(STEP)) {
            Ok(found) => return found,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if stopped() => {
                return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "stopped"))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(io::ErrorKind::Other.into()),
        }
    }
}

/// [`lookup`] for an async caller, on tokio's blocking threads; the caller
/// bounds it with its deadline, and a cancel drops it.
pub(crate) async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Some(addr) = literal(host, port) {
        return Ok(vec![addr]);
    }
    let name = host.to_string();
    tokio::task::spawn_blocking(move || lookup(&name, port)).await.map_err(|_| io::Error::from(io::ErrorKind::Other))?
}

/// What a failed lookup of `host` means: a timeout, a stop, or a name the
/// resolver does not know.
pub(crate) fn lookup_failed(host: &str, e: io::Error) -> TryError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::ConnectionAborted => TryError::io(e, false),
        _ => FetchError::Connect(ConnectError::Resolve { host: host.to_string(), why: IoFailure::from(&e) }).into(),
    }
}

/// The failure of connecting to `host` when no address opened: the last
/// address's error, or that there was none.
pub(crate) fn none_opened(host: &str, last: Option<io::Error>) -> TryError {
    match last {
        Some(e) => TryError::io(e, false),
        None => FetchError::Connect(ConnectError::NoAddress { host: host.to_string() }).into(),
    }
}

/// How often a pending connect is looked at.
const STEP: Duration = Duration::from_millis(25);

/// A place in a host's window, given back when dropped (a connect whose
/// future is dropped counts as failed).
struct Place<'a> {
    host: &'a Host,
    attempt: Dialed,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.host.leave(self.attempt);
    }
}

/// What an attempt's result teaches the window.
fn lesson(result: &io::Result<impl Sized>, started: Instant) -> Dialed {
    match result {
        Ok(_) => Dialed::Opened(started.elapsed()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Dialed::Abandoned,
        Err(_) => Dialed::Failed,
    }
}

/// Opens a blocking TCP connection to `addr` within `deadline`, through
/// `host`'s window: abandoned connects (dropped SYNs) are tried again.
/// `stopped` ends the wait early (Ctrl-C).
pub fn open_blocking(
    host: &Host,
    addr: SocketAddr,
    deadline: Instant,
    stopped: &dyn Fn() -> bool,
) -> io::Result<TcpStream> {
    loop {
        if !host.enter_blocking(deadline) {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let mut place = Place { host, attempt: Dialed::Failed };
        let started = Instant::now();
        let result = attempt_blocking(host, addr, started, deadline, stopped);
        place.attempt = lesson(&result, started);
        drop(place);
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => std::thread::sleep(pause()),
            other => return other,
        }
    }
}

/// One connect: non-blocking, polled in steps; `Interrupted` if abandoned.
fn attempt_blocking(
    host: &Host,
    addr: SocketAddr,
    started: Instant,
    deadline: Instant,
    stopped: &dyn Fn() -> bool,
) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if crate::os::connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let ready = match crate::os::wait_writable(socket.as_raw_fd(), left.min(STEP).as_millis() as u64) {
            Ok(ready) => ready,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if ready > 0 {
            if let Some(e) = socket.take_error()? {
                return Err(e);
            }
            socket.set_nonblocking(false)?;
            return Ok(socket.into());
        }
        if stopped() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "stopped"));
        }
        if host.patience().is_some_and(|p| started.elapsed() >= p) {
            return Err(io::ErrorKind::Interrupted.into());
        }
    }
}

/// Opens a tokio TCP connection to `addr` through `host`'s window, as
/// [`open_blocking`] does; the caller bounds it with its deadline.
pub async fn open(host: &Host, addr: SocketAddr) -> io::Result<tokio::net::TcpStream> {
    loop {
        host.enter().await;
        let mut place = Place { host, attempt: Dialed::Failed };
        let started = Instant::now();
        let result = attempt(host, addr, started).await;
        place.attempt = lesson(&result, started);
        drop(place);
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => tokio::time::sleep(pause()).await,
            other => return other,
        }
    }
}

/// One async connect, looked at every step; `Interrupted` if abandoned.
async fn attempt(host: &Host, addr: SocketAddr, started: Instant) -> io::Result<tokio::net::TcpStream> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    let connecting = socket.connect(addr);
    tokio::pin!(connecting);
    loop {
        tokio::select! {
            result = &mut connecting => return result,
            _ = tokio::time::sleep(STEP) => {
                if host.patience().is_some_and(|p| started.elapsed() >= p) {
                    return Err(io::ErrorKind::Interrupted.into());
                }
            }
        }
    }
}

/// A short random pause before trying a dropped SYN again, so that the
/// tries spread out instead of arriving together.
pub fn pause() -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new().build_hasher().finish();
    Duration::from_millis(10 + r % 90)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_halves_on_a_dropped_syn_and_widens_on_fast_connects() {
        let host = Host::default();
        assert_eq!(host.patience(), None, "nothing known yet");
        let far = Instant::now() + Duration::from_secs(1);
        for _ in 0..10 {
            assert!(host.enter_blocking(far));
        }
        host.leave(Dialed::Opened(Duration::from_micros(200)));
        assert_eq!(host.patience(), Some(MIN_PATIENCE));
        host.leave(Dialed::Abandoned);
        assert_eq!(host.lock().window, Some(4), "8 were connecting, plus this one: 9 / 2");
        assert_eq!(host.lock().connecting, 8);
        assert!(!host.enter_blocking(Instant::now() + Duration::from_millis(20)), "no room now");
        for _ in 0..5 {
            host.leave(Dialed::Opened(Duration::from_micros(200)));
        }
        assert_eq!(host.lock().window, Some(9));
        assert!(host.enter_blocking(far), "room again");
    }

    #[test]
    fn a_slow_host_is_given_the_whole_timeout() {
        let host = Host::default();
        assert!(host.enter_blocking(Instant::now() + Duration::from_secs(1)));
        host.leave(Dialed::Opened(Duration::from_millis(180)));
        assert_eq!(host.patience(), None, "an internet host's connects are not abandoned");
    }
}
