//! The server's own waterfall: a record of the last [`KEEP`] requests it
//! answered, whatever client sent them, with when each connection was
//! accepted, when each request's head arrived, when the first and the last
//! byte of its answer left, its status, its size, the fault applied, and
//! whether the client left first.
//!
//! The record is a ring: past [`KEEP`] requests the oldest go. One
//! request takes about 180 bytes (its path included), so a full ring holds
//! about 2 MB. `GET /timeline?since=MS` answers, as JSON, the requests
//! that ended after `MS` (milliseconds since the server started), and
//! `GET /timeline?after=SEQ` those recorded after the `SEQ`-th, for a
//! poller (the gallery's live waterfall) that must miss none, in pages of
//! at most [`PAGE`](super::timeline_page::PAGE) rendered as the client reads them
//! ([`timeline_page`](super::timeline_page)); a
//! request is recorded when it ends;
//! `flags serve --timeline FILE` draws the whole record when the server
//! stops, with the same drawing as a client's `--timeline`
//! (`crate::waterfall`). `/stats` and `/timeline` are not recorded:
//! watching does not change what is watched.
//!
//! "The first byte left" is when the connection took the answer's first frame to
//! write, and "the last" when it took the end: a few microseconds before
//! the bytes reach the socket.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, SizeHint};

use super::body::Body;
/// The record's data, below both the server that writes it and the
/// waterfalls that draw it.
pub use crate::served::{Document, Served};

/// How many requests the record keeps.
pub const KEEP: usize = 10_000;

/// True for a request the gallery page made: its `Referer` is the root of
/// the server it came to (`http://host:port/`).
pub fn from_gallery(headers: &hyper::HeaderMap) -> bool {
    let Some(referer) = headers.get(hyper::header::REFERER).and_then(|r| r.to_str().ok()) else { return false };
    let Some((_, rest)) = referer.split_once("://") else { return false };
    rest.find('/').is_some_and(|i| &rest[i..] == "/")
}

/// The record.
#[derive(Debug)]
pub struct Record {
    start: Instant,
    pub(super) ring: Mutex<VecDeque<Served>>,
    total: AtomicU64,
    conns: AtomicU64,
    /// Requests begun ([`Record::pending`]) whose entry is not written yet.
    open: AtomicU64,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            start: Instant::now(),
            ring: Mutex::default(),
            total: AtomicU64::new(0),
            conns: AtomicU64::new(0),
            open: AtomicU64::new(0),
        }
    }
}

impl Record {
    /// `at` in milliseconds since the server started.
    pub fn ms(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64() * 1000.0
    }

    /// Requests recorded since the server started.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// A number for a new connection.
    pub fn next_conn(&self) -> u64 {
        self.conns.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Requests begun whose entry is not written yet: an answer still
    /// being made or sent. Its entry is written as its body is let go,
    /// which may come a moment after its client has read the last byte.
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::SeqCst)
    }

    pub(super) fn push(&self, mut served: Served) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        served.seq = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        if ring.len() == KEEP {
            ring.pop_front();
        }
        ring.push_back(served);
        drop(ring);
        // Every entry the server writes was begun by `pending`.
        let _ = self.open.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| Some(n.saturating_sub(1)));
    }

    /// The requests that ended after `since_ms`, in the order they ended.
    pub fn since(&self, since_ms: f64) -> Document {
        self.select(|s| s.done_ms.unwrap_or(s.head_ms) > since_ms)
    }

    /// The requests recorded after the `seq`-th: what a poller that saw up
    /// to `seq` has not seen, none twice and none missed.
    pub fn after(&self, seq: u64) -> Document {
        self.select(|s| s.seq > seq)
    }

    fn select(&self, keep: impl Fn(&Served) -> bool) -> Document {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        Document {
            now_ms: self.ms(Instant::now()),
            total: self.total.load(Ordering::Relaxed),
            keep: KEEP,
            requests: ring.iter().filter(|s| keep(s)).cloned().collect(),
        }
    }

    /// Records `served` now: an answer that never began (a stall, a client
    /// that left during a delay).
    pub fn record_now(&self, mut served: Served) {
        served.done_ms = Some(self.ms(Instant::now()));
        self.push(served);
    }

    /// A request being answered: recorded as left early if its answer is
    /// dropped before it is ready (the connection drops it when the client goes).
    pub fn pending(self: &Arc<Self>, served: Served) -> Pending {
        self.open.fetch_add(1, Ordering::SeqCst);
        Pending { timeline: Arc::clone(self), served: Some(served) }
    }

    /// `body` as it is sent: `served` is completed with the times of its
    /// first and last frames and its size, and recorded when the body ends
    /// or is dropped (the client left: `left_early`).
    pub fn record(self: &Arc<Self>, body: Body, served: Served) -> Body {
        Recorded { inner: body, served: Some(served), timeline: Arc::clone(self), ended: false }.boxed()
    }
}

/// A request whose answer is not ready yet ([`Record::pending`]).
pub struct Pending {
    timeline: Arc<Record>,
    served: Option<Served>,
}

impl Pending {
    /// The record, to complete: the answer is ready.
    pub fn take(mut self) -> Served {
        self.served.take().expect("taken once")
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(mut s) = self.served.take() {
            s.left_early = true;
            self.timeline.record_now(s);
        }
    }
}

/// A body that tells the timeline when its frames leave.
struct Recorded {
    inner: Body,
    served: Option<Served>,
    timeline: Arc<Record>,
    ended: bool,
}

impl hyper::body::Body for Recorded {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let now = Instant::now();
        let ms = self.timeline.ms(now);
        let this = &mut *self;
        if let Some(s) = this.served.as_mut() {
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    s.first_byte_ms.get_or_insert(ms);
                    s.bytes += frame.data_ref().map_or(0, |d| d.len() as u64);
                }
                Poll::Ready(None) => {
                    s.first_byte_ms.get_or_insert(ms);
                    s.last_byte_ms = Some(ms);
                    this.ended = true;
                }
                // A body that fails on purpose (a truncation, a reset) ends
                // the connection: the answer never completes.
                Poll::Ready(Some(Err(_))) | Poll::Pending => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Recorded {
    fn drop(&mut self) {
        if let Some(mut s) = self.served.take() {
            // An empty body may end without a poll: the connection knew from its size.
            if !self.ended && self.inner.is_end_stream() {
                let ms = self.timeline.ms(Instant::now());
                s.first_byte_ms.get_or_insert(ms);
                s.last_byte_ms = Some(ms);
                self.ended = true;
            }
            s.left_early = !self.ended && s.fault.is_none();
            s.done_ms = Some(s.last_byte_ms.unwrap_or_else(|| self.timeline.ms(Instant::now())));
            self.timeline.push(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::served::served;

    #[test]
    fn an_entry_is_open_from_its_request_until_it_is_written() {
        let t = Arc::new(Record::default());
        let (a, b) = (t.pending(served(1.0)), t.pending(served(2.0)));
        assert_eq!(t.open(), 2);
        let body = t.record(http_body_util::Empty::new().map_err(|never| match never {}).boxed(), a.take());
        assert_eq!(t.open(), 2, "an answer being sent is still open");
        drop(body);
        drop(b);
        assert_eq!((t.open(), t.total()), (0, 2));
    }

    #[test]
    fn the_ring_keeps_the_last_requests_and_answers_since_a_time() {
        let t = Record::default();
        for i in 0..KEEP + 5 {
            t.record_now(served(i as f64));
        }
        let all = t.since(-1.0);
        assert_eq!((all.total, all.requests.len()), (KEEP as u64 + 5, KEEP));
        assert_eq!(all.requests[0].head_ms, 5.0, "the oldest went");
        assert_eq!(t.since(f64::NEG_INFINITY).requests.len(), KEEP);
        assert_eq!(
            t.after(KEEP as u64 + 3).requests.iter().map(|s| s.seq).collect::<Vec<_>>(),
            [KEEP as u64 + 4, KEEP as u64 + 5]
        );
    }

    #[tokio::test]
    async fn a_body_records_its_first_and_last_frame_and_its_size() {
        let t = Arc::new(Record::default());
        let body = t.record(super::super::body::full(Bytes::from_static(b"12345")), served(1.0));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"12345");
        let got = &t.after(0).requests[0];
        assert_eq!(got.bytes, 5);
        assert!(got.first_byte_ms.is_some() && got.last_byte_ms >= got.first_byte_ms && !got.left_early);
        // A body dropped before its end: the client left.
        let body = t.record(super::super::body::full(Bytes::from_static(b"x")), served(2.0));
        drop(body);
        assert!(t.after(1).requests[0].left_early);
    }
}
