//! Response bodies, well-behaved and not: whole, streamed from a file,
//! dripped, truncated, reset, or followed by a slow close. A body that ends
//! in an error makes the connection drop, which is how truncation and
//! resets reach the client.
//!
//! Every faulty or streamed body is one plan: send at most `limit` bytes in
//! frames of at most `piece` bytes, `gap` apart, then finish, fail, or hold
//! the connection open. A file is read [`PIECE`] bytes
//! at a time off the runtime, so memory does not grow with its size.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;

use super::files::PIECE;
use super::peer::Peer;

/// The body type of every response.
pub type Body = BoxBody<Bytes, io::Error>;

/// The whole of `bytes` at once.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

/// No body (HEAD, 304).
pub fn empty() -> Body {
    full(Bytes::new())
}

/// `parts` one after another, with their length known: a page made of
/// shared bytes and a few made for the request.
pub fn parts(parts: Vec<Bytes>) -> Body {
    let len = parts.iter().map(|p| p.len() as u64).sum();
    Parts { parts: parts.into(), len }.boxed()
}

/// The body of [`parts`].
struct Parts {
    parts: std::collections::VecDeque<Bytes>,
    /// The bytes left to send.
    len: u64,
}

impl hyper::body::Body for Parts {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let part = self.parts.pop_front();
        self.len -= part.as_ref().map_or(0, |p| p.len() as u64);
        std::task::Poll::Ready(part.map(|p| Ok(Frame::data(p))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.len)
    }
}

/// Where a body's bytes come from.
#[derive(Debug)]
pub enum BodySource {
    /// Bytes in memory.
    Bytes(Bytes),
    /// `len` bytes of an open file, from `start`.
    File { file: Arc<File>, start: u64, len: u64 },
}

impl BodySource {
    /// How many bytes the whole body has.
    pub fn len(&self) -> u64 {
        match self {
            BodySource::Bytes(b) => b.len() as u64,
            BodySource::File { len, .. } => *len,
        }
    }
}

/// How a body misbehaves, if it does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// All of it, as fast as the connection takes it.
    Whole,
    /// Trickling at this many bytes per second, a tenth of a second's worth at a time.
    Drip(u64),
    /// The first half, then the connection is dropped.
    Truncate,
    /// A quarter, then a TCP reset (RST) of this peer's connection.
    Reset(Peer),
    /// HTTP/2's reset: the head, then the stream is reset (RST_STREAM)
    /// before any byte of the body. (Over HTTP/2 a truncated body is also
    /// a reset stream, after half of it; the client tells them apart by
    /// whether any of the body came, as it tells a reset from a close over
    /// HTTP/1.1.)
    ResetStream,
    /// All of it, then the connection stays open this long.
    SlowClose(Duration),
    /// All of it, then the connection is dropped (sent under a
    /// `Content-Length` larger than the body).
    Lie,
    /// All of it over and over, without end, at this many bytes per second.
    Endless(u64),
}

/// How a planned body ends once its bytes are sent.
#[derive(Debug, Clone, Copy)]
enum End {
    Finish,
    Fail(&'static str),
    Hold(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    limit: u64,
    piece: u64,
    gap: Duration,
    end: End,
}

/// The body of `source`, shaped by `shape`.
pub fn body(source: BodySource, shape: Shape) -> Body {
    let len = source.len();
    let plan = Plan { limit: len, piece: PIECE as u64, gap: Duration::ZERO, end: End::Finish };
    let plan = match shape {
        Shape::Whole => match source {
            BodySource::Bytes(bytes) => return full(bytes),
            BodySource::File { .. } => plan,
        },
        Shape::Drip(rate) => Plan { piece: (rate / 10).max(1), gap: Duration::from_millis(100), ..plan },
        Shape::Truncate => Plan { limit: len / 2, end: End::Fail("truncated on purpose"), ..plan },
        Shape::Reset(peer) => {
            // The close that follows the failure sends RST, not FIN.
            peer.reset();
            Plan { limit: len / 4, end: End::Fail("reset on purpose"), ..plan }
        }
        Shape::ResetStream => Plan { limit: 0, end: End::Fail("reset on purpose"), ..plan },
        Shape::SlowClose(hold) => Plan { end: End::Hold(hold), ..plan },
        Shape::Lie => Plan { end: End::Fail("a Content-Length lie on purpose"), ..plan },
        Shape::Endless(rate) if len > 0 => {
            Plan { limit: u64::MAX, piece: (rate / 10).max(1), gap: Duration::from_millis(100), ..plan }
        }
        Shape::Endless(_) => plan,
    };
    planned(source, plan)
}

/// Where a planned body is.
struct Progress {
    source: BodySource,
    sent: u64,
    plan: Plan,
    done: bool,
}

fn planned(source: BodySource, plan: Plan) -> Body {
    let start = Progress { source, sent: 0, plan, done: false };
    let s = stream::unfold(start, |mut p| async move {
        if p.done {
            return None;
        }
        if p.sent >= p.plan.limit {
            p.done = true;
            return match p.plan.end {
                End::Finish => None,
                End::Hold(d) => {
                    tokio::time::sleep(d).await;
                    None
                }
                End::Fail(why) => {
                    // Let the bytes sent so far leave before the connection drops.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Some((Err(io::Error::other(why)), p))
                }
            };
        }
        if p.sent > 0 && !p.plan.gap.is_zero() {
            tokio::time::sleep(p.plan.gap).await;
        }
        // An endless body goes round its source again.
        let (len, at) = (p.source.len(), p.sent % p.source.len().max(1));
        let want = p.plan.piece.min(p.plan.limit - p.sent).min(len - at);
        match next_piece(&mut p.source, at, want).await {
            Ok(piece) if !piece.is_empty() => {
                p.sent += piece.len() as u64;
                Some((Ok(Frame::data(piece)), p))
            }
            Ok(_) => {
                p.done = true;
                Some((Err(io::Error::other("the file ended early")), p))
            }
            Err(e) => {
                p.done = true;
                Some((Err(e), p))
            }
        }
    });
    StreamBody::new(s).boxed()
}

/// The `want` bytes of `source` at offset `at` of the body.
async fn next_piece(source: &mut BodySource, at: u64, want: u64) -> io::Result<Bytes> {
    match source {
        BodySource::Bytes(bytes) => Ok(bytes.slice(at as usize..(at + want) as usize)),
        BodySource::File { file, start, .. } => {
            let file = Arc::clone(file);
            let offset = *start + at;
            tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::FileExt;
                let mut buf = vec![0u8; want as usize];
                let n = file.read_at(&mut buf, offset)?;
                buf.truncate(n);
                Ok(Bytes::from(buf))
            })
            .await
            .map_err(io::Error::other)?
        }
    }
}

/// The bytes of `source`, gzipped (the `gzip` fault).
pub async fn gzipped(source: BodySource) -> io::Result<Vec<u8>> {
    let bytes = match source {
        BodySource::Bytes(b) => b.to_vec(),
        BodySource::File { file, start, len } => tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::FileExt;
            let mut buf = vec![0u8; len as usize];
            file.read_exact_at(&mut buf, start).map(|()| buf)
        })
        .await
        .map_err(io::Error::other)??,
    };
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &bytes)?;
    enc.finish()
}
