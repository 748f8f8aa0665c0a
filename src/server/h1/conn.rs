//! The HTTP/1.1 connection driver: reads request heads into a small
//! buffer, hands each request to the caller's answer function, and writes
//! the answer's head and body as [`wire`] frames them. Every decision is
//! [`wire`]'s; this file only moves bytes.
//!
//! It holds nothing while a request is answered: the read buffer is freed
//! when it is empty, and the answer's head is made when the answer is
//! ready. A request held for a delay then costs its task, its socket and
//! its timer (about 3 KB), where hyper's connection kept a read buffer, a
//! write buffer and its state (about 24 KB).

use std::future::Future;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::BodyExt;
use hyper::body::Body as HttpBody;
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

use super::wire::{self, Asked, Framing, Head, Parsed, RequestBody};

/// How much is read at a time while a head comes in.
const READ_SIZE: usize = 2 << 10;

/// How much is read at a time while an answer is made: enough to see
/// the client leave, small because every waiting connection has it.
const WATCH_SIZE: usize = 64;

/// The largest request body read past and dropped to keep the connection;
/// past this the connection closes after its answer.
const SKIP_MAX: u64 = 64 << 10;

/// Tells a connection to close once it is idle: at once when no request
/// is being answered, else after the answer (sent with `Connection: close`).
#[derive(Debug, Default)]
pub struct Closing {
    begun: AtomicBool,
    wake: Notify,
}

impl Closing {
    pub fn begin(&self) {
        self.begun.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }

    fn begun(&self) -> bool {
        self.begun.load(Ordering::Relaxed)
    }
}

/// Serves HTTP/1.1 on `io` until the client is done, a request or answer
/// fails, or `closing` has begun; `answer` makes each request's answer.
pub async fn serve<IO, A, F, B>(mut io: IO, closing: &Closing, max_head: usize, mut answer: A)
where
    IO: AsyncRead + AsyncWrite + Unpin,
    A: FnMut(Request<()>) -> F,
    F: Future<Output = io::Result<Response<B>>>,
    B: HttpBody<Data = Bytes, Error = io::Error> + Unpin,
{
    let mut buf: Vec<u8> = Vec::new();
    let mut eof = false;
    loop {
        let Some(head) = read_head(&mut io, &mut buf, &mut eof, closing, max_head).await else { return };
        buf.drain(..head.len);
        // Nothing is held while the answer is made, however long that takes.
        if buf.is_empty() {
            buf = Vec::new();
        }
        let (mut asked, skip) = asked_of(&head);
        let Some(Ok(resp)) = watching(&mut io, &mut buf, max_head, answer(head.request)).await else { return };
        if closing.begun() {
            asked.keep_alive = false;
        }
        if !reply(&mut io, resp, &mut asked, (&mut buf, skip), closing).await {
            return;
        }
    }
}

/// The next request's head, from the bytes in `buf` and as many more as
/// it takes; `eof` is set once the client has ended its side. `None` when
/// the connection is done: a head refused (answered, then closed), the
/// client's end before a whole head, a failed read, or `closing` begun.
async fn read_head<IO>(
    io: &mut IO,
    buf: &mut Vec<u8>,
    eof: &mut bool,
    closing: &Closing,
    max_head: usize,
) -> Option<Box<Head>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        if !buf.is_empty() {
            match wire::parse(buf, max_head) {
                Parsed::Head(head) => return Some(head),
                Parsed::Refuse(status) => {
                    let _ = io.write_all(&wire::refusal(status, &date())).await;
                    let _ = io.shutdown().await;
                    return None;
                }
                Parsed::Partial => {}
            }
        }
        if *eof || closing.begun() {
            return None;
        }
        if buf.capacity() - buf.len() < READ_SIZE / 2 {
            buf.reserve(READ_SIZE);
        }
        tokio::select! {
            read = io.read_buf(buf) => match read {
                Ok(0) => *eof = true,
                Ok(_) => {}
                Err(_) => return None,
            },
            _ = closing.wake.notified() => {}
        }
    }
}

/// What `head` asks of its answer, and how many bytes of request body to
/// skip after it: a body the connection will not read past (too long,
/// chunked, or awaiting `100 Continue`) closes it after the answer.
fn asked_of(head: &Head) -> (Asked, u64) {
    let mut asked = Asked {
        head: head.request.method() == Method::HEAD,
        version: head.request.version(),
        keep_alive: head.keep_alive,
    };
    let skip = match head.body {
        RequestBody::Length(n) if n <= SKIP_MAX && !head.expects_continue => n,
        RequestBody::None => 0,
        _ => {
            asked.keep_alive = false;
            0
        }
    };
    (asked, skip)
}

/// The answer `answering` makes, while the client is watched: one that
/// leaves (or half-closes) drops it unfinished, as hyper did (`None`);
/// bytes it pipelines meanwhile are kept in `buf`, up to a head's worth.
async fn watching<IO, F>(io: &mut IO, buf: &mut Vec<u8>, max_head: usize, answering: F) -> Option<F::Output>
where
    IO: AsyncRead + Unpin,
    F: Future,
{
    tokio::pin!(answering);
    loop {
        let mut room = [0u8; WATCH_SIZE];
        let watch = buf.len() < max_head;
        tokio::select! {
            biased;
            resp = &mut answering => return Some(resp),
            read = io.read(&mut room), if watch => match read {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&room[..n]),
            },
        }
    }
}

/// Writes `resp`, then readies the connection for the next request:
/// closes it when `asked` does not keep it alive, else reads past the
/// `skip` bytes of the request's body (the buffered ones in `buf` first).
/// True when it carries another request.
async fn reply<IO, B>(
    io: &mut IO,
    resp: Response<B>,
    asked: &mut Asked,
    (buf, skip): (&mut Vec<u8>, u64),
    closing: &Closing,
) -> bool
where
    IO: AsyncRead + AsyncWrite + Unpin,
    B: HttpBody<Data = Bytes, Error = io::Error> + Unpin,
{
    // Boxed: the connection's task makes no room for an answer while it
    // waits for one.
    if Box::pin(send(io, resp, asked)).await.is_err() {
        return false;
    }
    if !asked.keep_alive {
        let _ = io.shutdown().await;
        return false;
    }
    skip_body(io, buf, skip, closing).await.is_ok()
}

/// Reads past `n` bytes of request body, the buffered ones first.
async fn skip_body<IO: AsyncRead + Unpin>(io: &mut IO, buf: &mut Vec<u8>, n: u64, closing: &Closing) -> io::Result<()> {
    let from_buf = (n as usize).min(buf.len());
    buf.drain(..from_buf);
    let mut left = n - from_buf as u64;
    let mut scratch = vec![0u8; left.min(READ_SIZE as u64) as usize];
    while left > 0 {
        let want = left.min(scratch.len() as u64) as usize;
        let got = tokio::select! {
            got = io.read(&mut scratch[..want]) => got?,
            _ = closing.wake.notified() => 0,
        };
        if got == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        left -= got as u64;
    }
    Ok(())
}

/// Writes `resp`, its head with its first bytes when they are ready at
/// once. An error (the body failed on purpose, the client left) means the
/// connection must drop: what was sent is all the client gets.
async fn send<IO, B>(io: &mut IO, resp: Response<B>, asked: &mut Asked) -> io::Result<()>
where
    IO: AsyncWrite + Unpin,
    B: HttpBody<Data = Bytes, Error = io::Error> + Unpin,
{
    let (mut parts, mut body) = resp.into_parts();
    let (head, framing) = wire::answer_head(parts.status, &mut parts.headers, asked, &date());
    let mut left = match framing {
        Framing::Empty => {
            io.write_all(&head).await?;
            return io.flush().await;
        }
        Framing::Length(n) => Some(n),
        Framing::Chunked | Framing::UntilClose => None,
    };
    // The head goes with the first bytes that are ready, or alone when the
    // body makes it wait; an empty `Vec` once it has gone.
    let mut head = Some(head);
    let chunked = framing == Framing::Chunked;
    loop {
        let frame = match body.frame().now_or_never() {
            Some(frame) => frame,
            None => {
                write_all_vectored(io, &mut [IoSlice::new(&head.take().unwrap_or_default())]).await?;
                io.flush().await?;
                body.frame().await
            }
        };
        let data = match frame {
            None => break,
            Some(Err(e)) => {
                write_all_vectored(io, &mut [IoSlice::new(&head.take().unwrap_or_default())]).await?;
                let _ = io.flush().await;
                return Err(e);
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => data,
                _ => continue,
            },
        };
        if let Some(left) = &mut left {
            *left = left.checked_sub(data.len() as u64).ok_or_else(|| io::Error::other("a body over its length"))?;
        }
        // A body that knows this frame is its last is told so before the
        // bytes go (its end is when the connection took it, as the
        // timeline says), not after the client may have read them.
        let last = body.is_end_stream() && matches!(body.frame().now_or_never(), Some(None));
        let line = if chunked { wire::chunk_line(data.len()) } else { Vec::new() };
        let crlf: &[u8] = if chunked { b"\r\n" } else { b"" };
        let head = head.take().unwrap_or_default();
        write_all_vectored(
            io,
            &mut [IoSlice::new(&head), IoSlice::new(&line), IoSlice::new(&data), IoSlice::new(crlf)],
        )
        .await?;
        if last {
            break;
        }
    }
    let end: &[u8] = if chunked { wire::LAST_CHUNK } else { b"" };
    write_all_vectored(io, &mut [IoSlice::new(&head.take().unwrap_or_default()), IoSlice::new(end)]).await?;
    io.flush().await?;
    match left {
        Some(n) if n > 0 => Err(io::Error::other("a body short of its length")),
        _ => Ok(()),
    }
}

/// Writes all of `parts`, empty ones skipped.
async fn write_all_vectored<IO: AsyncWrite + Unpin>(io: &mut IO, mut parts: &mut [IoSlice<'_>]) -> io::Result<()> {
    // Advancing by nothing drops the empty parts in front.
    IoSlice::advance_slices(&mut parts, 0);
    while !parts.is_empty() {
        let n = io.write_vectored(parts).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut parts, n);
    }
    Ok(())
}

/// Now as a `Date` header's value, made once a second per thread; a copy
/// of it is a reference count, not a string.
fn date() -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(u64, HeaderValue)>> = const { std::cell::RefCell::new(None) };
    }
    let now = std::time::SystemTime::now();
    let secs = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((at, value)) if *at == secs => value.clone(),
            _ => {
                let value = HeaderValue::from_maybe_shared(Bytes::from(httpdate::fmt_http_date(now)))
                    .expect("an HTTP date is a valid header value");
                *last = Some((secs, value.clone()));
                value
            }
        }
    })
}
