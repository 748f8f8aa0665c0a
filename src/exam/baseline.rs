//! A baseline: the verdicts an exam gave, written down so that a later
//! exam can be held to them (`flags exam --write-expect FILE`, then
//! `--expect FILE`). CI then fails on a change, not on a FAIL it already
//! knows about.
//!
//! The file is plain text, one line per run, its fields separated by a
//! tab (shown here as `→`):
//!
//! ```text
//! # flags exam baseline: client, case, grade, and for an INFO its choice
//! curl→framing/chunk-extensions→pass
//! curl→framing/bare-lf→info→accepted
//! curl→tls/expired→n/a
//! ```
//!
//! The grade is the JSON's word (`pass`, `fail`, `info`, `n/a`,
//! `ungraded`). Only an INFO keeps part of its reason, the choice the
//! client made: the words before the reason's first colon (`accepted`,
//! `refused`, `kept the bytes as sent`). Other reasons hold sizes, times
//! and exit codes that may change from run to run without the verdict
//! changing, so they are left out. Lines starting with `#` and blank lines
//! are ignored. Lines are grouped by client, then in the report's case
//! order, so that a change to one client is a block in a diff.

use std::collections::BTreeMap;
use std::fmt;

use super::card::{CaseRun, ExamReport};
use super::grade::Grade;

/// One run's expected verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub client: String,
    pub case: String,
    pub grade: Grade,
    /// For an INFO, the choice the client made; None otherwise.
    pub choice: Option<String>,
}

impl Entry {
    /// The entry a run gives.
    pub fn of(run: &CaseRun) -> Entry {
        let choice = (run.verdict.grade == Grade::Info).then(|| choice(&run.verdict.reason));
        Entry { client: run.client.clone(), case: run.case.clone(), grade: run.verdict.grade, choice }
    }

    /// `pass`, or `info (accepted)`.
    fn verdict(&self) -> String {
        match &self.choice {
            Some(c) => format!("{} ({c})", word(self.grade)),
            None => word(self.grade).into(),
        }
    }
}

/// An INFO's choice: its reason up to the first colon, on one line.
pub fn choice(reason: &str) -> String {
    let head = reason.split(':').next().unwrap_or_default();
    head.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The baseline's (and the JSON's) word for a grade.
pub fn word(grade: Grade) -> &'static str {
    match grade {
        Grade::Pass => "pass",
        Grade::Fail => "fail",
        Grade::Info => "info",
        Grade::NotApplicable => "n/a",
        Grade::Ungraded => "ungraded",
        Grade::Error => "error",
    }
}

fn grade(word: &str) -> Option<Grade> {
    [Grade::Pass, Grade::Fail, Grade::Info, Grade::NotApplicable, Grade::Ungraded, Grade::Error]
        .into_iter()
        .find(|g| self::word(*g) == word)
}

/// A baseline that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {why}")]
pub struct BaselineError {
    pub line: usize,
    pub why: String,
}

/// The baseline of `report`, as the text of a file.
pub fn write(report: &ExamReport) -> String {
    let mut text = String::from(
        "# flags exam baseline: client<TAB>case<TAB>grade[<TAB>choice], one line per run.\n\
         # The grade is pass, fail, info, n/a, ungraded or error; an INFO also keeps its choice.\n",
    );
    text.push_str(&format!("# catalog {}\n", report.meta.catalog));
    for client in &report.clients {
        for case in &report.cases {
            let Some(run) = report.run(&case.id, &client.name) else { continue };
            let e = Entry::of(run);
            text.push_str(&format!("{}\t{}\t{}", e.client, e.case, word(e.grade)));
            if let Some(c) = &e.choice {
                text.push('\t');
                text.push_str(c);
            }
            text.push('\n');
        }
    }
    text
}

/// Reads a baseline's text.
pub fn parse(text: &str) -> Result<Vec<Entry>, BaselineError> {
    let mut entries: Vec<Entry> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let fail = |why: String| BaselineError { line: line_no, why };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let (client, case, word) = match fields[..] {
            [client, case, word] | [client, case, word, _] => (client, case, word),
            _ => {
                return Err(fail(format!(
                    "expected client<TAB>case<TAB>grade[<TAB>choice], got {} field(s): {line:?}",
                    fields.len()
                )))
            }
        };
        if client.is_empty() || case.is_empty() {
            return Err(fail("the client or the case is empty".into()));
        }
        let grade =
            grade(word).ok_or_else(|| fail(format!("unknown grade {word:?} (pass, fail, info, n/a or ungraded)")))?;
        let choice = match (grade, fields.get(3)) {
            (Grade::Info, Some(c)) if !c.trim().is_empty() => Some(c.trim().to_string()),
            (Grade::Info, _) => return Err(fail("an info line needs its choice (e.g. accepted or refused)".into())),
            (_, Some(_)) => return Err(fail(format!("only an info line has a choice, not {word}"))),
            (_, None) => None,
        };
        if entries.iter().any(|e| e.client == client && e.case == case) {
            return Err(fail(format!("{client} {case} is already listed")));
        }
        entries.push(Entry { client: client.into(), case: case.into(), grade, choice });
    }
    Ok(entries)
}

/// A run whose verdict is not the baseline's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub client: String,
    pub case: String,
    /// What the baseline holds; None when the run is not in it.
    pub expected: Option<Entry>,
    /// What the exam gave, and its reason; None when it did not run.
    pub got: Option<(Entry, String)>,
}

impl fmt::Display for Difference {
    /// `curl framing/chunked-cut: expected pass, got fail (left a partial file ...)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.client, self.case)?;
        match &self.expected {
            Some(e) => write!(f, "expected {}, ", e.verdict())?,
            None => write!(f, "not in the baseline, ")?,
        }
        match &self.got {
            Some((e, reason)) => write!(f, "got {} ({reason})", e.verdict()),
            None => write!(f, "but it was not run"),
        }
    }
}

/// Every run of `report` whose verdict differs from `baseline`, and every
/// run that is on one side only: in the report's order, then the
/// baseline's runs that were not run, in the baseline's order.
pub fn compare(baseline: &[Entry], report: &ExamReport) -> Vec<Difference> {
    let mut expected: BTreeMap<(&str, &str), &Entry> =
        baseline.iter().map(|e| ((e.client.as_str(), e.case.as_str()), e)).collect();
    let mut differences = Vec::new();
    for run in &report.runs {
        let got = Entry::of(run);
        let want = expected.remove(&(run.client.as_str(), run.case.as_str()));
        if want != Some(&got) {
            differences.push(Difference {
                client: run.client.clone(),
                case: run.case.clone(),
                expected: want.cloned(),
                got: Some((got, run.verdict.reason.clone())),
            });
        }
    }
    for e in baseline.iter().filter(|e| expected.contains_key(&(e.client.as_str(), e.case.as_str()))) {
        differences.push(Difference {
            client: e.client.clone(),
            case: e.case.clone(),
            expected: Some(e.clone()),
            got: None,
        });
    }
    differences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exam::merge::sample as report;

    #[test]
    fn a_baseline_reads_back_what_it_wrote() {
        let r = report(&[
            ("curl", "framing/a", Grade::Pass, "saved br.gif"),
            ("curl", "framing/b", Grade::Info, "accepted: saved br.gif"),
            ("wget2", "framing/a", Grade::NotApplicable, "needs a CA file"),
        ]);
        let text = write(&r);
        assert!(text.contains("curl\tframing/b\tinfo\taccepted\n"), "{text}");
        let entries = parse(&text).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].grade, Grade::NotApplicable);
        assert_eq!(compare(&entries, &r), vec![]);
    }

    #[test]
    fn every_change_and_every_missing_run_is_a_difference() {
        let r = report(&[
            ("curl", "framing/a", Grade::Fail, "exit 0, but no file"),
            ("curl", "framing/b", Grade::Info, "refused: reported it (exit 56), saved nothing"),
        ]);
        let baseline =
            parse("curl\tframing/a\tpass\ncurl\tframing/b\tinfo\taccepted\ncurl\tframing/c\tpass\n").unwrap();
        let shown: Vec<String> = compare(&baseline, &r).iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "curl framing/a: expected pass, got fail (exit 0, but no file)",
                "curl framing/b: expected info (accepted), got info (refused) (refused: reported it (exit 56), saved nothing)",
                "curl framing/c: expected pass, but it was not run",
            ]
        );
        let extra = compare(
            &baseline[..1],
            &report(&[
                ("curl", "framing/a", Grade::Pass, "saved br.gif"),
                ("x", "framing/a", Grade::Pass, "saved br.gif"),
            ]),
        );
        assert_eq!(extra.len(), 1);
        assert_eq!(extra[0].to_string(), "x framing/a: not in the baseline, got pass (saved br.gif)");
    }

    #[test]
    fn a_bad_line_is_named() {
        assert_eq!(parse("# c\n\ncurl\tframing/a\n").unwrap_err().line, 3);
        assert!(parse("curl\tframing/a\tgood\n").unwrap_err().why.contains("unknown grade"));
        assert!(parse("curl\tframing/a\tinfo\n").unwrap_err().why.contains("choice"));
        assert!(parse("curl\tframing/a\tpass\tx\n").is_err());
        assert!(parse("curl\tframing/a\tpass\ncurl\tframing/a\tfail\n").unwrap_err().why.contains("already"));
    }
}
