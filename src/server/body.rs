//! Response bodies, well-behaved and not: whole, dripped, truncated, reset,
//! or followed by a slow close. A body that ends in an error makes hyper
//! drop the connection, which is how truncation and resets reach the client.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;

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

type Chunk = Result<Frame<Bytes>, io::Error>;

/// A body from a list of steps: data, a pause, or a failure.
enum Step {
    Data(Bytes),
    Pause(Duration),
    Fail(&'static str),
}

fn scripted(steps: Vec<Step>) -> Body {
    let s = stream::unfold(steps.into_iter(), |mut steps| async move {
        loop {
            match steps.next()? {
                Step::Data(b) => return Some((Ok(Frame::data(b)) as Chunk, steps)),
                Step::Pause(d) => tokio::time::sleep(d).await,
                Step::Fail(why) => return Some((Err(io::Error::other(why)), steps)),
            }
        }
    });
    StreamBody::new(s).boxed()
}

/// `bytes` trickling at `rate` bytes per second, a tenth of a second's worth at a time.
pub fn drip(bytes: Bytes, rate: u64) -> Body {
    let chunk = (rate / 10).max(1) as usize;
    let mut steps = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let piece = rest.split_to(chunk.min(rest.len()));
        steps.push(Step::Data(piece));
        if !rest.is_empty() {
            steps.push(Step::Pause(Duration::from_millis(100)));
        }
    }
    scripted(steps)
}

/// The first half of `bytes`, then the connection is dropped.
pub fn truncated(bytes: Bytes) -> Body {
    let half = bytes.slice(..bytes.len() / 2);
    scripted(vec![Step::Data(half), Step::Pause(Duration::from_millis(10)), Step::Fail("truncated on purpose")])
}

/// A quarter of `bytes`, then a TCP reset: SO_LINGER 0 on the connection's
/// socket makes its close send RST instead of FIN.
pub fn reset(bytes: Bytes, fd: RawFd) -> Body {
    // SAFETY: `fd` is the socket of the connection this body is being sent
    // on; hyper keeps it open for as long as the body is alive.
    let sock = unsafe { BorrowedFd::borrow_raw(fd) };
    let _ = socket2::SockRef::from(&sock).set_linger(Some(Duration::ZERO));
    let quarter = bytes.slice(..bytes.len() / 4);
    scripted(vec![Step::Data(quarter), Step::Pause(Duration::from_millis(10)), Step::Fail("reset on purpose")])
}

/// All of `bytes`, then the connection stays open `hold` before it closes.
pub fn slow_close(bytes: Bytes, hold: Duration) -> Body {
    scripted(vec![Step::Data(bytes), Step::Pause(hold)])
}
