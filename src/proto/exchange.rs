//! One HTTP/1.1 request and its answer on a connection, without I/O and
//! without a clock: the state machine both drivers ([`crate::http::blocking`],
//! [`crate::http::nonblocking`]) run. It is told what the driver saw on the
//! connection before the request ([`Idle`], in [`On`]), the time (`now`, at
//! each step) and what each write or read did; it says what it needs next
//! ([`Need`]): write the request or receive into the connection's buffer,
//! each until a moment ([`Need::Write`], [`Need::Read`]), take body bytes,
//! or put the connection back. The driver does that I/O, blocking or
//! awaited, and tells it how it went ([`Exchange::moved`]). Every rule of an
//! exchange is decided here once:
//!
//! - **Deadline and stall.** Each write or read waits at most the stall
//!   time and never past the request's deadline. Past the deadline a
//!   request is not written, but an answer's bytes that have already
//!   arrived are taken without waiting (a read until a moment already
//!   past is a look): a client that looks late (its loop busy with work)
//!   does not fail an answer the server gave in time.
//! - **The head.** Interim 1xx heads are skipped; the final head goes to
//!   [`policy::check_head`]. An accepted head is handed to the caller
//!   ([`Need::Head`]); a refused one (a 404, a 503, a redirect) has its small
//!   body drained so its connection can serve the next request, and the
//!   policy's error is the outcome ([`Need::Done`]).
//! - **Resending.** A failure before any byte of an answer, on a pooled
//!   connection, is marked so that the request goes once more on a new one
//!   ([`TryError::resend`], decided by [`policy::resend`], counted by
//!   [`super::attempt::Attempt`]); so is a request that finds bytes waiting
//!   on its connection before it is written (nobody's answer:
//!   [`WireError::Unasked`]).
//! - **TLS truncation.** A body that runs to the connection's close is
//!   complete only if TLS closed with close_notify (RFC 9112 §9.8); the
//!   drivers report a close without it as `UnexpectedEof`.
//! - **Reuse.** The answer's framing and `Connection` header decide whether
//!   its connection may go back to the pool ([`Exchange::end`]); what the
//!   driver then sees on the connection decides the rest
//!   ([`super::reuse::after_answer`]).
//!
//! The body's bytes are never copied: [`Need::Data`] says how many bytes at
//! the front of the buffer are body, and they are consumed at the next step.
//!
//! The phases carry their own data: the reader and what it has read exist
//! only once the request is written ([`Phase::Answer`]), and whether the
//! connection may be reused only once the answer is over ([`Phase::Done`]).

use std::io;
use std::time::{Instant, SystemTime};

use super::attempt::TryError;
use super::buf::{Buf, MAX_HEAD};
use super::error::{FetchError, StreamFailure};
use super::policy::{self, Limits, Want};
use super::reuse::{Ended, Idle};
use super::trace::{Stamp, Trace};
use super::wire::{self, Event, Framing, Head, Reader, WireError};

/// The most of an error answer's body read so that its connection can be
/// used again; a longer one closes the connection.
pub(crate) const DRAIN_MAX: u64 = 64 << 10;

/// What an [`Exchange`] needs next from its driver.
#[derive(Debug)]
pub(crate) enum Need {
    /// Write the whole request ([`Exchange::request`]), waiting until
    /// `until` at the latest; then [`Exchange::moved`].
    Write { until: Instant },
    /// Receive into the buffer's spare room, waiting until `until` at the
    /// latest (a moment already past: only what has arrived, without
    /// waiting; nothing there is `TimedOut`); then [`Exchange::moved`].
    Read { until: Instant },
    /// The policy accepted this head: the body follows, when asked for.
    Head(Head),
    /// The first this many bytes of the buffer are body; they are consumed
    /// at the next step.
    Data(usize),
    /// The answer is over: put the connection back if [`Exchange::end`]
    /// allows it, then this is the outcome.
    Done(Result<(), FetchError>),
}

/// A moment, as the driver read it: on the monotonic clock (`at`, for
/// deadlines), as a trace's stamp, and on the wall clock (for a date a
/// server sends: `Retry-After`). The exchange reads no clock: it is given
/// this at each step and with each move.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub(crate) at: Instant,
    pub(crate) stamp: Stamp,
    pub(crate) wall: SystemTime,
}

/// The connection an exchange starts on, as its driver knows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct On {
    /// Its id, for the trace.
    pub(crate) id: u64,
    /// When it was ready.
    pub(crate) opened: Stamp,
    /// The requests it carried before this one (more than 0: pooled).
    pub(crate) carried: u32,
    /// What waits on it, looked at just before the request.
    pub(crate) idle: Idle,
}

/// Where an exchange is.
#[derive(Debug)]
enum Phase {
    /// The request is not written yet.
    Send,
    /// Written: its answer is being read.
    Answer(Answer),
    /// Over: the answer was framed so, and its head allowed (`keep_alive`)
    /// another request on the connection or not.
    Done { framing: Framing, keep_alive: bool },
    /// Failed: the connection closes. A `&mut` machine can be stepped once
    /// more; the drivers never do, and a step here says so.
    Broken,
}

/// An answer being read.
#[derive(Debug)]
struct Answer {
    reader: Reader,
    part: Part,
    /// Bytes at the front of the buffer handed out as [`Need::Data`].
    handed: usize,
    /// Some byte of it arrived.
    answered: bool,
    /// Its head allows another request on the connection.
    keep_alive: bool,
}

/// Which part of an answer is being read.
#[derive(Debug)]
enum Part {
    /// The final head (interim ones are skipped).
    Head,
    /// The body of an accepted answer.
    Body,
    /// The body of a refused answer, read and dropped; the policy's error
    /// is the outcome.
    Drain { error: FetchError, taken: u64 },
}

/// Where reading an answer's bytes got to.
#[derive(Debug)]
enum Read {
    /// More bytes are needed.
    More,
    /// A head or body data for the caller.
    Give(Need),
    /// The answer is over.
    End,
}

/// One GET and its answer on one connection.
#[derive(Debug)]
pub(crate) struct Exchange {
    request: Vec<u8>,
    want: Want,
    limits: Limits,
    deadline: Instant,
    phase: Phase,
    /// When its steps happened.
    pub(crate) trace: Trace,
}

impl Exchange {
    /// `request` for `want`, within `limits` from `now`.
    pub(crate) fn new(request: Vec<u8>, want: Want, limits: Limits, now: Instant) -> Self {
        Exchange { request, want, limits, deadline: now + limits.timeout, phase: Phase::Send, trace: Trace::default() }
    }

    /// A GET of `path` from `host` (a `Host` header's value), with
    /// `authorization` if any.
    pub(crate) fn get(
        path: &str,
        host: &str,
        authorization: Option<&str>,
        want: Want,
        limits: Limits,
        now: Instant,
    ) -> Self {
        Exchange::new(wire::get_request(path, host, authorization), want, limits, now)
    }

    /// The same request from the start, for another connection (a resend),
    /// within the same deadline.
    pub(crate) fn again(&mut self) {
        self.phase = Phase::Send;
        self.trace = Trace::default();
    }

    /// When the request must be over.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The request's bytes.
    pub(crate) fn request(&self) -> &[u8] {
        &self.request
    }

    /// Starts the exchange on the connection `on`. Bytes waiting on it
    /// before the request is written are no answer to it: the exchange
    /// fails, to go once more on a new connection.
    pub(crate) fn start(&mut self, on: On) -> Result<(), TryError> {
        self.trace = Trace {
            conn: Some(on.id),
            reused: on.carried > 0,
            connected: (on.carried == 0).then_some(on.opened),
            ..Trace::default()
        };
        if on.idle == Idle::Bytes {
            self.phase = Phase::Broken;
            return Err(TryError::from(FetchError::Wire(WireError::Unasked)).resent());
        }
        Ok(())
    }

    /// What is needed next, at `now`; the bytes of `buf` handed out by the
    /// last step are consumed first.
    pub(crate) fn step(&mut self, buf: &mut Buf, now: Now) -> Result<Need, TryError> {
        let until = self.deadline.min(now.at + self.limits.stall);
        let answer = match &mut self.phase {
            // A request not written by its deadline is not written.
            Phase::Send if self.deadline <= now.at => return Err(self.fail(FetchError::Timeout { answered: false })),
            Phase::Send => return Ok(Need::Write { until }),
            Phase::Answer(answer) => answer,
            Phase::Done { .. } => return Ok(Need::Done(Ok(()))),
            Phase::Broken => {
                return Err(FetchError::Stream(StreamFailure::Broken("a step after a failure".into())).into())
            }
        };
        buf.consume(std::mem::take(&mut answer.handed));
        match answer.advance(buf, self.want, self.limits.max_size, now.wall) {
            // An answer's bytes are waited for until the deadline, and
            // taken after it while they need no wait.
            Ok(Read::More) => Ok(Need::Read { until }),
            Ok(Read::Give(need)) => Ok(need),
            Ok(Read::End) => {
                let (framing, keep_alive) = (answer.reader.framing(), answer.keep_alive);
                let outcome = match std::mem::replace(&mut self.phase, Phase::Done { framing, keep_alive }) {
                    Phase::Answer(Answer { part: Part::Drain { error, .. }, .. }) => Err(error),
                    _ => Ok(()),
                };
                Ok(Need::Done(outcome))
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The write or read the last step asked for is over, at `now`: it
    /// moved `n` bytes (a read's went into `buf`'s spare room; 0: the peer
    /// closed), or failed (a wait that ran out is `TimedOut`).
    pub(crate) fn moved(&mut self, buf: &mut Buf, moved: io::Result<usize>, now: Now) -> Result<(), TryError> {
        let reused = self.trace.reused;
        let answer = match &mut self.phase {
            Phase::Send => return self.sent(moved, now.stamp),
            Phase::Answer(answer) => answer,
            Phase::Done { .. } | Phase::Broken => {
                return Err(FetchError::Stream(StreamFailure::Broken("bytes after the end".into())).into())
            }
        };
        let n = match moved {
            Ok(n) => n,
            // A TLS connection that closed without close_notify (RFC 9112
            // §9.8): a body that runs to the close may have been cut; any
            // other answer is judged by its framing, as at a plain close.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && answer.in_body(Framing::Close) => {
                return Err(self.fail(FetchError::Wire(WireError::NoCloseNotify)));
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(e) => {
                let (answered, kind) = (answer.answered, e.kind());
                let failed = TryError::io(e, answered);
                let failed = if policy::resend(reused, answered, kind) { failed.resent() } else { failed };
                return Err(self.fail(failed));
            }
        };
        buf.filled_by(n);
        if n > 0 {
            if !answer.answered {
                self.trace.first_byte = Some(now.stamp);
            }
            answer.answered = true;
            return Ok(());
        }
        match answer.reader.at_eof() {
            Ok(()) => Ok(()),
            // Closed before any answer: on a pooled connection, worth sending again.
            Err(_) if !answer.answered => {
                let closed = TryError::io(io::ErrorKind::UnexpectedEof.into(), false);
                Err(if reused { closed.resent() } else { closed })
            }
            Err(e) => Err(self.fail(FetchError::from(e))),
        }
    }

    /// The request's write is over.
    fn sent(&mut self, moved: io::Result<usize>, at: Stamp) -> Result<(), TryError> {
        // A TLS stream that reports its peer gone without close_notify
        // while writing has still taken the request: the read that follows
        // finds what the close means.
        let moved = match moved {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            moved => moved,
        };
        if let Err(e) = moved {
            let stale = policy::resend(self.trace.reused, false, e.kind());
            let failed = TryError::io(e, false);
            return Err(self.fail(if stale { failed.resent() } else { failed }));
        }
        self.trace.sent = Some(at);
        let reader = Reader::new(MAX_HEAD);
        self.phase = Phase::Answer(Answer { reader, part: Part::Head, handed: 0, answered: false, keep_alive: false });
        Ok(())
    }

    /// How the exchange ended, given its last step (`need`): its outcome,
    /// and whether its connection may carry another request if nothing but
    /// silence follows the answer. An exchange ends with [`Need::Done`];
    /// one that ends before its head was refused by the policy.
    pub(crate) fn end(&self, need: Need) -> Ended {
        let outcome = match need {
            Need::Done(outcome) => outcome,
            other => Err(FetchError::Stream(StreamFailure::Broken(format!("{other:?} at its end")))),
        };
        let reuse = match self.phase {
            Phase::Done { framing, keep_alive } => Some((framing, keep_alive)),
            _ => None,
        };
        Ended { outcome, reuse }
    }

    /// What a failure means in this phase: while a refused answer drains,
    /// the policy's error stays the outcome (the connection just closes).
    fn fail(&mut self, failed: impl Into<TryError>) -> TryError {
        match std::mem::replace(&mut self.phase, Phase::Broken) {
            Phase::Answer(Answer { part: Part::Drain { error, .. }, .. }) => TryError::from(error),
            _ => failed.into(),
        }
    }
}

impl Answer {
    /// Reads what `buf` holds, up to what the driver must do next.
    fn advance(&mut self, buf: &mut Buf, want: Want, max_size: u64, wall: SystemTime) -> Result<Read, FetchError> {
        loop {
            let (used, event) = self.reader.advance(buf.filled())?;
            match event {
                Event::NeedMore if used == 0 => {
                    if matches!(self.part, Part::Drain { taken, .. } if taken > DRAIN_MAX) {
                        // Not worth reading on: the connection closes.
                        return Err(FetchError::Timeout { answered: true });
                    }
                    return Ok(Read::More);
                }
                Event::NeedMore => buf.consume(used),
                Event::Head(head) => {
                    buf.consume(used);
                    self.keep_alive = head.keep_alive();
                    match policy::check_head(&head, self.reader.framing(), want, max_size, wall) {
                        Ok(()) => {
                            self.part = Part::Body;
                            return Ok(Read::Give(Need::Head(head)));
                        }
                        Err(error) => self.part = Part::Drain { error, taken: 0 },
                    }
                }
                Event::Data(d) => match &mut self.part {
                    Part::Drain { taken, .. } => {
                        *taken += d.len() as u64;
                        buf.consume(used);
                    }
                    _ => {
                        self.handed = used;
                        return Ok(Read::Give(Need::Data(used)));
                    }
                },
                Event::End => {
                    buf.consume(used);
                    return Ok(Read::End);
                }
            }
        }
    }

    /// True while reading the body of an accepted answer framed so.
    fn in_body(&self, framing: Framing) -> bool {
        matches!(self.part, Part::Body) && self.reader.framing() == framing
    }
}
/// The failure an answer that ended before its head is: it was refused,
/// and `outcome` (the pool's word on its end) says why.
pub(crate) fn refused(outcome: Result<(), FetchError>) -> TryError {
    TryError::from(
        outcome
            .err()
            .unwrap_or(FetchError::Stream(StreamFailure::Broken("an end before the head, not refused".into()))),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::attempt::Attempt;
    use super::*;

    /// The tests' own clock: `secs` seconds after a moment of their own.
    fn t(secs: f64) -> Now {
        static ZERO: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let since = Duration::from_secs_f64(secs);
        let at = *ZERO.get_or_init(Instant::now) + since;
        Now { at, stamp: Stamp(since.as_nanos() as u64), wall: SystemTime::UNIX_EPOCH + since }
    }

    /// That moment on the monotonic clock.
    fn at(secs: f64) -> Instant {
        t(secs).at
    }

    /// An exchange of nothing for a GIF, within 5 s of `t(0)`.
    fn exchange() -> Exchange {
        Exchange::new(Vec::new(), Want::Gif, Limits::new(Duration::from_secs(5)), at(0.0))
    }

    /// A connection that carried `carried` requests, with `idle` waiting on it.
    fn on(carried: u32, idle: Idle) -> On {
        On { id: 1, opened: Stamp(0), carried, idle }
    }

    /// `bytes` arrived, as a read into `buf` that moved them.
    fn arrive(ex: &mut Exchange, buf: &mut Buf, bytes: &[u8]) -> Result<(), TryError> {
        buf.spare()[..bytes.len()].copy_from_slice(bytes);
        ex.moved(buf, Ok(bytes.len()), t(2.0))
    }

    #[test]
    fn bytes_waiting_before_the_request_are_nobodys_answer() {
        let mut ex = exchange();
        let failed = ex.start(on(0, Idle::Bytes)).unwrap_err();
        assert!(failed.resend(), "it may go once more, on a new connection");
        assert_eq!(failed.error.to_string(), WireError::Unasked.to_string());
    }

    /// An exchange that sent its request and received `answer` (a head and
    /// some body), then had its TLS connection closed without close_notify:
    /// the failure.
    fn cut_by_an_unclean_close(answer: &[u8], body: usize) -> TryError {
        let (mut ex, mut buf) = (exchange(), Buf::new());
        ex.start(on(0, Idle::Quiet)).unwrap();
        assert!(matches!(ex.step(&mut buf, t(0.0)), Ok(Need::Write { .. })));
        ex.moved(&mut buf, Ok(0), t(0.1)).unwrap();
        arrive(&mut ex, &mut buf, answer).unwrap();
        assert!(matches!(ex.step(&mut buf, t(0.1)), Ok(Need::Head(_))));
        assert!(matches!(ex.step(&mut buf, t(0.1)), Ok(Need::Data(n)) if n == body));
        assert!(matches!(ex.step(&mut buf, t(0.1)), Ok(Need::Read { .. })));
        ex.moved(&mut buf, Err(io::ErrorKind::UnexpectedEof.into()), t(0.3)).unwrap_err()
    }

    #[test]
    fn a_tls_close_without_close_notify_cuts_a_close_delimited_body() {
        let cut = cut_by_an_unclean_close(b"HTTP/1.1 200 OK\r\n\r\nGIF89a", 6);
        assert_eq!(cut.error, FetchError::Wire(WireError::NoCloseNotify));
        // With a Content-Length, the length judges, as at a plain close.
        let cut = cut_by_an_unclean_close(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF", 3);
        assert_eq!(cut.error.to_string(), "body is 3 bytes, Content-Length said 9");
    }

    /// An exchange whose request went at `t(0)`; its deadline is `t(5)`.
    fn sent() -> (Exchange, Buf) {
        let (mut ex, mut buf) = (exchange(), Buf::new());
        ex.start(on(0, Idle::Quiet)).unwrap();
        assert!(matches!(ex.step(&mut buf, t(0.0)), Ok(Need::Write { until }) if until > at(0.0)));
        ex.moved(&mut buf, Ok(0), t(0.1)).unwrap();
        (ex, buf)
    }

    /// The exchange looks at `now` (a read that may not wait) and finds `bytes`.
    fn look_finds(ex: &mut Exchange, buf: &mut Buf, now: Now, bytes: &[u8]) {
        assert!(matches!(ex.step(buf, now), Ok(Need::Read { until }) if until <= now.at), "a look, not a wait");
        arrive(ex, buf, bytes).unwrap();
    }

    #[test]
    fn past_its_deadline_an_exchange_takes_what_has_come_and_waits_for_nothing() {
        // The client comes back late, its loop busy elsewhere.
        let (mut ex, mut buf) = sent();
        look_finds(&mut ex, &mut buf, t(6.0), b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF");
        assert!(matches!(ex.step(&mut buf, t(6.0)), Ok(Need::Head(_))));
        assert!(matches!(ex.step(&mut buf, t(6.0)), Ok(Need::Data(3))));
        look_finds(&mut ex, &mut buf, t(6.0), b"89a;xx");
        assert!(matches!(ex.step(&mut buf, t(6.0)), Ok(Need::Data(6))));
        assert!(matches!(ex.step(&mut buf, t(6.0)), Ok(Need::Done(Ok(())))));

        // A look that finds nothing is the timeout, in the middle of the answer.
        let (mut ex, mut buf) = sent();
        look_finds(&mut ex, &mut buf, t(5.0), b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF");
        assert!(matches!(ex.step(&mut buf, t(5.0)), Ok(Need::Head(_))));
        assert!(matches!(ex.step(&mut buf, t(5.0)), Ok(Need::Data(3))));
        assert!(matches!(ex.step(&mut buf, t(5.0)), Ok(Need::Read { until }) if until <= at(5.0)));
        let failed = ex.moved(&mut buf, Err(io::ErrorKind::WouldBlock.into()), t(0.3)).unwrap_err();
        assert_eq!(failed.error, FetchError::Timeout { answered: true });
    }

    #[test]
    fn a_head_in_two_pieces_across_the_deadline_is_taken_if_it_has_come() {
        let (mut ex, mut buf) = sent();
        // Before the deadline the read may wait, up to the deadline.
        assert!(matches!(ex.step(&mut buf, t(4.0)), Ok(Need::Read { until }) if until == at(5.0)));
        arrive(&mut ex, &mut buf, b"HTTP/1.1 200 OK\r\nConte").unwrap();
        assert_eq!(ex.trace.first_byte, Some(t(2.0).stamp), "the first byte is stamped as the driver says");
        // Past it, the rest of the head is taken if it is there, and only then.
        look_finds(&mut ex, &mut buf, t(5.5), b"nt-Length: 4\r\n\r\nGIF;");
        assert!(matches!(ex.step(&mut buf, t(5.5)), Ok(Need::Head(h)) if h.status == 200));
        assert!(matches!(ex.step(&mut buf, t(5.5)), Ok(Need::Data(4))));
        let need = ex.step(&mut buf, t(5.5)).unwrap();
        let ended = ex.end(need);
        assert_eq!((ended.outcome, ended.reuse), (Ok(()), Some((Framing::Length(4), true))));

        // The same head's second piece not there yet: the timeout, answered.
        let (mut ex, mut buf) = sent();
        arrive(&mut ex, &mut buf, b"HTTP/1.1 200 OK\r\nConte").unwrap();
        assert!(matches!(ex.step(&mut buf, t(5.5)), Ok(Need::Read { until }) if until <= at(5.5)));
        let failed = ex.moved(&mut buf, Err(io::ErrorKind::WouldBlock.into()), t(0.3)).unwrap_err();
        assert_eq!(failed.error, FetchError::Timeout { answered: true });
        assert!(!failed.resend());
    }

    #[test]
    fn each_wait_is_the_stall_time_at_most_and_never_past_the_deadline() {
        let limits = Limits { stall: Duration::from_secs(1), ..Limits::new(Duration::from_secs(5)) };
        let (mut ex, mut buf) = (Exchange::new(Vec::new(), Want::Gif, limits, at(0.0)), Buf::new());
        ex.start(on(0, Idle::Quiet)).unwrap();
        assert!(matches!(ex.step(&mut buf, t(0.0)), Ok(Need::Write { until }) if until == at(1.0)));
        ex.moved(&mut buf, Ok(0), t(0.1)).unwrap();
        assert!(matches!(ex.step(&mut buf, t(2.0)), Ok(Need::Read { until }) if until == at(3.0)));
        assert!(matches!(ex.step(&mut buf, t(4.5)), Ok(Need::Read { until }) if until == at(5.0)));
    }

    #[test]
    fn a_request_not_written_by_its_deadline_is_not_written() {
        let (mut ex, mut buf) = (exchange(), Buf::new());
        ex.start(on(0, Idle::Quiet)).unwrap();
        let failed = ex.step(&mut buf, t(5.0)).unwrap_err();
        assert_eq!(failed.error, FetchError::Timeout { answered: false });
        assert!(!failed.resend());
    }

    /// Runs an exchange over `answer`, fed `step` bytes at a time: the
    /// head's status (if accepted), the body, and the outcome.
    fn run(answer: &[u8], step: usize) -> (Option<u16>, Vec<u8>, Result<bool, String>) {
        let mut ex =
            Exchange::new(b"GET / HTTP/1.1\r\n\r\n".to_vec(), Want::Gif, Limits::new(Duration::from_secs(5)), at(0.0));
        let (mut buf, mut fed, mut status, mut body) = (Buf::new(), 0, None, Vec::new());
        ex.start(on(0, Idle::Quiet)).unwrap();
        loop {
            match ex.step(&mut buf, t(0.0)) {
                Err(f) => return (status, body, Err(format!("closed: {}", f.error))),
                Ok(Need::Write { .. }) => ex.moved(&mut buf, Ok(0), t(0.1)).unwrap(),
                Ok(Need::Read { .. }) => {
                    let n = step.min(answer.len() - fed);
                    fed += n;
                    if let Err(f) = arrive(&mut ex, &mut buf, &answer[fed - n..fed]) {
                        return (status, body, Err(format!("closed: {}", f.error)));
                    }
                }
                Ok(Need::Head(h)) => status = Some(h.status),
                Ok(Need::Data(n)) => body.extend_from_slice(&buf.filled()[..n]),
                Ok(need @ Need::Done(_)) => {
                    let ended = ex.end(need);
                    return (
                        status,
                        body,
                        ended.outcome.map(|()| ended.reuse.is_some()).map_err(|e| format!("done: {e}")),
                    );
                }
            }
        }
    }

    #[test]
    fn a_flag_arrives_in_any_pieces() {
        for step in [1, 7, 4096] {
            let (status, body, end) =
                run(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nGIF;", step);
            assert_eq!((status, body.as_slice(), end), (Some(200), &b"GIF;"[..], Ok(true)));
        }
    }

    #[test]
    fn a_refused_answer_is_drained_and_its_error_kept() {
        let (status, body, end) = run(b"HTTP/1.1 503 Busy\r\nContent-Length: 3\r\n\r\nno!", 2);
        assert_eq!((status, body.len()), (None, 0));
        assert_eq!(end, Err("done: HTTP 503 - Service Unavailable".into()), "drained to its end");
        let (_, _, cut) = run(b"HTTP/1.1 404 Not Found\r\nContent-Length: 30\r\n\r\nno", 100);
        assert_eq!(cut, Err("closed: not found".into()), "a drain that breaks off keeps the policy's word");
    }

    /// An exchange on a connection that carried `before` requests, sent.
    fn sent_on(before: u32) -> (Exchange, Buf) {
        let (mut ex, mut buf) = (exchange(), Buf::new());
        ex.start(on(before, Idle::Quiet)).unwrap();
        assert!(matches!(ex.step(&mut buf, t(0.0)), Ok(Need::Write { .. })));
        ex.moved(&mut buf, Ok(0), t(0.1)).unwrap();
        assert!(matches!(ex.step(&mut buf, t(0.0)), Ok(Need::Read { .. })));
        (ex, buf)
    }

    #[test]
    fn a_close_before_any_answer_may_be_resent_and_one_after_may_not() {
        let (mut ex, mut buf) = sent_on(1);
        assert!(ex.moved(&mut buf, Ok(0), t(0.2)).unwrap_err().resend(), "a pooled connection gone stale");
        let (mut ex, mut buf) = sent_on(0);
        assert!(!ex.moved(&mut buf, Ok(0), t(0.2)).unwrap_err().resend(), "a new connection's close is its answer");
        let (_, _, end) = run(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF", 100);
        assert_eq!(end, Err("closed: body is 3 bytes, Content-Length said 9".into()));
    }

    #[test]
    fn a_pooled_connection_found_closed_sends_once_more_on_a_fresh_one_and_no_more() {
        let mut attempt = Attempt::new();
        // The pool's connection, closed by the server as the request left.
        let (mut ex, mut buf) = sent_on(3);
        let stale = ex.moved(&mut buf, Ok(0), t(0.2)).unwrap_err();
        assert!(attempt.again(&stale), "once more");
        ex.again();
        let mut buf = Buf::new();
        ex.start(on(0, Idle::Quiet)).unwrap();
        assert!(ex.trace.connected.is_some() && !ex.trace.reused, "on a fresh connection");
        assert!(
            matches!(ex.step(&mut buf, t(1.0)), Ok(Need::Write { until }) if until == at(5.0)),
            "the same deadline"
        );
        ex.moved(&mut buf, Ok(0), t(0.3)).unwrap();
        assert!(matches!(ex.step(&mut buf, t(1.0)), Ok(Need::Read { .. })));
        let closed = ex.moved(&mut buf, Err(io::ErrorKind::ConnectionReset.into()), t(0.4)).unwrap_err();
        assert!(!attempt.again(&closed), "a fresh connection's failure is the outcome");
        assert_eq!(closed.error.to_string(), "connection reset");

        // A pooled connection seen closed, or with bytes waiting, is not tried at all.
        assert!(Attempt::takes(Idle::Quiet));
        assert!(!Attempt::takes(Idle::Closed));
        assert!(!Attempt::takes(Idle::Bytes));
        // Bytes found waiting when the request starts: once more, then no more.
        let mut attempt = Attempt::new();
        let mut ex = exchange();
        assert!(attempt.again(&ex.start(on(1, Idle::Bytes)).unwrap_err()));
        ex.again();
        assert!(!attempt.again(&ex.start(on(0, Idle::Bytes)).unwrap_err()));
    }

    #[test]
    fn a_close_delimited_body_ends_with_the_connection() {
        let (status, body, end) = run(b"HTTP/1.0 200 OK\r\n\r\nGIF89a;", 3);
        assert_eq!((status, body.as_slice(), end), (Some(200), &b"GIF89a;"[..], Ok(true)));
    }

    #[test]
    fn a_long_refused_body_is_not_drained_to_its_end() {
        let long = format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n{}", 1 << 20, "x".repeat(1 << 20));
        let (_, _, end) = run(long.as_bytes(), 16 << 10);
        assert_eq!(end, Err("closed: not found".into()), "given up on, not read to its end");
    }
}
