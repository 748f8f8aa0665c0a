//! One HTTP/1.1 request and its answer on a connection, without I/O: the
//! state machine both drivers ([`super::blocking`], [`super::nonblocking`])
//! run. It says what it needs next ([`Need`]): write the request, receive
//! into the connection's buffer, take body bytes, or put the connection
//! back; the driver does that I/O, blocking or awaited, and tells it how it
//! went ([`Exchange::moved`]). Every rule of an exchange is decided here once:
//!
//! - **Deadline and stall.** Each write or read waits at most the stall
//!   time and never past the request's deadline; the machine says how long
//!   ([`Need::Write`], [`Need::Read`]). Past the deadline a request is not
//!   written, but an answer's bytes that have already arrived are taken
//!   without waiting: a client that looks late (its loop busy with work)
//!   does not fail an answer the server gave in time.
//! - **The head.** Interim 1xx heads are skipped; the final head goes to
//!   [`policy::check_head`]. An accepted head is handed to the caller
//!   ([`Need::Head`]); a refused one (a 404, a 503, a redirect) has its small
//!   body drained so its connection can serve the next request, and the
//!   policy's error is the outcome ([`Need::Done`]).
//! - **Resending.** A failure before any byte of an answer, on a pooled
//!   connection, is marked so that the request goes once more on a new one
//!   ([`Failed::resend`], decided by [`policy::resend`]); so is a request
//!   that finds bytes waiting on its connection before it is written
//!   (nobody's answer: [`WireError::Unasked`]).
//! - **TLS truncation.** A body that runs to the connection's close is
//!   complete only if TLS closed with close_notify (RFC 9112 §9.8); the
//!   drivers report a close without it as `UnexpectedEof`.
//! - **Reuse.** The answer's framing and `Connection` header decide whether
//!   its connection may go back to the pool ([`Exchange::reusable`]); the
//!   pool then looks at the socket itself ([`super::conn::Pool::checkin`]).
//!
//! The body's bytes are never copied: [`Need::Data`] says how many bytes at
//! the front of the buffer are body, and they are consumed at the next step.

use std::io;
use std::time::{Duration, Instant};

use super::conn::{answer_wait, remaining, Buf, Conn, Ended, Failed, Idle, Limits, Transport, DRAIN_MAX, MAX_HEAD};
use super::error::{FetchError, StreamFailure};
use super::policy::{self, Want};
use super::trace::{Stamp, Trace};
use super::url::BaseUrl;
use super::wire::{self, Event, Framing, Head, Reader, WireError};

/// What an [`Exchange`] needs next from its driver.
#[derive(Debug)]
pub(crate) enum Need {
    /// Write the whole request ([`Exchange::request`]), waiting at most
    /// this long; then [`Exchange::moved`].
    Write(Duration),
    /// Receive into the buffer's spare room, waiting at most this long
    /// (zero: only what has arrived, without waiting; nothing there is
    /// `TimedOut`); then [`Exchange::moved`].
    Read(Duration),
    /// The policy accepted this head: the body follows, when asked for.
    Head(Head),
    /// The first this many bytes of the buffer are body; they are consumed
    /// at the next step.
    Data(usize),
    /// The answer is over: put the connection back if
    /// [`Exchange::reusable`], then this is the outcome.
    Done(Result<(), FetchError>),
}

/// Where an exchange is.
#[derive(Debug)]
enum Phase {
    /// The request is not written yet.
    Send,
    /// Waiting for the final head.
    Head,
    /// The body of an accepted answer.
    Body,
    /// The body of a refused answer, read and dropped; the policy's error
    /// is the outcome.
    Drain { error: FetchError, taken: u64 },
    /// Over.
    Done,
    /// Failed: the connection closes.
    Broken,
}

/// One GET and its answer on one connection.
#[derive(Debug)]
pub(crate) struct Exchange {
    request: Vec<u8>,
    want: Want,
    limits: Limits,
    deadline: Instant,
    reader: Reader,
    phase: Phase,
    /// Bytes at the front of the buffer handed out as [`Need::Data`].
    handed: usize,
    /// Some byte of an answer arrived.
    answered: bool,
    /// The head allows another request on the connection.
    keep_alive: bool,
    /// When its steps happened.
    pub(crate) trace: Trace,
}

impl Exchange {
    /// `request` for `want`, within `limits` from now.
    pub(crate) fn new(request: Vec<u8>, want: Want, limits: Limits) -> Self {
        let deadline = Instant::now() + limits.timeout;
        Exchange {
            request,
            want,
            limits,
            deadline,
            reader: Reader::new(MAX_HEAD),
            phase: Phase::Send,
            handed: 0,
            answered: false,
            keep_alive: false,
            trace: Trace::default(),
        }
    }

    /// A GET of `rest` under `base`.
    pub(crate) fn get(base: &BaseUrl, rest: &str, want: Want, limits: Limits) -> Self {
        let request = wire::get_request(&base.path_of(rest), &base.host_header(), base.authorization.as_deref());
        Exchange::new(request, want, limits)
    }

    /// The same request from the start, for another connection (a resend),
    /// within the same deadline.
    pub(crate) fn again(&mut self) {
        let (request, deadline) = (std::mem::take(&mut self.request), self.deadline);
        *self = Exchange::new(request, self.want, self.limits);
        self.deadline = deadline;
    }

    /// When the request must be over.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The request's bytes.
    pub(crate) fn request(&self) -> &[u8] {
        &self.request
    }

    /// Starts the exchange on `conn`.
    pub(crate) fn start<S>(&mut self, conn: &mut Conn<S>) {
        self.trace = Trace {
            conn: Some(conn.id),
            reused: conn.requests > 0,
            connected: (conn.requests == 0).then_some(conn.opened),
            ..Trace::default()
        };
        conn.requests += 1;
    }

    /// What is needed next on `conn`; the bytes of its buffer handed out by
    /// the last step are consumed first.
    pub(crate) fn step<S: Transport>(&mut self, conn: &mut Conn<S>) -> Result<Need, Failed> {
        conn.buf.consume(std::mem::take(&mut self.handed));
        if let Phase::Send = self.phase {
            // Bytes before the request are no answer to it: say so, and let
            // it go once more, on a new connection.
            if conn.unasked() == Idle::Bytes {
                self.phase = Phase::Broken;
                return Err(Failed::from(FetchError::Wire(WireError::Unasked)).resent());
            }
            return Ok(Need::Write(self.wait()?));
        }
        self.advance(&mut conn.buf)
    }

    fn advance(&mut self, buf: &mut Buf) -> Result<Need, Failed> {
        loop {
            let (used, event) = match self.phase {
                Phase::Send => unreachable!("a request is written before its answer is read"),
                Phase::Done => return Ok(Need::Done(Ok(()))),
                Phase::Broken => {
                    return Err(FetchError::Stream(StreamFailure::Broken("a step after a failure".into())).into())
                }
                _ => match self.reader.advance(buf.filled()) {
                    Ok(advanced) => advanced,
                    Err(e) => return Err(self.fail(FetchError::from(e).into())),
                },
            };
            match event {
                Event::NeedMore if used == 0 => {
                    if matches!(self.phase, Phase::Drain { taken, .. } if taken > DRAIN_MAX) {
                        // Not worth reading on: the connection closes.
                        return Err(self.fail(FetchError::Timeout { answered: true }.into()));
                    }
                    return Ok(Need::Read(self.wait()?));
                }
                Event::NeedMore => buf.consume(used),
                Event::Head(head) => {
                    buf.consume(used);
                    self.keep_alive = head.keep_alive();
                    match policy::check_head(&head, self.reader.framing(), self.want, self.limits.max_size) {
                        Ok(()) => {
                            self.phase = Phase::Body;
                            return Ok(Need::Head(head));
                        }
                        Err(error) => self.phase = Phase::Drain { error, taken: 0 },
                    }
                }
                Event::Data(d) => match &mut self.phase {
                    Phase::Drain { taken, .. } => {
                        *taken += d.len() as u64;
                        buf.consume(used);
                    }
                    _ => {
                        self.handed = used;
                        return Ok(Need::Data(used));
                    }
                },
                Event::End => {
                    buf.consume(used);
                    return Ok(Need::Done(match std::mem::replace(&mut self.phase, Phase::Done) {
                        Phase::Drain { error, .. } => Err(error),
                        _ => Ok(()),
                    }));
                }
            }
        }
    }

    /// The write or read the last step asked for is over: it moved `n`
    /// bytes (a read's went into `buf`'s spare room; 0: the peer closed),
    /// or failed (a wait that ran out is `TimedOut`).
    pub(crate) fn moved(&mut self, buf: &mut Buf, moved: io::Result<usize>) -> Result<(), Failed> {
        let n = match moved {
            Ok(n) => n,
            // A TLS connection that closed without close_notify (RFC 9112
            // §9.8): a body that runs to the close may have been cut; any
            // other answer is judged by its framing, as at a plain close.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.phase_is_body(Framing::Close) => {
                return Err(self.fail(FetchError::Wire(WireError::NoCloseNotify).into()));
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(e) => {
                let stale = policy::resend(self.trace.reused, self.answered, e.kind());
                let failed = Failed::io(e, self.answered);
                return Err(self.fail(if stale { failed.resent() } else { failed }));
            }
        };
        if let Phase::Send = self.phase {
            self.trace.sent = Some(Stamp::now());
            self.phase = Phase::Head;
            return Ok(());
        }
        buf.filled_by(n);
        if n > 0 {
            if !self.answered {
                self.trace.first_byte = Some(Stamp::now());
            }
            self.answered = true;
            return Ok(());
        }
        match self.reader.at_eof() {
            Ok(()) => Ok(()),
            // Closed before any answer: on a pooled connection, worth sending again.
            Err(_) if !self.answered => {
                let closed = Failed::io(io::ErrorKind::UnexpectedEof.into(), false);
                Err(if self.trace.reused { closed.resent() } else { closed })
            }
            Err(e) => Err(self.fail(FetchError::from(e).into())),
        }
    }

    /// True while reading the body of an accepted answer framed so.
    fn phase_is_body(&self, framing: Framing) -> bool {
        matches!(self.phase, Phase::Body) && self.reader.framing() == framing
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
        let reuse = matches!(self.phase, Phase::Done).then_some((self.reader.framing(), self.keep_alive));
        Ended { outcome, reuse }
    }

    /// The longest the next write or read may wait. A request not written
    /// by its deadline is not written; an answer's bytes are waited for
    /// until the deadline and taken after it while they need no wait
    /// ([`answer_wait`]).
    fn wait(&mut self) -> Result<Duration, Failed> {
        if let Phase::Send = self.phase {
            return match remaining(self.deadline, false) {
                Ok(left) => Ok(left.min(self.limits.stall)),
                Err(f) => Err(self.fail(f)),
            };
        }
        Ok(answer_wait(self.deadline, self.limits.stall))
    }

    /// What a failure means in this phase: while a refused answer drains,
    /// the policy's error stays the outcome (the connection just closes).
    fn fail(&mut self, failed: Failed) -> Failed {
        match std::mem::replace(&mut self.phase, Phase::Broken) {
            Phase::Drain { error, .. } => Failed::from(error),
            _ => failed,
        }
    }
}

/// The failure an answer that ended before its head is: it was refused,
/// and `outcome` (from [`super::conn::Pool::finish`]) says why.
pub(crate) fn refused(outcome: Result<(), FetchError>) -> Failed {
    Failed::from(
        outcome
            .err()
            .unwrap_or(FetchError::Stream(StreamFailure::Broken("an end before the head, not refused".into()))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_waiting_before_the_request_are_nobodys_answer() {
        let mut ex = Exchange::new(Vec::new(), Want::Gif, Limits::new(Duration::from_secs(5)));
        let mut conn = conn();
        std::io::Write::write_all(&mut conn.stream.1, b"HTTP/1.1 200 OK\r\n").unwrap();
        ex.start(&mut conn);
        let failed = ex.step(&mut conn).unwrap_err();
        assert!(failed.resend(), "it may go once more, on a new connection");
        assert_eq!(failed.error.to_string(), WireError::Unasked.to_string());
    }

    /// An exchange that sent its request and received `answer` (a head and
    /// some body), then had its TLS connection closed without close_notify:
    /// the failure.
    fn cut_by_an_unclean_close(answer: &[u8], body: usize) -> Failed {
        let mut ex = Exchange::new(Vec::new(), Want::Gif, Limits::new(Duration::from_secs(5)));
        let mut conn = conn();
        ex.start(&mut conn);
        assert!(matches!(ex.step(&mut conn), Ok(Need::Write(_))));
        ex.moved(&mut conn.buf, Ok(0)).unwrap();
        conn.buf.spare()[..answer.len()].copy_from_slice(answer);
        ex.moved(&mut conn.buf, Ok(answer.len())).unwrap();
        assert!(matches!(ex.step(&mut conn), Ok(Need::Head(_))));
        assert!(matches!(ex.step(&mut conn), Ok(Need::Data(n)) if n == body));
        assert!(matches!(ex.step(&mut conn), Ok(Need::Read(_))));
        ex.moved(&mut conn.buf, Err(io::ErrorKind::UnexpectedEof.into())).unwrap_err()
    }

    #[test]
    fn a_tls_close_without_close_notify_cuts_a_close_delimited_body() {
        let cut = cut_by_an_unclean_close(b"HTTP/1.1 200 OK\r\n\r\nGIF89a", 6);
        assert_eq!(cut.error, FetchError::Wire(WireError::NoCloseNotify));
        // With a Content-Length, the length judges, as at a plain close.
        let cut = cut_by_an_unclean_close(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF", 3);
        assert_eq!(cut.error.to_string(), "body is 3 bytes, Content-Length said 9");
    }

    /// An exchange whose request went, and whose deadline then went by
    /// while the client was busy elsewhere.
    fn sent_then_late() -> (Exchange, Conn<Quiet>) {
        let mut ex = Exchange::new(Vec::new(), Want::Gif, Limits::new(Duration::from_secs(5)));
        let mut conn = conn();
        ex.start(&mut conn);
        assert!(matches!(ex.step(&mut conn), Ok(Need::Write(w)) if !w.is_zero()));
        ex.moved(&mut conn.buf, Ok(0)).unwrap();
        ex.deadline = Instant::now();
        (ex, conn)
    }

    /// The exchange looks (a read that may not wait) and finds `bytes`.
    fn look_finds(ex: &mut Exchange, conn: &mut Conn<Quiet>, bytes: &[u8]) {
        assert!(matches!(ex.step(conn), Ok(Need::Read(w)) if w.is_zero()), "a look, not a wait");
        conn.buf.spare()[..bytes.len()].copy_from_slice(bytes);
        ex.moved(&mut conn.buf, Ok(bytes.len())).unwrap();
    }

    #[test]
    fn past_its_deadline_an_exchange_takes_what_has_come_and_waits_for_nothing() {
        let (mut ex, mut conn) = sent_then_late();
        look_finds(&mut ex, &mut conn, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF");
        assert!(matches!(ex.step(&mut conn), Ok(Need::Head(_))));
        assert!(matches!(ex.step(&mut conn), Ok(Need::Data(3))));
        look_finds(&mut ex, &mut conn, b"89a;xx");
        assert!(matches!(ex.step(&mut conn), Ok(Need::Data(6))));
        assert!(matches!(ex.step(&mut conn), Ok(Need::Done(Ok(())))));

        // A look that finds nothing is the timeout, in the middle of the answer.
        let (mut ex, mut conn) = sent_then_late();
        look_finds(&mut ex, &mut conn, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF");
        assert!(matches!(ex.step(&mut conn), Ok(Need::Head(_))));
        assert!(matches!(ex.step(&mut conn), Ok(Need::Data(3))));
        assert!(matches!(ex.step(&mut conn), Ok(Need::Read(w)) if w.is_zero()));
        let failed = ex.moved(&mut conn.buf, Err(io::ErrorKind::WouldBlock.into())).unwrap_err();
        assert_eq!(failed.error, FetchError::Timeout { answered: true });
    }

    #[test]
    fn a_request_not_written_by_its_deadline_is_not_written() {
        let mut ex = Exchange::new(Vec::new(), Want::Gif, Limits::new(Duration::from_secs(5)));
        let mut conn = conn();
        ex.start(&mut conn);
        ex.deadline = Instant::now();
        let failed = ex.step(&mut conn).unwrap_err();
        assert_eq!(failed.error, FetchError::Timeout { answered: false });
        assert!(!failed.resend());
    }

    /// One end of a quiet socket pair, as a connection's transport.
    struct Quiet(std::os::unix::net::UnixStream, #[allow(dead_code)] std::os::unix::net::UnixStream);

    impl Transport for Quiet {
        fn raw_fd(&self) -> std::os::fd::RawFd {
            std::os::fd::AsRawFd::as_raw_fd(&self.0)
        }
        fn is_tls(&self) -> bool {
            false
        }
    }

    fn conn() -> Conn<Quiet> {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        Conn::new(&"http://x/flags".parse().unwrap(), Quiet(a, b))
    }

    /// Runs an exchange over `answer`, fed `step` bytes at a time: the
    /// head's status (if accepted), the body, and the outcome.
    fn run(answer: &[u8], step: usize) -> (Option<u16>, Vec<u8>, Result<bool, String>) {
        let mut ex = Exchange::new(b"GET / HTTP/1.1\r\n\r\n".to_vec(), Want::Gif, Limits::new(Duration::from_secs(5)));
        let (mut conn, mut fed, mut status, mut body) = (conn(), 0, None, Vec::new());
        ex.start(&mut conn);
        loop {
            match ex.step(&mut conn) {
                Err(f) => return (status, body, Err(format!("closed: {}", f.error))),
                Ok(Need::Write(_)) => ex.moved(&mut conn.buf, Ok(0)).unwrap(),
                Ok(Need::Read(_)) => {
                    let n = step.min(answer.len() - fed);
                    conn.buf.spare()[..n].copy_from_slice(&answer[fed..fed + n]);
                    fed += n;
                    if let Err(f) = ex.moved(&mut conn.buf, Ok(n)) {
                        return (status, body, Err(format!("closed: {}", f.error)));
                    }
                }
                Ok(Need::Head(h)) => status = Some(h.status),
                Ok(Need::Data(n)) => body.extend_from_slice(&conn.buf.filled()[..n]),
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
    fn sent_on(before: u32) -> (Exchange, Conn<Quiet>) {
        let mut ex = Exchange::new(Vec::new(), Want::Gif, Limits::new(Duration::from_secs(5)));
        let mut conn = conn();
        conn.requests = before;
        ex.start(&mut conn);
        assert!(matches!(ex.step(&mut conn), Ok(Need::Write(_))));
        ex.moved(&mut conn.buf, Ok(0)).unwrap();
        assert!(matches!(ex.step(&mut conn), Ok(Need::Read(_))));
        (ex, conn)
    }

    #[test]
    fn a_close_before_any_answer_may_be_resent_and_one_after_may_not() {
        let (mut ex, mut conn) = sent_on(1);
        assert!(ex.moved(&mut conn.buf, Ok(0)).unwrap_err().resend(), "a pooled connection gone stale");
        let (mut ex, mut conn) = sent_on(0);
        assert!(!ex.moved(&mut conn.buf, Ok(0)).unwrap_err().resend(), "a new connection's close is its answer");
        let (_, _, end) = run(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nGIF", 100);
        assert_eq!(end, Err("closed: body is 3 bytes, Content-Length said 9".into()));
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
