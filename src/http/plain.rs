//! The async style's client for plain `http://` URLs: hyper's HTTP/1
//! connections used directly, with a small pool of idle keep-alive
//! connections. reqwest costs more CPU per request (URL parsing, a generic
//! pool, layered timeouts); with hundreds of requests started at once that
//! cost delays the last of them, so the lean path is worth its hundred
//! lines. `https://` URLs still go through reqwest (see `AsyncClient`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_LENGTH, HOST, RETRY_AFTER, USER_AGENT};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::{check_length, check_status, from_io, FetchError, CONNECT_TIMEOUT, HEADER_TOO_LARGE, MAX_BODY, MAX_HEADER};

type Sender = SendRequest<Empty<Bytes>>;

/// One connection: its request side and the task that drives it. Dropping
/// it ends the task, which closes the socket; [`Conn::close`] also waits for
/// that, so a request given up on is over on the wire before the caller
/// starts another (the server must never see more than `-m` at once).
struct Conn {
    sender: Sender,
    driver: JoinHandle<()>,
}

impl Conn {
    async fn close(mut self) {
        self.driver.abort();
        let _ = (&mut self.driver).await;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// A plain-HTTP client; clones share the pool.
#[derive(Clone)]
pub(crate) struct PlainClient {
    idle: Arc<Mutex<Vec<(String, Conn)>>>,
    max_idle: usize,
    timeout: Duration,
    stall: Duration,
}

impl PlainClient {
    pub(crate) fn new(timeout: Duration, stall: Duration, pool: usize) -> Self {
        PlainClient { idle: Arc::default(), max_idle: pool.max(1), timeout, stall: stall.min(timeout) }
    }

    /// GETs `url` (which must be `http://`) and returns the whole body.
    pub(crate) async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let uri: Uri = url.parse().map_err(|e| FetchError::Io(format!("bad URL {url}: {e}")))?;
        let authority =
            uri.authority().map(|a| a.to_string()).ok_or_else(|| FetchError::Io(format!("no host in {url}")))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        match tokio::time::timeout(self.timeout, self.exchange(&authority, &path)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout),
        }
    }

    async fn exchange(&self, authority: &str, path: &str) -> Result<Vec<u8>, FetchError> {
        // A pooled connection the server has meanwhile closed fails before
        // any answer: then try once more on a fresh one.
        if let Some(conn) = self.checkout(authority) {
            match self.send(conn, authority, path).await {
                Err(Retry::FreshConnection) => {}
                Err(Retry::No(e)) => return Err(e),
                Ok(body) => return Ok(body),
            }
        }
        let conn = self.connect(authority).await?;
        self.send(conn, authority, path).await.map_err(|r| match r {
            Retry::No(e) => e,
            Retry::FreshConnection => FetchError::Io("connection closed before the answer".into()),
        })
    }

    fn checkout(&self, authority: &str) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(i) = idle.iter().rposition(|(a, _)| a == authority) {
            let (_, conn) = idle.swap_remove(i);
            if !conn.sender.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    fn checkin(&self, authority: &str, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle && conn.sender.is_ready() {
            idle.push((authority.to_string(), conn));
        }
    }

    async fn connect(&self, authority: &str) -> Result<Conn, FetchError> {
        let stream = match tokio::time::timeout(self.timeout.min(CONNECT_TIMEOUT), TcpStream::connect(authority)).await
        {
            Err(_) => return Err(FetchError::Timeout),
            Ok(Err(e)) => {
                return Err(match from_io(&e) {
                    FetchError::Io(msg) => FetchError::Connect(msg),
                    other => other,
                })
            }
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        // The same limit on response headers as the blocking client's.
        let (sender, conn) = http1::Builder::new()
            .max_header_size(MAX_HEADER)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| FetchError::Io(e.to_string()))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { sender, driver })
    }

    /// One exchange on `conn`. On success the connection goes back to the
    /// pool; on failure it is closed before the error is returned.
    async fn send(&self, mut conn: Conn, authority: &str, path: &str) -> Result<Vec<u8>, Retry> {
        if conn.sender.ready().await.is_err() {
            return Err(Retry::FreshConnection);
        }
        match self.request_on(&mut conn, authority, path).await {
            Ok(body) => {
                self.checkin(authority, conn);
                Ok(body)
            }
            Err(e) => {
                conn.close().await;
                Err(e)
            }
        }
    }

    async fn request_on(&self, conn: &mut Conn, authority: &str, path: &str) -> Result<Vec<u8>, Retry> {
        let request = Request::get(path)
            .header(HOST, authority)
            .header(USER_AGENT, concat!("flags/", env!("CARGO_PKG_VERSION")))
            .body(Empty::<Bytes>::new())
            .map_err(|e| Retry::No(FetchError::Io(e.to_string())))?;
        let response = match tokio::time::timeout(self.stall, conn.sender.send_request(request)).await {
            Err(_) => return Err(Retry::No(FetchError::Timeout)),
            Ok(Err(e)) if e.is_canceled() || e.is_incomplete_message() => return Err(Retry::FreshConnection),
            Ok(Err(e)) if e.is_parse_too_large() => return Err(Retry::No(FetchError::Io(HEADER_TOO_LARGE.into()))),
            Ok(Err(e)) => return Err(Retry::No(FetchError::Io(e.to_string()))),
            Ok(Ok(r)) => r,
        };
        let header = |name| response.headers().get(name).and_then(|v: &hyper::header::HeaderValue| v.to_str().ok());
        check_status(response.status().as_u16(), || header(RETRY_AFTER)).map_err(Retry::No)?;
        let declared = header(CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let mut body = response.into_body();
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(MAX_BODY) as usize);
        loop {
            // The stall detector: no frame for `stall` is a timeout.
            match tokio::time::timeout(self.stall, body.frame()).await {
                Err(_) => return Err(Retry::No(FetchError::Timeout)),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(Retry::No(FetchError::Io(format!("body: {e}")))),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if bytes.len() as u64 + data.len() as u64 > MAX_BODY {
                            return Err(Retry::No(FetchError::Io("body too large".into())));
                        }
                        bytes.extend_from_slice(&data);
                    }
                }
            }
        }
        check_length(declared, bytes).map_err(Retry::No)
    }
}

/// Why a send failed: for good, or on a stale pooled connection.
enum Retry {
    No(FetchError),
    FreshConnection,
}
