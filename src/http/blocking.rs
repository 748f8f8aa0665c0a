//! The blocking client: one request at a time per calling thread, on std
//! sockets (no hidden runtime), for the sequential, thread-pool and
//! process-pool styles. Its sibling [`super::nonblocking`] does the same on
//! tokio; both run the protocol core's exchange and tries ([`crate::proto`])
//! and only move bytes, look at sockets and read the clock for it.
//!
//! Timeouts are socket timeouts, set from the moment the exchange says a
//! write or read may wait until: the stall time at most, never past the
//! request's deadline (past it, a read takes only what has arrived,
//! without waiting). Connections are kept alive in a
//! small pool shared by the clones of a client. Every socket is registered
//! in the client's [`Sockets`], so Ctrl-C can end a read blocked in the
//! kernel.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};

use super::clock::{self, remaining};
use super::conn::{self, Conn, Key, Transport, CONNECT_TIMEOUT};
use super::pool::Pool;
use super::sockets::{Registered, Sockets};
use super::tls::{Alpn, Trust};
use super::url::{BaseUrl, Scheme};
use super::{connect, tls};
use crate::proto::attempt::{Attempt, TryError};
use crate::proto::error::{ConnectError, FetchError};
use crate::proto::exchange::{self, Exchange, Need};
use crate::proto::policy::{self, Limits, Want};
use crate::proto::trace::Trace;
use crate::proto::wire::Head;

/// A blocking HTTP/1.1 client. Cheap to clone; clones share one pool.
#[derive(Clone)]
pub struct BlockingClient {
    inner: Arc<Inner>,
}

struct Inner {
    limits: Limits,
    trust: Trust,
    pool: Pool<Stream>,
    sockets: Arc<Sockets>,
    hosts: connect::Hosts,
}

/// A connection's socket, registered in the client's [`Sockets`] while it lives.
struct Stream {
    io: Io,
    _registered: Registered,
}

enum Io {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match &self.io {
            Io::Plain(s) => s,
            Io::Tls(s) => &s.sock,
        }
    }
}

impl Transport for Stream {
    fn raw_fd(&self) -> std::os::fd::RawFd {
        self.tcp().as_raw_fd()
    }

    fn is_tls(&self) -> bool {
        matches!(self.io, Io::Tls(_))
    }
}

/// An answer whose head the policy accepted: read its body with
/// [`Response::read_body`].
pub struct Response<'a> {
    client: &'a BlockingClient,
    conn: Conn<Stream>,
    ex: Exchange,
    head: Head,
}

impl BlockingClient {
    /// A client whose requests each take at most `limits`, believing the
    /// servers `trust` names, keeping up to `pool` idle connections, with
    /// its sockets in `sockets`.
    pub fn new(limits: Limits, trust: Trust, pool: usize, sockets: Arc<Sockets>) -> Self {
        let inner = Inner { limits, trust, pool: Pool::new(pool), sockets, hosts: Default::default() };
        BlockingClient { inner: Arc::new(inner) }
    }

    /// A client of its own, with nothing to halt it (examples and tests).
    pub fn simple(timeout: Duration, pool: usize) -> Self {
        Self::new(Limits::new(timeout), Trust::default(), pool, Arc::default())
    }

    /// GETs `rest` under `base` (`br/br.gif`) for `want`: the answer when
    /// the policy accepts its head (a 200 within the size limit), else the
    /// error it is; `trace` notes when each step happened (also when it
    /// fails). A failure on a reused connection before any answer is sent
    /// once more on a new one ([`policy::resend`]).
    pub fn get(&self, base: &BaseUrl, rest: &str, want: Want, trace: &mut Trace) -> Result<Response<'_>, FetchError> {
        let mut ex = conn::get(base, rest, want, self.inner.limits);
        let (mut attempt, mut pooled) = (Attempt::new(), self.inner.pool.checkout(&Key::of(base)));
        let answer = loop {
            let tried = match pooled.take() {
                Some(conn) => self.head(conn, &mut ex),
                None => self.fresh(base, &mut ex),
            };
            match tried {
                // Once more, on a new connection (see `proto::attempt`): a
                // pooled one gone stale, or bytes nobody asked for waiting on it.
                Err(f) if attempt.again(&f) => continue,
                answer => break answer,
            }
        };
        *trace = ex.trace;
        let (conn, head) = answer.map_err(|f| f.error)?;
        Ok(Response { client: self, conn, ex, head })
    }

    /// The exchange from its start on a new connection.
    fn fresh(&self, base: &BaseUrl, ex: &mut Exchange) -> Result<(Conn<Stream>, Head), TryError> {
        ex.again();
        self.head(self.connect(base, ex.deadline())?, ex)
    }

    /// Runs `ex` on `conn` up to the head of an answer the policy accepts.
    fn head(&self, mut conn: Conn<Stream>, ex: &mut Exchange) -> Result<(Conn<Stream>, Head), TryError> {
        ex.start(conn.on())?;
        match self.next(&mut conn, ex)? {
            Need::Head(head) => Ok((conn, head)),
            need => Err(exchange::refused(self.inner.pool.finish(conn, ex.end(need)))),
        }
    }

    /// Does the writes and reads `ex` asks for on `conn` until it has
    /// something else: a head, body bytes, or its end.
    fn next(&self, conn: &mut Conn<Stream>, ex: &mut Exchange) -> Result<Need, TryError> {
        loop {
            let now = clock::now();
            let moved = match ex.step(&mut conn.buf, now)? {
                Need::Write { until } => {
                    write_all(&mut conn.stream, ex.request(), until.saturating_duration_since(now.at)).map(|()| 0)
                }
                Need::Read { until } => {
                    read_some(&mut conn.stream, conn.buf.spare(), until.saturating_duration_since(now.at))
                }
                need => return Ok(need),
            };
            ex.moved(&mut conn.buf, moved, clock::now())?;
        }
    }

    /// A new connection to `base`'s server, TLS included.
    fn connect(&self, base: &BaseUrl, deadline: Instant) -> Result<Conn<Stream>, TryError> {
        let by = Instant::now() + remaining(deadline, false)?.min(CONNECT_TIMEOUT);
        let sockets = &self.inner.sockets;
        let addrs = connect::resolve_blocking(&base.host, base.port, by, &|| sockets.halted())
            .map_err(|e| connect::lookup_failed(&base.host, e))?;
        let host = self.inner.hosts.get(&base.host, base.port);
        let mut last = None;
        let mut opened = None;
        for addr in addrs {
            match connect::open_blocking(&host, addr, by, &|| sockets.halted()) {
                Ok(s) => {
                    opened = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = opened.ok_or_else(|| connect::none_opened(&base.host, last))?;
        let _ = tcp.set_nodelay(true);
        let registered = self.inner.sockets.register(&tcp).map_err(|e| TryError::io(e, false))?;
        let io = match base.scheme {
            Scheme::Http => Io::Plain(tcp),
            Scheme::Https => {
                let tls =
                    ClientConnection::new(tls::config(&self.inner.trust, Alpn::Http1)?, tls::server_name(&base.host)?)
                        .map_err(|e| FetchError::Connect(ConnectError::Tls(tls::describe(&e))))?;
                let mut stream = StreamOwned::new(tls, tcp);
                stream.sock.set_read_timeout(Some(remaining(deadline, false)?)).map_err(|e| TryError::io(e, false))?;
                while stream.conn.is_handshaking() {
                    stream.conn.complete_io(&mut stream.sock).map_err(handshake_error)?;
                }
                Io::Tls(Box::new(stream))
            }
        };
        Ok(Conn::new(base, Stream { io, _registered: registered }))
    }
}

impl BlockingClient {
    /// GETs `rest` under `base` and returns the checked body in memory: a
    /// complete GIF for [`Want::Gif`]. For small programs such as the
    /// examples; the styles stream into files instead.
    pub fn get_bytes(&self, base: &BaseUrl, rest: &str, want: Want) -> Result<Vec<u8>, FetchError> {
        let max = self.inner.limits.max_size;
        let response = self.get(base, rest, want, &mut Trace::default())?;
        let mut check = policy::BodyCheck::new(want, response.head(), max);
        let mut body = Vec::new();
        response.read_body(|piece| {
            check.take(piece)?;
            body.extend_from_slice(piece);
            Ok::<(), FetchError>(())
        })?;
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
    /// arrives (an error from it stops the read); then the connection goes
    /// back to the pool if the answer ended cleanly.
    pub fn read_body<E: From<FetchError>>(mut self, mut piece: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        loop {
            match self.client.next(&mut self.conn, &mut self.ex).map_err(|f| f.error)? {
                Need::Data(n) => piece(&self.conn.buf.filled()[..n])?,
                need => return Ok(self.client.inner.pool.finish(self.conn, self.ex.end(need))?),
            }
        }
    }
}

/// Receives into `spare`, waiting at most `wait` (zero: only what has
/// arrived, `WouldBlock` if nothing has): how many bytes came (0: the peer
/// closed).
fn read_some(stream: &mut Stream, spare: &mut [u8], wait: Duration) -> io::Result<usize> {
    let look = wait.is_zero();
    match look {
        true => stream.tcp().set_nonblocking(true)?,
        false => stream.tcp().set_read_timeout(Some(wait))?,
    }
    // A TLS close without close_notify is `UnexpectedEof`, for the exchange to judge.
    let read = match &mut stream.io {
        Io::Plain(s) => s.read(spare),
        Io::Tls(s) => s.read(spare),
    };
    if look {
        stream.tcp().set_nonblocking(false)?;
    }
    read
}

/// Writes all of `bytes`, waiting at most `wait` for each write.
fn write_all(stream: &mut Stream, bytes: &[u8], wait: Duration) -> io::Result<()> {
    stream.tcp().set_write_timeout(Some(wait))?;
    match &mut stream.io {
        Io::Plain(s) => s.write_all(bytes),
        Io::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
    }
}

/// A failed TLS handshake as a sentence.
fn handshake_error(e: io::Error) -> TryError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls_error) => FetchError::Connect(ConnectError::Tls(tls::describe(tls_error))).into(),
        None => TryError::io(e, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_may_not_wait_takes_what_has_come_and_leaves_the_socket_blocking() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let registered = Arc::new(Sockets::default()).register(&tcp).unwrap();
        let mut stream = Stream { io: Io::Plain(tcp), _registered: registered };
        let mut room = [0u8; 16];
        let nothing = read_some(&mut stream, &mut room, Duration::ZERO).unwrap_err();
        assert_eq!(nothing.kind(), io::ErrorKind::WouldBlock);
        server.write_all(b"GIF89a").unwrap();
        // Once the bytes are there, a look takes them.
        let mut got = Vec::new();
        while got.len() < 6 {
            match read_some(&mut stream, &mut room, Duration::ZERO) {
                Ok(n) => got.extend_from_slice(&room[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, b"GIF89a");
        assert!(!crate::os::is_nonblocking(stream.tcp().as_raw_fd()), "the socket blocks again for the next read");
    }
}
