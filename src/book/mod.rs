//! `flags book PATH`: the book's own scripts, from the reader's checkout
//! of either edition's code, each beside the `flags` style that does what
//! it does, against the embedded server under the same delays.
//!
//! The scripts run from a temporary copy pointed at the server (the
//! reader's files are read, never written; every line changed is
//! returned), with the reader's Python, once it has said it has the
//! modules they import. Each script and its style are a leg of the
//! server's: the Nth request of a flag draws the same delay in both. Both
//! are drawn from the server's record, so the two pictures say the same
//! thing of each.
//!
//! | module | what it holds |
//! |---|---|
//! | `chapter` | finding the chapter in a checkout, each edition's scripts and the style beside each |
//! | `copy` | the temporary copy pointed at the server, and what was changed |
//! | `python` | the modules a script needs, and what the reader's interpreter has |
//! | `spec` | the configuration, the observer, what a run returns |
//! | `page` | `book-timeline.html`: each script's waterfall beside its style's |

pub(crate) mod chapter;
pub(crate) mod copy;
pub(crate) mod page;
pub(crate) mod python;
pub(crate) mod spec;

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::Duration;

pub use chapter::{Chapter, Edition, NotAChapter, Script};
pub use copy::Change;
pub use python::{NoPython, Probe};
pub use spec::{Book, BookConfig, BookError, BookObserver, Pair, Setting};

use crate::demo::legs::run_leg;
use crate::demo::peer::{Peer, Watch};
use crate::demo::{DemoConfig, Leg};
use crate::server::{self, ServerConfig};
use crate::shutdown::Shutdown;

/// Runs the chapter's scripts (or the one named), each beside its style,
/// then writes the page of their waterfalls, telling `observer` all
/// along. When `shutdown` is stopped, the run in progress is ended, and
/// the observer is told of the pairs done so far.
pub fn run(config: &BookConfig, observer: &dyn BookObserver, shutdown: &Shutdown) -> Result<Book, BookError> {
    let book = match run_pairs(config, observer, shutdown) {
        Ok(book) => book,
        Err(e @ (BookError::Chapter(_) | BookError::NoArgs { .. })) => return Err(e),
        // Stopped before any script ran (asking Python, say): a stop.
        Err(e) if shutdown.signal().is_some() => {
            observer.stopped_early();
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if shutdown.signal().is_some() {
        observer.interrupted(&book);
        return Ok(book);
    }
    let written = page::write_timeline(&book, &config.timeline).map(|()| config.timeline.as_path());
    observer.ended(&book, written);
    Ok(book)
}

/// The scripts and their styles, each pair run in turn until `shutdown` is
/// stopped.
fn run_pairs(config: &BookConfig, observer: &dyn BookObserver, shutdown: &Shutdown) -> Result<Book, BookError> {
    let chapter = chapter::find(&config.path)?;
    let scripts = chapter.pick(config.script.as_deref())?;
    if let Some(s) = scripts.iter().find(|s| !s.takes_args() && !config.args.is_empty()) {
        return Err(BookError::NoArgs { script: s.file.to_string() });
    }
    let needs: Vec<BTreeSet<String>> = scripts.iter().map(|s| python::needs(&chapter.dir, s.file)).collect();
    let probe = python::probe(&config.python, &needs.iter().flatten().cloned().collect(), shutdown)?;
    let server_config = ServerConfig { delay: config.delay, seed: config.seed, ..ServerConfig::default() };
    let server = server::spawn(server_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(BookError::Server)?;
    server.warm();
    let base = server.base();
    let (_, changes) = copy::Copy::make(&chapter.dir, &base.to_string()).map_err(BookError::Copy)?;
    let setting = Setting { chapter, python: config.python.clone(), probe, base, delay: config.delay, changes };
    observer.started(&setting);
    let mut pairs = Vec::new();
    for (script, needs) in scripts.into_iter().zip(needs) {
        if shutdown.is_stopped() {
            break;
        }
        let pair = run_pair(config, &setting, &server, script, &needs, observer, shutdown)?;
        if shutdown.is_stopped() {
            break;
        }
        pairs.push(pair);
    }
    Ok(Book { setting, pairs })
}

/// Runs one script, then its style, each `config.runs` times, each from
/// the first draw of the server's delays.
fn run_pair(
    config: &BookConfig,
    setting: &Setting,
    server: &server::RunningServer,
    script: Script,
    needs: &BTreeSet<String>,
    observer: &dyn BookObserver,
    shutdown: &Shutdown,
) -> Result<Pair, BookError> {
    let text = std::fs::read_to_string(setting.chapter.dir.join(script.file)).unwrap_or_default();
    let codes = script.code_list(config.arg_codes(setting.chapter.edition).as_deref());
    let workers = chapter::workers(&script, codes.len(), setting.probe.cpus, config.max_req, &text);
    let leg = Leg { mode: script.mode, concurrency: workers, work: None, names: script.names };
    let missing: BTreeSet<String> = needs.intersection(&setting.probe.missing).cloned().collect();
    let mut pair = Pair {
        script,
        missing,
        leg,
        codes: codes.len(),
        script_runs: Vec::new(),
        script_times: Vec::new(),
        flags_times: Vec::new(),
        flags_failed: 0,
        script_rows: Vec::new(),
        flags_rows: Vec::new(),
        script_recording: None,
        flags_recording: None,
    };
    if !pair.missing.is_empty() {
        observer.skipped(&pair.script, &pair.missing);
        return Ok(pair);
    }
    let both = Both { config, setting, server, codes: &codes, observer, shutdown };
    server.stats().start_leg();
    if both.scripts(&mut pair)? {
        server.stats().start_leg();
        both.styles(&mut pair)?;
    }
    Ok(pair)
}

/// What a script's runs and its style's runs share.
struct Both<'a> {
    config: &'a BookConfig,
    setting: &'a Setting,
    server: &'a server::RunningServer,
    codes: &'a [crate::countries::CountryCode],
    observer: &'a dyn BookObserver,
    shutdown: &'a Shutdown,
}

impl Both<'_> {
    /// Runs the script `config.runs` times, each from a fresh copy; false
    /// when a stop came.
    fn scripts(&self, pair: &mut Pair) -> Result<bool, BookError> {
        let Both { config, setting, server, codes, observer, shutdown } = *self;
        for _ in 0..config.runs {
            if shutdown.is_stopped() {
                return Ok(false);
            }
            let (copy, _) =
                copy::Copy::make(&setting.chapter.dir, &setting.base.to_string()).map_err(BookError::Copy)?;
            shutdown.scratch(copy.path());
            let args: Vec<String> = if pair.script.takes_args() { config.args.clone() } else { Vec::new() };
            let line = std::iter::once(config.python.as_str())
                .chain([pair.script.file])
                .chain(args.iter().map(String::as_str))
                .map(crate::shell::quote)
                .collect::<Vec<_>>()
                .join(" ");
            observer.script_started(&pair.script, &line);
            let mut cmd = Command::new(&config.python);
            cmd.arg(pair.script.file).args(&args).current_dir(copy.path()).env("PYTHONDONTWRITEBYTECODE", "1");
            // A flags2 script asked for every code finds only the catalog's.
            let wanted = codes.iter().filter(|cc| crate::countries::lookup(**cc).is_some()).count();
            let peer = Peer { name: pair.script.file, line, dir: copy.path(), wanted, limit: Some(config.limit) };
            // A stop between the check above and the spawn is a stop, not a
            // failure to run Python.
            let ran = peer.run(cmd, server, shutdown);
            if shutdown.is_stopped() {
                return Ok(false);
            }
            let (run, rows, recording) =
                ran.map_err(|source| BookError::Run { python: config.python.clone(), source })?;
            observer.script_ended(&run);
            pair.script_times.push(said_time(&run.stdout.text()).unwrap_or(run.elapsed));
            pair.script_runs.push(run);
            pair.script_rows = rows;
            pair.script_recording = Some(recording);
        }
        Ok(true)
    }

    /// Runs the style beside the script `config.runs` times.
    fn styles(&self, pair: &mut Pair) -> Result<(), BookError> {
        let Both { config, setting, server, codes, observer, shutdown } = *self;
        let scratch = tempfile::Builder::new().prefix("flags-book-style-").tempdir().map_err(BookError::Copy)?;
        shutdown.scratch(scratch.path());
        let demo = DemoConfig { runs: 1, dest: scratch.path().to_path_buf(), ..DemoConfig::default() };
        for _ in 0..config.runs {
            let watch = Watch::start(server);
            let Some(times) = run_leg(&pair.leg, (&setting.base, setting.delay.max), codes, &demo, observer, shutdown)
            else {
                return Ok(());
            };
            pair.flags_times.extend(times.times);
            pair.flags_failed +=
                times.waterfall.iter().filter(|r| r.ending == crate::waterfall::Ending::Failed).count();
            let served = watch.served();
            pair.flags_rows = crate::waterfall::served_rows(&served);
            pair.flags_recording = Some(watch.recording(pair.leg.command(), &served));
        }
        Ok(())
    }
}

/// The time a script printed for itself on its last line that ends in
/// one, as the chapter's tables give it: `20 downloads in 7.05s`,
/// `Elapsed time: 7.05s`.
pub fn said_time(stdout: &str) -> Option<Duration> {
    stdout.lines().rev().find_map(|line| {
        let word = line.trim().rsplit(' ').next()?.strip_suffix('s')?;
        let secs: f64 = word.parse().ok()?;
        (0.0..1e6).contains(&secs).then(|| Duration::from_secs_f64(secs))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_s_own_time_is_read_from_its_last_line_that_gives_one() {
        assert_eq!(said_time("BD BR\n20 downloads in 7.05s\n"), Some(Duration::from_millis(7050)));
        assert_eq!(said_time("---\nElapsed time: 0.40s\n"), Some(Duration::from_millis(400)));
        assert_eq!(said_time("20 flags downloaded in 10.16s\nbye\n"), Some(Duration::from_millis(10160)));
        assert_eq!(said_time("Traceback: oops\n"), None);
        assert_eq!(said_time("in -1s\nin NaNs\nin infs\n"), None);
    }
}
