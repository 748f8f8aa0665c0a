//! Where the chapter's scripts are in a reader's checkout of the book's
//! code, which edition it is, and which `flags` style does what each
//! script does: a table of the scripts each edition ships, nothing read
//! from the scripts but the constants the flags2 scripts define.

use std::path::{Path, PathBuf};

use crate::countries::{pop20_sorted, CountryCode, POP20};
use crate::download::Mode;

/// Which edition of Fluent Python the checkout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    /// `fluentpython/example-code`, chapter 17, `17-futures/countries`
    /// (requests and an aiohttp of 2015, Python 3.4).
    First,
    /// `fluentpython/example-code-2e`, chapter 20, `20-executors/getflags`
    /// (httpx).
    Second,
}

impl Edition {
    /// The chapter's folder inside a checkout of this edition's code.
    pub fn folder(self) -> &'static str {
        match self {
            Edition::First => "17-futures/countries",
            Edition::Second => "20-executors/getflags",
        }
    }

    /// Its name, for a heading.
    pub fn title(self) -> &'static str {
        match self {
            Edition::First => "Fluent Python, first edition, chapter 17",
            Edition::Second => "Fluent Python, second edition, chapter 20",
        }
    }

    /// The file that only this edition has: the `submit` and
    /// `as_completed` script, named differently in each.
    fn as_completed(self) -> &'static str {
        match self {
            Edition::First => "flags_threadpool_ac.py",
            Edition::Second => "flags_threadpool_futures.py",
        }
    }
}

/// How many requests a script has in flight at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// A fixed number (1 for the sequential scripts).
    Fixed(usize),
    /// `ThreadPoolExecutor()` with no argument: `min(32, os.cpu_count() + 4)`
    /// since Python 3.8, so it depends on the reader's machine.
    PythonDefault,
    /// A flags2 script: `min(-m or DEFAULT_CONCUR_REQ, MAX_CONCUR_REQ, codes)`,
    /// and at most 100 for an asyncio one (the connections httpx's
    /// `AsyncClient()` and aiohttp's session open by default).
    Flags2,
}

/// Which flags a script downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    /// The 20 most populous countries.
    Pop20,
    /// `cc_list[:5]` of POP20 in the book's order (the `as_completed`
    /// scripts): CN IN US ID BR.
    FirstFive,
    /// A flags2 script: its command line's codes (POP20 without any).
    CommandLine,
}

/// One script of the chapter and the `flags` style beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Its file name, e.g. `flags_threadpool.py`.
    pub file: &'static str,
    /// The style that schedules its downloads the same way.
    pub mode: Mode,
    pub workers: Workers,
    pub codes: Codes,
    /// flags3: it fetches `metadata.json` too and names files after the country.
    pub names: bool,
}

impl Script {
    /// True for the flags2 and flags3 scripts, which take a command line.
    pub fn takes_args(&self) -> bool {
        self.codes == Codes::CommandLine
    }

    /// The codes it downloads; `args` are the flags2 codes of its command
    /// line, if given.
    pub fn code_list(&self, args: Option<&[CountryCode]>) -> Vec<CountryCode> {
        match (self.codes, args) {
            (Codes::FirstFive, _) => POP20[..5].to_vec(),
            (Codes::CommandLine, Some(codes)) if !codes.is_empty() => codes.to_vec(),
            _ => pop20_sorted(),
        }
    }
}

const fn script(file: &'static str, mode: Mode, workers: Workers, codes: Codes) -> Script {
    Script { file, mode, workers, codes, names: false }
}

const fn flags2(file: &'static str, mode: Mode) -> Script {
    Script { file, mode, workers: Workers::Flags2, codes: Codes::CommandLine, names: file.as_bytes()[5] == b'3' }
}

/// The chapter's scripts of the second edition, in the chapter's order.
const SECOND: [Script; 9] = [
    script("flags.py", Mode::Sequential, Workers::Fixed(1), Codes::Pop20),
    script("flags_threadpool.py", Mode::ThreadPool, Workers::PythonDefault, Codes::Pop20),
    script("flags_threadpool_futures.py", Mode::ThreadPool, Workers::Fixed(3), Codes::FirstFive),
    script("flags_asyncio.py", Mode::Async, Workers::Fixed(20), Codes::Pop20),
    flags2("flags2_sequential.py", Mode::Sequential),
    flags2("flags2_threadpool.py", Mode::ThreadPool),
    flags2("flags2_asyncio.py", Mode::Async),
    flags2("flags2_asyncio_executor.py", Mode::Async),
    flags2("flags3_asyncio.py", Mode::Async),
];

/// The chapter's scripts of the first edition, in the chapter's order.
const FIRST: [Script; 12] = [
    script("flags.py", Mode::Sequential, Workers::Fixed(1), Codes::Pop20),
    script("flags_threadpool.py", Mode::ThreadPool, Workers::Fixed(20), Codes::Pop20),
    script("flags_threadpool_ac.py", Mode::ThreadPool, Workers::Fixed(3), Codes::FirstFive),
    script("flags_asyncio.py", Mode::Async, Workers::Fixed(20), Codes::Pop20),
    script("flags_await.py", Mode::Async, Workers::Fixed(20), Codes::Pop20),
    flags2("flags2_sequential.py", Mode::Sequential),
    flags2("flags2_threadpool.py", Mode::ThreadPool),
    flags2("flags2_asyncio.py", Mode::Async),
    flags2("flags2_asyncio_executor.py", Mode::Async),
    flags2("flags2_await.py", Mode::Async),
    flags2("flags3_asyncio.py", Mode::Async),
    flags2("flags3_threadpool.py", Mode::ThreadPool),
];

/// The chapter found in a checkout: its folder, its edition, and the
/// scripts of the edition's table that are there.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub dir: PathBuf,
    pub edition: Edition,
    pub scripts: Vec<Script>,
}

/// Why a path holds no chapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAChapter {
    #[error(
        "{0}: no such folder. Give the folder of your copy of the book's code, e.g. a clone of \
         https://github.com/fluentpython/example-code-2e"
    )]
    Missing(PathBuf),
    #[error(
        "{0} holds neither 20-executors/getflags (example-code-2e, the second edition) nor \
         17-futures/countries (example-code, the first edition), nor the chapter's flags.py"
    )]
    NoChapter(PathBuf),
    #[error("{script}: not one of the chapter's scripts in {dir} (they are: {known})")]
    UnknownScript { script: String, dir: PathBuf, known: String },
}

/// Finds the chapter under `path`: a checkout of either edition's code,
/// or the chapter's folder itself.
pub fn find(path: &Path) -> Result<Chapter, NotAChapter> {
    if !path.is_dir() {
        return Err(NotAChapter::Missing(path.to_path_buf()));
    }
    let (dir, edition) = [Edition::Second, Edition::First]
        .into_iter()
        .map(|e| (path.join(e.folder()), e))
        .find(|(dir, _)| dir.join("flags.py").is_file())
        .or_else(|| edition_of(path).map(|e| (path.to_path_buf(), e)))
        .ok_or_else(|| NotAChapter::NoChapter(path.to_path_buf()))?;
    let table: &[Script] = match edition {
        Edition::First => &FIRST,
        Edition::Second => &SECOND,
    };
    let scripts = table.iter().filter(|s| dir.join(s.file).is_file()).cloned().collect();
    Ok(Chapter { dir, edition, scripts })
}

/// The edition of a folder holding the chapter's `flags.py`: by the
/// `as_completed` script's name, else by the HTTP library `flags.py` uses.
fn edition_of(dir: &Path) -> Option<Edition> {
    if !dir.join("flags.py").is_file() {
        return None;
    }
    for edition in [Edition::Second, Edition::First] {
        if dir.join(edition.as_completed()).is_file() {
            return Some(edition);
        }
    }
    let text = std::fs::read_to_string(dir.join("flags.py")).unwrap_or_default();
    Some(if text.contains("import httpx") { Edition::Second } else { Edition::First })
}

impl Chapter {
    /// The scripts to run: all of them, or the one named.
    pub fn pick(&self, only: Option<&str>) -> Result<Vec<Script>, NotAChapter> {
        let Some(name) = only else { return Ok(self.scripts.clone()) };
        let name = Path::new(name).file_name().map_or(name.to_string(), |n| n.to_string_lossy().into_owned());
        match self.scripts.iter().find(|s| s.file == name) {
            Some(s) => Ok(vec![s.clone()]),
            None => Err(NotAChapter::UnknownScript {
                script: name,
                dir: self.dir.clone(),
                known: self.scripts.iter().map(|s| s.file).collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

/// A flags2 script's concurrency constants (`DEFAULT_CONCUR_REQ = 30`,
/// `MAX_CONCUR_REQ = 1000`), read from its text; 1 where one is missing,
/// as flags2_common's own defaults are.
pub fn flags2_limits(text: &str) -> (usize, usize) {
    let constant = |name: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix(name)?.trim_start().strip_prefix('='))
            .filter_map(|v| v.split('#').next()?.trim().parse::<usize>().ok())
            .next_back()
            .unwrap_or(1)
    };
    (constant("DEFAULT_CONCUR_REQ"), constant("MAX_CONCUR_REQ"))
}

/// The connections an asyncio script's HTTP client opens at most by
/// default: httpx's `AsyncClient()` (`max_connections=100`) and aiohttp's
/// `ClientSession()` (`limit=100`).
const ASYNC_CLIENT_LIMIT: usize = 100;

/// How many requests `script` has in flight at once over `codes` flags:
/// `cpus` is Python's `os.cpu_count()`, `max_req` a flags2 `-m`, `text`
/// the script's source.
pub fn workers(script: &Script, codes: usize, cpus: usize, max_req: Option<usize>, text: &str) -> usize {
    let n = match script.workers {
        Workers::Fixed(n) => n,
        Workers::PythonDefault => (cpus + 4).min(32),
        Workers::Flags2 => {
            let (default, max) = flags2_limits(text);
            let client_limit = if script.mode == Mode::Async { ASYNC_CLIENT_LIMIT } else { usize::MAX };
            max_req.unwrap_or(default).min(max).min(client_limit)
        }
    };
    n.min(codes).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_edition_maps_its_scripts_to_a_style() {
        assert_eq!(SECOND[2].file, Edition::Second.as_completed());
        assert_eq!(FIRST[2].file, Edition::First.as_completed());
        assert!(SECOND.iter().chain(&FIRST).all(|s| s.names == s.file.starts_with("flags3")));
        let codes: Vec<String> = SECOND[2].code_list(None).iter().map(|c| c.to_string()).collect();
        assert_eq!(codes, ["CN", "IN", "US", "ID", "BR"]);
        assert_eq!(SECOND[0].code_list(None).len(), 20);
    }

    #[test]
    fn workers_follow_python_and_the_flags2_constants() {
        let text = "DEFAULT_CONCUR_REQ = 30  # <2>\nMAX_CONCUR_REQ = 1000\n";
        assert_eq!(flags2_limits(text), (30, 1000));
        assert_eq!(flags2_limits("nothing"), (1, 1));
        assert_eq!(workers(&SECOND[5], 20, 2, None, text), 20);
        assert_eq!(workers(&SECOND[5], 194, 2, None, text), 30);
        assert_eq!(workers(&SECOND[5], 194, 2, Some(4), text), 4);
        assert_eq!(workers(&SECOND[1], 20, 2, None, ""), 6);
        assert_eq!(workers(&SECOND[1], 20, 64, None, ""), 20);
        assert_eq!(workers(&SECOND[2], 5, 2, None, ""), 3);
        // flags2_asyncio.py -m 200: httpx opens 100 connections at most.
        assert_eq!(workers(&SECOND[6], 676, 2, Some(200), "DEFAULT_CONCUR_REQ = 5\nMAX_CONCUR_REQ = 1000\n"), 100);
    }

    #[test]
    fn a_folder_without_the_chapter_is_refused_with_what_was_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let err = find(dir.path()).unwrap_err();
        assert!(err.to_string().contains("20-executors/getflags"), "{err}");
        assert!(matches!(find(&dir.path().join("nope")), Err(NotAChapter::Missing(_))));
        let chapter = dir.path().join("20-executors/getflags");
        std::fs::create_dir_all(&chapter).unwrap();
        for f in ["flags.py", "flags_threadpool.py"] {
            std::fs::write(chapter.join(f), "import httpx\n").unwrap();
        }
        let found = find(dir.path()).unwrap();
        assert_eq!(found.edition, Edition::Second);
        assert_eq!(found.scripts.len(), 2);
        assert_eq!(found.pick(Some("x/flags_threadpool.py")).unwrap()[0].file, "flags_threadpool.py");
        let err = found.pick(Some("flags_asyncio.py")).unwrap_err().to_string();
        assert!(err.contains("they are: flags.py, flags_threadpool.py"), "{err}");
        // The chapter's folder itself; its edition by its flags.py.
        let first = find(&dir.path().join("20-executors/getflags")).unwrap();
        assert_eq!(first.edition, Edition::Second);
        std::fs::write(chapter.join("flags.py"), "import requests\n").unwrap();
        assert_eq!(find(&chapter).unwrap().edition, Edition::First);
    }
}
