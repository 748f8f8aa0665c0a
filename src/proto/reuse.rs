//! Whether a connection may carry another request: what its driver saw on
//! it while idle ([`Idle`]), and how its last answer ended ([`Ended`],
//! [`after_answer`]). The pool (`crate::http::pool`) asks before it hands a
//! connection out and before it takes one back.

use super::error::FetchError;
use super::wire::{Framing, WireError};

/// What a driver saw waiting on a connection between answers, looking
/// without taking anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idle {
    /// Nothing: it can carry another request.
    Quiet,
    /// Bytes nobody asked for.
    Bytes,
    /// The peer closed it (or it failed).
    Closed,
}

/// How an exchange ended: its outcome, and the framing and keep-alive of
/// its answer when its connection may be reused.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) outcome: Result<(), FetchError>,
    pub(crate) reuse: Option<(Framing, bool)>,
}

/// Where a connection goes once an answer is read: back to the pool when
/// nothing but silence follows it, else away. Bytes that came with the end
/// of a body whose length was known (`leftover`, read with it; `framing`
/// `Length` or `Chunked`) are an error: the server sent more than it
/// announced. Bytes that came later (waiting in the socket, `idle`)
/// answer nothing, and only end the connection: whether they are there
/// yet depends on how soon the client looks, and the outcome must not.
pub(crate) fn after_answer(leftover: bool, idle: Idle, framing: Framing, keep_alive: bool) -> Result<bool, WireError> {
    let delimited = matches!(framing, Framing::Length(_) | Framing::Chunked | Framing::Empty);
    if delimited && leftover {
        return Err(WireError::Overrun(framing));
    }
    Ok(delimited && keep_alive && idle == Idle::Quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_with_a_delimited_answer_are_an_overrun_and_bytes_after_it_end_the_connection() {
        assert_eq!(after_answer(false, Idle::Quiet, Framing::Length(3), true), Ok(true));
        assert_eq!(after_answer(false, Idle::Quiet, Framing::Length(3), false), Ok(false));
        assert_eq!(after_answer(false, Idle::Closed, Framing::Length(3), true), Ok(false));
        assert_eq!(
            after_answer(true, Idle::Quiet, Framing::Length(3), true),
            Err(WireError::Overrun(Framing::Length(3)))
        );
        assert_eq!(after_answer(true, Idle::Bytes, Framing::Chunked, true), Err(WireError::Overrun(Framing::Chunked)));
        assert_eq!(after_answer(false, Idle::Bytes, Framing::Length(3), true), Ok(false), "came later: not reused");
        assert_eq!(
            after_answer(false, Idle::Bytes, Framing::Close, true),
            Ok(false),
            "a close-delimited body has no end to pass"
        );
    }
}
