//! A request's tries: once on a pooled connection, then, if that failed in
//! a way that says the connection was stale, once on a fresh one. Both
//! drivers run this one rule ([`Attempt::again`]), and the async driver asks
//! [`Attempt::again_h2`] what the same rule means for an HTTP/2 stream
//! ([`super::policy::resend_h2`]).
//!
//! What decides a resend is the exchange's ([`TryError::resend`], see
//! [`super::exchange`]) and the policy's ([`super::policy::resend`]); what a
//! driver observed of an idle connection comes in as an [`Idle`].

use super::error::FetchError;
use super::policy::{self, Again};
use super::reuse::Idle;

/// One try of a request that failed: why ([`FetchError`]), and whether it
/// may go once more on a new connection (the exchange decides, see
/// [`super::exchange`]). A code's failure, as a download reports it, is
/// [`crate::download::Failure`].
#[derive(Debug)]
pub(crate) struct TryError {
    pub(crate) error: FetchError,
    resend: bool,
}

impl TryError {
    /// A socket failure, after (`answered`) or before any byte of an answer.
    pub(crate) fn io(e: std::io::Error, answered: bool) -> Self {
        TryError { error: super::error::from_io(e, answered), resend: false }
    }

    /// This failure, to be sent once more on a new connection.
    pub(crate) fn resent(self) -> Self {
        TryError { resend: true, ..self }
    }

    /// Whether the request goes once more on a new connection.
    pub(crate) fn resend(&self) -> bool {
        self.resend
    }
}

impl From<FetchError> for TryError {
    fn from(error: FetchError) -> Self {
        TryError { error, resend: false }
    }
}

/// The tries of one request: the first (on a pooled connection when the
/// pool has a quiet one, else on a fresh one), and at most one more, always
/// on a fresh connection.
#[derive(Debug, Default)]
pub(crate) struct Attempt {
    resent: bool,
}

impl Attempt {
    pub(crate) fn new() -> Self {
        Attempt::default()
    }

    /// Whether a pooled connection seen `idle` may carry the request: only
    /// a quiet one. One the peer closed is closed here too; one with bytes
    /// waiting is closed as well, as those bytes would be read as this
    /// request's answer.
    pub(crate) fn takes(idle: Idle) -> bool {
        idle == Idle::Quiet
    }

    /// After a try that `failed`: true when the request goes once more, on
    /// a fresh connection (the exchange marked the failure so, and this is
    /// the first time); false when the failure is the outcome.
    pub(crate) fn again(&mut self, failed: &TryError) -> bool {
        let again = failed.resend() && !self.resent;
        self.resent |= again;
        again
    }

    /// After an HTTP/2 stream failed with `error`, on a connection that was
    /// `fresh` (opened for it) and is now `closed` or not: how the request
    /// goes once more, or the error that is its outcome. Once at most.
    pub(crate) fn again_h2(&mut self, error: FetchError, fresh: bool, closed: bool) -> Result<Again, FetchError> {
        match policy::resend_h2(&error, fresh, closed) {
            Some(again) if !self.resent => {
                self.resent = true;
                Ok(again)
            }
            _ => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::{IoFailure, StreamFailure};
    use super::*;

    #[test]
    fn an_http2_stream_goes_once_more_as_the_policy_says() {
        let gone = FetchError::Stream(StreamFailure::GoneAway);
        let refused = FetchError::Stream(StreamFailure::Refused);
        let reset = FetchError::Io(IoFailure::Reset);
        let timeout = FetchError::Timeout { answered: false };
        assert_eq!(Attempt::new().again_h2(gone.clone(), true, false), Ok(Again::Elsewhere));
        assert_eq!(Attempt::new().again_h2(refused.clone(), true, false), Ok(Again::Routed));
        assert_eq!(Attempt::new().again_h2(reset.clone(), false, true), Ok(Again::Routed), "a pooled one closed");
        assert_eq!(Attempt::new().again_h2(reset.clone(), true, true), Err(reset.clone()), "a fresh one's answer");
        assert_eq!(Attempt::new().again_h2(reset.clone(), false, false), Err(reset), "still open: its answer");
        assert_eq!(Attempt::new().again_h2(timeout.clone(), false, true), Err(timeout), "slow, not gone");
        let mut once = Attempt::new();
        assert!(once.again_h2(gone.clone(), true, false).is_ok());
        assert_eq!(once.again_h2(gone.clone(), true, false), Err(gone), "once at most");
    }
}
