//! The seed's output and the demo's.
//!
//! - [`SeedSink`] prints the seed's progress line: each code, flushed the
//!   moment its file is saved; [`seed_line`] is the closing line.
//! - [`DemoPrinter`] tells the demo's runs as they go, in the seed's format
//!   under a header naming the command and the book's script it stands
//!   for; [`demo_table`] compares the styles at the end.

use std::sync::Arc;
use std::time::Duration;

use super::out::{say, say_part};
use crate::countries::CountryCode;
use crate::demo::{Demo, DemoConfig, DemoObserver, Leg, LegObserver, PeerRun, Runner, StyleTimes};
use crate::download::{DownloadObserver, Mode, Outcome, RunResult};
use crate::http::BaseUrl;
use crate::server::Delay;
use crate::work::Work;

/// The seed's `show()`: prints `BR ` and flushes, so each code appears the
/// moment its file is saved.
pub fn show(cc: &str) {
    say_part!("{cc} ");
}

/// Calls [`show`] for every saved flag.
pub struct SeedSink;

impl DownloadObserver for SeedSink {
    fn outcome(&self, cc: CountryCode, outcome: &Outcome) {
        if outcome.saved() {
            show(&cc);
        }
    }
}

/// The seed's closing line: `20 flags downloaded in 7.26s`.
pub fn seed_line(saved: usize, elapsed: Duration) -> String {
    format!("{saved} flags downloaded in {:.2}s", elapsed.as_secs_f64())
}

/// The Python each leg stands for.
fn book_script(leg: &Leg) -> &'static str {
    match (leg.runner(), leg.work.is_some()) {
        (Runner::Style(Mode::Sequential), false) => "the book's flags.py",
        (Runner::Style(Mode::ThreadPool), false) => "the book's flags_threadpool.py",
        (Runner::Style(Mode::Async), false) => "the book's flags_asyncio.py",
        (Runner::Style(Mode::ProcessPool), false) => "concurrent.futures.ProcessPoolExecutor",
        (Runner::Style(Mode::Sequential), true) => "flags.py, computing each flag",
        (Runner::Style(Mode::ThreadPool), true) => "flags_threadpool.py, the threads sharing one GIL",
        (Runner::Style(Mode::Async), true) => "flags_asyncio.py, a coroutine that computes",
        (Runner::Style(Mode::ProcessPool), true) => "ProcessPoolExecutor(): a worker per core",
        (Runner::Offloaded, _) => "await loop.run_in_executor(None, work, flag)",
        (Runner::Peer(_), _) => "",
    }
}

/// Prints the demo as it runs.
pub struct DemoPrinter;

impl LegObserver for DemoPrinter {
    fn run_started(&self, leg: &Leg, run: usize, runs: usize) -> Arc<dyn DownloadObserver> {
        let of = if runs > 1 { format!(", run {run} of {runs}") } else { String::new() };
        // The command that does the same against `flags serve --delay D`.
        say!("\n$ {}    # {}{of}", leg.command(), book_script(leg));
        Arc::new(SeedSink)
    }

    fn run_ended(&self, result: &RunResult) {
        say!("\n{}", seed_line(result.saved(), result.elapsed));
    }
}

impl DemoObserver for DemoPrinter {
    fn started(&self, base: &BaseUrl, delay: Delay, codes: usize) {
        say!("flags demo: {codes} flags from the embedded flag server at {base}");
        say!("(each response delayed {delay}, like the CDN in the book; change it with --delay)");
        say!("(each $ line is the flags get that does the same against `flags serve --delay {}`)", delay.as_arg());
    }

    fn part_ended(&self, times: &[StyleTimes], work: Option<&Work>) {
        part_end(times, work);
    }

    fn interrupted(&self, demo: &Demo) {
        demo_interrupted(demo);
    }

    fn ended(&self, demo: &Demo, config: &DemoConfig, timeline: Result<&std::path::Path, std::io::Error>) {
        demo_end(demo, config.delay, &config.dest, timeline);
    }

    fn cpu_started(&self, base: &BaseUrl, work: &Work, codes: usize) {
        say!("\nPart two, the chapter's closing questions: the same {codes} flags from a server at {base} with no delay,");
        say!(
            "each given {} ms of CPU work once it arrives{}.",
            work.cpu.as_millis(),
            if work.gil { ", under a model of Python's GIL" } else { "" }
        );
        say!("(each $ line is the flags get that does the same against `flags serve`)");
    }

    fn peer_started(&self, name: &str, line: &str) {
        say!("\n$ {}    # --peer {name}", crate::proto::text::peer_text(line.as_bytes()));
    }

    fn peer_ended(&self, run: &PeerRun) {
        peer_output(run);
        match run.failure() {
            None => say!("{} ({}; {})", seed_line(run.saved, run.elapsed), run.name, run.seen()),
            Some(why) => say!("{} failed: {why} ({})", run.name, run.seen()),
        }
    }
}

/// What a command printed, as text from another program: escaped. A
/// line redrawn with carriage returns (a progress bar) shows as a terminal
/// would leave it: its last state. Of a long output, the ends are shown,
/// and how many bytes were left out between them.
pub fn peer_output(run: &PeerRun) {
    let text = [run.stdout.text(), run.stderr.text()].join("\n");
    for line in text.lines().map(|l| l.trim_end_matches('\r').rsplit('\r').next().unwrap_or("")) {
        if !line.trim().is_empty() {
            say!("{}", crate::proto::text::peer_text(line.as_bytes()));
        }
    }
    if run.stdout.left_out() + run.stderr.left_out() > 0 {
        say!(
            "[{} printed {} bytes on stdout and {} on stderr: the first and last bytes of each are shown]",
            run.name,
            run.stdout.total,
            run.stderr.total
        );
    }
}

/// The comparison table: style, runs, mean, best, speedup over sequential.
pub fn demo_table(rows: &[StyleTimes]) -> String {
    let base = rows.iter().find(|r| r.mode == Runner::Style(Mode::Sequential)).map(|r| r.mean());
    let mut s = format!("{:<16} {:>5} {:>9} {:>9} {:>9}\n", "style", "runs", "mean", "best", "speedup");
    for r in rows {
        let failed = r.note.as_deref().is_some_and(|n| n.starts_with("failed"));
        let speedup = match base {
            _ if failed => "failed".to_string(),
            Some(b) if !r.mean().is_zero() => {
                format!("{:.1}x", b.as_secs_f64() / r.mean().as_secs_f64())
            }
            _ => "-".to_string(),
        };
        s += &format!(
            "{:<16} {:>5} {:>8.2}s {:>8.2}s {:>9}\n",
            r.mode.to_string(),
            r.times.len(),
            r.mean().as_secs_f64(),
            r.best().as_secs_f64(),
            speedup
        );
    }
    s
}

/// Each style's last run drawn in the terminal, 80 columns wide.
pub fn demo_waterfalls(rows: &[StyleTimes]) -> String {
    let mut s = String::new();
    for r in rows.iter().filter(|r| !r.waterfall.is_empty()) {
        let last = r.times.last().copied().unwrap_or_default();
        s += &format!("\n{} ({:.2}s)\n", r.mode, last.as_secs_f64());
        for line in crate::waterfall::terminal(&r.waterfall, 80) {
            s += &line;
            s.push('\n');
        }
    }
    s
}

/// Prints each part's table and waterfalls, the answers to the chapter's
/// questions, and where the files went; `timeline` is where the HTML
/// waterfall was written, or why not.
/// A part's table and pictures, once its runs are over.
pub fn part_end(times: &[StyleTimes], work: Option<&crate::work::Work>) {
    match work {
        None => {
            say!("\n{}", demo_table(times));
            say!(
                "Each flag's request over time, one row per flag in the order they started (each style on its own time scale):"
            );
        }
        Some(work) => {
            say!("\nPart two, {}:\n{}", work.args(), demo_table(times));
            say!("Each flag over time: its request, then `·` waiting for the GIL and `▓` computing:");
        }
    }
    say_part!("{}", demo_waterfalls(times));
}

/// The demo's end: the answers to the chapter's questions, where the
/// pictures and the flags went.
pub fn demo_end(demo: &Demo, delay: Delay, dest: &std::path::Path, timeline: Result<&std::path::Path, std::io::Error>) {
    let dest = dest.display();
    if let (false, Some(work)) = (demo.cpu.is_empty(), demo.work) {
        if let Some(answers) = crate::demo::cpu::answers(&demo.io, &demo.cpu, delay, &work) {
            say!("\n{answers}");
        }
    }
    match timeline {
        Ok(path) => say!("\nThe same, side by side, with every time on hover: {}", path.display()),
        Err(why) => eprintln!("flags: cannot write the demo's timeline: {why}"),
    }
    say!("The flags are in {dest}/ (drawn by the embedded server: bands and the country code).");
    say!("To serve the real flag images, unpack flags.zip and run:");
    say!("    flags serve --dir path/to/flags --label LOCAL");
    say!("then download from it with: flags get -s LOCAL");
}

/// The demo's end after Ctrl-C: the tables of the styles that ran to their end.
pub fn demo_interrupted(demo: &Demo) {
    match demo.io.is_empty() {
        true => say!("\nInterrupted before any style finished."),
        false => say!("\nInterrupted; the styles that finished:\n{}", demo_table(&demo.io)),
    }
    if !demo.cpu.is_empty() {
        say!("Part two:\n{}", demo_table(&demo.cpu));
    }
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
            StyleTimes {
                mode: Runner::Style(Mode::Sequential),
                times: vec![Duration::from_secs(7), Duration::from_secs(8)],
                waterfall: vec![],
                note: None,
                recording: None,
            },
            StyleTimes {
                mode: Runner::Style(Mode::Async),
                times: vec![Duration::from_millis(750)],
                waterfall: vec![],
                note: None,
                recording: None,
            },
        ];
        let t = demo_table(&rows);
        assert!(t.contains("sequential           2     7.50s     7.00s      1.0x"), "{t}");
        assert!(t.contains("async                1     0.75s     0.75s     10.0x"), "{t}");
    }
}
