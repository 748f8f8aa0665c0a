//! The exam as a Markdown summary (`flags exam --markdown FILE`), for a CI
//! job's page (GitHub's `$GITHUB_STEP_SUMMARY`, a merge request note): a
//! table of the clients' scores, then every FAIL with its reason. Text
//! from clients is escaped, so that a reason cannot break the table or
//! bring in markup.

use std::fmt::Write;

use crate::exam::card::Tally;
use crate::exam::grade::Grade;
use crate::exam::ExamReport;

/// `text` as plain Markdown text on one line: characters with a meaning
/// are backslash-escaped, angle brackets become entities, line breaks and
/// control characters become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn cells(t: &Tally) -> String {
    format!("{} | {} | {} | {}", t.pass, t.fail, t.info, t.not_applicable)
}

/// The summary of `report`.
pub fn summary(report: &ExamReport) -> String {
    let mut md = String::from("## flags exam\n\n");
    let verdict = if report.failed() { "some client failed" } else { "no client failed" };
    let _ = writeln!(
        md,
        "{} runs of {} cases, {verdict}. Catalog `{}`, flags {}, on {}.\n",
        report.runs.len(),
        report.cases.len(),
        escape(&report.meta.catalog),
        escape(&report.meta.flags_version),
        escape(&report.meta.host),
    );
    md.push_str("| client | protocol pass | fail | info | n/a | task pass | fail | info | n/a | controls failed |\n");
    md.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for s in &report.scores {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            escape(&s.client),
            cells(&s.protocol),
            cells(&s.task),
            s.controls_failed.len()
        );
    }
    // Client by client, in the report's case order.
    let fails: Vec<_> = report
        .clients
        .iter()
        .flat_map(|c| report.runs.iter().filter(|r| r.client == c.name && r.verdict.grade == Grade::Fail))
        .collect();
    if fails.is_empty() {
        return md;
    }
    md.push_str("\n### Failures\n\n");
    for r in fails {
        let _ = writeln!(md, "- **{}** {}: {}", escape(&r.client), escape(&r.case), escape(&r.verdict.reason));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exam::merge::sample;
    use crate::exam::Grade::{Fail, Pass};

    #[test]
    fn a_reason_cannot_break_the_page() {
        assert_eq!(escape("a|b `c` <d>\ne*_"), "a\\|b \\`c\\` &lt;d&gt; e\\*\\_");
        let r = sample(&[("my_get", "framing/a", Pass, "ok"), ("my_get", "framing/b", Fail, "sent | and\n# head")]);
        let md = summary(&r);
        assert!(md.contains("| my\\_get | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"), "{md}");
        assert!(md.contains("- **my\\_get** framing/b: sent \\| and \\# head\n"), "{md}");
    }
}
