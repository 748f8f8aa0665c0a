//! The two HTTP clients and the one error type they share.
//!
//! The blocking styles use [`BlockingClient`] (ureq: a plain socket per
//! request, no hidden runtime), the async style uses [`AsyncClient`]
//! (hyper's HTTP/1 connections for plain http, reqwest for https, on tokio). Both turn every response into the same
//! `Result<Vec<u8>, FetchError>`, so the styles account for outcomes alike:
//! 404 is [`FetchError::NotFound`], any other non-2xx status is
//! [`FetchError::Http`], and a body shorter than its `Content-Length` is
//! [`FetchError::Truncated`]. TLS (rustls with ring) is only used for https
//! bases such as `REMOTE`. Neither client reads proxy settings from the
//! environment: the usual targets are servers on this machine.

mod plain;

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Why a fetch produced no body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum FetchError {
    /// The server answered 404.
    #[error("not found")]
    NotFound,
    /// The server answered another non-success status.
    #[error("HTTP {status} - {reason}")]
    Http {
        status: u16,
        reason: String,
        /// The `Retry-After` the server asked for, in seconds.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// No connection could be made.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The request took longer than the timeout.
    #[error("timed out")]
    Timeout,
    /// The body ended before `Content-Length` bytes arrived (or went past it).
    #[error("body is {got} bytes, Content-Length said {expected}")]
    Truncated { expected: u64, got: u64 },
    /// Any other failure while talking to the server.
    #[error("{0}")]
    Io(String),
    /// The file could not be saved.
    #[error("{0}")]
    Save(String),
}

impl FetchError {
    fn status(status: u16, retry_after: Option<u64>) -> Self {
        if status == 404 {
            FetchError::NotFound
        } else {
            FetchError::Http { status, reason: reason_phrase(status).to_string(), retry_after }
        }
    }

    /// True for failures worth another try: timeouts, resets, truncation,
    /// and 429/500/502/503/504. Never 404 or another 4xx, nor a refused
    /// connection (nobody is there).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Http { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            FetchError::Timeout | FetchError::Truncated { .. } => true,
            FetchError::Io(_) => true,
            FetchError::NotFound | FetchError::Connect(_) | FetchError::Save(_) => false,
        }
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Http { retry_after: Some(s), .. } => Some(Duration::from_secs(*s)),
            _ => None,
        }
    }

    /// True for connection refused / host not found: the server isn't there.
    pub fn is_connect(&self) -> bool {
        matches!(self, FetchError::Connect(_))
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

/// `Retry-After` in seconds: a number, or an HTTP date.
fn parse_retry_after(value: Option<&str>) -> Option<u64> {
    let v = value?.trim();
    v.parse().ok().or_else(|| {
        let when = httpdate::parse_http_date(v).ok()?;
        Some(when.duration_since(std::time::SystemTime::now()).map_or(0, |d| d.as_secs()))
    })
}

/// `Ok` for a 2xx status, else its error; `retry_after` (the header's
/// value) is only looked up for an error.
fn check_status<'a>(status: u16, retry_after: impl FnOnce() -> Option<&'a str>) -> Result<(), FetchError> {
    match status {
        200..=299 => Ok(()),
        _ => Err(FetchError::status(status, parse_retry_after(retry_after()))),
    }
}

/// Checks the body length against the declared `Content-Length`.
fn check_length(declared: Option<u64>, body: Vec<u8>) -> Result<Vec<u8>, FetchError> {
    match declared {
        Some(n) if n != body.len() as u64 => Err(FetchError::Truncated { expected: n, got: body.len() as u64 }),
        _ => Ok(body),
    }
}

/// The URL of a flag image: `{base}/{cc}/{cc}.gif`, `cc` in lower case.
pub fn flag_url(base: &str, cc: &str) -> String {
    let cc = cc.to_ascii_lowercase();
    format!("{}/{cc}/{cc}.gif", base.trim_end_matches('/'))
}

/// The URL of a flag's metadata: `{base}/{cc}/metadata.json`.
pub fn metadata_url(base: &str, cc: &str) -> String {
    format!("{}/{}/metadata.json", base.trim_end_matches('/'), cc.to_ascii_lowercase())
}

/// Longest wait for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest response header either client takes.
const MAX_HEADER: usize = 32 << 10;

/// What a response header over [`MAX_HEADER`] fails with.
const HEADER_TOO_LARGE: &str = "response header over 32 KiB";

/// Largest body accepted: the biggest flag is about 40 KB.
const MAX_BODY: u64 = 16 << 20;

/// A blocking client for the sequential and thread-pool styles. Cheap to
/// clone; clones share one connection pool.
#[derive(Clone)]
pub struct BlockingClient {
    agent: ureq::Agent,
}

impl BlockingClient {
    /// A client whose requests each give up after `timeout`, keeping up to
    /// `pool` idle connections for reuse.
    pub fn new(timeout: Duration, pool: usize) -> Self {
        Self::with_stall(timeout, timeout, pool)
    }

    /// Like [`BlockingClient::new`], and a request also fails when no byte
    /// arrives for `stall`.
    pub fn with_stall(timeout: Duration, stall: Duration, pool: usize) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(CONNECT_TIMEOUT)))
            .timeout_per_read(Some(stall.min(timeout)))
            .max_idle_connections(pool.max(1))
            .max_idle_connections_per_host(pool.max(1))
            // ureq's default buffers are 128 KiB each way per connection,
            // zero-filled, so resident: 173 MB of the thread pool's 204 MB
            // peak with 676 connections. A request fits in 8 KiB; the read
            // buffer holds a whole response header, and a little more so
            // that one too large is reported as such.
            .input_buffer_size(MAX_HEADER + (4 << 10))
            .output_buffer_size(8 << 10)
            .max_response_header_size(MAX_HEADER)
            .user_agent(concat!("flags/", env!("CARGO_PKG_VERSION")))
            .build();
        BlockingClient { agent: config.into() }
    }

    /// GETs `url` and returns the whole body.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut resp = self.agent.get(url).call().map_err(from_ureq)?;
        check_status(resp.status().as_u16(), || resp.headers().get("retry-after").and_then(|v| v.to_str().ok()))?;
        let declared = resp.body().content_length();
        let body = resp.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(from_ureq)?;
        check_length(declared, body)
    }
}

fn from_ureq(e: ureq::Error) -> FetchError {
    use ureq::Error as E;
    match e {
        E::StatusCode(s) => FetchError::status(s, None),
        E::Timeout(_) => FetchError::Timeout,
        E::HostNotFound => FetchError::Connect("host not found".into()),
        E::ConnectionFailed => FetchError::Connect("connection failed".into()),
        E::Io(io) => from_io(&io),
        E::LargeResponseHeader(..) => FetchError::Io(HEADER_TOO_LARGE.into()),
        other => FetchError::Io(other.to_string()),
    }
}

fn from_io(e: &io::Error) -> FetchError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FetchError::Connect("connection refused".into()),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::Timeout,
        io::ErrorKind::ConnectionReset => FetchError::Io("connection reset".into()),
        io::ErrorKind::UnexpectedEof => FetchError::Io("connection closed before the body ended".into()),
        _ => FetchError::Io(e.to_string()),
    }
}

/// An async client for the async style. Cheap to clone. Plain `http://`
/// URLs go through [`plain`] (hyper directly, a small keep-alive pool);
/// `https://` URLs through reqwest with rustls, built on first use so that
/// plain downloads never pay for loading the system's root certificates.
#[derive(Clone)]
pub struct AsyncClient {
    plain: plain::PlainClient,
    tls: Arc<OnceLock<reqwest::Client>>,
    timeout: Duration,
    stall: Duration,
    pool: usize,
}

impl AsyncClient {
    /// A client whose requests each give up after `timeout`.
    pub fn new(timeout: Duration, pool: usize) -> Self {
        Self::with_stall(timeout, timeout, pool)
    }

    /// Like [`AsyncClient::new`], and a request also fails when no byte
    /// arrives for `stall`.
    pub fn with_stall(timeout: Duration, stall: Duration, pool: usize) -> Self {
        AsyncClient { plain: plain::PlainClient::new(timeout, stall, pool), tls: Arc::default(), timeout, stall, pool }
    }

    fn tls_client(&self) -> &reqwest::Client {
        self.tls.get_or_init(|| {
            // reqwest is built without a default crypto provider; ring is
            // the one ureq already brings, so the binary carries only one.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.timeout.min(CONNECT_TIMEOUT))
                .read_timeout(self.stall.min(self.timeout))
                .no_proxy()
                .pool_max_idle_per_host(self.pool.max(1))
                .tcp_nodelay(true)
                .user_agent(concat!("flags/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client's configuration is valid")
        })
    }

    /// GETs `url` and returns the whole body.
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        if url.starts_with("http://") {
            return self.plain.get(url).await;
        }
        let resp = self.tls_client().get(url).send().await.map_err(from_reqwest)?;
        check_status(resp.status().as_u16(), || resp.headers().get("retry-after").and_then(|v| v.to_str().ok()))?;
        let declared = resp.content_length();
        let body = resp.bytes().await.map_err(from_reqwest)?;
        check_length(declared, body.to_vec())
    }
}

fn from_reqwest(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    if e.is_connect() {
        return FetchError::Connect(root_cause(&e));
    }
    if e.is_body() || e.is_decode() {
        return FetchError::Io(format!("body: {}", root_cause(&e)));
    }
    FetchError::Io(root_cause(&e))
}

/// The innermost error message: reqwest's own top line says little.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_books_layout() {
        assert_eq!(flag_url("http://h/flags/", "BR"), "http://h/flags/br/br.gif");
        assert_eq!(metadata_url("http://h/flags", "BR"), "http://h/flags/br/metadata.json");
    }

    #[test]
    fn statuses_map_to_errors() {
        assert_eq!(FetchError::status(404, None), FetchError::NotFound);
        assert_eq!(FetchError::status(418, None).to_string(), "HTTP 418 - I'm a Teapot");
        assert_eq!(FetchError::status(503, Some(1)).to_string(), "HTTP 503 - Service Unavailable");
        assert!(FetchError::status(503, None).is_transient());
        assert!(!FetchError::status(418, None).is_transient());
        assert!(!FetchError::NotFound.is_transient());
        assert_eq!(parse_retry_after(Some(" 3 ")), Some(3));
        assert_eq!(parse_retry_after(Some("Thu, 01 Jan 1970 00:00:00 GMT")), Some(0));
        assert!(check_length(Some(3), vec![1, 2]).is_err());
        assert!(check_length(None, vec![1, 2]).is_ok());
    }
}
