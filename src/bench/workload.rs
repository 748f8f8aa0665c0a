//! The workloads `flags bench` measures, and the points each expands to.
//!
//! | id | codes | server | concurrency |
//! |---|---|---|---|
//! | W1 | POP20 | 0.35 s latency (the seed) | all at once |
//! | W2 | the 194 flags | no latency | 100 |
//! | W3 | all 676 codes | ERROR-style: 0.5 s, 25% 418s | 200 |
//! | W4 | all 676 codes | 1 s latency | all at once |
//! | W5 | the 194 flags | HTTPS, 20 ms latency | 100: HTTP/1.1 connections, or HTTP/2 streams (32 per connection at most) |
//! | W6 | POP20, each with 50 ms of CPU work (`--work`) | no latency | 20, with and without `--gil`, beside Python |
//! | sweep-concurrency | the 194 flags | 20 ms latency | 1, 2, 5, 10, 20, 50, 100, 200, 500 |
//! | sweep-latency | POP20 | 0, 10 ms, 100 ms, 1 s | 20 |

use std::fmt;

use crate::countries::{catalog, pop20_sorted, CountryCode, POP20};
use crate::server::Delay;

/// A workload's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, serde::Serialize)]
pub enum Workload {
    /// The seed: POP20 at 0.35 s latency, all at once.
    #[value(name = "W1")]
    #[serde(rename = "W1")]
    W1,
    /// The 194 flags, no latency, 100 at once.
    #[value(name = "W2")]
    #[serde(rename = "W2")]
    W2,
    /// All 676 codes against an ERROR-style server, 200 at once.
    #[value(name = "W3")]
    #[serde(rename = "W3")]
    W3,
    /// All 676 codes at once against a 1 s latency.
    #[value(name = "W4")]
    #[serde(rename = "W4")]
    W4,
    /// The 194 flags over HTTPS at 20 ms, 100 at once: HTTP/1.1 against
    /// HTTP/2.
    #[value(name = "W5")]
    #[serde(rename = "W5")]
    W5,
    /// POP20 at no latency, 20 at once, each flag given 50 ms of CPU work:
    /// the GIL model beside Python's own threads and processes.
    #[value(name = "W6")]
    #[serde(rename = "W6")]
    W6,
    /// The 194 flags at 20 ms, concurrency from 1 to 500.
    #[value(name = "sweep-concurrency")]
    #[serde(rename = "sweep-concurrency")]
    SweepConcurrency,
    /// POP20 at -m 20, latency from 0 to 1 s.
    #[value(name = "sweep-latency")]
    #[serde(rename = "sweep-latency")]
    SweepLatency,
}

impl Workload {
    /// Every workload, in order.
    pub const ALL: [Workload; 8] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
        Workload::W6,
        Workload::SweepConcurrency,
        Workload::SweepLatency,
    ];

    /// Its id: `W1`, ..., `sweep-latency`.
    pub fn id(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
            Workload::W6 => "W6",
            Workload::SweepConcurrency => "sweep-concurrency",
            Workload::SweepLatency => "sweep-latency",
        }
    }

    /// True for the sweeps (the chart's line panels).
    pub fn is_sweep(self) -> bool {
        matches!(self, Workload::SweepConcurrency | Workload::SweepLatency)
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.id())
    }
}

/// Which codes a workload asks for.
#[derive(Debug, Clone, Copy)]
pub enum Codes {
    Pop20,
    All,
    Every,
}

impl Codes {
    pub fn list(self) -> Vec<CountryCode> {
        match self {
            Codes::Pop20 => pop20_sorted(),
            Codes::All => catalog().iter().map(|c| c.cc).collect(),
            Codes::Every => CountryCode::every().collect(),
        }
    }

    /// How many codes [`Codes::list`] gives, without building the list.
    pub fn count(self) -> usize {
        match self {
            Codes::Pop20 => POP20.len(),
            Codes::All => catalog().len(),
            Codes::Every => 26 * 26, // AA..ZZ
        }
    }

    /// How many of the codes have a flag on the book's server: what a run
    /// that went well saves.
    pub fn flags(self) -> usize {
        match self {
            Codes::Pop20 => POP20.len(),
            Codes::All | Codes::Every => catalog().len(),
        }
    }

    pub fn args(self) -> &'static [&'static str] {
        match self {
            Codes::Pop20 => &[],
            Codes::All => &["-a"],
            Codes::Every => &["-e"],
        }
    }
}

/// W6's CPU work per flag, seconds.
pub const W6_WORK_S: f64 = 0.05;

/// One point to measure, before its tools are chosen.
#[derive(Debug, Clone)]
pub struct Spec {
    pub workload: Workload,
    pub codes: Codes,
    /// Server delay per response, seconds (the median of `delay`'s, when
    /// there is one).
    pub latency: f64,
    /// The delay given in place of the fixed latency (`--delay`).
    pub delay: Option<Delay>,
    /// Share of requests the server answers 418.
    pub error_rate: f64,
    /// `None`: all codes at once.
    pub concurrency: Option<usize>,
    /// Whether the sequential style runs it (too slow on the larger ones).
    pub sequential: bool,
    /// Whether the peers run it.
    pub peers: bool,
    /// Served over HTTPS (the async style then runs once per protocol).
    pub tls: bool,
    /// CPU work per flag, seconds (`--work`): W6.
    pub work: Option<f64>,
}

/// The points to measure: every workload, fewer sweep levels when `quick`,
/// only those without latency against an `external` server, only the
/// workloads in `only` (if any), and `delay` in place of each fixed latency
/// but the latency sweep's.
pub fn specs(quick: bool, external: bool, only: &[Workload], delay: Option<Delay>) -> Vec<Spec> {
    let spec = |workload, codes, latency, error_rate, concurrency, sequential, peers| Spec {
        workload,
        codes,
        latency,
        delay: None,
        error_rate,
        concurrency,
        sequential,
        peers,
        tls: false,
        work: None,
    };
    let mut v = vec![
        spec(Workload::W1, Codes::Pop20, 0.35, 0.0, None, true, true),
        spec(Workload::W2, Codes::All, 0.0, 0.0, Some(100), true, true),
        spec(Workload::W3, Codes::Every, 0.5, 0.25, Some(200), false, false),
        spec(Workload::W4, Codes::Every, 1.0, 0.0, None, false, true),
        Spec { tls: true, ..spec(Workload::W5, Codes::All, 0.02, 0.0, Some(100), false, true) },
        Spec { work: Some(W6_WORK_S), ..spec(Workload::W6, Codes::Pop20, 0.0, 0.0, Some(20), true, false) },
    ];
    let levels: &[usize] = if quick { &[1, 10, 100] } else { &[1, 2, 5, 10, 20, 50, 100, 200, 500] };
    // Levels past the number of codes all cap at it: measure that once.
    let all = catalog().len();
    let mut capped: Vec<usize> = levels.iter().map(|&c| c.min(all)).collect();
    capped.dedup();
    for c in capped {
        v.push(spec(Workload::SweepConcurrency, Codes::All, 0.02, 0.0, Some(c), c == 1, false));
    }
    let latencies: &[f64] = if quick { &[0.0, 0.01, 0.1] } else { &[0.0, 0.01, 0.1, 1.0] };
    for &l in latencies {
        v.push(spec(Workload::SweepLatency, Codes::Pop20, l, 0.0, Some(20), true, false));
    }
    if external {
        // An external server has no latency to set.
        v.retain(|s| s.latency == 0.0 && s.error_rate == 0.0);
    }
    if !only.is_empty() {
        v.retain(|s| only.contains(&s.workload));
    }
    if let Some(delay) = delay {
        for s in v.iter_mut().filter(|s| s.latency > 0.0 && s.workload != Workload::SweepLatency) {
            s.latency = delay.median();
            // A fixed delay keeps its bound; a random one has none known.
            s.delay = (delay.min != delay.max).then_some(delay);
        }
    }
    v
}
