//! Every connection either makes progress or is closed, in every protocol:
//! what a connection has done is noted as it happens ([`Progress`]), and
//! one rule, without I/O ([`Progress::verdict`]), says what is due:
//!
//! - **No request yet.** From accept (the TLS handshake included) a client
//!   has `--header-timeout` to send its first complete request head, over
//!   HTTP/1.1 or HTTP/2: a connection that sends nothing, half a preface, or
//!   a preface and SETTINGS and no HEADERS is closed then.
//! - **Idle.** A connection with no request being answered, for
//!   `--idle-timeout`, is let go: HTTP/2 sends GOAWAY, HTTP/1.1 closes.
//! - **An answer nobody takes.** While answers are being sent, a
//!   connection where none of them moves for `--send-timeout` (the client
//!   reads nothing, or an HTTP/2 flow-control window stays at zero) is
//!   closed, with whatever it holds. A request the server holds on purpose
//!   (a delay, a stall, a drip, a slow close) is not such an answer.
//!
//! [`Tracked`] is the body every response goes out in: it tells the
//! progress when the connection ([`super::h1`], or hyper's HTTP/2) asks it for more (the answer moves), when it hands
//! over bytes and waits to be asked again, and when it ends.
//!
//! It also keeps what one connection has waiting within [`BUDGET`]: the
//! bytes its answers have handed over and the connection has not taken
//! yet (a piece counts until its body is asked for the next one). An
//! answer asked for more while its connection is over the budget waits,
//! without rendering anything, until another answer's bytes are taken; it
//! waits for the client, so the send timeout applies. HTTP/1.1 sends one
//! answer at a time, so there the budget never binds; over HTTP/2 it caps
//! what 32 streams whose windows stay at zero hold, one piece each.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::Notify;

use super::body::Body;
use crate::os::{self, Clock};

/// How long a connection may go without progress of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From accept to the first complete request head.
    pub header: Duration,
    /// With no request being answered.
    pub idle: Duration,
    /// With answers to send and none of them moving.
    pub send: Duration,
}

/// What is due on a connection now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing: look again within this long, or when woken.
    Wait(Duration),
    /// Let it go politely (HTTP/2 GOAWAY; HTTP/1.1 closes when idle).
    GoAway(Why),
    /// Close it now.
    Close(Why),
}

/// Why a connection is let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    NoRequest,
    Idle,
    NotReading,
}

/// What one connection has done, noted by its requests and answers.
#[derive(Debug)]
pub struct Progress {
    /// When it was accepted, ms on the coarse monotonic clock.
    accepted: u64,
    /// Request heads received.
    heads: AtomicU64,
    /// Requests being answered (the head is in, the answer not made yet).
    held: AtomicUsize,
    /// Answers handed over whose body has not ended.
    sending: AtomicUsize,
    /// Of those, answers waiting to be asked for more.
    waiting: AtomicUsize,
    /// The last time anything moved.
    last: AtomicU64,
    /// Told when the verdict may have changed sooner than it said.
    pub(crate) wake: Notify,
    /// Bytes handed over by its answers and not taken yet ([`BUDGET`]).
    unsent: AtomicUsize,
    /// The answers waiting for room in the budget. A std `Mutex`: it is
    /// never held across an `.await`.
    parked: Mutex<Vec<Waker>>,
}

/// The most bytes one connection's answers may have handed over and not
/// had taken. A piece of an answer is at most a few KB when rendered for
/// the request ([`super::timeline_page`]); shared bytes (a flag, a
/// page) count too, though they cost nothing more, so a client that reads
/// may have any answer, one at a time at worst.
pub const BUDGET: usize = 256 << 10;

fn now_ms() -> u64 {
    os::clock_ns(Clock::MonotonicCoarse) / 1_000_000
}

impl Progress {
    /// A connection accepted now.
    pub fn new() -> Arc<Self> {
        let now = now_ms();
        Arc::new(Progress {
            accepted: now,
            heads: AtomicU64::new(0),
            held: AtomicUsize::new(0),
            sending: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            last: AtomicU64::new(now),
            wake: Notify::new(),
            unsent: AtomicUsize::new(0),
            parked: Mutex::default(),
        })
    }

    fn touch(&self) {
        self.last.store(now_ms(), Ordering::Relaxed);
    }

    /// Something ended: if nothing is being answered now, the idle timeout
    /// starts, sooner than the guard's next look, so it is woken. (Every
    /// other change can only put a verdict off, which the guard finds when
    /// it looks again; so the hot path wakes it once per answered request.)
    fn ended(&self) {
        self.touch();
        if self.held.load(Ordering::Relaxed) == 0 && self.sending.load(Ordering::Relaxed) == 0 {
            self.wake.notify_one();
        }
    }

    /// Bytes handed over and not taken yet, by all its answers.
    pub fn unsent(&self) -> usize {
        self.unsent.load(Ordering::Relaxed)
    }

    /// Room in the budget for an answer to hand over more; if there is
    /// none, `waker` is woken when some is made.
    fn room(&self, waker: &Waker) -> bool {
        if self.unsent() < BUDGET {
            return true;
        }
        let mut parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
        if !parked.iter().any(|w| w.will_wake(waker)) {
            parked.push(waker.clone());
        }
        drop(parked);
        // Taken meanwhile: its waking may have come before this one parked.
        self.unsent() < BUDGET
    }

    /// `n` bytes handed over earlier have been taken.
    fn taken(&self, n: usize) {
        if n == 0 {
            return;
        }
        let before = self.unsent.fetch_sub(n, Ordering::Relaxed);
        if before >= BUDGET && before - n < BUDGET {
            let parked = std::mem::take(&mut *self.parked.lock().unwrap_or_else(|e| e.into_inner()));
            parked.into_iter().for_each(Waker::wake);
        }
    }

    /// A request's head arrived; it is answered until the guard is dropped.
    pub fn request(self: &Arc<Self>) -> Held {
        self.heads.fetch_add(1, Ordering::Relaxed);
        self.held.fetch_add(1, Ordering::Relaxed);
        self.touch();
        Held(Arc::clone(self))
    }

    /// What is due at `now` (ms on the coarse monotonic clock).
    pub fn verdict_at(&self, now: u64, t: Timeouts) -> Verdict {
        let due = |from: u64, limit: Duration, late: Verdict| {
            let at = from + limit.as_millis() as u64;
            if now >= at {
                late
            } else {
                Verdict::Wait(Duration::from_millis(at - now))
            }
        };
        let last = self.last.load(Ordering::Relaxed);
        if self.heads.load(Ordering::Relaxed) == 0 {
            return due(self.accepted, t.header, Verdict::Close(Why::NoRequest));
        }
        let (held, sending) = (self.held.load(Ordering::Relaxed), self.sending.load(Ordering::Relaxed));
        if held == 0 && sending == 0 {
            return due(last, t.idle, Verdict::GoAway(Why::Idle));
        }
        if self.waiting.load(Ordering::Relaxed) > 0 {
            return due(last, t.send, Verdict::Close(Why::NotReading));
        }
        // Answers are moving, or held on purpose: look again later.
        Verdict::Wait(t.send)
    }

    /// What is due now.
    pub fn verdict(&self, t: Timeouts) -> Verdict {
        self.verdict_at(now_ms(), t)
    }
}

/// A request being answered, until dropped.
#[derive(Debug)]
pub struct Held(Arc<Progress>);

impl Held {
    /// The answer's body, handed over to the connection now.
    pub fn answer(self, body: Body) -> Tracked {
        let p = &self.0;
        p.sending.fetch_add(1, Ordering::Relaxed);
        p.waiting.fetch_add(1, Ordering::Relaxed);
        Tracked { body, progress: Arc::clone(p), waiting: true, ended: false, handed: 0 }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.held.fetch_sub(1, Ordering::Relaxed);
        self.0.ended();
    }
}

/// A response body that tells its connection's [`Progress`] how it goes.
#[derive(Debug)]
pub struct Tracked {
    body: Body,
    progress: Arc<Progress>,
    /// Counted among the answers waiting to be asked for more.
    waiting: bool,
    ended: bool,
    /// The bytes of the piece it handed over last, until it is asked for
    /// the next: counted in the connection's unsent bytes.
    handed: usize,
}

impl Tracked {
    fn set_waiting(&mut self, waiting: bool) {
        if self.waiting != waiting {
            self.waiting = waiting;
            match waiting {
                true => self.progress.waiting.fetch_add(1, Ordering::Relaxed),
                false => self.progress.waiting.fetch_sub(1, Ordering::Relaxed),
            };
        }
    }

    /// Its last piece has been taken.
    fn release(&mut self) {
        self.progress.taken(std::mem::take(&mut self.handed));
    }

    fn end(&mut self) {
        self.release();
        if !self.ended {
            self.ended = true;
            self.set_waiting(false);
            self.progress.sending.fetch_sub(1, Ordering::Relaxed);
            self.progress.ended();
        }
    }
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // Asked for more: the connection took what this answer handed over.
        self.release();
        self.progress.touch();
        if !self.progress.room(cx.waker()) {
            // The connection's other answers wait for the client.
            self.set_waiting(true);
            return Poll::Pending;
        }
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            // The body itself waits (a drip, a slow close): not the client.
            Poll::Pending => self.set_waiting(false),
            // Handed over: now it is the client's turn to take it.
            Poll::Ready(Some(Ok(frame))) => {
                self.handed = frame.data_ref().map_or(0, Bytes::len);
                self.progress.unsent.fetch_add(self.handed, Ordering::Relaxed);
                self.set_waiting(true);
            }
            Poll::Ready(_) => self.end(),
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts =
        Timeouts { header: Duration::from_secs(2), idle: Duration::from_secs(5), send: Duration::from_secs(3) };

    #[test]
    fn a_connection_without_a_request_is_closed_at_the_header_timeout() {
        let p = Progress::new();
        let at = p.accepted;
        assert_eq!(p.verdict_at(at + 1_500, T), Verdict::Wait(Duration::from_millis(500)));
        assert_eq!(p.verdict_at(at + 2_000, T), Verdict::Close(Why::NoRequest));
    }

    #[test]
    fn an_idle_connection_goes_away_and_a_held_one_does_not() {
        let p = Progress::new();
        let held = p.request();
        let last = p.last.load(Ordering::Relaxed);
        assert!(matches!(p.verdict_at(last + 60_000, T), Verdict::Wait(_)), "a delay held on purpose");
        drop(held);
        let last = p.last.load(Ordering::Relaxed);
        assert_eq!(p.verdict_at(last + 5_000, T), Verdict::GoAway(Why::Idle));
    }

    #[test]
    fn answers_wait_while_their_connection_is_over_its_budget() {
        let p = Progress::new();
        let big = Bytes::from(vec![0u8; BUDGET]);
        let mut first = p.request().answer(super::super::body::parts(vec![big.clone(), big]));
        let mut second = p.request().answer(super::super::body::full("GIF89a;"));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(matches!(Pin::new(&mut first).poll_frame(&mut cx), Poll::Ready(Some(Ok(_)))));
        assert_eq!(p.unsent(), BUDGET, "handed over, not taken");
        assert!(Pin::new(&mut second).poll_frame(&mut cx).is_pending(), "no room: it waits");
        assert!(p.waiting.load(Ordering::Relaxed) > 0, "for the client: the send timeout applies");
        // The first is asked for more: its piece was taken, and the next handed.
        assert!(matches!(Pin::new(&mut first).poll_frame(&mut cx), Poll::Ready(Some(Ok(_)))));
        assert_eq!(p.unsent(), BUDGET);
        drop(first);
        assert_eq!(p.unsent(), 0, "an answer dropped holds nothing");
        assert!(matches!(Pin::new(&mut second).poll_frame(&mut cx), Poll::Ready(Some(Ok(_)))));
    }

    #[test]
    fn an_answer_nobody_takes_closes_its_connection() {
        let p = Progress::new();
        let mut body = p.request().answer(super::super::body::full("GIF89a;"));
        let last = p.last.load(Ordering::Relaxed);
        assert_eq!(p.verdict_at(last + 3_000, T), Verdict::Close(Why::NotReading), "never asked for its bytes");
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(matches!(Pin::new(&mut body).poll_frame(&mut cx), Poll::Ready(Some(Ok(_)))));
        assert!(matches!(Pin::new(&mut body).poll_frame(&mut cx), Poll::Ready(None)));
        let last = p.last.load(Ordering::Relaxed);
        assert_eq!(p.verdict_at(last + 1_000, T), Verdict::Wait(Duration::from_secs(4)), "sent: idle now");
    }
}
