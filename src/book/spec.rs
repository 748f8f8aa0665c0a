//! What `flags book` is given, what it tells as it goes, and what it
//! returns.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use super::chapter::{Chapter, Edition, NotAChapter, Script};
use super::copy::Change;
use super::python::{NoPython, Probe};
use crate::countries::{CountryCode, Selection};
use crate::demo::{Leg, LegObserver, PeerRun};
use crate::http::BaseUrl;
use crate::server::Delay;
use crate::waterfall::exchange::Recording;
use crate::waterfall::Row;

/// What `flags book` is asked to do.
#[derive(Debug, Clone)]
pub struct BookConfig {
    /// A checkout of the book's code, or the chapter's folder.
    pub path: PathBuf,
    /// Only this script (its file name).
    pub script: Option<String>,
    /// A flags2 script's command line (after `--`), and what it asks for:
    /// its codes (see [`BookConfig::arg_codes`]) and its `-m`.
    pub args: Vec<String>,
    pub arg_selection: Option<Selection>,
    pub max_req: Option<usize>,
    /// The server's delay and seed.
    pub delay: Delay,
    pub seed: u64,
    /// Runs of each script and each style.
    pub runs: usize,
    /// The Python interpreter to run the scripts with.
    pub python: String,
    /// The longest a script may run before it is stopped and fails.
    pub limit: Duration,
    /// Where the waterfalls go: an HTML page, or a Trace Event
    /// (`.trace.json`) or HAR (`.har`) file.
    pub timeline: PathBuf,
}

impl Default for BookConfig {
    fn default() -> Self {
        BookConfig {
            path: PathBuf::from("."),
            script: None,
            args: Vec::new(),
            arg_selection: None,
            max_req: None,
            delay: Delay::fixed(0.35),
            seed: 0,
            runs: 1,
            python: "python3".into(),
            limit: Duration::from_secs(600),
            timeline: PathBuf::from("book-timeline.html"),
        }
    }
}

impl BookConfig {
    /// The codes the flags2 command line asks `edition`'s scripts for, as
    /// its `flags2_common.py` reads them: the codes named (or `-a`, `-e`),
    /// else POP20, the first `-l` of them. The first edition applies no
    /// `-l` to POP20 (its `cc_list = sorted(POP20_CC)` comes after the
    /// limit), the second does.
    pub fn arg_codes(&self, edition: Edition) -> Option<Vec<CountryCode>> {
        let selection = self.arg_selection.as_ref()?;
        let named = selection.all || selection.every || !selection.args.is_empty();
        if edition == Edition::First && !named {
            return Some(Selection { limit: None, ..selection.clone() }.codes());
        }
        Some(selection.codes())
    }
}

/// Why the book's scripts could not be run.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error(transparent)]
    Chapter(#[from] NotAChapter),
    #[error("{script} takes no command line (only the flags2 and flags3 scripts do)")]
    NoArgs { script: String },
    #[error(transparent)]
    Python(#[from] NoPython),
    #[error("cannot start the embedded flag server")]
    Server(#[source] std::io::Error),
    #[error("cannot copy the chapter into a temporary folder")]
    Copy(#[source] std::io::Error),
    #[error("cannot run {python}")]
    Run {
        python: String,
        #[source]
        source: std::io::Error,
    },
}

/// Everything known before the first script runs.
#[derive(Debug, Clone)]
pub struct Setting {
    pub chapter: Chapter,
    pub python: String,
    pub probe: Probe,
    pub base: BaseUrl,
    pub delay: Delay,
    /// The lines the temporary copy changed.
    pub changes: Vec<Change>,
}

/// One script and the style beside it.
#[derive(Debug, Clone)]
pub struct Pair {
    pub script: Script,
    /// The modules it needs that the interpreter lacks: it was not run.
    pub missing: BTreeSet<String>,
    /// The style, and how many flags both were asked for.
    pub leg: Leg,
    pub codes: usize,
    /// Each run of the script, and its time: the one it printed itself
    /// (as the chapter's table gives), else its wall time.
    pub script_runs: Vec<PeerRun>,
    pub script_times: Vec<Duration>,
    /// Each run of the style.
    pub flags_times: Vec<Duration>,
    /// The flags each style run failed to save, over all its runs.
    pub flags_failed: usize,
    /// The server's record of each side's last run, as rows and as
    /// recordings (for the Trace Event and HAR files).
    pub script_rows: Vec<Row>,
    pub flags_rows: Vec<Row>,
    pub script_recording: Option<Recording>,
    pub flags_recording: Option<Recording>,
}

impl Pair {
    /// Why the script's side is not a time, if it is not.
    pub fn script_failure(&self) -> Option<String> {
        if !self.missing.is_empty() {
            let modules: Vec<&str> = self.missing.iter().map(String::as_str).collect();
            return Some(format!("not run: it needs {}", modules.join(", ")));
        }
        self.script_runs.iter().find_map(|r| r.failure())
    }

    /// The mean of `times`.
    pub fn mean(times: &[Duration]) -> Option<Duration> {
        (!times.is_empty()).then(|| times.iter().sum::<Duration>() / times.len() as u32)
    }
}

/// What the book's run returns.
#[derive(Debug, Clone)]
pub struct Book {
    pub setting: Setting,
    pub pairs: Vec<Pair>,
}

impl Book {
    /// True when every script ran and saved its flags, and every style did.
    pub fn all_well(&self) -> bool {
        self.pairs.iter().all(|p| p.script_failure().is_none() && p.flags_failed == 0)
    }
}

/// What the book's run tells as it goes; the styles' runs tell it as the
/// demo's do.
pub trait BookObserver: LegObserver {
    /// The setting is known; nothing has run yet.
    fn started(&self, setting: &Setting);
    /// `script` is not run: the interpreter lacks `missing`.
    fn skipped(&self, script: &Script, missing: &BTreeSet<String>);
    /// A script is about to run (`line`, in the copy's folder).
    fn script_started(&self, script: &Script, line: &str);
    /// It ended.
    fn script_ended(&self, run: &PeerRun);
    /// A signal stopped the run before any script began.
    fn stopped_early(&self);
    /// A signal stopped the run; `book` holds the pairs that ran to their end.
    fn interrupted(&self, book: &Book);
    /// Every pair ran; their waterfalls went to the path, or could not be
    /// written, for the reason given.
    fn ended(&self, book: &Book, timeline: Result<&std::path::Path, std::io::Error>);
}
