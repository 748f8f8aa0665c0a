//! One connection of either client, and the look at its socket between
//! answers: what the protocol core ([`crate::proto`]) is told as an
//! `Idle` before a request, and before the connection goes back to the
//! pool (`super::pool`).

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use super::url::{BaseUrl, Scheme};
use crate::proto::buf::Buf;
use crate::proto::exchange::{Exchange, On};
use crate::proto::policy::{Limits, Want};
use crate::proto::reuse::Idle;
use crate::proto::trace::{self, Stamp};

/// Longest wait for a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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

    /// The connection as a new exchange on it is told it: looked at now,
    /// and counted as carrying one request more.
    pub(crate) fn on(&mut self) -> On {
        let on = On { id: self.id, opened: self.opened, carried: self.requests, idle: self.unasked() };
        self.requests += 1;
        on
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

/// A GET of `rest` under `base` for `want`, within `limits` from now.
pub(crate) fn get(base: &BaseUrl, rest: &str, want: Want, limits: Limits) -> Exchange {
    let (path, host) = (base.path_of(rest), base.host_header());
    Exchange::get(&path, &host, base.authorization.as_deref(), want, limits, Instant::now())
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
