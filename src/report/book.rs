//! `flags book`'s output: what was found and changed, each script's run as
//! it printed it, each style's run in the seed's format, then the
//! chapter's table with both columns.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::out::say;
use super::seed::{peer_output, seed_line, SeedSink};
use crate::book::{Book, BookObserver, Pair, Script, Setting};
use crate::demo::{Leg, LegObserver, PeerRun};
use crate::download::{DownloadObserver, RunResult};
use crate::proto::text::peer_text;

/// Prints the book's run as it goes.
pub struct BookPrinter;

impl LegObserver for BookPrinter {
    fn run_started(&self, leg: &Leg, run: usize, runs: usize) -> Arc<dyn DownloadObserver> {
        let of = if runs > 1 { format!(", run {run} of {runs}") } else { String::new() };
        say!("\n$ {}    # the same, in Rust{of}", leg.command());
        Arc::new(SeedSink)
    }

    fn run_ended(&self, result: &RunResult) {
        say!("\n{}", seed_line(result.saved(), result.elapsed));
    }
}

impl BookObserver for BookPrinter {
    fn started(&self, s: &Setting) {
        say!(
            "flags book: the scripts of {}, in {}",
            s.chapter.edition.title(),
            peer_text(s.chapter.dir.to_string_lossy().as_bytes())
        );
        let missing = match s.probe.missing.is_empty() {
            true => "every module the scripts import is there".to_string(),
            false => format!("it lacks {}", s.probe.missing.iter().cloned().collect::<Vec<_>>().join(", ")),
        };
        say!(
            "{} is Python {} ({} CPUs, as ThreadPoolExecutor() counts them); {missing}",
            peer_text(s.python.as_bytes()),
            s.probe.version,
            s.probe.cpus
        );
        say!("The embedded flag server at {}, each response delayed {}.", s.base, s.delay);
        say!(
            "Each script runs from a temporary copy, pointed at that server; your files are not changed. In the copy:"
        );
        for c in s.changes.iter().filter(|c| c.line == 0) {
            say!("  {:<24} {}", peer_text(c.file.as_bytes()), peer_text(c.after.as_bytes()));
        }
        for c in s.changes.iter().filter(|c| c.line > 0) {
            let at = format!("{}:{}", peer_text(c.file.as_bytes()), c.line);
            say!("  {at:<24} {}", peer_text(c.before.trim().as_bytes()));
            say!("  {:<24} {}", "  now", peer_text(c.after.trim().as_bytes()));
        }
        if s.changes.is_empty() {
            say!("  nothing: no quoted URL ending in /flags was found, so the scripts will not reach the server");
        }
        say!("Each script and the flags style beside it meet the same delay for the same flag.");
    }

    fn skipped(&self, script: &Script, missing: &BTreeSet<String>) {
        let packages: Vec<&str> = missing.iter().map(|m| crate::book::python::package_of(m)).collect();
        say!(
            "\n{}: not run, its imports need {}: python3 -m pip install {}",
            script.file,
            join(missing),
            packages.join(" ")
        );
    }

    fn script_started(&self, _script: &Script, line: &str) {
        say!("\n$ {}    # the book's script", peer_text(line.as_bytes()));
    }

    fn script_ended(&self, run: &PeerRun) {
        peer_output(run);
        match run.failure() {
            None => say!("[{}: {:.2} s from start to exit; {}]", run.name, run.elapsed.as_secs_f64(), run.seen()),
            Some(why) => {
                say!("[{} failed: {why}; {}]", run.name, run.seen());
                if let Some(hint) = hint(run) {
                    say!("[{hint}]");
                }
            }
        }
    }

    fn stopped_early(&self) {
        stopped_early();
    }

    fn interrupted(&self, book: &Book) {
        interrupted(book);
    }

    fn ended(&self, book: &Book, timeline: Result<&std::path::Path, std::io::Error>) {
        end(book, timeline);
    }
}

fn join(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// What a failed script's error means, where it is a known one.
fn hint(run: &PeerRun) -> Option<&'static str> {
    let said = run.stderr.text();
    if said.contains("has no attribute 'coroutine'") || said.contains("'async' is a reserved") {
        return Some(
            "the first edition's asyncio scripts were written for Python 3.4 and aiohttp 0.13: \
             @asyncio.coroutine is gone since Python 3.11. The second edition's run on today's Python",
        );
    }
    if said.contains("ConnectError") || said.contains("ConnectionError") || said.contains("Connection refused") {
        return Some("it could not reach the server: a URL in a module the copy did not change?");
    }
    None
}

/// The chapter's table, both columns: each script's time (the one it
/// printed, as the chapter's tables give) beside its style's.
pub fn table(book: &Book) -> String {
    let python = &book.setting.python;
    let width = book.pairs.iter().map(|p| p.script.file.len()).max().unwrap_or(6).max(6);
    let python = peer_text(python.as_bytes());
    let mut s = format!("{:<width$} {:>9} {:>9}  {}\n", "script", python, "flags", "the flags style beside it");
    for pair in &book.pairs {
        let script = match (pair.script_failure(), Pair::mean(&pair.script_times)) {
            (None, Some(t)) => format!("{:.2}s", t.as_secs_f64()),
            (Some(_), _) if !pair.missing.is_empty() => "not run".into(),
            _ => "failed".into(),
        };
        let flags = match Pair::mean(&pair.flags_times) {
            Some(t) if pair.flags_failed == 0 => format!("{:.2}s", t.as_secs_f64()),
            Some(_) => "failed".into(),
            None => "-".into(),
        };
        let codes = if pair.codes == 20 { String::new() } else { format!(", {} flags", pair.codes) };
        s += &format!("{:<width$} {script:>9} {flags:>9}  {}{codes}\n", pair.script.file, pair.leg.command());
    }
    s
}

/// The end: the table, its notes, and where the waterfalls went.
pub fn end(book: &Book, timeline: Result<&std::path::Path, std::io::Error>) {
    say!("\n{}", table(book));
    say!("Each script's time is the one it printed; runs of several take their mean.");
    for pair in &book.pairs {
        if let Some(why) = pair.script_failure() {
            say!("{}: {why}", pair.script.file);
        }
    }
    match timeline {
        Ok(path) => say!("Each pair's waterfalls, from the server's record: {}", path.display()),
        Err(why) => eprintln!("flags: cannot write the book's timeline: {why}"),
    }
}

/// The end after Ctrl-C before the first script began.
pub fn stopped_early() {
    say!("\nInterrupted before any script and its style finished.");
}

/// The end after Ctrl-C: the pairs that ran to their end.
pub fn interrupted(book: &Book) {
    match book.pairs.is_empty() {
        true => stopped_early(),
        false => say!("\nInterrupted; the scripts that finished:\n{}", table(book)),
    }
}
