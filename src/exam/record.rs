//! What the threads of one stage share: the stop that ends every wait,
//! and the record of what the server saw (connections, requests, a log).

use std::net::TcpStream;
use std::sync::atomic::AtomicUsize;
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Lines of the log kept per run.
const LOG_MAX: usize = 200;

/// A request the stage read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    /// The connection it came on (1, 2, ...).
    pub conn: usize,
    /// Milliseconds since the stage started.
    pub at_ms: u64,
    /// The request line, escaped.
    pub line: String,
    /// The request head as the client sent it, escaped (`\r\n` shown as
    /// written), its first 200 characters.
    #[serde(default)]
    pub head: String,
    /// True when it came to the other port.
    pub other: bool,
    /// The credential-bearing header fields it carried (`authorization`, `cookie`).
    pub credentials: Vec<String>,
}

/// What the server saw in one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Saw {
    /// Connections accepted (on both ports).
    pub connections: usize,
    /// Of those over TLS, the ones on which the client sent something (its
    /// ClientHello): a bare connect is not a TLS client.
    #[serde(default)]
    pub spoke: usize,
    pub requests: Vec<Request>,
    /// Bytes the server sent, in all.
    #[serde(default)]
    pub sent_bytes: u64,
    /// The first bytes the server sent on its first connection, escaped,
    /// with the flag's bytes named (`<the flag, 11 623 bytes>`): what the
    /// client was answered.
    #[serde(default)]
    pub sent: String,
    /// The exchange, one line per event, the first 200.
    pub log: Vec<String>,
}

/// What a stage's threads share.
pub(super) struct Shared {
    pub(super) stopped: Mutex<bool>,
    pub(super) wake: Condvar,
    pub(super) saw: Mutex<Saw>,
    /// Every socket, to shut at the stop.
    pub(super) sockets: Mutex<Vec<TcpStream>>,
    /// Every connection's thread, to join at the stop.
    pub(super) threads: Mutex<Vec<JoinHandle<()>>>,
    pub(super) started: Instant,
    /// When the first request came.
    pub(super) first: OnceLock<Instant>,
    /// Requests the main port answered.
    pub(super) answered: AtomicUsize,
    /// The main port and the other one.
    pub(super) addrs: OnceLock<(u16, u16)>,
    /// The run's mark on every flag it serves.
    pub(super) stamp: super::script::Stamp,
}

impl Shared {
    /// Sleeps `d`, or less if the stage stops; false if it stopped.
    pub(super) fn sleep(&self, d: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let (stopped, _) = self.wake.wait_timeout_while(stopped, d, |s| !*s).unwrap_or_else(|e| e.into_inner());
        !*stopped
    }

    pub(super) fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn log(&self, conn: usize, what: impl AsRef<str>) {
        let mut saw = self.saw.lock().unwrap_or_else(|e| e.into_inner());
        if saw.log.len() < LOG_MAX {
            let ms = self.started.elapsed().as_millis();
            saw.log.push(format!("{ms:>6} ms  #{conn} {}", what.as_ref()));
        }
    }

    /// Records an HTTP/2 request (a HEADERS frame on `stream`).
    pub(super) fn h2_request(&self, conn: usize, stream: u32) {
        let at_ms = self.started.elapsed().as_millis() as u64;
        let line = format!("HEADERS on stream {stream}");
        let head = line.clone();
        let request = Request { conn, at_ms, line, head, other: false, credentials: Vec::new() };
        self.saw.lock().unwrap_or_else(|e| e.into_inner()).requests.push(request);
    }

    /// Waits for the client's first byte on `stream` (without taking it);
    /// counts the connection as one that spoke when it comes. False when
    /// the client closed, or sent nothing for the idle time.
    pub(super) fn spoke(&self, stream: &TcpStream, conn: usize) -> bool {
        let mut byte = [0u8; 1];
        let spoke = matches!(stream.peek(&mut byte), Ok(n) if n > 0);
        match spoke {
            true => self.saw.lock().unwrap_or_else(|e| e.into_inner()).spoke += 1,
            false => self.log(conn, "the client closed without a byte"),
        }
        spoke
    }

    /// Counts bytes sent.
    pub(super) fn sent(&self, n: usize) {
        self.saw.lock().unwrap_or_else(|e| e.into_inner()).sent_bytes += n as u64;
    }

    /// Counts a new connection and keeps a handle to shut it at the stop.
    pub(super) fn accepted(&self, stream: &TcpStream, other: bool) -> usize {
        if let Ok(clone) = stream.try_clone() {
            self.sockets.lock().unwrap_or_else(|e| e.into_inner()).push(clone);
        }
        let conn = {
            let mut saw = self.saw.lock().unwrap_or_else(|e| e.into_inner());
            saw.connections += 1;
            saw.connections
        };
        self.log(conn, if other { "accepted on the other port" } else { "accepted" });
        conn
    }
}
