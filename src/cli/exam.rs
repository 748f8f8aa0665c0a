//! `flags exam`'s arguments and the configurations they become: an exam to
//! run, or (`flags exam merge`) reports to merge; both end in the same
//! outputs ([`Outputs`]).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::parse::{invalid, parse_timeout};
use crate::exam::baseline::{self, Entry};
use crate::exam::{self, Client, ExamConfig};
use crate::save;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ExamArgs {
    #[command(subcommand)]
    pub command: Option<ExamCommand>,
    /// Print the cases: what each server does and what a correct client does.
    #[arg(long)]
    pub list: bool,
    /// Only these cases: ids or patterns, comma-separated (framing/*,tls/*).
    #[arg(long, value_name = "PATTERNS")]
    pub cases: Option<String>,
    /// Built-in clients to grade, comma-separated, or `all` [default: all
    /// those on PATH, or none when --client is given]. `flags exam --list`
    /// names them.
    #[arg(long, value_name = "NAMES")]
    pub clients: Option<String>,
    /// Another client: NAME=TEMPLATE, or NAME+retries+h2=TEMPLATE to declare
    /// that it retries or speaks HTTP/2 with prior knowledge. Placeholders:
    /// {url} {urls} {out} {dir} {base} {cc} {cacert}. Repeatable.
    #[arg(long, value_name = "NAME=TEMPLATE")]
    pub client: Vec<String>,
    /// Kill a client still running after this long and grade it hung.
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = parse_timeout)]
    pub deadline: Duration,
    /// Runs at once (each has a server of its own).
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum ExamCommand {
    /// Merge the JSON reports of exams run elsewhere (a CI matrix, one client
    /// per job) into one card. They must have graded the same cases, each its
    /// own clients.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports written by `flags exam --json > FILE`.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// What an exam, or a merge, makes of its report.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print the report as JSON on stdout instead of the grid.
    #[arg(long)]
    pub json: bool,
    /// Also write the report card, an HTML page, to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the verdicts as JUnit XML to FILE (a testsuite per client,
    /// a testcase per case), for CI's test reports.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write the verdicts to FILE as a baseline for --expect.
    #[arg(long, value_name = "FILE")]
    pub write_expect: Option<PathBuf>,
    /// Hold the verdicts to the baseline in FILE: exit 0 when every one is
    /// as expected (FAILs included), 1 when any differs, each printed.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
}

/// The validated outputs: files that can be written, and a baseline read.
pub struct Outputs {
    pub json: bool,
    pub html: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub write_expect: Option<PathBuf>,
    /// The baseline's file and its entries.
    pub expect: Option<(PathBuf, Vec<Entry>)>,
}

impl TryFrom<OutputArgs> for Outputs {
    type Error = clap::Error;
    fn try_from(a: OutputArgs) -> Result<Self, clap::Error> {
        for (arg, path) in [
            ("--html <FILE>", &a.html),
            ("--junit <FILE>", &a.junit),
            ("--markdown <FILE>", &a.markdown),
            ("--write-expect <FILE>", &a.write_expect),
        ] {
            if let Some(path) = path {
                save::check_output(path).map_err(|why| invalid(arg, path.display(), why))?;
            }
        }
        let expect = match a.expect {
            None => None,
            Some(path) => {
                let arg = "--expect <FILE>";
                let text = std::fs::read_to_string(&path).map_err(|e| invalid(arg, path.display(), e))?;
                let entries = baseline::parse(&text).map_err(|e| invalid(arg, path.display(), e))?;
                Some((path, entries))
            }
        };
        Ok(Outputs {
            json: a.json,
            html: a.html,
            junit: a.junit,
            markdown: a.markdown,
            write_expect: a.write_expect,
            expect,
        })
    }
}

/// A validated `flags exam merge`.
pub struct MergeRun {
    pub reports: Vec<PathBuf>,
    pub outputs: Outputs,
}

impl TryFrom<MergeArgs> for MergeRun {
    type Error = clap::Error;
    fn try_from(a: MergeArgs) -> Result<Self, clap::Error> {
        Ok(MergeRun { reports: a.reports, outputs: Outputs::try_from(a.outputs)? })
    }
}

/// A validated `flags exam`.
pub struct ExamRun {
    /// Only list the cases (and the clients found).
    pub list: bool,
    pub exam: ExamConfig,
    pub outputs: Outputs,
}

impl TryFrom<ExamArgs> for ExamRun {
    type Error = clap::Error;
    fn try_from(a: ExamArgs) -> Result<Self, clap::Error> {
        let cases = match &a.cases {
            Some(p) => exam::select(p).map_err(|why| invalid("--cases <PATTERNS>", p, why))?,
            None => exam::catalog().iter().collect(),
        };
        let exe = std::env::current_exe().map_err(|e| invalid("flags exam", "", e))?;
        let builtins = exam::client::builtins(&exe);
        let mut clients: Vec<Client> = match a.clients.as_deref() {
            None if !a.client.is_empty() => Vec::new(),
            None | Some("all") => builtins.clone(),
            Some(names) => {
                let mut chosen = Vec::new();
                for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let Some(c) = builtins.iter().find(|c| c.name == name) else {
                        let known: Vec<&str> = builtins.iter().map(|c| c.name.as_str()).collect();
                        let why = format!("no built-in client {name:?} here (found: {})", known.join(", "));
                        return Err(invalid("--clients <NAMES>", names, why));
                    };
                    chosen.push(c.clone());
                }
                chosen
            }
        };
        for arg in &a.client {
            let c = Client::parse(arg).map_err(|e| invalid("--client <NAME=TEMPLATE>", arg, e))?;
            if clients.iter().any(|o| o.name == c.name) {
                return Err(invalid(
                    "--client <NAME=TEMPLATE>",
                    arg,
                    format!("a client named {} is already graded", c.name),
                ));
            }
            clients.push(c);
        }
        if clients.is_empty() && !a.list {
            return Err(invalid("--clients <NAMES>", a.clients.unwrap_or_default(), "no client to grade"));
        }
        let outputs = Outputs::try_from(a.outputs)?;
        let exam = ExamConfig {
            cases,
            clients,
            deadline: a.deadline,
            jobs: a.jobs as usize,
            cancel: Arc::new(AtomicBool::new(false)),
            live: Arc::default(),
        };
        Ok(ExamRun { list: a.list, exam, outputs })
    }
}
