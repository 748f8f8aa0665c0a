//! What `flags bench` measured, as one `Serialize` document (`bench.json`),
//! and the pure arithmetic on it: the ideal time and the ratios.

use serde::Serialize;

use super::workload::Workload;

/// The whole benchmark run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// `flags` version that ran it.
    pub version: String,
    /// Logical CPUs on the machine.
    pub cores: usize,
    /// Runs per point.
    pub runs: usize,
    /// True for `--quick` (fewer points, one run).
    pub quick: bool,
    /// Base URL when `--server` was given (no latency workloads then).
    pub external_server: Option<String>,
    /// Every measured point.
    pub points: Vec<Point>,
}

/// One tool on one workload at one setting, run `runs` times.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// `W1`..`W4`, `sweep-concurrency` or `sweep-latency`.
    pub workload: Workload,
    /// `flags sequential|threadpool|async|processpool`, or a peer: `curl`, `aria2c`, `wget2`.
    pub tool: String,
    /// How many codes were requested.
    pub codes: usize,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Server delay per response, seconds: the median when the delay is
    /// random (`delay`).
    pub latency_s: f64,
    /// The delay given with `--delay` when it is random (`lognormal:0.22,1`,
    /// `0.2..0.5`): the ideal is then not known (0) and not compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// Share of requests the server answered 418.
    pub error_rate: f64,
    /// The latency bound, ceil(codes / concurrency) x latency, plus with
    /// work the CPU over the cores that can compute at once; seconds.
    pub ideal_s: f64,
    /// CPU work per flag, ms (W6), included in the ideal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_ms: Option<f64>,
    /// Median wall time of the runs, seconds (whole process, start-up included).
    pub median_s: f64,
    /// What the tool timed itself, start-up excluded (the median of its
    /// runs): W6's Python reference, whose interpreter and imports take a
    /// tenth of a second or more before its first download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_timed_s: Option<f64>,
    /// Fastest run, seconds.
    pub min_s: f64,
    /// Slowest run, seconds.
    pub max_s: f64,
    /// median / ideal (absent when the ideal is 0).
    pub ratio_to_ideal: Option<f64>,
    /// Sequential median / this median, on the same workload and setting.
    pub speedup_vs_sequential: Option<f64>,
    /// Highest peak resident set over the runs, KiB (the process only, not its children).
    pub peak_rss_kib: u64,
    /// Median user + system CPU time, seconds.
    pub cpu_s: f64,
    /// Files saved by the run that saved fewest (flags styles: from its
    /// JSON report; peers: files on disk).
    pub saved: usize,
    /// Runs that failed (exited as a failure, or saved fewer flags than
    /// the workload has); only `--ignore-failure` keeps them.
    #[serde(default)]
    pub failed_runs: usize,
    /// Connections the embedded server accepted in the run with the median
    /// count (absent against `--server`).
    pub connections: Option<u64>,
    /// Over HTTPS: the TLS handshakes of that run...
    pub tls_handshakes: Option<u64>,
    /// ...and their time all together, in ms, measured by the server from
    /// accept to the handshake's end: the handshake cost, connections x
    /// time per handshake.
    pub tls_handshake_ms: Option<f64>,
    /// Requests the embedded server answered in that run, and the most it
    /// had in flight at once, from its own record (absent against
    /// `--server`): what a peer did, seen from the server.
    #[serde(default)]
    pub requests: Option<u64>,
    #[serde(default)]
    pub peak_in_flight: Option<u64>,
    /// The process pool's workers over the runs: the most started and
    /// alive at once, the median of the runs' median start-up, and the
    /// slowest start-up (the process pool only, from its JSON report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<crate::download::Workers>,
}

/// The latency bound for `codes` requests, `concurrency` at a time.
pub fn ideal(codes: usize, concurrency: usize, latency_s: f64) -> f64 {
    codes.div_ceil(concurrency.max(1)) as f64 * latency_s
}

/// The bound for `codes` flags of `work_s` CPU each, `concurrency` at a
/// time on `cores` cores, after the latency bound: all the CPU spread over
/// as many cores as can compute at once.
pub fn ideal_with_work(codes: usize, concurrency: usize, latency_s: f64, work_s: f64, cores: usize) -> f64 {
    ideal(codes, concurrency, latency_s) + codes as f64 * work_s / concurrency.min(cores).max(1) as f64
}

/// `median / ideal`, if the ideal is not zero.
pub fn ratio(median_s: f64, ideal_s: f64) -> Option<f64> {
    (ideal_s > 0.0).then(|| median_s / ideal_s)
}

/// Fills `speedup_vs_sequential` from the sequential point of the same
/// workload, latency and code count.
pub fn add_speedups(points: &mut [Point]) {
    let baselines: Vec<(Workload, usize, f64, f64)> = points
        .iter()
        .filter(|p| p.tool == "flags sequential")
        .map(|p| (p.workload, p.codes, p.latency_s, p.median_s))
        .collect();
    for p in points.iter_mut() {
        p.speedup_vs_sequential = baselines
            .iter()
            .find(|(w, c, l, _)| *w == p.workload && *c == p.codes && *l == p.latency_s)
            .filter(|(.., m)| p.median_s > 0.0 && *m > 0.0)
            .map(|(.., m)| m / p.median_s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideal_is_the_latency_bound() {
        assert_eq!(ideal(20, 1, 0.35), 20.0 * 0.35);
        assert_eq!(ideal(676, 200, 0.5), 2.0);
        assert_eq!(ideal(20, 20, 0.35), 0.35);
        assert_eq!(ratio(0.7, 0.35), Some(2.0));
        assert_eq!(ratio(0.1, 0.0), None);
        assert_eq!(ideal_with_work(20, 20, 0.0, 0.05, 2), 0.5);
        assert_eq!(ideal_with_work(20, 1, 0.0, 0.05, 2), 1.0);
        assert_eq!(ideal_with_work(20, 20, 0.35, 0.05, 4), 0.35 + 0.25);
    }
}
