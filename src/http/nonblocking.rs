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
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::clock::{self, remaining, within};
use super::conn::{self, Conn, Key, Transport, CONNECT_TIMEOUT};
use super::pool::Pool;
use super::protocol::Protocol;
use super::tls::{Alpn, Trust};
use super::url::{BaseUrl, Scheme};
use super::{connect, h2, h2_limit, tls};
use crate::proto::attempt::{Attempt, TryError};
use crate::proto::error::{ConnectError, FetchError, TlsFailure};
use crate::proto::exchange::{self, Exchange, Need};
use crate::proto::policy::{self, Again, Limits, Want};
use crate::proto::trace::{Stamp, Trace};
use crate::proto::wire::{Framing, Head};

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
    pool: Pool<Stream>,
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

impl Transport for Stream {
    fn raw_fd(&self) -> std::os::fd::RawFd {
        self.tcp().as_raw_fd()
    }

    fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

impl Stream {
    /// Whether TLS agreed on HTTP/2.
    fn agreed_h2(&self) -> bool {
        match self {
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
    /// The rest of an HTTP/1.1 exchange (boxed: it is ten times an
    /// HTTP/2 stream's size).
    Http1(Box<(Conn<Stream>, Exchange)>),
    /// An HTTP/2 stream, and its place on its connection.
    Http2 { incoming: hyper::body::Incoming, framing: Framing, _place: h2_limit::Place },
}

/// How a request to a server goes, when HTTP/2 may be spoken.
enum Route {
    /// As a stream on this connection (`fresh`: just opened; `conn`: its
    /// id, ready at `opened`).
    Http2 { sender: h2::Sender, fresh: bool, conn: u64, opened: Stamp, place: h2_limit::Place },
    /// As HTTP/1.1: on this new connection, or the usual way.
    Http1(Option<Conn<Stream>>),
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

    /// GETs `rest` under `base` for `want`, noting its steps in `trace`, as
    /// [`super::BlockingClient::get`] does.
    pub async fn get(
        &self,
        base: &BaseUrl,
        rest: &str,
        want: Want,
        trace: &mut Trace,
    ) -> Result<Response<'_>, FetchError> {
        let limits = self.inner.limits;
        let mut ex = conn::get(base, rest, want, limits);
        let deadline = ex.deadline();
        // The connection HTTP/2 was offered on, where the server chose HTTP/1.1.
        let mut offered = None;
        if self.may_use_h2(base.scheme) {
            let mut attempt = Attempt::new();
            loop {
                match self.route(base, deadline).await? {
                    Route::Http2 { mut sender, fresh, conn, opened, place } => {
                        let stall = self.inner.limits.stall;
                        *trace = Trace {
                            conn: Some(conn),
                            reused: !fresh,
                            connected: fresh.then_some(opened),
                            http2: true,
                            ..Trace::default()
                        };
                        match h2::get(&mut sender, base, rest, deadline, stall, trace).await {
                            // Once more, as the policy says (`policy::resend_h2`).
                            Err(e) => match attempt.again_h2(e, fresh, sender.is_closed())? {
                                Again::Elsewhere => self.inner.h2.slot(&Key::of(base)).lock().await.forget(conn),
                                Again::Routed => {}
                            },
                            Ok(answer) => {
                                policy::check_head(
                                    &answer.head,
                                    answer.framing,
                                    want,
                                    limits.max_size,
                                    SystemTime::now(),
                                )?;
                                let body =
                                    Body::Http2 { incoming: answer.body, framing: answer.framing, _place: place };
                                return Ok(Response { client: self, head: answer.head, deadline, body });
                            }
                        }
                    }
                    Route::Http1(conn) => {
                        offered = conn;
                        break;
                    }
                }
            }
        }
        // The tries, as the blocking client makes them.
        let (mut attempt, mut pooled) = (Attempt::new(), offered.or_else(|| self.inner.pool.checkout(&Key::of(base))));
        let answer = loop {
            let tried = match pooled.take() {
                Some(conn) => self.head(conn, &mut ex).await,
                None => self.fresh(base, &mut ex).await,
            };
            match tried {
                Err(f) if attempt.again(&f) => continue,
                answer => break answer,
            }
        };
        *trace = ex.trace;
        let (conn, head) = answer.map_err(|f| f.error)?;
        Ok(Response { client: self, head, deadline, body: Body::Http1(Box::new((conn, ex))) })
    }

    /// The exchange from its start on a new connection.
    async fn fresh(&self, base: &BaseUrl, ex: &mut Exchange) -> Result<(Conn<Stream>, Head), TryError> {
        ex.again();
        let conn = self.connect(base, ex.deadline()).await?;
        self.head(conn, ex).await
    }

    /// Runs `ex` on `conn` up to the head of an answer the policy accepts.
    async fn head(&self, mut conn: Conn<Stream>, ex: &mut Exchange) -> Result<(Conn<Stream>, Head), TryError> {
        ex.start(conn.on())?;
        let need = self.next(&mut conn, ex).await?;
        if let Need::Head(head) = need {
            return Ok((conn, head));
        }
        Err(exchange::refused(self.inner.pool.finish(conn, ex.end(need))))
    }

    /// Does the writes and reads `ex` asks for on `conn` until it has
    /// something else: a head, body bytes, or its end.
    async fn next(&self, conn: &mut Conn<Stream>, ex: &mut Exchange) -> Result<Need, TryError> {
        loop {
            let now = clock::now();
            let (until, io) = match ex.step(&mut conn.buf, now)? {
                Need::Write { until } => (until, Io::Write(ex.request())),
                Need::Read { until } => (until, Io::Read(conn.buf.spare())),
                need => return Ok(need),
            };
            let moved = within(until.saturating_duration_since(now.at), io.on(&mut conn.stream)).await;
            let moved = moved.unwrap_or_else(|| Err(io::ErrorKind::TimedOut.into()));
            ex.moved(&mut conn.buf, moved, clock::now())?;
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
        if let Some((sender, conn, opened, place)) = slot.sender() {
            return Ok(Route::Http2 { sender, fresh: false, conn, opened, place });
        }
        if slot.http1 {
            return Ok(Route::Http1(None));
        }
        let conn = self.connect(base, deadline).await.map_err(|f| f.error)?;
        let h2 = match base.scheme {
            Scheme::Http => true,
            Scheme::Https => conn.stream.agreed_h2(),
        };
        if !h2 {
            if self.inner.protocol == Protocol::Http2 {
                return Err(FetchError::Connect(ConnectError::Tls(TlsFailure::NoHttp2)));
            }
            slot.http1 = true;
            return Ok(Route::Http1(Some(conn)));
        }
        let (id, opened) = (conn.id, Stamp::now());
        let (sender, limit) = h2::handshake(conn.stream, deadline).await?;
        let (sender, conn, opened, place) = slot.keep(sender, id, opened, limit);
        Ok(Route::Http2 { sender, fresh: true, conn, opened, place })
    }

    /// A new connection to `base`'s server, TLS included.
    async fn connect(&self, base: &BaseUrl, deadline: Instant) -> Result<Conn<Stream>, TryError> {
        let wait = remaining(deadline, false)?.min(CONNECT_TIMEOUT);
        let host = self.inner.hosts.get(&base.host, base.port);
        let opened = tokio::time::timeout(wait, async {
            let addrs = connect::resolve(&base.host, base.port).await;
            let mut last = None;
            for addr in addrs.map_err(|e| connect::lookup_failed(&base.host, e))? {
                match connect::open(&host, addr).await {
                    Ok(s) => return Ok(s),
                    Err(e) => last = Some(e),
                }
            }
            Err(connect::none_opened(&base.host, last))
        });
        let tcp = opened.await.unwrap_or_else(|_| Err(FetchError::Timeout { answered: false }.into()))?;
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
        Ok(Conn::new(base, stream))
    }
}

/// The one write or read an exchange asked for.
enum Io<'a> {
    Write(&'a [u8]),
    Read(&'a mut [u8]),
}

impl Io<'_> {
    /// Does it on `stream`: the bytes read (0 for a write, or when the
    /// peer closed).
    async fn on(self, stream: &mut Stream) -> io::Result<usize> {
        match self {
            Io::Write(bytes) => {
                stream.write_all(bytes).await?;
                stream.flush().await.map(|()| 0)
            }
            // A TLS close without close_notify is `UnexpectedEof`, for the exchange to judge.
            Io::Read(spare) => stream.read(spare).await,
        }
    }
}

impl AsyncClient {
    /// GETs `rest` under `base` and returns the checked body in memory, as
    /// [`super::BlockingClient::get_bytes`] does.
    pub async fn get_bytes(&self, base: &BaseUrl, rest: &str, want: Want) -> Result<Vec<u8>, FetchError> {
        let max = self.inner.limits.max_size;
        let response = self.get(base, rest, want, &mut Trace::default()).await?;
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
        let (mut conn, mut ex) = match self.body {
            Body::Http2 { incoming, framing, .. } => {
                let stall = self.client.inner.limits.stall;
                return h2::read_body(incoming, framing, self.deadline, stall, piece).await;
            }
            Body::Http1(exchange) => *exchange,
        };
        let pool = &self.client.inner.pool;
        loop {
            match self.client.next(&mut conn, &mut ex).await {
                Ok(Need::Data(n)) => piece(&conn.buf.filled()[..n])?,
                Ok(need) => return Ok(pool.finish(conn, ex.end(need))?),
                Err(f) => return Err(f.error.into()),
            }
        }
    }
}

/// A failed TLS handshake as a sentence.
fn handshake_error(e: io::Error) -> TryError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls_error) => FetchError::Connect(ConnectError::Tls(tls::describe(tls_error))).into(),
        None => TryError::io(e, false),
    }
}
