//! The async client: [`super::blocking`]'s sibling on tokio sockets, for
//! the async style. The same reader, the same policy, the same pool rules;
//! only the waiting differs. A request is cancelled by dropping its future,
//! which closes its connection (or resets its HTTP/2 stream).
//!
//! It also speaks HTTP/2 ([`super::h2`]) where [`Protocol`] allows: over
//! https when the server chooses `h2` in the TLS handshake, and over plain
//! http with `--http2`.

use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::conn::{
    drain_step, remaining, Buf, Drain, Failed, Key, Limits, Pool, Protocol, Socket, CONNECT_TIMEOUT, MAX_HEAD,
};
use super::error::{ConnectError, FetchError};
use super::policy::{self, Want};
use super::tls::{Alpn, Trust};
use super::trace::{self, Stamp, Trace};
use super::url::{BaseUrl, Scheme};
use super::wire::{self, Event, Framing, Head, Reader};
use super::{connect, h2, tls};

/// An async HTTP/1.1 and HTTP/2 client. Cheap to clone; clones share one
/// pool.
#[derive(Clone)]
pub struct AsyncClient {
    inner: Arc<Inner>,
}

struct Inner {
    limits: Limits,
    trust: Trust,
    protocol: Protocol,
    pool: Pool<Conn>,
    hosts: connect::Hosts,
    h2: h2::Hosts,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, data),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl Socket for Conn {
    fn raw_fd(&self) -> std::os::fd::RawFd {
        self.stream.tcp().as_raw_fd()
    }

    fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }
}

/// One connection and what it has received.
struct Conn {
    key: Key,
    stream: Stream,
    buf: Buf,
    /// Its id and when it was ready, for traces.
    id: u64,
    opened: Stamp,
    /// Requests it has carried.
    requests: u32,
}

impl Conn {
    /// Whether TLS agreed on HTTP/2.
    fn agreed_h2(&self) -> bool {
        match &self.stream {
            Stream::Tls(s) => s.get_ref().1.alpn_protocol() == Some(b"h2"),
            Stream::Plain(_) => false,
        }
    }
}

/// An answer whose head the policy accepted: read its body with
/// [`Response::read_body`].
pub struct Response<'a> {
    client: &'a AsyncClient,
    head: Head,
    deadline: Instant,
    body: Body,
}

/// Where a body comes from.
enum Body {
    /// The rest of an HTTP/1.1 connection.
    Http1 { conn: Conn, reader: Reader },
    /// An HTTP/2 stream.
    Http2 { incoming: hyper::body::Incoming, framing: Framing },
}

/// How a request to a server goes, when HTTP/2 may be spoken.
enum Route {
    /// As a stream on this connection (`fresh`: just opened; `conn`: its
    /// id, ready at `opened`).
    Http2 { sender: h2::Sender, fresh: bool, conn: u64, opened: Stamp },
    /// As HTTP/1.1: on this new connection, or the usual way.
    Http1(Option<Conn>),
}

impl AsyncClient {
    /// A client whose requests each take at most `limits`, believing the
    /// servers `trust` names, speaking `protocol`, keeping up to `pool`
    /// idle HTTP/1.1 connections.
    pub fn new(limits: Limits, trust: Trust, protocol: Protocol, pool: usize) -> Self {
        let inner =
            Inner { limits, trust, protocol, pool: Pool::new(pool), hosts: Default::default(), h2: Default::default() };
        AsyncClient { inner: Arc::new(inner) }
    }

    /// A client with `timeout` for both limits (examples and tests).
    pub fn simple(timeout: Duration, pool: usize) -> Self {
        Self::new(Limits::new(timeout), Trust::default(), Protocol::Auto, pool)
    }

    /// Whether requests to a `scheme` server may go over HTTP/2.
    fn may_use_h2(&self, scheme: Scheme) -> bool {
        match self.inner.protocol {
            Protocol::Http1 => false,
            Protocol::Auto => scheme == Scheme::Https,
            Protocol::Http2 => true,
        }
    }

    /// GETs `rest` under `base` for `want`, as [`super::BlockingClient::get`] does.
    pub async fn get(&self, base: &BaseUrl, rest: &str, want: Want, max_size: u64) -> Result<Response<'_>, FetchError> {
        self.get_traced(base, rest, want, max_size, &mut Trace::default()).await
    }

    /// [`AsyncClient::get`], noting in `trace` when each step happened
    /// (also when it fails).
    pub async fn get_traced(
        &self,
        base: &BaseUrl,
        rest: &str,
        want: Want,
        max_size: u64,
        trace: &mut Trace,
    ) -> Result<Response<'_>, FetchError> {
        let deadline = Instant::now() + self.inner.limits.timeout;
        let request = wire::get_request(&base.path_of(rest), &base.host_header(), base.authorization.as_deref());
        let mut first_conn = None;
        if self.may_use_h2(base.scheme) {
            let mut resent = false;
            loop {
                match self.route(base, deadline).await? {
                    Route::Http2 { mut sender, fresh, conn, opened } => {
                        let stall = self.inner.limits.stall;
                        *trace = Trace {
                            conn: Some(conn),
                            reused: !fresh,
                            connected: fresh.then_some(opened),
                            ..Trace::default()
                        };
                        match h2::get(&mut sender, base, rest, deadline, stall, trace).await {
                            // The connection was closed as the request left (the
                            // server's idle timeout): once more, on a new one.
                            Err(e) if !fresh && !resent && sender.is_closed() && !e.is_timeout() => resent = true,
                            Err(e) => return Err(e),
                            Ok(answer) => {
                                policy::check_head(&answer.head, answer.framing, want, max_size)?;
                                let body = Body::Http2 { incoming: answer.body, framing: answer.framing };
                                return Ok(Response { client: self, head: answer.head, deadline, body });
                            }
                        }
                    }
                    Route::Http1(conn) => {
                        first_conn = conn;
                        break;
                    }
                }
            }
        }
        let (conn, reader, head) = match first_conn {
            // The connection HTTP/2 was offered on, where the server chose HTTP/1.1.
            Some(conn) => self.exchange(conn, &request, deadline, trace).await,
            None => match self.inner.pool.checkout(&Key::of(base)) {
                Some(conn) => match self.exchange(conn, &request, deadline, trace).await {
                    // The pooled connection failed before any answer: once more, on a new one.
                    Err(f) if f.resend() => {
                        let conn = self.connect(base, deadline).await.map_err(|f| f.error)?;
                        self.exchange(conn, &request, deadline, trace).await
                    }
                    other => other,
                },
                None => {
                    let conn = self.connect(base, deadline).await.map_err(|f| f.error)?;
                    self.exchange(conn, &request, deadline, trace).await
                }
            },
        }
        .map_err(|f| f.error)?;
        match policy::check_head(&head, reader.framing(), want, max_size) {
            Ok(()) => Ok(Response { client: self, head, deadline, body: Body::Http1 { conn, reader } }),
            Err(e) => {
                self.drain(conn, reader, &head, deadline).await;
                Err(e)
            }
        }
    }

    /// How the next request to `base` goes: on the server's HTTP/2
    /// connection, opened now if there is none (the other requests to it
    /// wait meanwhile), or as HTTP/1.1 if the server chose that.
    async fn route(&self, base: &BaseUrl, deadline: Instant) -> Result<Route, FetchError> {
        let slot = self.inner.h2.slot(&Key::of(base));
        let wait = remaining(deadline, false).map_err(|f| f.error)?;
        let Ok(mut slot) = tokio::time::timeout(wait, slot.lock()).await else {
            return Err(FetchError::Timeout { answered: false });
        };
        if let Some((sender, conn, opened)) = slot.sender() {
            return Ok(Route::Http2 { sender, fresh: false, conn, opened });
        }
        if slot.http1 {
            return Ok(Route::Http1(None));
        }
        let conn = self.connect(base, deadline).await.map_err(|f| f.error)?;
        let h2 = match base.scheme {
            Scheme::Http => true,
            Scheme::Https => conn.agreed_h2(),
        };
        if !h2 {
            if self.inner.protocol == Protocol::Http2 {
                return Err(FetchError::Connect(ConnectError::Tls("TLS: the server did not agree to HTTP/2".into())));
            }
            slot.http1 = true;
            return Ok(Route::Http1(Some(conn)));
        }
        let (id, opened) = (conn.id, Stamp::now());
        let sender = h2::handshake(conn.stream, deadline).await?;
        slot.keep(sender.clone(), id, opened);
        Ok(Route::Http2 { sender, fresh: true, conn: id, opened })
    }

    /// Sends `request` on `conn` and reads the head of the answer.
    async fn exchange(
        &self,
        mut conn: Conn,
        request: &[u8],
        deadline: Instant,
        trace: &mut Trace,
    ) -> Result<(Conn, Reader, Head), Failed> {
        *trace = Trace {
            conn: Some(conn.id),
            reused: conn.requests > 0,
            connected: (conn.requests == 0).then_some(conn.opened),
            ..Trace::default()
        };
        conn.requests += 1;
        let limits = self.inner.limits;
        let wait = remaining(deadline, false)?.min(limits.stall);
        match tokio::time::timeout(wait, conn.stream.write_all(request)).await {
            Err(_) => return Err(FetchError::Timeout { answered: false }.into()),
            Ok(Err(e)) => return Err(Failed::io(e, false)),
            Ok(Ok(())) => {}
        }
        if let Stream::Tls(s) = &mut conn.stream {
            s.flush().await.map_err(|e| Failed::io(e, false))?;
        }
        trace.sent = Some(Stamp::now());
        let mut reader = Reader::new(MAX_HEAD);
        let mut answered = false;
        loop {
            let (used, event) = reader.advance(conn.buf.filled()).map_err(|e| Failed::from(FetchError::from(e)))?;
            let head = match event {
                Event::Head(head) => Some(head),
                Event::NeedMore if used == 0 => {
                    if read_some(&mut conn, deadline, limits.stall, answered).await? == 0 {
                        reader.at_eof().map_err(|e| match answered {
                            false => Failed::io(io::ErrorKind::UnexpectedEof.into(), false),
                            true => Failed::from(FetchError::from(e)),
                        })?;
                    }
                    if !answered {
                        trace.first_byte = Some(Stamp::now());
                    }
                    answered = true;
                    None
                }
                _ => None,
            };
            conn.buf.consume(used);
            if let Some(head) = head {
                return Ok((conn, reader, head));
            }
        }
    }

    /// Reads and drops the small body of an answer that is not taken, so
    /// its connection can serve the next request.
    async fn drain(&self, mut conn: Conn, mut reader: Reader, head: &Head, deadline: Instant) {
        let mut taken = 0u64;
        loop {
            match drain_step(&mut reader, &mut conn.buf, &mut taken) {
                Drain::Ended => break,
                Drain::GiveUp => return,
                Drain::Read => match read_some(&mut conn, deadline, self.inner.limits.stall, true).await {
                    Ok(0) if reader.at_eof().is_ok() => break,
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
            }
        }
        let _ = self.checkin_if_clean(conn, &reader, head);
    }

    /// Returns `conn` to the pool if nothing follows the answer; an error
    /// if the server sent more than the answer.
    fn checkin_if_clean(&self, conn: Conn, reader: &Reader, head: &Head) -> Result<(), FetchError> {
        let (key, leftover) = (conn.key.clone(), !conn.buf.is_empty());
        self.inner.pool.checkin(key, conn, leftover, reader.framing(), head.keep_alive())
    }

    /// A new connection to `base`'s server, TLS included.
    async fn connect(&self, base: &BaseUrl, deadline: Instant) -> Result<Conn, Failed> {
        let wait = remaining(deadline, false)?.min(CONNECT_TIMEOUT);
        let host = self.inner.hosts.get(&base.host, base.port);
        let opened = tokio::time::timeout(wait, async {
            let addrs: Vec<std::net::SocketAddr> = match base.host.parse::<std::net::IpAddr>() {
                Ok(ip) => vec![(ip, base.port).into()],
                Err(_) => tokio::net::lookup_host((base.host.as_str(), base.port))
                    .await
                    .map_err(|e| Failed::from(resolve_error(&base.host, e)))?
                    .collect(),
            };
            let mut last = None;
            for addr in addrs {
                match connect::open(&host, addr).await {
                    Ok(s) => return Ok(s),
                    Err(e) => last = Some(e),
                }
            }
            Err(match last {
                Some(e) => Failed::io(e, false),
                None => FetchError::Connect(ConnectError::NoAddress { host: base.host.clone() }).into(),
            })
        })
        .await;
        let tcp = match opened {
            Err(_) => return Err(FetchError::Timeout { answered: false }.into()),
            Ok(result) => result?,
        };
        let _ = tcp.set_nodelay(true);
        let stream = match base.scheme {
            Scheme::Http => Stream::Plain(tcp),
            Scheme::Https => {
                let alpn = match self.inner.protocol {
                    Protocol::Http1 => Alpn::Http1,
                    Protocol::Auto => Alpn::H2OrHttp1,
                    Protocol::Http2 => Alpn::H2,
                };
                let connector = TlsConnector::from(tls::config(&self.inner.trust, alpn)?);
                let wait = remaining(deadline, false)?;
                match tokio::time::timeout(wait, connector.connect(tls::server_name(&base.host)?, tcp)).await {
                    Err(_) => return Err(FetchError::Timeout { answered: false }.into()),
                    Ok(Err(e)) => return Err(handshake_error(e)),
                    Ok(Ok(s)) => Stream::Tls(Box::new(s)),
                }
            }
        };
        let (id, opened) = (trace::connection_id(), Stamp::now());
        Ok(Conn { key: Key::of(base), stream, buf: Buf::new(), id, opened, requests: 0 })
    }
}

impl AsyncClient {
    /// GETs `rest` under `base` and returns the checked body in memory, as
    /// [`super::BlockingClient::get_bytes`] does.
    pub async fn get_bytes(&self, base: &BaseUrl, rest: &str, want: Want) -> Result<Vec<u8>, FetchError> {
        let max = policy::DEFAULT_MAX_SIZE;
        let response = self.get(base, rest, want, max).await?;
        let mut check = policy::BodyCheck::new(want, response.head(), max);
        let mut body = Vec::new();
        response
            .read_body(|piece| {
                check.take(piece)?;
                body.extend_from_slice(piece);
                Ok::<(), FetchError>(())
            })
            .await?;
        check.finish()?;
        Ok(body)
    }
}

impl Response<'_> {
    /// The head of the answer.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Reads the body to its end, handing each piece to `piece` as it
    /// arrives, as [`super::blocking::Response::read_body`] does.
    pub async fn read_body<E: From<FetchError>>(self, mut piece: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let stall = self.client.inner.limits.stall;
        let (mut conn, mut reader) = match self.body {
            Body::Http2 { incoming, framing } => {
                return h2::read_body(incoming, framing, self.deadline, stall, piece).await;
            }
            Body::Http1 { conn, reader } => (conn, reader),
        };
        loop {
            let (used, event) = reader.advance(conn.buf.filled()).map_err(FetchError::from)?;
            let end = match event {
                Event::Data(d) => {
                    piece(d)?;
                    false
                }
                Event::End => true,
                Event::NeedMore if used == 0 => {
                    if read_some(&mut conn, self.deadline, stall, true).await.map_err(|f| f.error)? == 0 {
                        reader.at_eof().map_err(FetchError::from)?;
                    }
                    false
                }
                _ => false,
            };
            conn.buf.consume(used);
            if end || reader.done() {
                break;
            }
        }
        Ok(self.client.checkin_if_clean(conn, &reader, &self.head)?)
    }
}

/// Receives into `conn`'s buffer, waiting at most `stall` and never past
/// `deadline`; how many bytes came (0: the peer closed).
async fn read_some(conn: &mut Conn, deadline: Instant, stall: Duration, answered: bool) -> Result<usize, Failed> {
    let wait = remaining(deadline, answered)?.min(stall);
    let tls = matches!(conn.stream, Stream::Tls(_));
    let spare = conn.buf.spare();
    let n = match tokio::time::timeout(wait, conn.stream.read(spare)).await {
        Err(_) => return Err(FetchError::Timeout { answered }.into()),
        // A server that closes without TLS's close_notify ends the body too.
        Ok(Err(e)) if tls && e.kind() == io::ErrorKind::UnexpectedEof => 0,
        Ok(Err(e)) => return Err(Failed::io(e, answered)),
        Ok(Ok(n)) => n,
    };
    conn.buf.filled_by(n);
    Ok(n)
}

/// A failed TLS handshake as a sentence.
fn handshake_error(e: io::Error) -> Failed {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls_error) => FetchError::Connect(ConnectError::Tls(tls::describe(tls_error))).into(),
        None => Failed::io(e, false),
    }
}

/// A failed name lookup as a fetch error.
fn resolve_error(host: &str, e: io::Error) -> FetchError {
    FetchError::Connect(ConnectError::Resolve { host: host.to_string(), source: std::sync::Arc::new(e) })
}
