//! `flags exam`'s arguments and the configurations they become: an exam to
//! run, or (`flags exam merge`) reports to merge, both ending in the same
//! outputs ([`Outputs`]); or (`flags exam verdict`) one run made outside
//! the exam, to grade. Each is run here as the binary runs it ([`run`],
//! [`merge()`], [`verdict`]), what a person sees and the files' contents
//! coming from the caller's [`ExamPrinter`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};

use super::exit::Exit;
use super::parse::{invalid, parse_timeout};
use crate::exam::baseline::{self, Difference, Entry};
use crate::exam::merge::{self, MergeError};
use crate::exam::outside::{Graded, Record};
use crate::exam::{self, Case, Client, ExamConfig, ExamError, ExamObserver, ExamReport, Grade};
use crate::save;
use crate::shutdown::Shutdown;

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
    /// Grade one run of one case made outside the exam, by the exam's rules.
    ///
    /// The case is served by `flags serve --scenario ID --record FILE`, the
    /// client run by you (a test, a script). It judges the files in the
    /// client's folder, its exit status and what the server saw; what the
    /// exam watches of a process it runs itself (memory, processes left
    /// running, TMPDIR and HOME, the deadline) is not judged. Exit 0 when
    /// the verdict is given, whatever the grade; 2 for a usage error.
    Verdict(VerdictArgs),
}

#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The case, as `flags exam --list` names it.
    #[arg(long, value_name = "ID")]
    pub case: String,
    /// The folder the client saved into (every file under it is judged).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The client's exit status: 0 says it succeeded, any other a failure
    /// it reported.
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(i32).range(0..=255))]
    pub exit: i32,
    /// What the case's server saw: the file `flags serve --scenario ID
    /// --record FILE` wrote when it stopped.
    #[arg(long, value_name = "FILE")]
    pub record: PathBuf,
    /// How long the client ran, in seconds, when known (the reason of a
    /// slow case's PASS says it) [default: 0].
    #[arg(long, value_name = "SECS", value_parser = parse_wall)]
    pub seconds: Option<Duration>,
    /// Print the verdict as JSON: the grade and reason as the exam's report
    /// writes them, the exit status in words, and every file judged.
    #[arg(long)]
    pub json: bool,
}

fn parse_wall(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && (0.0..=86_400.0).contains(&t) => Ok(Duration::from_secs_f64(t)),
        _ => Err("expected a number of seconds, 0 or more (e.g. 1.5)".into()),
    }
}

/// A validated `flags exam verdict`: the case found, the folder there, the
/// record read and made for this case.
#[derive(Debug)]
pub struct VerdictRun {
    pub case: &'static exam::Case,
    pub dir: PathBuf,
    pub exit: i32,
    pub wall: Duration,
    pub record: Record,
    pub json: bool,
}

impl VerdictRun {
    /// The run, as the grader takes it.
    pub fn run(&self) -> exam::outside::OutsideRun<'_> {
        exam::outside::OutsideRun {
            case: self.case,
            dir: &self.dir,
            exit: self.exit,
            wall: self.wall,
            record: &self.record,
        }
    }
}

impl TryFrom<VerdictArgs> for VerdictRun {
    type Error = clap::Error;
    fn try_from(a: VerdictArgs) -> Result<Self, clap::Error> {
        let Some(case) = exam::catalog().iter().find(|c| c.id == a.case) else {
            return Err(invalid("--case <ID>", &a.case, "no such case (flags exam --list shows them)"));
        };
        if !a.dir.is_dir() {
            return Err(invalid("--dir <DIR>", a.dir.display(), "not a directory"));
        }
        let arg = "--record <FILE>";
        let text = std::fs::read(&a.record).map_err(|e| invalid(arg, a.record.display(), e))?;
        let record: Record = serde_json::from_slice(&text).map_err(|e| {
            let why = format!("not a record written by `flags serve --scenario ID --record FILE` ({e})");
            invalid(arg, a.record.display(), why)
        })?;
        if record.case != case.id {
            let why = format!("it records a server of case {}, not of {}", record.case, case.id);
            return Err(invalid(arg, a.record.display(), why));
        }
        let wall = a.seconds.unwrap_or_default();
        Ok(VerdictRun { case, dir: a.dir, exit: a.exit, wall, record, json: a.json })
    }
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
        let exam = ExamConfig { cases, clients, deadline: a.deadline, jobs: a.jobs as usize };
        Ok(ExamRun { list: a.list, exam, outputs })
    }
}

/// What `flags exam` and its subcommands show, and what the files made of
/// a report hold.
pub trait ExamPrinter {
    /// `--list`: the cases, and the clients found.
    fn list(&self, cases: &[&Case], clients: &[Client], json: bool);
    /// What is told of each of the `total` runs as it ends.
    fn progress(&self, total: usize) -> Box<dyn ExamProgress + '_>;
    /// The exam was stopped before its report.
    fn interrupted(&self);
    /// The report, as the grid or as JSON.
    fn report(&self, report: &ExamReport, json: bool);
    /// The files a report can be written as: the report card (HTML),
    /// JUnit XML, the Markdown summary.
    fn documents(&self) -> [Document; 3];
    /// The file of `what` is written to `path`.
    fn written(&self, what: &str, path: &Path);
    /// How the verdicts differ from the baseline in `path`.
    fn differences(&self, path: &Path, differences: &[Difference]);
    /// Reports that could not be merged.
    fn not_merged(&self, e: &MergeError);
    /// The verdict on a run made outside the exam.
    fn verdict(&self, graded: &Graded, json: bool);
}

/// A file made of a report: what it is called (`report card`), and how
/// it is made.
pub type Document = (&'static str, fn(&ExamReport) -> String);

/// The exam's progress: told of each run, then finished.
pub trait ExamProgress: ExamObserver {
    /// The runs are over (or stopped).
    fn finish(&self);
}

/// `flags exam`: the listing, or every run, then the grid or the JSON, and
/// the files asked for. A stop kills every client and starts no run; the
/// scratch folder goes. Fails when a client failed a case or a control,
/// or, with a baseline, when a verdict differs from it.
pub fn run(config: &ExamRun, printer: &dyn ExamPrinter, shutdown: &Shutdown) -> Result<Exit, ExamError> {
    if config.list {
        printer.list(&config.exam.cases, &config.exam.clients, config.outputs.json);
        return Ok(Exit::Success);
    }
    let progress = printer.progress(config.exam.cases.len() * config.exam.clients.len());
    let result = exam::run(&config.exam, &*progress, shutdown);
    progress.finish();
    match result {
        Ok(report) => deliver(&report, &config.outputs, printer),
        Err(ExamError::Interrupted) => {
            printer.interrupted();
            Ok(Exit::Stopped)
        }
        Err(e) => Err(e),
    }
}

/// `flags exam merge`: the reports read and merged, then the same outputs
/// as an exam's. Unusable when a report cannot be read or the reports do
/// not fit together.
pub fn merge(config: &MergeRun, printer: &dyn ExamPrinter) -> Result<Exit, ExamError> {
    let reports = config.reports.iter().map(|path| Ok((path.display().to_string(), merge::read(path)?)));
    match reports.collect::<Result<Vec<_>, _>>().and_then(merge::merge) {
        Ok(report) => deliver(&report, &config.outputs, printer),
        Err(e) => {
            printer.not_merged(&e);
            Ok(Exit::Unusable)
        }
    }
}

/// `flags exam verdict`: the run graded, whatever its grade.
pub fn verdict(config: &VerdictRun, printer: &dyn ExamPrinter) -> Exit {
    printer.verdict(&exam::outside::grade(&config.run()), config.json);
    Exit::Success
}

/// Shows the report (grid or JSON), writes the files asked for, holds the
/// verdicts to the baseline, and says how the exam ended.
fn deliver(report: &ExamReport, outputs: &Outputs, printer: &dyn ExamPrinter) -> Result<Exit, ExamError> {
    printer.report(report, outputs.json);
    let [card, junit, markdown] = printer.documents();
    let files = [
        (card, &outputs.html),
        (junit, &outputs.junit),
        (markdown, &outputs.markdown),
        (("baseline", baseline::write as fn(&_) -> String), &outputs.write_expect),
    ];
    for ((what, make), path) in files {
        if let Some(path) = path {
            save::write_output(path, make(report).as_bytes())
                .map_err(|error| ExamError::Write { path: path.clone(), error })?;
            printer.written(what, path);
        }
    }
    // A baseline gates on changed verdicts; but a client that failed a
    // control, or a run the exam could not make, was not graded at all, so
    // no baseline can make that a pass.
    let ungraded = report.scores.iter().any(|s| !s.controls_failed.is_empty())
        || report.runs.iter().any(|r| r.verdict.grade == Grade::Error);
    let failed = match &outputs.expect {
        Some((path, entries)) => {
            let differences = baseline::compare(entries, report);
            printer.differences(path, &differences);
            !differences.is_empty() || ungraded
        }
        None => report.failed(),
    };
    Ok(if failed { Exit::Failure } else { Exit::Success })
}
