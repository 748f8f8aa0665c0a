//! Counters a running server keeps, shared by its threads: requests (by
//! status, per flag URL, per second over the last minute), injected 418s,
//! requests in flight and their peak, connections, TLS handshakes and their
//! cost, HTTP/2 connections; and the record of the last requests
//! ([`super::timeline`]). Tests read them, and `GET /stats` serves them
//! as JSON ([`Stats::snapshot`]) for the gallery's live strip and for
//! scripts.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::timeline::Record;
use crate::countries::CountryCode;

/// How many seconds of history [`Stats::snapshot`] keeps.
const HISTORY: usize = 60;

/// Counters a running server keeps; tests use them to check clients.
#[derive(Debug)]
pub struct Stats {
    requests: AtomicU64,
    teapots: AtomicU64,
    /// Requests that ended without an answer sent (the client left).
    unanswered: AtomicU64,
    /// Requests per flag API URL: two per two-letter code (image, metadata).
    asked: Vec<AtomicU64>,
    /// Answers by status, 100 to 599.
    statuses: Vec<AtomicU64>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    connections: AtomicU64,
    h2_connections: AtomicU64,
    handshakes: AtomicU64,
    handshake_us: AtomicU64,
    /// Per second: (the second, requests started in it), a ring of `HISTORY`.
    seconds: Vec<(AtomicU64, AtomicU64)>,
    /// The last requests, one by one ([`super::timeline`]).
    timeline: Arc<Record>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            requests: AtomicU64::new(0),
            teapots: AtomicU64::new(0),
            unanswered: AtomicU64::new(0),
            asked: (0..26 * 26 * 2).map(|_| AtomicU64::new(0)).collect(),
            statuses: (0..500).map(|_| AtomicU64::new(0)).collect(),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            connections: AtomicU64::new(0),
            h2_connections: AtomicU64::new(0),
            handshakes: AtomicU64::new(0),
            handshake_us: AtomicU64::new(0),
            seconds: (0..HISTORY).map(|_| (AtomicU64::new(0), AtomicU64::new(0))).collect(),
            timeline: Arc::default(),
        }
    }
}

/// What `GET /stats` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Requests received since the server started.
    pub requests: u64,
    /// Answers sent, by status code.
    pub by_status: std::collections::BTreeMap<u16, u64>,
    /// Requests that ended with no answer sent: the client left first.
    /// With `by_status` and `in_flight`, every request is accounted for.
    pub unanswered: u64,
    /// Requests being answered now.
    pub in_flight: usize,
    /// The most that were ever being answered at once.
    pub peak_in_flight: usize,
    /// Connections accepted.
    pub connections: u64,
    /// Of those, connections that spoke HTTP/2.
    pub h2_connections: u64,
    /// TLS handshakes completed, and the time they took in all, ms.
    pub tls_handshakes: u64,
    pub tls_handshake_ms: f64,
    /// Requests started in each of the last 60 seconds, oldest first (the
    /// current second last), with the Unix time of each second; the
    /// gallery page's own requests (its images) are left out.
    pub per_second: Vec<Second>,
}

/// One second of the history.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Second {
    /// Unix time.
    pub t: u64,
    pub requests: u64,
}

/// The Unix time in seconds, from the coarse clock: enough for a
/// per-second count, and cheaper on every request.
fn unix_now() -> u64 {
    crate::os::clock_ns(crate::os::Clock::RealtimeCoarse) / 1_000_000_000
}

impl Stats {
    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with an injected `418 I'm a Teapot`.
    pub fn teapots(&self) -> u64 {
        self.teapots.load(Ordering::SeqCst)
    }

    /// The most times any one flag URL was requested.
    pub fn most_asked(&self) -> u64 {
        self.asked.iter().map(|n| n.load(Ordering::SeqCst)).max().unwrap_or(0)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// Starts a leg of a comparison (a style of the demo or the bench, a
    /// peer): the count of each URL's requests starts again, so that the
    /// Nth request of a flag draws the same delay and faults in every leg,
    /// and the styles meet the same server. A server no one starts legs on
    /// (`flags serve --seed`) goes on counting, and reproduces as before.
    pub fn start_leg(&self) {
        for n in &self.asked {
            n.store(0, Ordering::SeqCst);
        }
    }

    /// Counts a request for the image (or metadata) of `cc`, and says which
    /// request of that URL it was (1, 2, ...).
    pub(crate) fn nth(&self, cc: CountryCode, image: bool) -> u64 {
        let slot = cc.index() * 2 + image as usize;
        self.asked[slot].fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn count_teapot(&self) {
        self.teapots.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts an answer's status.
    pub(crate) fn count_status(&self, status: u16) {
        if let Some(n) = self.statuses.get((status as usize).wrapping_sub(100)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a connection, once its first request that is not `/stats`
    /// arrives: whether it speaks HTTP/2, and its TLS handshake's time.
    pub(crate) fn count_connection(&self, h2: bool, handshake: Option<Duration>) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        if h2 {
            self.h2_connections.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(took) = handshake {
            self.handshakes.fetch_add(1, Ordering::Relaxed);
            self.handshake_us.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        }
    }

    /// The most requests that were being answered at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Counts a request as received and in flight; `page` for one the
    /// gallery page made itself, which the rate per second leaves out.
    pub(crate) fn enter(self: &Arc<Self>, page: bool) -> InFlight {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        // Only a new peak is written: a read keeps the line shared.
        if now > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(now, Ordering::SeqCst);
        }
        if page {
            return InFlight { stats: Arc::clone(self), answered: false };
        }
        let second = unix_now();
        let (t, n) = &self.seconds[second as usize % HISTORY];
        // Written once a second, read on every request: the threads do not
        // take the cache line from each other for it.
        if t.load(Ordering::Relaxed) != second && t.swap(second, Ordering::Relaxed) != second {
            // A new second in this slot: the count from a minute ago goes.
            n.store(0, Ordering::Relaxed);
        }
        n.fetch_add(1, Ordering::Relaxed);
        InFlight { stats: Arc::clone(self), answered: false }
    }

    /// The record of the last requests.
    pub fn timeline(&self) -> &Arc<Record> {
        &self.timeline
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let now = unix_now();
        let per_second = (0..HISTORY as u64)
            .rev()
            .map(|ago| {
                let t = now.saturating_sub(ago);
                let (slot_t, n) = &self.seconds[t as usize % HISTORY];
                let requests = if slot_t.load(Ordering::Relaxed) == t { n.load(Ordering::Relaxed) } else { 0 };
                Second { t, requests }
            })
            .collect();
        let by_status = (100u16..600)
            .zip(&self.statuses)
            .map(|(s, n)| (s, n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        Snapshot {
            requests: self.requests(),
            by_status,
            unanswered: self.unanswered.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            peak_in_flight: self.peak_in_flight(),
            connections: self.connections(),
            h2_connections: self.h2_connections.load(Ordering::Relaxed),
            tls_handshakes: self.handshakes.load(Ordering::Relaxed),
            tls_handshake_ms: self.handshake_us.load(Ordering::Relaxed) as f64 / 1000.0,
            per_second,
        }
    }
}

/// Counts a request as in flight until dropped; one dropped before its
/// answer was counted (the client left, and its answer with it) counts as
/// unanswered.
pub(crate) struct InFlight {
    stats: Arc<Stats>,
    answered: bool,
}

impl InFlight {
    /// Its answer's status was counted.
    pub(crate) fn answered(&mut self) {
        self.answered = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.answered {
            self.stats.unanswered.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
