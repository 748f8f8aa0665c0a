//! HTTP/2 for the async client: many requests as streams of one
//! connection per server, the other way to be concurrent.
//!
//! The framing, flow control and HPACK are hyper's (its `http2` client
//! connection, run on the async style's runtime) over the client's own TCP
//! or TLS stream; what a response means is decided as for HTTP/1.1: the head
//! becomes a [`Head`] that [`super::policy`] judges, and the body goes
//! through the same checks piece by piece. Only what HTTP/2 frames
//! differently is here: a server's `RST_STREAM` ends one answer, not the
//! connection, and a body ends with its stream.
//!
//! Connections per server: the first request to a server opens one while
//! the others wait (`Hosts`), and every later request is a new stream on
//! it, as long as the server takes that many at once
//! (`SETTINGS_MAX_CONCURRENT_STREAMS`, read by [`super::h2_limit`]). A
//! request that would pass the limit opens another connection, and so on:
//! `-m 100` against a server that takes 32 streams runs on 4 connections.
//! A server that takes enough gets one.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};

use super::clock::{answer_wait, remaining, within};
use super::conn::Key;
use super::h2_limit::{has_room, Limit, Place, Watched};
use super::url::BaseUrl;
use crate::ident::PRODUCT;
use crate::proto::error::{FetchError, IoFailure, StreamFailure};
use crate::proto::trace::{Stamp, Trace};
use crate::proto::wire::{self, BadHead, Framing, Head, WireError};

/// Sends requests on one HTTP/2 connection.
pub(crate) type Sender = SendRequest<Empty<Bytes>>;

/// What the client knows of each server's HTTP/2 connection.
#[derive(Default)]
pub(crate) struct Hosts {
    slots: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// One server: its connections, or that it answered in HTTP/1.1.
#[derive(Default)]
pub(crate) struct Slot {
    conns: Vec<Conn>,
    /// The server chose HTTP/1.1 when offered both.
    pub(crate) http1: bool,
}

/// One HTTP/2 connection: its sender, id, when it was ready, the streams
/// it carries now and the server's limit on them.
struct Conn {
    sender: Sender,
    id: u64,
    opened: Stamp,
    streams: Arc<AtomicUsize>,
    limit: Limit,
}

/// A stream's way: the connection's sender, id, when it was ready, and the
/// stream's place on it.
pub(crate) type Way = (Sender, u64, Stamp, Place);

impl Slot {
    /// A live connection with room for one more stream, and the stream's
    /// place on it; none when every connection is full (or there is none).
    pub(crate) fn sender(&mut self) -> Option<Way> {
        self.conns.retain(|c| !c.sender.is_closed());
        let room = self.conns.iter().find(|c| has_room(c.streams.load(Ordering::SeqCst), *c.limit.borrow()));
        // A server that takes no stream at all (a limit of 0) gets no more
        // connections: the stream waits on one it has, as hyper queues it.
        let c = room.or_else(|| self.conns.iter().find(|c| *c.limit.borrow() == Some(0)))?;
        Some((c.sender.clone(), c.id, c.opened, Place::take(&c.streams)))
    }

    /// Forgets connection `id`: the server went away from it.
    pub(crate) fn forget(&mut self, id: u64) {
        self.conns.retain(|c| c.id != id);
    }

    /// Keeps `sender` for the next requests, with its connection's id, when
    /// it was ready and its limit; the first stream's place on it.
    pub(crate) fn keep(&mut self, sender: Sender, id: u64, opened: Stamp, limit: Limit) -> Way {
        let streams = Arc::new(AtomicUsize::new(0));
        let place = Place::take(&streams);
        self.conns.push(Conn { sender: sender.clone(), id, opened, streams, limit });
        (sender, id, opened, place)
    }
}

impl Hosts {
    /// The slot of `key`'s server.
    pub(crate) fn slot(&self, key: &Key) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }
}

/// Starts HTTP/2 on `io` (after ALPN chose `h2`, or with prior knowledge on
/// plain TCP), and waits for the server's SETTINGS (a server's preface, so
/// at once), at most `SETTINGS_WAIT`; the connection runs as a task on the
/// current runtime until every sender is dropped or the server closes it.
/// Its sender, and its limit of streams at once.
pub(crate) async fn handshake<T>(io: T, deadline: Instant) -> Result<(Sender, Limit), FetchError>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
    builder.max_header_list_size(crate::proto::buf::MAX_HEAD as u32);
    let wait = remaining(deadline, false).map_err(|f| f.error)?;
    let (io, mut limit) = Watched::new(io);
    let (sender, connection) = match tokio::time::timeout(wait, builder.handshake(TokioIo::new(io))).await {
        Err(_) => return Err(FetchError::Timeout { answered: false }),
        Ok(result) => result.map_err(|e| error(e, None))?,
    };
    tokio::spawn(async move {
        // The connection's own end (the server's GOAWAY, a reset) reaches
        // each request that was on it.
        let _ = connection.await;
    });
    // A server that says nothing is taken at its word: no limit known.
    let wait = remaining(deadline, false).map_err(|f| f.error)?.min(SETTINGS_WAIT);
    let _ = tokio::time::timeout(wait, limit.wait_for(Option::is_some)).await;
    Ok((sender, limit))
}

/// The longest wait for a server's first SETTINGS frame after the
/// handshake.
const SETTINGS_WAIT: Duration = Duration::from_secs(2);

/// An answer on a stream, head checked by the caller.
pub(crate) struct Answer {
    pub(crate) head: Head,
    pub(crate) framing: Framing,
    pub(crate) body: Incoming,
}

/// Sends a GET for `rest` under `base` as a new stream, and waits for the
/// head of the answer at most `stall` at a time.
pub(crate) async fn get(
    sender: &mut Sender,
    base: &BaseUrl,
    rest: &str,
    deadline: Instant,
    stall: Duration,
    trace: &mut Trace,
) -> Result<Answer, FetchError> {
    let mut request = hyper::Request::get(base.url_of(rest))
        .header(hyper::header::USER_AGENT, PRODUCT)
        .header(hyper::header::ACCEPT, "*/*");
    if let Some(auth) = &base.authorization {
        request = request.header(hyper::header::AUTHORIZATION, auth.as_str());
    }
    let request = request.body(Empty::new()).map_err(|e| FetchError::Io(IoFailure::System(e.to_string())))?;
    let wait = remaining(deadline, false).map_err(|f| f.error)?;
    let ready = match tokio::time::timeout(wait, sender.ready()).await {
        Err(_) => return Err(FetchError::Timeout { answered: false }),
        Ok(ready) => ready,
    };
    ready.map_err(|e| error(e, None))?;
    trace.sent = Some(Stamp::now());
    // Nothing is sent past the deadline; once sent, its answer is waited
    // for as a body is ([`answer_wait`]): a head that came while this loop
    // was busy past the deadline is taken, as HTTP/1.1 takes it.
    remaining(deadline, false).map_err(|f| f.error)?;
    let response = match within(answer_wait(deadline, stall), sender.send_request(request)).await {
        None => return Err(FetchError::Timeout { answered: false }),
        Some(response) => response.map_err(|e| error(e, None))?,
    };
    trace.first_byte = Some(Stamp::now());
    let (parts, body) = response.into_parts();
    let head = Head {
        status: parts.status.as_u16(),
        minor: 1,
        fields: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
            .collect(),
    };
    let framing = wire::framing(&head)?;
    Ok(Answer { head, framing, body })
}

/// Reads `body` to the end of its stream, handing each piece to `piece`,
/// waiting at most `stall` for each and never past `deadline`, after which
/// only frames that have already come are taken.
pub(crate) async fn read_body<E: From<FetchError>>(
    mut body: Incoming,
    framing: Framing,
    deadline: Instant,
    stall: Duration,
    mut piece: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut got = 0u64;
    loop {
        let frame = match within(answer_wait(deadline, stall), body.frame()).await {
            None => return Err(FetchError::Timeout { answered: true }.into()),
            Some(None) => break,
            Some(Some(frame)) => frame.map_err(|e| error(e, Some((framing, got))))?,
        };
        if let Ok(data) = frame.into_data() {
            got += data.len() as u64;
            if matches!(framing, Framing::Length(n) if got > n) {
                return Err(FetchError::from(WireError::Overrun(framing)).into());
            }
            piece(&data)?;
            if matches!(framing, Framing::Length(n) if got == n) {
                // All that was announced came: done, as HTTP/1.1 is, without
                // waiting for the stream's end (dropping the body resets the
                // stream if the server has not ended it).
                return Ok(());
            }
        }
    }
    match framing {
        Framing::Length(expected) if got < expected => Err(FetchError::from(WireError::Short { expected, got }).into()),
        _ => Ok(()),
    }
}

/// What a failed stream or connection means. `body` is the framing and the
/// bytes received when it failed inside a body.
fn error(e: hyper::Error, body: Option<(Framing, u64)>) -> FetchError {
    let answered = body.is_some();
    let h2 = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<::h2::Error>());
    if let Some(h2) = h2 {
        if let Some(io) = h2.get_io() {
            return crate::proto::error::from_io(io.kind().into(), answered);
        }
        if h2.is_go_away() && h2.is_remote() {
            return FetchError::Stream(StreamFailure::GoneAway);
        }
        // hyper's h2 refuses a body that does not match its Content-Length
        // by resetting the stream itself, before handing over the frame
        // that showed it (one that went past the length, or one that ended
        // the stream short of it); it reaches here as a protocol error that
        // does not say which.
        if h2.reason() == Some(::h2::Reason::PROTOCOL_ERROR) && !h2.is_remote() {
            return match body {
                Some((Framing::Length(_), _)) => WireError::Mismatch.into(),
                Some((framing, _)) => WireError::Overrun(framing).into(),
                None => WireError::BadHead(BadHead::Http2).into(),
            };
        }
        if h2.is_reset() && h2.is_remote() && h2.reason() == Some(::h2::Reason::REFUSED_STREAM) && body.is_none() {
            return FetchError::Stream(StreamFailure::Refused);
        }
        if h2.is_reset() && h2.is_remote() {
            // Cut off inside a body of announced length: it is truncated,
            // as a closed HTTP/1.1 connection would make it.
            if let Some((Framing::Length(expected), got)) = body {
                if got > 0 && got < expected {
                    return WireError::Short { expected, got }.into();
                }
            }
            return FetchError::Stream(StreamFailure::Reset);
        }
    }
    if e.is_closed() || e.is_canceled() || e.is_incomplete_message() {
        return crate::proto::error::from_io(io::ErrorKind::UnexpectedEof.into(), answered);
    }
    FetchError::Io(IoFailure::System(e.to_string()))
}
