//! When a request's steps happened, for the timelines (`download::timeline`).
//!
//! A [`Stamp`] is a reading of the machine's monotonic clock
//! (`CLOCK_MONOTONIC`, through [`crate::os`]), in nanoseconds: read by
//! `Stamp::now`, which the drivers' clock adds (`crate::http::clock`), as
//! this layer reads no clock. Every process on the machine reads
//! the same clock, so a process-pool worker's stamps line up with its
//! parent's, and a stamp is a plain number that crosses as JSON. Taking one
//! costs a few tens of nanoseconds (the vDSO, no system call).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A moment, in ns on the monotonic clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp(pub u64);

impl Stamp {
    /// Milliseconds from `start` to this moment (negative if before).
    pub fn ms_since(self, start: Stamp) -> f64 {
        (self.0 as i128 - start.0 as i128) as f64 / 1e6
    }
}

/// One request's way through a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// The connection that carried it: unique on the machine (the
    /// process id, then a count), see [`connection_id`].
    pub conn: Option<u64>,
    /// It went on a connection already open (kept alive, or an HTTP/2
    /// connection's new stream).
    pub reused: bool,
    /// A new connection was ready (TCP, and TLS when https).
    pub connected: Option<Stamp>,
    /// The request was written.
    pub sent: Option<Stamp>,
    /// The first byte of the answer came.
    pub first_byte: Option<Stamp>,
    /// The body ended.
    pub body_done: Option<Stamp>,
    /// It went as an HTTP/2 stream (else HTTP/1.1, once sent).
    #[serde(default)]
    pub http2: bool,
}

impl Trace {
    /// The HTTP version it was sent in, as HAR writes it; empty if it was
    /// never sent.
    pub fn http_version(&self) -> &'static str {
        match (self.sent, self.http2) {
            (None, _) => "",
            (Some(_), true) => "HTTP/2",
            (Some(_), false) => "HTTP/1.1",
        }
    }
}

/// A new connection's id: this process's id in the high half, a count in
/// the low one, so ids from process-pool workers never collide.
pub fn connection_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    (u64::from(std::process::id()) << 32) | NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_go_forward_in_milliseconds() {
        let a = Stamp::now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = Stamp::now();
        assert!(b > a);
        assert!(b.ms_since(a) >= 5.0 && b.ms_since(a) < 1000.0);
        assert!(a.ms_since(b) < 0.0);
        assert_ne!(connection_id(), connection_id());
    }
}
