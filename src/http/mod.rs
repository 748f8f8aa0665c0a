//! The HTTP client every style uses: one policy, two drivers.
//!
//! | module | what it holds |
//! |---|---|
//! | [`url`] | [`BaseUrl`]: a base URL checked where it enters, credentials taken apart |
//! | [`wire`] | HTTP/1.1 without I/O: the GET's bytes and a response [`wire::Reader`] |
//! | [`policy`] | what the client accepts: statuses, redirects, sizes, what a flag is, when to resend |
//! | [`connect`] | opening connections without overflowing a slow server's listen queue |
//! | [`blocking`] | [`BlockingClient`]: std sockets, for the sequential, thread and process styles |
//! | [`nonblocking`] | [`AsyncClient`]: tokio sockets, for the async style |
//! | [`tls`] | the one rustls configuration both use for `https://` |
//!
//! **Why by hand.** The styles must give the same outcome for the same
//! server behaviour, and the libraries each decide some of it inside,
//! differently: ureq cuts a body longer than its `Content-Length` at that
//! length and drops the rest unseen (so it saved such a body as a flag),
//! follows redirects to any host, and resends on a reused connection only
//! if a probe saw it closed; hyper's client hides whether a failure came
//! before any byte of the answer. Here both drivers run the same
//! [`wire::Reader`] (heads parsed by `httparse`) and ask [`policy`] every
//! question, so each rule is written once. TLS is rustls's.
//!
//! **Streaming.** A body is handed to the caller piece by piece as it
//! arrives (into a file, see `save`), never gathered in memory, and a
//! connection keeps one 16 KiB buffer. Memory does not grow with what a
//! server sends.

pub mod blocking;
pub mod connect;
pub mod nonblocking;
pub mod policy;
pub mod tls;
pub mod url;
pub mod wire;

use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

pub use blocking::BlockingClient;
pub use nonblocking::AsyncClient;
pub use url::BaseUrl;

/// Every request's `User-Agent`.
pub const USER_AGENT: &str = concat!("flags/", env!("CARGO_PKG_VERSION"));

/// The largest response head either client takes.
pub const MAX_HEAD: usize = 32 << 10;

/// Longest wait for a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The bytes a connection reads at a time.
const BUF_SIZE: usize = 16 << 10;

/// Why a request gave no flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum FetchError {
    /// The server answered 404.
    #[error("not found")]
    NotFound,
    /// The server answered an error status.
    #[error("HTTP {status} - {reason}")]
    Http {
        status: u16,
        reason: String,
        /// The `Retry-After` the server asked for, in seconds.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// The server answered a redirect, which is not followed.
    #[error("HTTP {status} - {reason} (redirect to {} not followed)", location.as_deref().unwrap_or("nowhere"))]
    Redirect { status: u16, reason: String, location: Option<String> },
    /// The server answered a success other than 200.
    #[error("unexpected HTTP {status} - {reason}")]
    Unexpected { status: u16, reason: String },
    /// No connection could be made.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The request took longer than the timeout, or no byte came for the
    /// stall time; `answered` says whether any of an answer had arrived.
    #[error("timed out {}", if *answered { "in the middle of the answer" } else { "waiting for an answer" })]
    Timeout { answered: bool },
    /// The body ended before `Content-Length` bytes arrived.
    #[error("body is {got} bytes, Content-Length said {expected}")]
    Truncated { expected: u64, got: u64 },
    /// The connection failed while talking: reset, closed early.
    #[error("{0}")]
    Io(String),
    /// The answer broke HTTP: a malformed head, contradicting framing, a
    /// body longer than announced.
    #[error("{0}")]
    Protocol(String),
    /// The body is not what was asked for: not a complete GIF, not the
    /// metadata, over `--max-size`.
    #[error("{0}")]
    Content(String),
    /// The file could not be saved.
    #[error("{0}")]
    Save(String),
}

impl FetchError {
    fn status(status: u16, retry_after: Option<u64>) -> Self {
        FetchError::Http { status, reason: reason_phrase(status).to_string(), retry_after }
    }

    /// True for connection refused / host not found: the server isn't there.
    pub fn is_connect(&self) -> bool {
        matches!(self, FetchError::Connect(_))
    }

    /// True for a timeout before any byte of an answer.
    pub fn is_unanswered_timeout(&self) -> bool {
        matches!(self, FetchError::Timeout { answered: false })
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Http { retry_after: Some(s), .. } => Some(Duration::from_secs(*s)),
            _ => None,
        }
    }
}

/// The reason phrase for a status, as Python's `http.HTTPStatus` spells it
/// (the book prints `HTTP 418 - I'm a Teapot`).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        418 => "I'm a Teapot",
        429 => "Too Many Requests",
        s => hyper::StatusCode::from_u16(s).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown"),
    }
}

/// A socket error as a fetch error; `answered` says whether any of an
/// answer had arrived.
fn from_io(e: &io::Error, answered: bool) -> FetchError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FetchError::Connect("connection refused".into()),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::Timeout { answered },
        io::ErrorKind::ConnectionReset => FetchError::Io("connection reset".into()),
        io::ErrorKind::BrokenPipe => FetchError::Io("connection closed by the server".into()),
        io::ErrorKind::UnexpectedEof => FetchError::Io("connection closed before the body ended".into()),
        _ => FetchError::Io(e.to_string()),
    }
}

/// A wire error as a fetch error.
fn from_wire(e: wire::WireError) -> FetchError {
    match e {
        wire::WireError::Short { expected, got } => FetchError::Truncated { expected, got },
        wire::WireError::ClosedInHead | wire::WireError::ClosedInChunks => FetchError::Io(e.to_string()),
        other => FetchError::Protocol(other.to_string()),
    }
}

/// How long requests may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole request, connection included.
    pub timeout: Duration,
    /// The longest wait for the next byte.
    pub stall: Duration,
}

impl Limits {
    /// `timeout` for both.
    pub fn new(timeout: Duration) -> Self {
        Limits { timeout, stall: timeout }
    }
}

/// The sockets of a blocking client's connections, so that another thread
/// can end them: after [`Sockets::halt`] every read or write in progress
/// returns at once, and every new connection is shut as it is made. This is
/// how Ctrl-C stops downloads blocked in `read`.
#[derive(Debug, Default)]
pub struct Sockets {
    halted: AtomicBool,
    live: Mutex<Vec<(u64, TcpStream)>>,
    next: std::sync::atomic::AtomicU64,
}

/// Keeps a socket in [`Sockets`] while the connection lives.
#[derive(Debug)]
pub(crate) struct Registered {
    sockets: std::sync::Arc<Sockets>,
    id: u64,
}

impl Sockets {
    /// Adds `socket` (a clone of its descriptor is kept).
    pub(crate) fn register(self: &std::sync::Arc<Self>, socket: &TcpStream) -> io::Result<Registered> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let clone = socket.try_clone()?;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if self.halted.load(Ordering::SeqCst) {
            let _ = clone.shutdown(std::net::Shutdown::Both);
        }
        live.push((id, clone));
        Ok(Registered { sockets: std::sync::Arc::clone(self), id })
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
pub(crate) fn idle_state(fd: std::os::fd::RawFd) -> Idle {
    let mut byte = 0u8;
    // SAFETY: a one-byte buffer we own; MSG_PEEK leaves the data in place
    // and MSG_DONTWAIT never blocks, whatever the socket's mode.
    let n = unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    match n {
        1.. => Idle::Bytes,
        0 => Idle::Closed,
        _ if io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock => Idle::Quiet,
        _ => Idle::Closed,
    }
}

/// Where a connection goes once an answer is read: back to the pool when
/// nothing but silence follows it, else away, and an error when bytes
/// followed a body whose length was known (`framing` `Length` or
/// `Chunked`): the server sent more than it announced.
pub(crate) fn after_answer(
    leftover: bool,
    idle: Idle,
    framing: wire::Framing,
    keep_alive: bool,
) -> Result<bool, FetchError> {
    let delimited = matches!(framing, wire::Framing::Length(_) | wire::Framing::Chunked | wire::Framing::Empty);
    if delimited && (leftover || idle == Idle::Bytes) {
        let what = match framing {
            wire::Framing::Chunked => "bytes after the end of the chunked body",
            wire::Framing::Empty => "a body where the status allows none",
            _ => "body longer than its Content-Length",
        };
        return Err(FetchError::Protocol(what.into()));
    }
    Ok(delimited && keep_alive && idle == Idle::Quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_like_the_book() {
        assert_eq!(FetchError::status(418, None).to_string(), "HTTP 418 - I'm a Teapot");
        assert_eq!(FetchError::status(503, Some(1)).to_string(), "HTTP 503 - Service Unavailable");
        let moved = FetchError::Redirect { status: 302, reason: "Found".into(), location: Some("http://x/".into()) };
        assert_eq!(moved.to_string(), "HTTP 302 - Found (redirect to http://x/ not followed)");
        let part = FetchError::Unexpected { status: 206, reason: "Partial Content".into() };
        assert_eq!(part.to_string(), "unexpected HTTP 206 - Partial Content");
    }

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
}
