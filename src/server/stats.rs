//! Counters a running server keeps: requests, injected 418s, requests per
//! flag URL, and the peak number in flight. Tests read them to check what a
//! client did.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::countries::CountryCode;

/// Counters a running server keeps; tests use them to check clients.
#[derive(Debug)]
pub struct Stats {
    requests: AtomicU64,
    teapots: AtomicU64,
    /// Requests per flag API URL: two per two-letter code (image, metadata).
    asked: Vec<AtomicU64>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            requests: AtomicU64::new(0),
            teapots: AtomicU64::new(0),
            asked: (0..26 * 26 * 2).map(|_| AtomicU64::new(0)).collect(),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }
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

    /// Counts a request for the image (or metadata) of `cc`, and says which
    /// request of that URL it was (1, 2, ...).
    pub(crate) fn nth(&self, cc: CountryCode, image: bool) -> u64 {
        let slot = cc.index() * 2 + image as usize;
        self.asked[slot].fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn count_teapot(&self) {
        self.teapots.fetch_add(1, Ordering::SeqCst);
    }

    /// The most requests that were being answered at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(self))
    }
}

/// Counts a request as in flight until dropped.
pub(crate) struct InFlight(Arc<Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
