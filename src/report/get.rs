//! `flags get`'s output, as the book's flags2 scripts print it:
//!
//! ```text
//! LOCAL site: http://localhost:8000/flags
//! Searching for 26 flags: from BA to BZ
//! 30 concurrent connections will be used.
//! [progress bar, or with -v one line per code: BR OK / BZ not found / *** Error for XX: ...]
//! --------------------
//! 17 flags downloaded.
//! 9 not found.
//! 0 errors.
//! [N cancelled (interrupted).   only after Ctrl-C]
//! Elapsed time: 1.23s
//! ```
//!
//! The progress bar (indicatif) is drawn only when stdout is a terminal
//! and `-v` is off. `--json` prints one JSON document instead of all this.

use crate::proto::text::peer_text;
use std::fmt::Write as _;
use std::io::{self, IsTerminal};
use std::sync::Arc;

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::out::{say, write_bytes};
use crate::countries::CountryCode;
use crate::countries::Span;
use crate::download::Failure;
use crate::download::{DownloadObserver, Outcome};
use crate::get::{server_name, GetConfig, GetObserver, GetReport};
use crate::server::Label;

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The lines before the downloads start.
pub fn initial_report(config: &GetConfig) {
    let codes = &config.codes;
    let which = if codes.len() <= 10 {
        codes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
    } else {
        Span(codes).to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} site: {}", server_name(config.label), config.job.base);
    let _ = writeln!(out, "Searching for {}: {which}", plural(codes.len(), "flag"));
    let _ = writeln!(out, "{} will be used.", plural(config.job.concurrency, "concurrent connection"));
    write_bytes(out.as_bytes());
}

/// Where `--timeline` went, on stderr (stdout keeps the book's report).
pub fn timeline_written(path: &std::path::Path) {
    eprintln!("Timeline: {}", path.display());
}

/// Why `--timeline` could not be written.
pub fn timeline_failed(path: &std::path::Path, e: &std::io::Error) {
    eprintln!("flags: cannot write the timeline {}: {e}", path.display());
}

/// The warning `--insecure` earns, on stderr.
pub fn insecure_warning() {
    eprintln!(
        "flags: warning: --insecure: server certificates are not checked, so anyone on the path could pose as \
         the server"
    );
}

/// What `flags get` shows: `--insecure`'s warning, then the book's lines
/// around a progress bar, a line per code with `-v`; or, with `--json`,
/// the JSON document alone.
pub struct Printer;

impl GetObserver for Printer {
    fn started(&self, config: &GetConfig) -> Arc<dyn DownloadObserver> {
        if config.job.trust.insecure {
            insecure_warning();
        }
        match config.json {
            true => Arc::new(JsonSink),
            false => {
                initial_report(config);
                Arc::new(GetSink::new(config.codes.len(), config.verbose))
            }
        }
    }

    fn ended(&self, config: &GetConfig, report: &GetReport) {
        match config.json {
            true => json_report(report),
            false => final_report(report, config.label, config.verbose),
        }
    }

    fn timeline_written(&self, path: &std::path::Path) {
        timeline_written(path);
    }
}

/// Shows progress while `flags get` runs: with `verbose`, a line per code
/// on stdout (results) and each retry on stderr; otherwise a bar on stderr
/// (drawn only on a terminal), as the book's tqdm does.
pub struct GetSink {
    verbose: bool,
    bar: ProgressBar,
}

impl GetSink {
    /// An observer for `total` codes.
    pub fn new(total: usize, verbose: bool) -> Self {
        let target = if !verbose && io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        bar.set_style(
            ProgressStyle::with_template("{percent:>3}%|{wide_bar}| {pos}/{len} [{elapsed_precise}<{eta_precise}]")
                .expect("the template is valid"),
        );
        GetSink { verbose, bar }
    }
}

impl DownloadObserver for GetSink {
    fn retrying(&self, cc: CountryCode, attempt: u32, error: &Failure, wait: Duration) {
        if self.verbose {
            eprintln!("{cc} retry {} in {:.2}s after: {error}", attempt + 1, wait.as_secs_f64());
        }
    }

    fn outcome(&self, cc: CountryCode, outcome: &Outcome) {
        if self.verbose {
            say!("{}", verbose_line(cc, outcome));
        }
        self.bar.inc(1);
        if self.bar.position() == self.bar.length().unwrap_or(0) {
            // Leave the full bar on a line of its own: the report's
            // separator must not run into it.
            self.bar.finish();
            if !self.bar.is_hidden() {
                eprintln!();
            }
        }
    }
}

/// `BR OK`, `BZ not found`, `*** Error for XX: HTTP 418 - I'm a Teapot`.
pub fn verbose_line(cc: CountryCode, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Saved { .. } => format!("{cc} OK"),
        Outcome::NotFound => format!("{cc} not found"),
        Outcome::Failed(e) => format!("*** Error for {cc}: {e}"),
        Outcome::Cancelled => format!("{cc} cancelled"),
    }
}

/// Shows nothing while running: `--json` prints only the final document.
pub struct JsonSink;

impl DownloadObserver for JsonSink {
    fn outcome(&self, _: CountryCode, _: &Outcome) {}
}

/// The lines after the downloads; when nobody answered at a label's
/// address, a hint to start that server.
pub fn final_report(report: &GetReport, label: Option<Label>, verbose: bool) {
    let mut out = String::new();
    let _ = writeln!(out, "{}", "-".repeat(20));
    let _ = writeln!(out, "{} downloaded.", plural(report.ok, "flag"));
    let _ = writeln!(out, "{} not found.", report.not_found);
    let _ = writeln!(out, "{}.", plural(report.errors, "error"));
    if report.cancelled > 0 {
        let _ = writeln!(out, "{} cancelled (interrupted).", report.cancelled);
    }
    let _ = writeln!(out, "Elapsed time: {:.2}s", report.elapsed_s);
    if let Some(work) = &report.work {
        let _ = writeln!(out, "{}", work_line(work));
    }
    for hint in hints(report, label, verbose) {
        let _ = writeln!(out, "{hint}");
    }
    write_bytes(out.as_bytes());
}

/// What the counts alone do not say: the base URL is probably wrong, the
/// server is not there (with the reason, unless `-v` printed it with the
/// code), or it answers slower than the timeout, or it is overwhelmed.
pub fn hints(report: &GetReport, label: Option<Label>, verbose: bool) -> Vec<String> {
    let mut hints = Vec::new();
    if report.requested > 1 && report.not_found == report.requested {
        hints.push(format!(
            "*** Every code was not found at {}: is the base URL right? It names the folder that holds \
             cc/cc.gif, as http://localhost:8000/flags does.",
            report.base_url
        ));
    }
    if let Some(reason) = &report.unreachable {
        let reason = match verbose {
            true => "Nobody answered".to_string(),
            false => peer_text(reason.as_bytes()),
        };
        hints.push(match label {
            Some(label @ (Label::Local | Label::Delay | Label::Error)) => {
                format!("*** {reason}. Is the {label} server running? Start one with: flags serve --label {label}")
            }
            _ => format!(
                "*** {reason}. Is a server running at {}? `flags serve --port PORT` starts one.",
                report.base_url
            ),
        });
    }
    hints.extend(overload_hint(report));
    hints
}

/// What `--work` cost: `Work: 50 ms of CPU per flag under the model GIL
/// (switch interval 5 ms), 20 flags, 1.00 s of CPU; one unit (FNV-1a over
/// 1024 bytes) cost 1.31 us; at most 1 flag computing at once.`
pub fn work_line(work: &crate::work::Summary) -> String {
    let how = match (work.gil, work.offload) {
        (true, false) => format!(" under the model GIL (switch interval {} ms)", work.switch_interval_ms),
        (true, true) => format!(", offloaded, under the model GIL (switch interval {} ms)", work.switch_interval_ms),
        (false, true) => ", offloaded to the blocking pool".into(),
        (false, false) => String::new(),
    };
    format!(
        "Work: {} ms of CPU per flag{how}, {}, {:.2} s of CPU; one unit (FNV-1a over {} bytes) cost {:.2} us; at most {} computing at once.",
        work.per_flag_ms,
        plural(work.flags, "flag"),
        work.cpu_ms / 1000.0,
        work.unit_bytes,
        work.unit_ns / 1000.0,
        plural(work.peak_computing, "flag"),
    )
}

/// When many requests got no answer at all before their timeout, what
/// probably happened and what to try: a server that had the requests and
/// was slower than `--timeout`, or one that could not take them.
pub fn overload_hint(report: &GetReport) -> Option<String> {
    let n = report.unanswered_timeouts;
    if n < 3 || n * 20 < report.requested {
        return None;
    }
    if report.slow_answers * 2 >= n {
        return Some(format!(
            "*** {n} requests timed out before any answer; {} of them had been sent, so the server took longer \
             than --timeout {} to answer. If it is slow on purpose (a delay), raise --timeout.",
            report.slow_answers, report.timeout_s
        ));
    }
    let fewer = (report.concurrency / 4).clamp(1, 20);
    Some(format!(
        "*** {n} requests timed out before any answer: the server is probably overwhelmed by {} connections \
         at once, or its listen queue is full (python3 -m http.server queues 5). Try fewer: -m {fewer}, or --retries 3.",
        report.concurrency
    ))
}

/// The whole report as one JSON document on stdout, in one write: stdout
/// is line-buffered, and writing the pretty JSON straight to it cost one
/// system call per line (over a thousand for `-a`).
pub fn json_report(report: &GetReport) {
    let mut json = serde_json::to_vec_pretty(report).expect("a report always serializes");
    json.push(b'\n');
    write_bytes(&json);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_lines_follow_the_book() {
        let code = CountryCode::of;
        let saved = Outcome::Saved { path: "br.gif".into(), bytes: 1 };
        assert_eq!(verbose_line(code("BR"), &saved), "BR OK");
        assert_eq!(verbose_line(code("BZ"), &Outcome::NotFound), "BZ not found");
        let teapot = Outcome::Failed(Failure::Fetch(crate::http::FetchError::Http { status: 418, retry_after: None }));
        assert_eq!(verbose_line(code("XX"), &teapot), "*** Error for XX: HTTP 418 - I'm a Teapot");
        assert_eq!(plural(1, "flag"), "1 flag");
        assert_eq!(plural(0, "error"), "0 errors");
    }
}
