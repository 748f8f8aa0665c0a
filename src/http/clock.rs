//! The drivers' time: the clocks read (`Instant::now` for deadlines,
//! [`Stamp::now`] for traces, the wall clock for dates), and waits bounded
//! by them. The protocol core
//! ([`crate::proto`]) reads no clock: the drivers read it here and pass
//! `now` in.

use std::time::{Duration, Instant};

use crate::os::{self, Clock};
use crate::proto::attempt::TryError;
use crate::proto::error::FetchError;
use crate::proto::exchange::Now;
use crate::proto::trace::Stamp;

impl Stamp {
    /// Now.
    pub fn now() -> Self {
        Stamp(os::clock_ns(Clock::Monotonic))
    }

    /// This moment on the wall clock (for files that want a date: HAR).
    pub fn wall(self) -> std::time::SystemTime {
        let ago = Duration::from_nanos(Stamp::now().0.saturating_sub(self.0));
        let now = std::time::SystemTime::now();
        now.checked_sub(ago).unwrap_or(now)
    }
}

/// Now, on the three clocks the protocol core is given.
pub(crate) fn now() -> Now {
    Now { at: Instant::now(), stamp: Stamp::now(), wall: std::time::SystemTime::now() }
}

/// Time left before `deadline`, or the timeout it is.
pub(crate) fn remaining(deadline: Instant, answered: bool) -> Result<Duration, TryError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(FetchError::Timeout { answered }.into());
    }
    Ok(left)
}

/// How long a read of an answer may wait: the stall time, never past
/// `deadline`. Past the deadline it is zero: nothing more is waited for,
/// but what has already arrived is still taken (at most `--max-size` of
/// it, as always). So an answer that came in time does not fail because
/// this process looked late: the async style's event loop, kept busy by
/// `--work`, or a thread starved of CPU, can come back to a socket after
/// its request's deadline with the whole answer waiting in it. (HTTP/1.1's
/// exchange says the same with its `until`.)
pub(crate) fn answer_wait(deadline: Instant, stall: Duration) -> Duration {
    deadline.saturating_duration_since(Instant::now()).min(stall)
}

/// Awaits `io` for at most `wait`; `None` if it did not finish. When the
/// wait is over (or zero: [`answer_wait`] past the deadline) there is one
/// last look: once the runtime has polled its I/O driver, so that bytes
/// that came while this thread was busy are known (and the tasks that read
/// them, such as an HTTP/2 connection's, have run), `io` is polled once,
/// outside tokio's budget. A timer that fires while the loop computes thus
/// never beats an answer that was already there.
pub(crate) async fn within<F: std::future::Future>(wait: Duration, io: F) -> Option<F::Output> {
    use futures_util::FutureExt;
    let mut io = std::pin::pin!(io);
    if !wait.is_zero() {
        if let Ok(done) = tokio::time::timeout(wait, io.as_mut()).await {
            return Some(done);
        }
    }
    tokio::task::yield_now().await;
    tokio::task::unconstrained(io).now_or_never()
}
