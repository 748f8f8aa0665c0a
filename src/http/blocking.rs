//! The blocking client: one request at a time per calling thread, on std
//! sockets (no hidden runtime), for the sequential, thread-pool and
//! process-pool styles. Its sibling [`super::nonblocking`] does the same on
//! tokio; both run [`super::wire::Reader`] and ask [`super::policy`].
//!
//! Timeouts are socket timeouts: each read waits at most the stall time
//! and never past the request's deadline. Connections are kept alive in a
//! small pool shared by the clones of a client. Every socket is registered
//! in the client's [`Sockets`], so Ctrl-C can end a read blocked in the
//! kernel.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};

use super::conn::{
    drain_step, remaining, Buf, Drain, Failed, Key, Limits, Pool, Registered, Socket, Sockets, CONNECT_TIMEOUT,
    MAX_HEAD,
};
use super::error::{ConnectError, FetchError};
use super::policy::{self, Want};
use super::tls::{Alpn, Trust};
use super::trace::{self, Stamp, Trace};
use super::url::{BaseUrl, Scheme};
use super::wire::{self, Event, Head, Reader};
use super::{connect, tls};

/// A blocking HTTP/1.1 client. Cheap to clone; clones share one pool.
#[derive(Clone)]
pub struct BlockingClient {
    inner: Arc<Inner>,
}

struct Inner {
    limits: Limits,
    trust: Trust,
    pool: Pool<Conn>,
    sockets: Arc<Sockets>,
    hosts: connect::Hosts,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
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
    _registered: Registered,
    /// Its id and when it was ready, for traces.
    id: u64,
    opened: Stamp,
    /// Requests it has carried.
    requests: u32,
}

/// An answer whose head the policy accepted: read its body with
/// [`Response::read_body`].
pub struct Response<'a> {
    client: &'a BlockingClient,
    conn: Conn,
    reader: Reader,
    head: Head,
    deadline: Instant,
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
    /// the policy accepts its head (a 200 within `max_size`), else the
    /// error it is. A failure on a reused connection before any answer is
    /// sent once more on a new one ([`policy::resend`]).
    pub fn get(&self, base: &BaseUrl, rest: &str, want: Want, max_size: u64) -> Result<Response<'_>, FetchError> {
        self.get_traced(base, rest, want, max_size, &mut Trace::default())
    }

    /// [`BlockingClient::get`], noting in `trace` when each step happened
    /// (also when it fails).
    pub fn get_traced(
        &self,
        base: &BaseUrl,
        rest: &str,
        want: Want,
        max_size: u64,
        trace: &mut Trace,
    ) -> Result<Response<'_>, FetchError> {
        let deadline = Instant::now() + self.inner.limits.timeout;
        let request = wire::get_request(&base.path_of(rest), &base.host_header(), base.authorization.as_deref());
        let fresh = |trace: &mut Trace| self.exchange(self.connect(base, deadline)?, &request, deadline, trace);
        let (conn, reader, head) = match self.inner.pool.checkout(&Key::of(base)) {
            Some(conn) => match self.exchange(conn, &request, deadline, trace) {
                // The pooled connection failed before any answer: once more, on a new one.
                Err(f) if f.resend() => fresh(trace),
                other => other,
            },
            None => fresh(trace),
        }
        .map_err(|f| f.error)?;
        match policy::check_head(&head, reader.framing(), want, max_size) {
            Ok(()) => Ok(Response { client: self, conn, reader, head, deadline }),
            Err(e) => {
                self.drain(conn, reader, &head, deadline);
                Err(e)
            }
        }
    }

    /// Sends `request` on `conn` and reads the head of the answer.
    fn exchange(
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
        conn.stream.tcp().set_write_timeout(Some(wait)).map_err(|e| Failed::io(e, false))?;
        write_all(&mut conn.stream, request).map_err(|e| Failed::io(e, false))?;
        trace.sent = Some(Stamp::now());
        let mut reader = Reader::new(MAX_HEAD);
        let mut answered = false;
        loop {
            let (used, event) = reader.advance(conn.buf.filled()).map_err(|e| Failed::from(FetchError::from(e)))?;
            let head = match event {
                Event::Head(head) => Some(head),
                Event::NeedMore if used == 0 => {
                    if read_some(&mut conn, deadline, limits.stall, answered)? == 0 {
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
    fn drain(&self, mut conn: Conn, mut reader: Reader, head: &Head, deadline: Instant) {
        let mut taken = 0u64;
        loop {
            match drain_step(&mut reader, &mut conn.buf, &mut taken) {
                Drain::Ended => break,
                Drain::GiveUp => return,
                Drain::Read => match read_some(&mut conn, deadline, self.inner.limits.stall, true) {
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
    fn connect(&self, base: &BaseUrl, deadline: Instant) -> Result<Conn, Failed> {
        let addrs = (base.host.as_str(), base.port).to_socket_addrs().map_err(|e| resolve_error(&base.host, e))?;
        let host = self.inner.hosts.get(&base.host, base.port);
        let sockets = &self.inner.sockets;
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            let by = Instant::now() + remaining(deadline, false)?.min(CONNECT_TIMEOUT);
            match connect::open_blocking(&host, addr, by, &|| sockets.halted()) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = match (tcp, last) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(Failed::io(e, false)),
            (None, None) => return Err(FetchError::Connect(ConnectError::NoAddress { host: base.host.clone() }).into()),
        };
        let _ = tcp.set_nodelay(true);
        let registered = self.inner.sockets.register(&tcp).map_err(|e| Failed::io(e, false))?;
        let stream = match base.scheme {
            Scheme::Http => Stream::Plain(tcp),
            Scheme::Https => {
                let tls =
                    ClientConnection::new(tls::config(&self.inner.trust, Alpn::Http1)?, tls::server_name(&base.host)?)
                        .map_err(|e| FetchError::Connect(ConnectError::Tls(tls::describe(&e))))?;
                let mut stream = StreamOwned::new(tls, tcp);
                stream.sock.set_read_timeout(Some(remaining(deadline, false)?)).map_err(|e| Failed::io(e, false))?;
                while stream.conn.is_handshaking() {
                    stream.conn.complete_io(&mut stream.sock).map_err(|e| handshake_error(e, &stream.conn))?;
                }
                Stream::Tls(Box::new(stream))
            }
        };
        let (id, opened) = (trace::connection_id(), Stamp::now());
        Ok(Conn { key: Key::of(base), stream, buf: Buf::new(), _registered: registered, id, opened, requests: 0 })
    }
}

impl BlockingClient {
    /// GETs `rest` under `base` and returns the checked body in memory: a
    /// complete GIF for [`Want::Gif`]. For small programs such as the
    /// examples; the styles stream into files instead.
    pub fn get_bytes(&self, base: &BaseUrl, rest: &str, want: Want) -> Result<Vec<u8>, FetchError> {
        let max = policy::DEFAULT_MAX_SIZE;
        let response = self.get(base, rest, want, max)?;
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
        let stall = self.client.inner.limits.stall;
        loop {
            let (used, event) = self.reader.advance(self.conn.buf.filled()).map_err(FetchError::from)?;
            let end = match event {
                Event::Data(d) => {
                    piece(d)?;
                    false
                }
                Event::End => true,
                Event::NeedMore if used == 0 => {
                    if read_some(&mut self.conn, self.deadline, stall, true).map_err(|f| f.error)? == 0 {
                        self.reader.at_eof().map_err(FetchError::from)?;
                    }
                    false
                }
                _ => false,
            };
            self.conn.buf.consume(used);
            if end || self.reader.done() {
                break;
            }
        }
        Ok(self.client.checkin_if_clean(self.conn, &self.reader, &self.head)?)
    }
}

/// Receives into `conn`'s buffer, waiting at most `stall` and never past
/// `deadline`; how many bytes came (0: the peer closed).
fn read_some(conn: &mut Conn, deadline: Instant, stall: Duration, answered: bool) -> Result<usize, Failed> {
    let wait = remaining(deadline, answered)?.min(stall);
    conn.stream.tcp().set_read_timeout(Some(wait)).map_err(|e| Failed::io(e, answered))?;
    let spare = conn.buf.spare();
    let n = match &mut conn.stream {
        Stream::Plain(s) => s.read(spare),
        // A server that closes without TLS's close_notify ends the body too.
        Stream::Tls(s) => match s.read(spare) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            other => other,
        },
    }
    .map_err(|e| Failed::io(e, answered))?;
    conn.buf.filled_by(n);
    Ok(n)
}

fn write_all(stream: &mut Stream, bytes: &[u8]) -> io::Result<()> {
    match stream {
        Stream::Plain(s) => s.write_all(bytes),
        Stream::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
    }
}

/// A failed TLS handshake as a sentence.
fn handshake_error(e: io::Error, _conn: &ClientConnection) -> Failed {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls_error) => FetchError::Connect(ConnectError::Tls(tls::describe(tls_error))).into(),
        None => Failed::io(e, false),
    }
}

/// A failed name lookup as a fetch error.
fn resolve_error(host: &str, e: io::Error) -> FetchError {
    FetchError::Connect(ConnectError::Resolve { host: host.to_string(), source: std::sync::Arc::new(e) })
}
