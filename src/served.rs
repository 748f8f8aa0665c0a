//! The server's record of the requests it answered, as plain data: one
//! request as the server saw it ([`Served`]) and the record at once
//! ([`Document`]). The server writes it (its ring is
//! [`crate::server::timeline`]), the waterfalls draw and list it
//! ([`crate::waterfall`]), the demo reads it back: it lives below all of
//! them, so that the server and the waterfalls need not import each other.

use serde::Serialize;

/// One request, as the server saw it. Times are in milliseconds since the
/// server started.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Served {
    /// Its place in the record: 1 for the first request recorded.
    pub seq: u64,
    /// The connection it came on, numbered from 1 in the order accepted.
    pub conn: u64,
    /// When that connection was accepted.
    pub conn_ms: f64,
    /// `HTTP/1.1` or `HTTP/2`.
    pub protocol: &'static str,
    pub tls: bool,
    /// The request's method and path, escaped, at most 200 characters.
    pub request: String,
    /// When its head had arrived (the connection handed it over).
    pub head_ms: f64,
    /// When the first and the last byte of the answer left; none if the
    /// answer never began or never ended.
    pub first_byte_ms: Option<f64>,
    pub last_byte_ms: Option<f64>,
    /// The status sent; 0 when the server dropped the connection without
    /// an answer (a stall), none when the client left before it.
    pub status: Option<u16>,
    /// Body bytes sent.
    pub bytes: u64,
    /// The fault injected, if any.
    pub fault: Option<&'static str>,
    /// The client went away before the answer was complete.
    pub left_early: bool,
    /// When the server was done with it: its last byte left, or it let go.
    pub done_ms: Option<f64>,
    /// Asked by the gallery page itself (its `Referer` is the server's
    /// root): the page's own images, which its live waterfall leaves out.
    pub page: bool,
}

/// The whole record at once, for the server's own process (`flags serve
/// --timeline FILE`, the demo, the benchmarks); `GET /timeline` answers it
/// in pages ([`timeline_page`](crate::server::timeline_page)), with a `next` field besides these.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// Milliseconds since the server started, now.
    pub now_ms: f64,
    /// Requests recorded since the server started, and the most kept.
    pub total: u64,
    pub keep: usize,
    /// The requests asked for, oldest first.
    pub requests: Vec<Served>,
}

/// A request served at `head_ms`, for the tests of the ring and its pages.
#[cfg(test)]
pub(crate) fn served(head_ms: f64) -> Served {
    Served {
        seq: 0,
        conn: 1,
        conn_ms: 0.0,
        protocol: "HTTP/1.1",
        tls: false,
        request: "GET /flags/br/br.gif".into(),
        head_ms,
        first_byte_ms: None,
        last_byte_ms: None,
        status: Some(200),
        bytes: 0,
        fault: None,
        left_early: false,
        done_ms: None,
        page: false,
    }
}
