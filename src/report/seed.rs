//! The seed's output and the demo's.
//!
//! - [`SeedSink`] prints the seed's progress line: each code, flushed the
//!   moment its file is saved; [`seed_summary`] the closing line.
//! - [`demo_table`] compares styles after the demo.

use std::time::Duration;

use super::out::{say, say_part};
use crate::download::{Mode, Outcome, RunResult, Sink};

/// The seed's `show()`: prints `BR ` and flushes, so each code appears the
/// moment its file is saved.
pub fn show(cc: &str) {
    say_part!("{cc} ");
}

/// Calls [`show`] for every saved flag.
pub struct SeedSink;

impl Sink for SeedSink {
    fn outcome(&self, cc: &str, outcome: &Outcome) {
        if matches!(outcome, Outcome::Saved { .. }) {
            show(cc);
        }
    }
}

/// A sink that prints nothing, for callers that only want the result.
pub struct Quiet;

impl Sink for Quiet {
    fn outcome(&self, _: &str, _: &Outcome) {}
}

/// The seed's closing line: `20 flags downloaded in 7.26s`.
pub fn seed_line(saved: usize, elapsed: Duration) -> String {
    format!("{saved} flags downloaded in {:.2}s", elapsed.as_secs_f64())
}

/// Ends the progress line and prints the seed's closing line.
pub fn seed_summary(run: &RunResult) {
    say!("\n{}", seed_line(run.saved(), run.elapsed));
}

/// Announces the demo's server.
pub fn demo_intro(base_url: &str, latency: &str, codes: usize) {
    say!("flags demo: {codes} flags from the embedded flag server at {base_url}");
    say!("(each response delayed {latency}, like the CDN in the book; change it with --delay)");
}

/// Announces one style's run, like the seed's `$ python3 flags.py`.
pub fn demo_run_header(mode: Mode, script: &str, run: usize, runs: usize) {
    let of = if runs > 1 { format!(" (run {run} of {runs})") } else { String::new() };
    say!("\n$ {script}    # {mode}{of}");
}

/// One row of the comparison: a style and the times of its runs.
pub struct StyleTimes {
    pub mode: Mode,
    pub times: Vec<Duration>,
}

impl StyleTimes {
    /// Mean of the runs.
    pub fn mean(&self) -> Duration {
        self.times.iter().sum::<Duration>() / self.times.len().max(1) as u32
    }

    /// Fastest run.
    pub fn best(&self) -> Duration {
        self.times.iter().copied().min().unwrap_or_default()
    }
}

/// The comparison table: style, runs, mean, best, speedup over sequential.
pub fn demo_table(rows: &[StyleTimes]) -> String {
    let base = rows.iter().find(|r| r.mode == Mode::Sequential).map(|r| r.mean());
    let mut s = format!("{:<12} {:>5} {:>9} {:>9} {:>9}\n", "style", "runs", "mean", "best", "speedup");
    for r in rows {
        let speedup = match base {
            Some(b) if !r.mean().is_zero() => {
                format!("{:.1}x", b.as_secs_f64() / r.mean().as_secs_f64())
            }
            _ => "-".to_string(),
        };
        s += &format!(
            "{:<12} {:>5} {:>8.2}s {:>8.2}s {:>9}\n",
            r.mode.as_str(),
            r.times.len(),
            r.mean().as_secs_f64(),
            r.best().as_secs_f64(),
            speedup
        );
    }
    s
}

/// Prints the table and where the files went.
pub fn demo_end(rows: &[StyleTimes], dest: &str) {
    say!("\n{}", demo_table(rows));
    say!("The flags are in {dest}/ (drawn by the embedded server: bands and the country code).");
    say!("To serve the real flag images, unpack flags.zip and run:");
    say!("    flags serve --dir path/to/flags --label LOCAL");
    say!("then download from it with: flags get -s LOCAL");
}

/// Tells what `flags serve` is serving and where.
pub fn serving(addr: &std::net::SocketAddr, config: &crate::server::ServerConfig) {
    use crate::server::Source;
    let what = match &config.source {
        Source::Catalog => "the 194 embedded flags".to_string(),
        Source::Dir(d) => format!("the flags in {}", d.display()),
    };
    let label = config.label.map_or(String::new(), |l| format!("{l} "));
    say!("{label}flag server: serving {what} at http://{addr}/flags");
    say!(
        "delay {}, error rate {:.0}%, faults {}, seed {}; try: flags get -s http://{addr}/flags",
        config.delay,
        config.error_rate * 100.0,
        config.faults,
        config.seed
    );
    say!("Press Ctrl-C to stop.");
}

/// A request log that prints one line per request: `GET /flags/br/br.gif 200`,
/// with the fault injected if any.
pub fn server_log() -> crate::server::RequestLog {
    crate::server::RequestLog(std::sync::Arc::new(|e: &crate::server::LogEntry| {
        let fault = e.fault.as_deref().map_or(String::new(), |f| format!(" [fault: {f}]"));
        let status = match e.status {
            None => "client went away".to_string(),
            Some(0) => "dropped".to_string(),
            Some(s) => s.to_string(),
        };
        say!("{} {} {status}{fault}", e.method, e.path);
    }))
}

/// Says the server stopped.
pub fn stopped() {
    say!("flag server stopped.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_line_matches_the_book() {
        assert_eq!(seed_line(20, Duration::from_millis(7_260)), "20 flags downloaded in 7.26s");
    }

    #[test]
    fn table_shows_speedup_over_sequential() {
        let rows = [
            StyleTimes { mode: Mode::Sequential, times: vec![Duration::from_secs(7), Duration::from_secs(8)] },
            StyleTimes { mode: Mode::Async, times: vec![Duration::from_millis(750)] },
        ];
        let t = demo_table(&rows);
        assert!(t.contains("sequential       2     7.50s     7.00s      1.0x"), "{t}");
        assert!(t.contains("async            1     0.75s     0.75s     10.0x"), "{t}");
    }
}
