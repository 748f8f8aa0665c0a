//! Idle keep-alive connections, kept for reuse by the clones of a client.
//! Whether a connection may go back and come out again is the protocol
//! core's word ([`after_answer`], [`Attempt::takes`]), given what the
//! socket shows ([`Conn::unasked`]).

use std::sync::Mutex;

use super::conn::{Conn, Key, Transport};
use crate::proto::attempt::Attempt;
use crate::proto::error::FetchError;
use crate::proto::reuse::{after_answer, Ended};
use crate::proto::wire::Framing;

/// Idle keep-alive connections, kept for reuse by the clones of a client.
pub(crate) struct Pool<S> {
    idle: Mutex<Vec<Conn<S>>>,
    max: usize,
}

impl<S: Transport> Pool<S> {
    /// A pool of at most `max` idle connections.
    pub(crate) fn new(max: usize) -> Self {
        Pool { idle: Mutex::default(), max: max.max(1) }
    }

    /// A pooled connection to `key` that is still quiet: one the peer has
    /// closed, or on which bytes arrived that nobody asked for (they would
    /// be read as the next request's answer), is closed instead.
    pub(crate) fn checkout(&self, key: &Key) -> Option<Conn<S>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(i) = idle.iter().rposition(|c| c.key == *key) {
            let conn = idle.swap_remove(i);
            if Attempt::takes(conn.unasked()) {
                return Some(conn);
            }
        }
        None
    }

    /// Ends an exchange on `conn` as it `ended`: the connection goes back
    /// to the pool if the answer allows it and nothing but silence follows
    /// it. The exchange's outcome, or an error if the server sent more
    /// than the answer ([`after_answer`]).
    pub(crate) fn finish(&self, conn: Conn<S>, ended: Ended) -> Result<(), FetchError> {
        match ended.reuse {
            Some((framing, keep_alive)) => ended.outcome.and(self.checkin(conn, framing, keep_alive)),
            None => ended.outcome,
        }
    }

    fn checkin(&self, conn: Conn<S>, framing: Framing, keep_alive: bool) -> Result<(), FetchError> {
        // What waits after the answer, as before a request ([`Conn::unasked`]).
        if after_answer(!conn.buf.is_empty(), conn.unasked(), framing, keep_alive)? {
            let mut pool = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < self.max {
                pool.push(conn);
            }
        }
        Ok(())
    }
}
