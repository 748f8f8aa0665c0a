//! Each code's timeline: when it was handed to the style, picked up,
//! connected (or given a kept-alive connection), sent, answered, read and
//! saved. The seed's lesson is a picture, sequential requests one after
//! another and concurrent ones overlapping; these are its data. The
//! `waterfall` module draws them.
//!
//! Moments are [`Stamp`]s while a run goes (they cross from process
//! workers as they are) and milliseconds since the run started in reports
//! ([`in_ms`]).

use serde::{Deserialize, Serialize};

use crate::http::trace::{Stamp, Trace};
use crate::work::{PhaseKind, Worked};

/// What happened to one code, when.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Handed to the style (submitted to the pool, its task spawned).
    pub queued: Option<Stamp>,
    /// A worker or task took it up, holding one of the `-m` places.
    pub started: Option<Stamp>,
    /// The image request's last try (connection, sent, answered, read).
    pub trace: Trace,
    /// Its place among the `-m` in flight was given back.
    pub released: Option<Stamp>,
    /// The file was renamed into place.
    pub saved: Option<Stamp>,
    /// Its outcome was known.
    pub done: Option<Stamp>,
    /// Tries of the image request (more than 1 with `--retries`).
    pub attempts: u32,
    /// The CPU work done for it (`--work`), between the body and the save.
    pub work: Option<Worked>,
}

/// A [`Timeline`] in milliseconds since the run started: what reports and
/// pictures use. The connection ids are renumbered 1, 2, ... in the order
/// connections were first used.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimelineMs {
    pub queued: Option<f64>,
    pub started: Option<f64>,
    pub connected: Option<f64>,
    pub sent: Option<f64>,
    pub first_byte: Option<f64>,
    pub body_done: Option<f64>,
    pub released: Option<f64>,
    pub saved: Option<f64>,
    pub done: Option<f64>,
    /// The connection that carried the last try, numbered within the run.
    pub conn: Option<u64>,
    /// That connection had carried a request before (kept alive, or an
    /// HTTP/2 connection's next stream).
    pub reused: bool,
    pub attempts: u32,
    /// The CPU work done for it (`--work`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<WorkMs>,
}

/// [`Worked`] for reports: times in ms since the run started.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkMs {
    /// Units of the chain done, and its digest as 8 hex digits: anyone can
    /// check it with `flags::work::chain::digest`.
    pub units: u64,
    pub digest: String,
    /// The CPU time the units took.
    pub cpu_ms: f64,
    /// Computing (`computing`) and waiting for the GIL (`gil_wait`), in order.
    pub phases: Vec<PhaseMs>,
}

/// One stretch of a flag's work, in ms since the run started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PhaseMs {
    pub phase: PhaseKind,
    pub from: f64,
    pub to: f64,
}

impl WorkMs {
    /// When the work began and ended.
    pub fn span(&self) -> Option<(f64, f64)> {
        Some((self.phases.first()?.from, self.phases.last()?.to))
    }

    /// The computing phases, (from, to).
    pub fn computing(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.phases.iter().filter(|p| p.phase == PhaseKind::Computing).map(|p| (p.from, p.to))
    }
}

impl TimelineMs {
    /// Its events in the order they must happen, those that did.
    pub fn events(&self) -> Vec<(&'static str, f64)> {
        let all = [
            ("queued", self.queued),
            ("started", self.started),
            ("connected", self.connected),
            ("sent", self.sent),
            ("first_byte", self.first_byte),
            ("body_done", self.body_done),
            ("released", self.released),
            ("saved", self.saved),
            ("done", self.done),
        ];
        all.into_iter().filter_map(|(name, at)| at.map(|t| (name, t))).collect()
    }

    /// While it held a place among the requests in flight: from started
    /// to released.
    pub fn in_flight(&self) -> Option<(f64, f64)> {
        Some((self.started?, self.released.or(self.done)?))
    }
}

/// Every timeline of a run in ms since `start`, with connections numbered
/// in order of first use.
pub fn in_ms(start: Stamp, timelines: &[Timeline]) -> Vec<TimelineMs> {
    let ms = |s: Option<Stamp>| s.map(|s| (s.ms_since(start) * 1000.0).round() / 1000.0);
    // Connections numbered 1, 2, ... in the order they first carried a request.
    let mut order: Vec<(Stamp, u64)> =
        timelines.iter().filter_map(|t| Some((t.trace.sent.or(t.started)?, t.trace.conn?))).collect();
    order.sort_unstable();
    let mut numbers = std::collections::HashMap::with_capacity(order.len());
    for (_, id) in order {
        let next = numbers.len() as u64 + 1;
        numbers.entry(id).or_insert(next);
    }
    timelines
        .iter()
        .map(|t| TimelineMs {
            queued: ms(t.queued),
            started: ms(t.started),
            connected: ms(t.trace.connected),
            sent: ms(t.trace.sent),
            first_byte: ms(t.trace.first_byte),
            body_done: ms(t.trace.body_done),
            released: ms(t.released),
            saved: ms(t.saved),
            done: ms(t.done),
            conn: t.trace.conn.and_then(|id| numbers.get(&id).copied()),
            reused: t.trace.reused,
            attempts: t.attempts,
            work: t.work.as_ref().map(|w| WorkMs {
                units: w.units,
                digest: format!("{:08x}", w.digest),
                cpu_ms: w.cpu.as_secs_f64() * 1000.0,
                phases: w
                    .phases
                    .iter()
                    .map(|p| PhaseMs {
                        phase: p.kind,
                        from: ms(Some(p.from)).unwrap_or(0.0),
                        to: ms(Some(p.to)).unwrap_or(0.0),
                    })
                    .collect(),
            }),
        })
        .collect()
}

/// The requests in flight over time: `(ms, count)` at each change, from
/// the timelines' [`TimelineMs::in_flight`] intervals.
pub fn in_flight_curve(timelines: &[TimelineMs]) -> Vec<(f64, usize)> {
    let spans: Vec<(f64, f64)> = timelines.iter().filter_map(TimelineMs::in_flight).collect();
    spans_curve(&spans)
}

/// How many of `spans` (from, to) are open over time: `(ms, count)` at
/// each change.
pub fn spans_curve(spans: &[(f64, f64)]) -> Vec<(f64, usize)> {
    // Ends sort before starts at the same moment: a place given back and
    // taken again is never counted twice.
    let mut edges: Vec<(f64, i32)> = Vec::new();
    for &(from, to) in spans {
        edges.push((from, 1));
        edges.push((to, -1));
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut now = 0i32;
    let mut curve = vec![(0.0, 0)];
    for (t, change) in edges {
        now += change;
        curve.push((t, now.max(0) as usize));
    }
    curve
}

/// The most requests in flight at once.
pub fn peak_in_flight(timelines: &[TimelineMs]) -> usize {
    in_flight_curve(timelines).iter().map(|(_, n)| *n).max().unwrap_or(0)
}

/// The most of `spans` open at once.
pub fn peak_of(spans: &[(f64, f64)]) -> usize {
    spans_curve(spans).iter().map(|(_, n)| *n).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(from: f64, to: f64) -> TimelineMs {
        TimelineMs { started: Some(from), released: Some(to), ..TimelineMs::default() }
    }

    #[test]
    fn the_curve_counts_overlaps_and_not_handovers() {
        let runs = [span(0.0, 10.0), span(10.0, 20.0), span(5.0, 15.0)];
        assert_eq!(peak_in_flight(&runs), 2);
        let curve = in_flight_curve(&runs);
        assert_eq!(curve.last(), Some(&(20.0, 0)));
        assert_eq!(peak_in_flight(&[span(0.0, 1.0), span(2.0, 3.0)]), 1);
    }

    #[test]
    fn milliseconds_and_connection_numbers() {
        let start = Stamp(1_000_000_000);
        let at = |ms: u64| Some(Stamp(start.0 + ms * 1_000_000));
        let a = Timeline {
            started: at(1),
            trace: Trace { conn: Some(77 << 32 | 9), sent: at(2), ..Trace::default() },
            ..Timeline::default()
        };
        let b = Timeline {
            started: at(3),
            trace: Trace { conn: Some(5 << 32 | 1), sent: at(4), reused: false, ..Trace::default() },
            ..Timeline::default()
        };
        let c = Timeline {
            started: at(5),
            trace: Trace { conn: Some(77 << 32 | 9), sent: at(6), reused: true, ..Trace::default() },
            ..Timeline::default()
        };
        let ms = in_ms(start, &[c, b, a]);
        assert_eq!(ms[0].conn, Some(1));
        assert_eq!(ms[1].conn, Some(2));
        assert_eq!(ms[2].conn, Some(1));
        assert_eq!(ms[2].sent, Some(2.0));
        assert!(ms[0].reused);
        assert_eq!(ms[0].events(), [("started", 5.0), ("sent", 6.0)]);
    }
}
