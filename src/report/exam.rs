//! `flags exam`'s output: the listing, the progress bar, the grid of cases
//! by clients with the scores and the reasons, and the JSON report. The
//! HTML report card is in [`super::exam_html`].

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::out::say;
use crate::cli::{ExamPrinter, ExamProgress as Progress};
use crate::exam::baseline::Difference;
use crate::exam::grade::Grade;
use crate::exam::merge::MergeError;
use crate::exam::outside::Graded;
use crate::exam::{Case, CaseRun, Client, ExamReport};
use crate::proto::text::peer_text;

/// What `flags exam` and its subcommands show: the listing, the progress,
/// the grid or the JSON, the files written and how the verdicts differ
/// from a baseline; and the files' contents, from the modules beside this.
pub struct Printer;

impl ExamPrinter for Printer {
    fn list(&self, cases: &[&Case], clients: &[Client], json: bool) {
        list(cases, clients, json);
    }

    fn progress(&self, total: usize) -> Box<dyn Progress + '_> {
        Box::new(ExamProgress::new(total))
    }

    fn interrupted(&self) {
        interrupted();
    }

    fn report(&self, report: &ExamReport, json: bool) {
        match json {
            true => self::json(report),
            false => grid(report),
        }
    }

    fn documents(&self) -> [crate::cli::Document; 3] {
        [
            ("report card", super::exam_html::page),
            ("JUnit XML", super::exam_junit::document),
            ("Markdown summary", super::exam_markdown::summary),
        ]
    }

    fn written(&self, what: &str, path: &std::path::Path) {
        written(what, path);
    }

    fn differences(&self, path: &std::path::Path, differences: &[Difference]) {
        self::differences(path, differences);
    }

    fn not_merged(&self, e: &MergeError) {
        not_merged(e);
    }

    fn verdict(&self, graded: &Graded, json: bool) {
        verdict(graded, json);
    }
}

/// Prints the cases (and the clients found): what each server does and
/// what a correct client ends with.
pub fn list(cases: &[&Case], clients: &[Client], json: bool) {
    if json {
        let infos: Vec<_> = cases.iter().map(|c| c.info()).collect();
        let doc = serde_json::json!({ "cases": infos, "clients": clients });
        say!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return;
    }
    for case in cases {
        let info = case.info();
        let kind = format!("{:?}", info.kind).to_lowercase();
        say!("{}  [{kind}, expects {}]", info.id, expect_words(case));
        say!("  {}", info.about);
        for line in &info.server {
            say!("  server: {line}");
        }
        say!("  correct: {}", info.why);
        let needs = case.needs.missing(&crate::exam::Needs::default());
        if !needs.is_empty() {
            say!("  needs: {}", needs.join(", "));
        }
        say!();
    }
    say!("{} cases. Clients found here:", cases.len());
    for c in clients {
        say!("  {:<18} {}", c.name, c.template);
    }
}

fn expect_words(case: &Case) -> &'static str {
    use crate::exam::Expect;
    match case.expect {
        Expect::Saved => "the flag saved",
        Expect::NotSaved => "a reported failure, no file",
        Expect::NoFile => "no file (any exit status)",
        Expect::Either => "the flag saved, or a reported failure with no file",
        Expect::Retry => "the flags saved (PASS), or the failures reported without a retry (INFO)",
        Expect::NeverWrong => "the flags saved, or the failures reported; never a wrong file",
        Expect::Choice { as_sent: false } => "a choice (INFO): saved, or refused",
        Expect::Choice { as_sent: true } => "a choice (INFO): decoded, kept as sent, or refused",
    }
}

/// The exam's progress on stderr: a bar on a terminal; elsewhere (a CI
/// log, a file) one line per finished run, which a log keeps.
pub enum ExamProgress {
    Bar(ProgressBar),
    Lines,
}

impl ExamProgress {
    pub fn new(total: usize) -> ExamProgress {
        if !std::io::stderr().is_terminal() {
            return ExamProgress::Lines;
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        ExamProgress::Bar(bar)
    }

    /// One run ended, the `done`th of `total`.
    pub fn ran(&self, run: &CaseRun, done: usize, total: usize) {
        match self {
            ExamProgress::Bar(bar) => {
                bar.set_position(done as u64);
                bar.set_message(format!("{} {}", run.client, run.case));
            }
            ExamProgress::Lines => eprintln!("{}", run_line(run, done, total)),
        }
    }

    /// The bar cleared, once the runs are over.
    pub fn finish(&self) {
        if let ExamProgress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

impl crate::exam::ExamObserver for ExamProgress {
    fn ran(&self, run: &CaseRun, done: usize, total: usize) {
        ExamProgress::ran(self, run, done, total);
    }
}

impl Progress for ExamProgress {
    fn finish(&self) {
        ExamProgress::finish(self);
    }
}

/// `[12/53] curl framing/chunked-cut: FAIL (0.3 s)`
pub fn run_line(run: &CaseRun, done: usize, total: usize) -> String {
    let time = run.observed.as_ref().map(|o| format!(" ({:.1} s)", o.wall_ms as f64 / 1000.0)).unwrap_or_default();
    format!("[{done}/{total}] {} {}: {}{time}", run.client, run.case, cell(run).to_uppercase())
}

/// Colours, when stdout is a terminal and NO_COLOR is not set.
fn paint(grade: Grade, text: &str) -> String {
    let tty = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if !tty {
        return text.into();
    }
    let code = match grade {
        Grade::Pass => "32",
        Grade::Fail | Grade::Error => "31;1",
        Grade::Info => "36",
        Grade::NotApplicable | Grade::Ungraded => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A cell's word: the grade, or `hung` for a run killed at the deadline.
fn cell(run: &CaseRun) -> &'static str {
    match &run.observed {
        Some(o) if o.hung => "hung",
        _ => run.verdict.grade.word(),
    }
}

/// Prints the grid (cases by clients), the scores and every FAIL and INFO
/// with its reason.
pub fn grid(report: &ExamReport) {
    let letters: Vec<char> = ('A'..='Z').collect();
    for (i, c) in report.clients.iter().enumerate() {
        say!("  {}  {}", letters[i % 26], c.name);
    }
    say!();
    let width = report.cases.iter().map(|c| c.id.len()).max().unwrap_or(10) + 2;
    let mut header = format!("{:<width$}", "case");
    for i in 0..report.clients.len() {
        header.push_str(&format!(" {:<5}", letters[i % 26]));
    }
    say!("{}", header.trim_end());
    for case in &report.cases {
        let mut line = format!("{:<width$}", case.id);
        for c in &report.clients {
            let text = report.run(&case.id, &c.name).map_or("?", cell);
            let grade = report.run(&case.id, &c.name).map_or(Grade::NotApplicable, |r| r.verdict.grade);
            line.push(' ');
            line.push_str(&paint(grade, &format!("{text:<5}")));
        }
        say!("{}", line.trim_end());
    }
    say!();
    say!("{:<18} {:>24}   {:>24}   {}", "client", "protocol: pass/fail/info/na", "task: pass/fail/info/na", "version");
    for (s, c) in report.scores.iter().zip(&report.clients) {
        let t = |t: &crate::exam::card::Tally| format!("{}/{}/{}/{}", t.pass, t.fail, t.info, t.not_applicable);
        let version = peer_text(c.version.as_deref().unwrap_or("").as_bytes());
        say!("{:<18} {:>24}   {:>24}   {version}", s.client, t(&s.protocol), t(&s.task));
    }
    for c in &report.clients {
        let notes: Vec<&CaseRun> = report
            .runs
            .iter()
            .filter(|r| r.client == c.name && matches!(r.verdict.grade, Grade::Fail | Grade::Info))
            .collect();
        let graded = report.scores.iter().find(|s| s.client == c.name);
        let not_graded = graded.is_some_and(|s| !s.controls_failed.is_empty());
        let no_tls = !c.can.tls && report.cases.iter().any(|k| k.needs.tls);
        if notes.is_empty() && !not_graded && !no_tls {
            continue;
        }
        say!();
        say!("{}:", c.name);
        if not_graded {
            say!("  not graded on the cases that rest on a control it failed (--)");
        }
        if no_tls {
            say!("  TLS cases skipped: the template has no {{cacert}}, so it cannot be told to trust the exam's CA");
        }
        for r in notes {
            let reason = peer_text(r.verdict.reason.as_bytes());
            say!("  {} {:<width$} {reason}", paint(r.verdict.grade, r.verdict.grade.word()), r.case);
        }
    }
    say!();
    say!(
        "{} runs in {:.1} s (deadline {:.0} s a run)",
        report.runs.len(),
        report.wall_ms as f64 / 1000.0,
        report.meta.deadline_s
    );
}

/// Prints the report as JSON.
pub fn json(report: &ExamReport) {
    say!("{}", serde_json::to_string_pretty(report).unwrap_or_default());
}

/// Tells where a file made from the report went: `report card: card.html`.
pub fn written(what: &str, path: &std::path::Path) {
    eprintln!("{what}: {}", path.display());
}

/// Prints how the verdicts differ from the baseline, one run a line, and
/// how many: `curl framing/chunked-cut: expected pass, got fail (...)`.
pub fn differences(baseline: &std::path::Path, differences: &[Difference]) {
    for d in differences {
        eprintln!("{}", peer_text(d.to_string().as_bytes()));
    }
    match differences.len() {
        0 => eprintln!("every verdict is the one {} expects", baseline.display()),
        n => eprintln!("{n} verdict(s) differ from {}", baseline.display()),
    }
}

/// Says why reports were not merged.
pub fn not_merged(e: &MergeError) {
    eprintln!("flags exam merge: {e}");
}

/// Says the exam was interrupted.
pub fn interrupted() {
    eprintln!("flags exam: interrupted; the scratch folder is removed");
}

/// Prints the verdict on a run made outside the exam (`flags exam
/// verdict`): one line, `FAIL: left a partial file br.gif (...)`, or JSON.
pub fn verdict(graded: &crate::exam::outside::Graded, json: bool) {
    match json {
        true => say!("{}", serde_json::to_string_pretty(graded).unwrap_or_default()),
        false => say!("{}: {}", graded.verdict.grade.word(), peer_text(graded.verdict.reason.as_bytes())),
    }
}
