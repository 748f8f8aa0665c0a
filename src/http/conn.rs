//! What both clients' connections share: time limits, the receive buffer,
//! the registry that lets Ctrl-C end blocking reads, and the look at a
//! socket between answers that decides whether a connection is reused.

use std::io;
use std::net::TcpStream;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::{from_io, FetchError};
use super::policy;
use super::trace::{self, Stamp};
use super::url::{BaseUrl, Scheme};
use super::wire::{Framing, WireError};

/// The largest response head either client takes.
pub const MAX_HEAD: usize = 32 << 10;

/// Longest wait for a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The bytes a connection reads at a time.
const BUF_SIZE: usize = 16 << 10;

/// Which connections can serve a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Key {
    pub(crate) fn of(base: &BaseUrl) -> Self {
        Key { scheme: base.scheme, host: base.host.clone(), port: base.port }
    }
}

/// A request that failed: why, and whether it may go once more on a new
/// connection (the exchange decides, see `exchange`).
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) error: FetchError,
    resend: bool,
}

impl Failed {
    /// A socket failure, after (`answered`) or before any byte of an answer.
    pub(crate) fn io(e: io::Error, answered: bool) -> Self {
        Failed { error: from_io(e, answered), resend: false }
    }

    /// This failure, to be sent once more on a new connection.
    pub(crate) fn resent(self) -> Self {
        Failed { resend: true, ..self }
    }

    /// Whether the request goes once more on a new connection.
    pub(crate) fn resend(&self) -> bool {
        self.resend
    }
}

impl From<FetchError> for Failed {
    fn from(error: FetchError) -> Self {
        Failed { error, resend: false }
    }
}

/// Time left before `deadline`, or the timeout it is.
pub(crate) fn remaining(deadline: Instant, answered: bool) -> Result<Duration, Failed> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(FetchError::Timeout { answered }.into());
    }
    Ok(left)
}

/// How long a read of an answer may wait: the stall time, never past
/// `deadline`. Past the deadline it is zero: nothing more is waited for,
/// but what has already arrived is still taken (at most `--max-size` of
/// it, as always). So an answer that came in time does not fail because
/// this process looked late: the async style's event loop, kept busy by
/// `--work`, or a thread starved of CPU, can come back to a socket after
/// its request's deadline with the whole answer waiting in it.
pub(crate) fn answer_wait(deadline: Instant, stall: Duration) -> Duration {
    deadline.saturating_duration_since(Instant::now()).min(stall)
}

/// Awaits `io` for at most `wait`; `None` if it did not finish. When the
/// wait is over (or zero: [`answer_wait`] past the deadline) there is one
/// last look: once the runtime has polled its I/O driver, so that bytes
/// that came while this thread was busy are known (and the tasks that read
/// them, such as an HTTP/2 connection's, have run), `io` is polled once,
/// outside tokio's budget. A timer that fires while the loop computes thus
/// never beats an answer that was already there.
pub(crate) async fn within<F: std::future::Future>(wait: Duration, io: F) -> Option<F::Output> {
    use futures_util::FutureExt;
    let mut io = std::pin::pin!(io);
    if !wait.is_zero() {
        if let Ok(done) = tokio::time::timeout(wait, io.as_mut()).await {
            return Some(done);
        }
    }
    tokio::task::yield_now().await;
    tokio::task::unconstrained(io).now_or_never()
}

/// What a connection runs on (a TCP stream, or TLS over one), as the pool
/// needs to know it.
pub(crate) trait Transport {
    /// The TCP socket under it.
    fn raw_fd(&self) -> RawFd;
    /// Whether TLS runs on it.
    fn is_tls(&self) -> bool;
}

/// One connection of either client and what it has received.
pub(crate) struct Conn<S> {
    /// The server it is connected to.
    pub(crate) key: Key,
    pub(crate) stream: S,
    pub(crate) buf: Buf,
    /// Its id and when it was ready, for traces.
    pub(crate) id: u64,
    pub(crate) opened: Stamp,
    /// Requests it has carried.
    pub(crate) requests: u32,
}

impl<S: Transport> Conn<S> {
    /// What waits on the connection between answers: bytes in its buffer
    /// or its socket are nobody's answer. Over TLS only what TLS decrypted
    /// counts (records such as a session ticket or close_notify may arrive
    /// at any time), so bytes still encrypted in the socket are not seen.
    pub(crate) fn unasked(&self) -> Idle {
        if !self.buf.is_empty() {
            return Idle::Bytes;
        }
        match idle_state(self.stream.raw_fd()) {
            Idle::Bytes if self.stream.is_tls() => Idle::Quiet,
            idle => idle,
        }
    }
}

impl<S> Conn<S> {
    /// A connection to `base`'s server, ready now.
    pub(crate) fn new(base: &BaseUrl, stream: S) -> Self {
        Conn {
            key: Key::of(base),
            stream,
            buf: Buf::new(),
            id: trace::connection_id(),
            opened: Stamp::now(),
            requests: 0,
        }
    }
}

/// How an exchange ended: its outcome, and the framing and keep-alive of
/// its answer when its connection may be reused.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) outcome: Result<(), FetchError>,
    pub(crate) reuse: Option<(Framing, bool)>,
}

/// Idle keep-alive connections, kept for reuse by the clones of a client.
pub(crate) struct Pool<S> {
    idle: Mutex<Vec<Conn<S>>>,
    max: usize,
}

impl<S: Transport> Pool<S> {
    /// A pool of at most `max` idle connections.
    pub(crate) fn new(max: usize) -> Self {
        Pool { idle: Mutex::default(), max: max.max(1) }
    }

    /// A pooled connection to `key` that is still quiet: one the peer has
    /// closed, or on which bytes arrived that nobody asked for (they would
    /// be read as the next request's answer), is closed instead.
    pub(crate) fn checkout(&self, key: &Key) -> Option<Conn<S>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(i) = idle.iter().rposition(|c| c.key == *key) {
            let conn = idle.swap_remove(i);
            if conn.unasked() == Idle::Quiet {
                return Some(conn);
            }
        }
        None
    }

    /// Ends an exchange on `conn` as it `ended`: the connection goes back
    /// to the pool if the answer allows it and nothing but silence follows
    /// it. The exchange's outcome, or an error if the server sent more
    /// than the answer ([`after_answer`]).
    pub(crate) fn finish(&self, conn: Conn<S>, ended: Ended) -> Result<(), FetchError> {
        match ended.reuse {
            Some((framing, keep_alive)) => ended.outcome.and(self.checkin(conn, framing, keep_alive)),
            None => ended.outcome,
        }
    }

    fn checkin(&self, conn: Conn<S>, framing: Framing, keep_alive: bool) -> Result<(), FetchError> {
        // What waits after the answer, as before a request ([`Conn::unasked`]).
        if after_answer(!conn.buf.is_empty(), conn.unasked(), framing, keep_alive)? {
            let mut pool = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < self.max {
                pool.push(conn);
            }
        }
        Ok(())
    }
}

/// How long requests may take, and how much a body may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole request, connection included.
    pub timeout: Duration,
    /// The longest wait for the next byte.
    pub stall: Duration,
    /// The largest body taken, in bytes (`--max-size`).
    pub max_size: u64,
}

impl Limits {
    /// `timeout` for both times, and the default size.
    pub fn new(timeout: Duration) -> Self {
        Limits { timeout, stall: timeout, max_size: policy::DEFAULT_MAX_SIZE }
    }
}

/// Which HTTP version the async client speaks (the blocking one speaks
/// HTTP/1.1 only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP/2 where TLS's ALPN agrees on it, else HTTP/1.1; plain http is
    /// HTTP/1.1 (as curl and wget2 do).
    #[default]
    Auto,
    /// HTTP/1.1 only (`--http1.1`).
    Http1,
    /// HTTP/2 only (`--http2`): offered alone over TLS, and spoken with
    /// prior knowledge (h2c) over plain http.
    Http2,
}

/// The sockets of a blocking client's connections, so that another thread
/// can end them: after [`Sockets::halt`] every read or write in progress
/// returns at once, and every new connection is shut as it is made. This is
/// how Ctrl-C stops downloads blocked in `read`.
#[derive(Debug, Default)]
pub struct Sockets {
    halted: AtomicBool,
    live: Mutex<Vec<(u64, TcpStream)>>,
    next: AtomicU64,
}

/// Keeps a socket in [`Sockets`] while the connection lives.
#[derive(Debug)]
pub(crate) struct Registered {
    sockets: Arc<Sockets>,
    id: u64,
}

impl Sockets {
    /// Adds `socket` (a clone of its descriptor is kept).
    pub(crate) fn register(self: &Arc<Self>, socket: &TcpStream) -> io::Result<Registered> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let clone = socket.try_clone()?;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if self.halted.load(Ordering::SeqCst) {
            let _ = clone.shutdown(std::net::Shutdown::Both);
        }
        live.push((id, clone));
        Ok(Registered { sockets: Arc::clone(self), id })
    }

    /// Shuts every registered socket, and every one registered from now on.
    pub fn halt(&self) {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        self.halted.store(true, Ordering::SeqCst);
        for (_, s) in live.iter() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// True once halted.
    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut live = self.sockets.live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = live.iter().position(|(id, _)| *id == self.id) {
            live.swap_remove(i);
        }
    }
}

/// A connection's receive buffer: bytes `start..end` are received and not
/// yet consumed.
#[derive(Debug)]
pub(crate) struct Buf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buf {
    pub(crate) fn new() -> Self {
        Buf { data: vec![0; BUF_SIZE], start: 0, end: 0 }
    }

    /// The bytes received and not consumed.
    pub(crate) fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to receive into, after moving what is left to the front; grows
    /// (up to a head's limit) when full.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.end == self.data.len() {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.data.len() < MAX_HEAD + BUF_SIZE {
                self.data.resize(MAX_HEAD + BUF_SIZE, 0);
            }
        }
        &mut self.data[self.end..]
    }

    /// `n` bytes were received into [`Buf::spare`].
    pub(crate) fn filled_by(&mut self, n: usize) {
        self.end += n;
    }
}

/// The most of an error answer's body read so that its connection can be
/// used again; a longer one closes the connection.
pub(crate) const DRAIN_MAX: u64 = 64 << 10;

/// What waits on a socket between answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idle {
    /// Nothing: it can carry another request.
    Quiet,
    /// Bytes nobody asked for.
    Bytes,
    /// The peer closed it (or it failed).
    Closed,
}

/// Looks at a socket between answers without blocking or taking anything.
pub(crate) fn idle_state(fd: RawFd) -> Idle {
    match crate::os::peek(fd) {
        Ok(1..) => Idle::Bytes,
        Ok(0) => Idle::Closed,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Idle::Quiet,
        Err(_) => Idle::Closed,
    }
}

/// Where a connection goes once an answer is read: back to the pool when
/// nothing but silence follows it, else away. Bytes that came with the end
/// of a body whose length was known (`leftover`, read with it; `framing`
/// `Length` or `Chunked`) are an error: the server sent more than it
/// announced. Bytes that came later (waiting in the socket, `idle`)
/// answer nothing, and only end the connection: whether they are there
/// yet depends on how soon the client looks, and the outcome must not.
pub(crate) fn after_answer(leftover: bool, idle: Idle, framing: Framing, keep_alive: bool) -> Result<bool, WireError> {
    let delimited = matches!(framing, Framing::Length(_) | Framing::Chunked | Framing::Empty);
    if delimited && leftover {
        return Err(WireError::Overrun(framing));
    }
    Ok(delimited && keep_alive && idle == Idle::Quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_compacts_and_grows() {
        let mut b = Buf::new();
        let n = b.spare().len();
        b.filled_by(n);
        b.consume(10);
        assert_eq!(b.spare().len(), 10, "moved to the front");
        b.filled_by(10);
        assert_eq!(b.spare().len(), MAX_HEAD, "grown for a large head");
    }

    #[test]
    fn bytes_with_a_delimited_answer_are_an_overrun_and_bytes_after_it_end_the_connection() {
        assert_eq!(after_answer(false, Idle::Quiet, Framing::Length(3), true), Ok(true));
        assert_eq!(after_answer(false, Idle::Quiet, Framing::Length(3), false), Ok(false));
        assert_eq!(after_answer(false, Idle::Closed, Framing::Length(3), true), Ok(false));
        assert_eq!(
            after_answer(true, Idle::Quiet, Framing::Length(3), true),
            Err(WireError::Overrun(Framing::Length(3)))
        );
        assert_eq!(after_answer(true, Idle::Bytes, Framing::Chunked, true), Err(WireError::Overrun(Framing::Chunked)));
        assert_eq!(after_answer(false, Idle::Bytes, Framing::Length(3), true), Ok(false), "came later: not reused");
        assert_eq!(
            after_answer(false, Idle::Bytes, Framing::Close, true),
            Ok(false),
            "a close-delimited body has no end to pass"
        );
    }
}
