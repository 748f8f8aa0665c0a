//! Why a request gave no flag: one enum, [`FetchError`], made of kinds
//! (and the data that says which: a status, a host, the system's words),
//! never of foreign error values. So it is `Clone`, compares, and crosses a
//! process boundary as JSON: a process-pool worker's failure arrives as the
//! same value a thread's does.
//!
//! The convention for every error type in `flags`: a cause kept as a
//! `#[source]` is never repeated in its `Display` (`{:#}` in `main` prints
//! the chain); a cause kept as data (as here, where the whole reason must
//! cross processes and reach the report) is shown by `Display` once and is
//! not a source. Either way each cause reads once.

use std::io;

use serde::{Deserialize, Serialize};

use super::syntax::reason_phrase;
use super::wire::WireError;

/// Why a request gave no flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum FetchError {
    /// The server answered 404.
    #[error("not found")]
    NotFound,
    /// The server answered an error status.
    #[error("HTTP {status} - {}", reason_phrase(*status))]
    Http {
        status: u16,
        /// The `Retry-After` the server asked for, in seconds.
        retry_after: Option<u64>,
    },
    /// The server answered a redirect, which is not followed.
    #[error("HTTP {status} - {} (redirect to {} not followed)", reason_phrase(*status), location.as_deref().unwrap_or("nowhere"))]
    Redirect { status: u16, location: Option<String> },
    /// The server answered a success other than 200.
    #[error("unexpected HTTP {status} - {}", reason_phrase(*status))]
    Unexpected { status: u16 },
    /// No connection could be made.
    #[error("connection failed: {0}")]
    Connect(ConnectError),
    /// The request took longer than the timeout, or no byte came for the
    /// stall time; `answered` says whether any of an answer had arrived.
    #[error("timed out {}", if *answered { "in the middle of the answer" } else { "waiting for an answer" })]
    Timeout { answered: bool },
    /// The answer broke HTTP, or the connection ended inside it.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The connection failed while talking.
    #[error("{0}")]
    Io(IoFailure),
    /// The body is not what was asked for.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// HTTP/2: the server reset the request's stream, or closed the
    /// connection under it.
    #[error("{0}")]
    Stream(StreamFailure),
}

/// How an HTTP/2 stream (or an exchange) broke off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StreamFailure {
    #[error("stream reset by the server")]
    Reset,
    /// The server went away (GOAWAY) before taking the stream: it did not
    /// process it (RFC 9113 §6.8), so it may go again on a new connection.
    #[error("the server closed the HTTP/2 connection")]
    GoneAway,
    /// The server refused the stream before processing it
    /// (REFUSED_STREAM, RFC 9113 §8.7: more streams than it takes at once),
    /// so it may go again.
    #[error("the server refused the stream")]
    Refused,
    /// The client's own exchange ended where it cannot (a bug, said so).
    #[error("the exchange broke off ({0})")]
    Broken(String),
}

/// Why no connection could be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ConnectError {
    #[error("connection refused")]
    Refused,
    #[error("cannot resolve {host}: {why}")]
    Resolve { host: String, why: IoFailure },
    #[error("{host} has no address")]
    NoAddress { host: String },
    /// The TLS handshake failed, or TLS could not be set up.
    #[error("TLS: {0}")]
    Tls(TlsFailure),
}

/// Why TLS gave no connection, in the client's words (see `tls::describe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum TlsFailure {
    #[error("the server's certificate is not signed by a trusted authority (see --cacert)")]
    UnknownIssuer,
    #[error("the server's certificate is for another host name")]
    OtherName,
    #[error("the server's certificate has expired")]
    Expired,
    #[error("the server's certificate is not valid yet")]
    NotYetValid,
    #[error("the server's certificate was revoked")]
    Revoked,
    #[error("the server's certificate was refused")]
    Refused,
    #[error("the server speaks none of the offered protocols")]
    NoProtocol,
    #[error("the server did not agree to HTTP/2")]
    NoHttp2,
    #[error("the server refused the handshake ({alert})")]
    Alert { alert: String },
    #[error("{host:?} is not a TLS server name")]
    BadName { host: String },
    /// The client's TLS could not be set up (its `--cacert`), and why.
    #[error("cannot be set up ({0})")]
    Setup(String),
    /// Anything else rustls said, in its words.
    #[error("{0}")]
    Other(String),
}

/// A socket or file operation that failed: the kind, in words, and for
/// the rest what the system said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum IoFailure {
    #[error("connection reset")]
    Reset,
    #[error("connection closed by the server")]
    Closed,
    #[error("connection closed before the answer ended")]
    Ended,
    #[error("connection aborted")]
    Aborted,
    /// Any other failure, as the system put it.
    #[error("{0}")]
    System(String),
}

impl From<&io::Error> for IoFailure {
    fn from(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionReset => IoFailure::Reset,
            io::ErrorKind::BrokenPipe => IoFailure::Closed,
            io::ErrorKind::UnexpectedEof => IoFailure::Ended,
            io::ErrorKind::ConnectionAborted => IoFailure::Aborted,
            _ => IoFailure::System(e.to_string()),
        }
    }
}

/// Why a body is not what was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ContentError {
    /// It does not start with a GIF signature; what it looked like.
    #[error("not a GIF ({0})")]
    NotGif(String),
    #[error("not a complete GIF (it ends before its trailer byte 0x3B)")]
    NoTrailer,
    /// Its blocks are not a GIF's: what was wrong.
    #[error("not a valid GIF ({0})")]
    BadGif(String),
    /// Its announced length is over the limit (named).
    #[error("body of {size} bytes is over {limit}")]
    Announced { size: u64, limit: String },
    /// It grew past the limit (named) while arriving.
    #[error("body is over {0}")]
    TooLong(String),
    /// It does not parse as JSON: where it broke.
    #[error("metadata.json is not JSON ({} at line {line} column {column})", if *.ended { "it ends early" } else { "a syntax error" })]
    NotJson { line: usize, column: usize, ended: bool },
    #[error("metadata.json has no string \"country\"")]
    NoCountry,
}

impl FetchError {
    /// True for connection refused / host not found: the server isn't there.
    pub fn is_connect(&self) -> bool {
        matches!(self, FetchError::Connect(_))
    }

    /// True for a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, FetchError::Timeout { .. })
    }

    /// True for a timeout before any byte of an answer.
    pub fn is_unanswered_timeout(&self) -> bool {
        matches!(self, FetchError::Timeout { answered: false })
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            FetchError::Http { retry_after: Some(s), .. } => Some(std::time::Duration::from_secs(*s)),
            _ => None,
        }
    }
}

/// A socket error as a fetch error; `answered` says whether any of an
/// answer had arrived.
pub(crate) fn from_io(e: io::Error, answered: bool) -> FetchError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FetchError::Connect(ConnectError::Refused),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::Timeout { answered },
        _ => FetchError::Io(IoFailure::from(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_the_book_and_keep_their_causes() {
        assert_eq!(FetchError::Http { status: 418, retry_after: None }.to_string(), "HTTP 418 - I'm a Teapot");
        assert_eq!(
            FetchError::Http { status: 503, retry_after: Some(1) }.to_string(),
            "HTTP 503 - Service Unavailable"
        );
        let moved = FetchError::Redirect { status: 302, location: Some("http://x/".into()) };
        assert_eq!(moved.to_string(), "HTTP 302 - Found (redirect to http://x/ not followed)");
        assert_eq!(FetchError::Unexpected { status: 206 }.to_string(), "unexpected HTTP 206 - Partial Content");
        let refused = from_io(io::ErrorKind::ConnectionRefused.into(), false);
        assert_eq!(refused.to_string(), "connection failed: connection refused");
        let reset = from_io(io::ErrorKind::ConnectionReset.into(), true);
        assert_eq!(reset.to_string(), "connection reset");
        let tls = FetchError::Connect(ConnectError::Tls(TlsFailure::UnknownIssuer));
        assert_eq!(
            tls.to_string(),
            "connection failed: TLS: the server's certificate is not signed by a trusted authority (see --cacert)"
        );
        assert!(std::error::Error::source(&tls).is_none(), "a cause kept as data is not a source too");
        let json = serde_json::to_string(&tls).unwrap();
        assert_eq!(serde_json::from_str::<FetchError>(&json).unwrap(), tls, "it crosses a process boundary whole");
    }
}
