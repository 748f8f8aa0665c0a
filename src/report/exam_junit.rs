//! The exam as JUnit XML (`flags exam --junit FILE`), the test report that
//! GitLab and the usual GitHub actions show: one `<testsuite>` per client,
//! one `<testcase>` per case, `classname` the client and `name` the case.
//!
//! | run | element in its `<testcase>` |
//! |---|---|
//! | PASS | none |
//! | FAIL | `<failure message="REASON" type="fail">` |
//! | FAIL of a `control/` case | `<error message="REASON" type="control">` |
//! | INFO (it passes) | `<properties><property name="choice" value="accepted"/></properties>` |
//! | N/A | `<skipped message="REASON"/>` |
//! | not graded | `<skipped message="REASON"/>` |
//!
//! `time` is the client's wall time in seconds. Everything a client or a
//! server's peer wrote is escaped, and characters XML 1.0 cannot carry are
//! shown as `\u{..}`.

use std::fmt::Write;

use crate::exam::baseline::choice;
use crate::exam::grade::Grade;
use crate::exam::{CaseRun, ExamReport};

/// What a run is in JUnit's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failure,
    Error,
    Skipped,
}

fn outcome(run: &CaseRun) -> Outcome {
    match run.verdict.grade {
        Grade::Pass | Grade::Info => Outcome::Passed,
        Grade::Fail if run.case.starts_with("control/") => Outcome::Error,
        Grade::Error => Outcome::Error,
        Grade::Fail => Outcome::Failure,
        Grade::NotApplicable | Grade::Ungraded => Outcome::Skipped,
    }
}

fn seconds(run: &CaseRun) -> f64 {
    run.observed.as_ref().map_or(0.0, |o| o.wall_ms as f64 / 1000.0)
}

/// `text` made safe for XML: in an attribute (`attr`) every whitespace
/// character but the space is a character reference, so that parsers keep it.
fn escape(text: &str, attr: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' if attr => {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The counts of a set of runs, as the attributes JUnit readers total.
fn counts(runs: &[&CaseRun]) -> String {
    let n = |o: Outcome| runs.iter().filter(|r| outcome(r) == o).count();
    let time: f64 = runs.iter().map(|r| seconds(r)).sum();
    format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\"",
        runs.len(),
        n(Outcome::Failure),
        n(Outcome::Error),
        n(Outcome::Skipped),
    )
}

/// The body of a failure or an error: the reason, the command, and the
/// tails of what the client printed.
fn details(run: &CaseRun) -> String {
    let mut text = run.verdict.reason.clone();
    if let Some(o) = &run.observed {
        let _ = write!(text, "\n\ncommand: {}", o.command);
        for (name, tail) in [("stdout", &o.stdout_tail), ("stderr", &o.stderr_tail)] {
            if !tail.trim().is_empty() {
                let _ = write!(text, "\n{name} (end):\n{tail}");
            }
        }
    }
    escape(&text, false)
}

fn testcase(xml: &mut String, run: &CaseRun) {
    let head = format!(
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
        escape(&run.client, true),
        escape(&run.case, true),
        seconds(run)
    );
    let reason = escape(&run.verdict.reason, true);
    let _ = match (outcome(run), run.verdict.grade) {
        (Outcome::Passed, Grade::Info) => writeln!(
            xml,
            "{head}>\n      <properties><property name=\"choice\" value=\"{}\"/></properties>\n    </testcase>",
            escape(&choice(&run.verdict.reason), true)
        ),
        (Outcome::Passed, _) => writeln!(xml, "{head}/>"),
        (Outcome::Failure, _) => writeln!(
            xml,
            "{head}>\n      <failure message=\"{reason}\" type=\"fail\">{}</failure>\n    </testcase>",
            details(run)
        ),
        (Outcome::Error, _) => writeln!(
            xml,
            "{head}>\n      <error message=\"{reason}\" type=\"control\">{}</error>\n    </testcase>",
            details(run)
        ),
        (Outcome::Skipped, _) => writeln!(xml, "{head}>\n      <skipped message=\"{reason}\"/>\n    </testcase>"),
    };
}

/// The JUnit XML document of `report`.
pub fn document(report: &ExamReport) -> String {
    let all: Vec<&CaseRun> = report.runs.iter().collect();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(xml, "<testsuites name=\"flags exam\" {}>", counts(&all));
    for client in &report.clients {
        let runs: Vec<&CaseRun> = report.runs.iter().filter(|r| r.client == client.name).collect();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" {} hostname=\"{}\">",
            escape(&client.name, true),
            counts(&runs),
            escape(&report.meta.host, true)
        );
        for run in runs {
            testcase(&mut xml, run);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exam::merge::sample;
    use crate::exam::Grade::{Fail, Info, NotApplicable, Pass, Ungraded};

    #[test]
    fn every_grade_has_its_element() {
        let r = sample(&[
            ("c", "framing/a", Pass, "saved br.gif"),
            ("c", "framing/b", Fail, "saved <html> & \"quotes\"\nand\u{7}a bell"),
            ("c", "framing/c", Info, "refused: reported it (exit 1), saved nothing"),
            ("c", "framing/d", NotApplicable, "needs a CA file"),
            ("c", "framing/e", Ungraded, "control/plain failed"),
            ("c", "control/plain", Fail, "exit 0, but no file"),
        ]);
        let xml = document(&r);
        assert!(xml.contains("<testsuites name=\"flags exam\" tests=\"6\" failures=\"1\" errors=\"1\" skipped=\"2\""));
        assert!(xml.contains(
            "<failure message=\"saved &lt;html&gt; &amp; &quot;quotes&quot;&#10;and\\u{7}a bell\" type=\"fail\">"
        ));
        assert!(xml.contains("<property name=\"choice\" value=\"refused\"/>"));
        assert!(xml.contains("<skipped message=\"needs a CA file\"/>"));
        assert!(xml.contains("<error message=\"exit 0, but no file\" type=\"control\">"));
        assert!(xml.contains("<testcase classname=\"c\" name=\"framing/a\" time=\"0.000\"/>"));
    }
}
