//! `flags book`'s arguments, and the validated [`BookConfig`] they become.
//! A flags2 script's command line (after `--`) is read here with the
//! options flags2_common gives it, to know which flags it asks for and
//! how many at once.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser};

use super::exit::Exit;
use super::parse::{invalid, parse_delay, parse_timeout};
use crate::book::{Book, BookConfig, BookError};
use crate::countries::{CodeArg, Selection};
use crate::server::Delay;
use crate::shutdown::Shutdown;

#[derive(Debug, Args)]
pub struct BookArgs {
    /// Your copy of the book's code: a clone of example-code-2e (chapter 20,
    /// 20-executors/getflags) or of example-code (chapter 17,
    /// 17-futures/countries), or the chapter's folder itself.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Only this script, e.g. flags2_threadpool.py [default: every script
    /// of the chapter].
    #[arg(value_name = "SCRIPT")]
    pub script: Option<String>,
    /// A flags2 or flags3 script's own options, after `--`: `-e -m 100`,
    /// `-a`, `b -v`... (its -s LABEL reaches the embedded server too).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
    /// Latency of each response, in seconds: `0.35`, a range `0.2..0.5`, or
    /// `lognormal:MEDIAN,SIGMA` (a long tail, as on the internet).
    #[arg(long, default_value = "0.35", value_parser = parse_delay)]
    pub delay: Delay,
    /// Seed for the server's random delays.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How many times to run each script and each style.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: u32,
    /// The Python interpreter that runs the scripts (a virtual
    /// environment's python, say).
    #[arg(long, value_name = "PROGRAM", default_value = "python3")]
    pub python: String,
    /// The longest a script may run, in seconds: past it, it is stopped
    /// (SIGINT, then SIGKILL) and fails.
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_timeout)]
    pub limit: Duration,
    /// Where the waterfalls go: an HTML page, or every run's record as
    /// Trace Event (.trace.json, for Perfetto) or HAR (.har, for DevTools).
    #[arg(long, value_name = "FILE", default_value = "book-timeline.html")]
    pub timeline: PathBuf,
}

/// The options flags2_common.py reads from a flags2 script's command line.
#[derive(Debug, Parser)]
#[command(no_binary_name = true, disable_help_flag = true, disable_version_flag = true, infer_long_args = true)]
struct Flags2Line {
    #[arg(value_parser = |s: &str| s.parse::<CodeArg>().map_err(|_| "each CC argument must be A to Z or AA to ZZ"))]
    cc: Vec<CodeArg>,
    #[arg(short, long)]
    all: bool,
    #[arg(short, long)]
    every: bool,
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    limit: Option<u32>,
    #[arg(short, long = "max_req", value_parser = clap::value_parser!(u32).range(1..))]
    max_req: Option<u32>,
    #[arg(short, long)]
    server: Option<String>,
    #[arg(short, long)]
    verbose: bool,
}

impl TryFrom<BookArgs> for BookConfig {
    type Error = clap::Error;
    fn try_from(a: BookArgs) -> Result<Self, clap::Error> {
        let (mut arg_selection, mut max_req) = (None, None);
        if !a.args.is_empty() {
            if a.script.is_none() {
                let why = "name the flags2 or flags3 script they are for, e.g. flags2_threadpool.py";
                return Err(invalid("-- <ARGS>", a.args.join(" "), why));
            }
            let line = Flags2Line::try_parse_from(&a.args).map_err(|e| {
                let said = e.to_string();
                let first = said.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
                invalid("-- <ARGS>", a.args.join(" "), first)
            })?;
            // As flags2_common does: -e, else -a, else the codes given.
            let (all, args) = (line.all && !line.every, if line.all || line.every { Vec::new() } else { line.cc });
            let selection = Selection { args, all, every: line.every, limit: line.limit.map(|n| n as usize) };
            arg_selection = Some(selection);
            max_req = line.max_req.map(|m| m as usize);
        }
        crate::save::check_output(&a.timeline)
            .map_err(|why| invalid("--timeline <FILE>", a.timeline.display(), why))?;
        Ok(BookConfig {
            path: a.path,
            script: a.script,
            args: a.args,
            arg_selection,
            max_req,
            delay: a.delay,
            seed: a.seed,
            runs: a.runs as usize,
            python: a.python,
            limit: a.limit,
            timeline: a.timeline,
        })
    }
}

impl Exit {
    /// How `flags book` ended: a folder that holds no chapter, or a script
    /// that is not one of it or takes no command line, is a usage error; an
    /// error while a signal stopped it, a stop; a script or a style that
    /// failed, a failure.
    pub fn of_book(result: Result<Book, BookError>, shutdown: &Shutdown) -> Result<Exit, BookError> {
        use clap::error::ErrorKind;
        match result {
            Ok(book) => Ok(Exit::after(shutdown, !book.all_well())),
            Err(BookError::Chapter(e)) => Ok(Exit::Usage("book", clap::Error::raw(ErrorKind::ValueValidation, e))),
            Err(e @ BookError::NoArgs { .. }) => {
                Ok(Exit::Usage("book", clap::Error::raw(ErrorKind::ArgumentConflict, e.to_string())))
            }
            Err(e) => Exit::stopped_or(e, shutdown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::chapter::Edition::{First, Second};

    fn config(line: &[&str]) -> Result<BookConfig, clap::Error> {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            book: BookArgs,
        }
        BookConfig::try_from(Cli::try_parse_from(line)?.book)
    }

    #[test]
    fn a_flags2_command_line_says_which_flags_and_how_many_at_once() {
        let c = config(&["flags", "code", "flags2_threadpool.py", "--", "-e", "-m", "100", "-s", "DELAY"]).unwrap();
        assert_eq!((c.arg_codes(Second).as_ref().map(Vec::len), c.max_req), (Some(676), Some(100)));
        let c = config(&["flags", "code", "flags2_asyncio.py", "--", "b", "-l", "3"]).unwrap();
        let codes: Vec<String> = c.arg_codes(Second).unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(codes, ["BA", "BB", "BC"]);
        let c = config(&["flags", "code"]).unwrap();
        assert!(c.arg_codes(Second).is_none() && c.script.is_none());
    }

    #[test]
    fn a_command_line_needs_its_script_and_flags2_options() {
        let e = config(&["flags", "code", "--", "-a"]).unwrap_err().to_string();
        assert!(e.contains("name the flags2 or flags3 script"), "{e}");
        let e = config(&["flags", "code", "flags2_asyncio.py", "--", "--bogus"]).unwrap_err().to_string();
        assert!(e.contains("--bogus"), "{e}");
        // -a with codes: the catalog, as flags2 takes -a over them; a long
        // option by its prefix, as argparse takes it.
        let c = config(&["flags", "code", "flags2_asyncio.py", "--", "-a", "b", "--max", "3"]).unwrap();
        assert_eq!((c.arg_codes(Second).unwrap().len(), c.max_req), (194, Some(3)));
        assert!(config(&["flags", "code", "flags2_asyncio.py", "--", "-m", "0"]).is_err());
    }

    #[test]
    fn a_limit_without_codes_cuts_pop20_in_the_second_edition_only() {
        // The first edition's flags2_common makes POP20 its list after the
        // limit was applied to no codes; the second edition limits it.
        let c = config(&["flags", "code", "flags2_threadpool.py", "--", "-l", "5"]).unwrap();
        assert_eq!(c.arg_codes(Second).map(|c| c.len()), Some(5));
        assert_eq!(c.arg_codes(First).map(|c| c.len()), Some(20));
        let c = config(&["flags", "code", "flags2_threadpool.py", "--", "b", "-l", "5"]).unwrap();
        assert_eq!(c.arg_codes(First).map(|c| c.len()), Some(5));
    }
}
