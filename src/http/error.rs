//! Why a request gave no flag: one enum, [`FetchError`], whose variants
//! keep their causes (`source()`), and whose messages are sentences a user
//! can act on. It is `Clone` (causes are shared) so an outcome can be
//! handed to the sink and kept in the report.

use std::io;
use std::sync::Arc;

use super::wire::WireError;

/// Why a request gave no flag.
#[derive(Debug, Clone, thiserror::Error)]
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
    Connect(#[source] ConnectError),
    /// The request took longer than the timeout, or no byte came for the
    /// stall time; `answered` says whether any of an answer had arrived.
    #[error("timed out {}", if *answered { "in the middle of the answer" } else { "waiting for an answer" })]
    Timeout { answered: bool },
    /// The answer broke HTTP, or the connection ended inside it.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The connection failed while talking.
    #[error("{}", io_sentence(.0))]
    Io(#[source] Arc<io::Error>),
    /// The body is not what was asked for.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// HTTP/2: the server reset the request's stream, or closed the
    /// connection under it.
    #[error("{0}")]
    Stream(&'static str),
}

/// Why no connection could be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("connection refused")]
    Refused,
    #[error("cannot resolve {host}: {source}")]
    Resolve { host: String, source: Arc<io::Error> },
    #[error("{host} has no address")]
    NoAddress { host: String },
    /// The TLS handshake failed, or TLS could not be set up.
    #[error("{0}")]
    Tls(String),
    #[error("{0}")]
    Other(#[source] Arc<io::Error>),
}

/// Why a body is not what was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    /// It does not start with a GIF signature; what it looked like.
    #[error("not a GIF ({0})")]
    NotGif(String),
    #[error("not a complete GIF (it does not end with the trailer byte 0x3B)")]
    NoTrailer,
    /// Its announced length is over the limit (named).
    #[error("body of {size} bytes is over {limit}")]
    Announced { size: u64, limit: String },
    /// It grew past the limit (named) while arriving.
    #[error("body is over {0}")]
    TooLong(String),
    #[error("metadata.json is not JSON ({0})")]
    NotJson(String),
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

/// The reason phrase for a status, as Python's `http.HTTPStatus` spells it
/// (the book prints `HTTP 418 - I'm a Teapot`).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        418 => "I'm a Teapot",
        429 => "Too Many Requests",
        s => hyper::StatusCode::from_u16(s).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown"),
    }
}

/// What a socket failure means, in words.
fn io_sentence(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::BrokenPipe => "connection closed by the server".into(),
        io::ErrorKind::UnexpectedEof => "connection closed before the answer ended".into(),
        io::ErrorKind::ConnectionAborted => "connection aborted".into(),
        _ => e.to_string(),
    }
}

/// A socket error as a fetch error; `answered` says whether any of an
/// answer had arrived.
pub(crate) fn from_io(e: io::Error, answered: bool) -> FetchError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FetchError::Connect(ConnectError::Refused),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::Timeout { answered },
        _ => FetchError::Io(Arc::new(e)),
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
        let source = std::error::Error::source(&reset).expect("the io::Error is kept");
        assert_eq!(source.to_string(), io::Error::from(io::ErrorKind::ConnectionReset).to_string());
    }
}
