//! `flags exam` in CI: JUnit XML a CI server accepts, a baseline that
//! gates on changed verdicts, reports of several jobs merged, a Markdown
//! summary, and a log line per run. The real binary, a few quick cases,
//! and clients that are shell one-liners.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::util::flags_exe;

/// A PASS (chunk extensions), a FAIL for curl (a length shorter than the
/// body), an INFO (bare LF) and an N/A (TLS, without {cacert}); the three
/// controls come first, whatever is chosen.
const CASES: &str = "framing/chunk-extensions,framing/length-shorter,framing/bare-lf,tls/expired";
/// The runs of one client: the four controls and the four cases.
const PER_CLIENT: usize = 8;
const GOOD: &str = "good=curl -sS --fail -o {out} {url}";
/// Never connects: it fails its control, and is graded on nothing else.
const NEVER: &str = "never=: {url}";
/// Saves nothing, says so with exit 0 (and so fails its control), and
/// prints markup and control characters on stderr for the reports to escape.
const LOUD: &str = r#"loud=printf '<b>&amp; "q" ]]> \033[31m|`x`|\001\n' >&2; : {url}"#;

/// `flags exam ARGS` in `dir`, stdin closed and stderr a pipe (not a terminal).
fn flags(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(flags_exe()).args(args).current_dir(dir).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.code().is_some(), "flags ended by a signal");
    out
}

fn exam(dir: &Path, clients: &[&str], more: &[&str]) -> Output {
    let mut args = vec!["exam", "--cases", CASES];
    for c in clients {
        args.extend(["--client", c]);
    }
    args.extend(more);
    flags(dir, &args)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON report; stderr: {}", String::from_utf8_lossy(&out.stderr)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The runs as (case, client, grade, reason).
fn verdicts(report: &Value) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap().to_string();
    let runs = report["runs"].as_array().unwrap();
    runs.iter()
        .map(|r| (s(&r["case"]), s(&r["client"]), s(&r["verdict"]["grade"]), s(&r["verdict"]["reason"])))
        .collect()
}

fn count(report: &Value, client: &str, grade: &str) -> usize {
    verdicts(report).iter().filter(|v| v.1 == client && v.2 == grade).count()
}

#[test]
fn junit_is_valid_and_counts_what_the_json_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = exam(dir.path(), &[GOOD, NEVER, LOUD], &["--json", "--junit", "junit.xml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd");
    let check = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(dir.path().join("junit.xml"))
        .output()
        .expect("xmllint runs (.ci/run installs libxml2-utils)");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let text = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("tests"), Some((3 * PER_CLIENT).to_string().as_str()));
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    let names: Vec<&str> = suites.iter().map(|s| s.attribute("name").unwrap()).collect();
    assert_eq!(names, ["good", "never", "loud"]);
    for suite in suites {
        let client = suite.attribute("name").unwrap();
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), PER_CLIENT, "{client}");
        assert!(cases.iter().all(|c| c.attribute("classname") == Some(client)));
        let with = |tag: &str| cases.iter().filter(|c| c.children().any(|n| n.has_tag_name(tag))).count();
        // A failed control is an error; every other FAIL a failure.
        let control_failed = usize::from(client != "good");
        assert_eq!(with("error"), control_failed, "{client}");
        assert_eq!(with("failure"), count(&report, client, "fail") - control_failed, "{client}");
        assert_eq!(with("skipped"), count(&report, client, "n/a") + count(&report, client, "ungraded"), "{client}");
        assert_eq!(with("properties"), count(&report, client, "info"), "{client}");
        assert_eq!(suite.attribute("failures").unwrap(), with("failure").to_string());
        assert_eq!(suite.attribute("skipped").unwrap(), with("skipped").to_string());
    }
    let choice = doc.descendants().find(|n| n.has_tag_name("property")).unwrap();
    assert_eq!((choice.attribute("name"), choice.attribute("value")), (Some("choice"), Some("accepted")));
    // What the loud client printed is in its control's error text, escaped, not markup.
    let loud = doc
        .descendants()
        .find(|n| n.has_tag_name("error") && n.parent().unwrap().attribute("classname") == Some("loud"));
    let body = loud.unwrap().text().unwrap();
    assert!(body.contains("<b>&amp; \"q\" ]]> \\u{1b}[31m|`x`|\\u{1}"), "{body}");
}

#[test]
fn a_baseline_passes_known_failures_and_names_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let out = exam(dir.path(), &[GOOD, NEVER], &["--write-expect", "expect.tsv"]);
    assert_eq!(out.status.code(), Some(1), "without a baseline, a FAIL fails: {}", stderr(&out));
    let written = std::fs::read_to_string(dir.path().join("expect.tsv")).unwrap();
    assert!(written.contains("good\tframing/chunk-extensions\tpass\n"), "{written}");
    assert!(written.contains("good\tframing/bare-lf\tinfo\taccepted\n"), "{written}");
    assert!(written.contains("never\ttls/expired\tn/a\n"), "{written}");
    assert!(written.contains("never\tframing/bare-lf\tungraded\n"), "{written}");
    // A client that failed its control was not graded: no baseline makes
    // that a pass.
    let out = exam(dir.path(), &[GOOD, NEVER], &["--expect", "expect.tsv"]);
    assert_eq!(out.status.code(), Some(1), "never is not graded: {}", stderr(&out));
    assert!(!stderr(&out).contains("differ from"), "the verdicts are the baseline's: {}", stderr(&out));
    let out = exam(dir.path(), &[GOOD], &["--write-expect", "good.tsv"]);
    assert_eq!(out.status.code(), Some(1), "good fails a case: {}", stderr(&out));
    let out = exam(dir.path(), &[GOOD], &["--expect", "good.tsv"]);
    assert_eq!(out.status.code(), Some(0), "the same verdicts, FAILs included: {}", stderr(&out));
    // One verdict changed, one run dropped from the baseline.
    let edited = written
        .replace("good\tframing/chunk-extensions\tpass\n", "good\tframing/chunk-extensions\tfail\n")
        .replace("never\ttls/expired\tn/a\n", "");
    std::fs::write(dir.path().join("expect.tsv"), edited).unwrap();
    let out = exam(dir.path(), &[GOOD, NEVER], &["--expect", "expect.tsv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("good framing/chunk-extensions: expected fail, got pass (saved br.gif)\n"), "{err}");
    assert!(
        err.contains("never tls/expired: not in the baseline, got n/a (skipped: the template has no {cacert}"),
        "{err}"
    );
    assert!(err.contains("2 verdict(s) differ from expect.tsv"), "{err}");
    // A baseline that cannot be read is a usage error, before any run.
    std::fs::write(dir.path().join("bad.tsv"), "good\tframing/bare-lf\tmaybe\n").unwrap();
    let out = exam(dir.path(), &[GOOD], &["--expect", "bad.tsv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 1: unknown grade \"maybe\""), "{}", stderr(&out));
    assert!(!stderr(&out).contains("[1/"), "no run started");
}

/// (case, client) -> (grade, reason) and the scores, which a merge must
/// give as one exam would; not the times or the metadata.
fn graded(report: &Value) -> (BTreeSet<(String, String, String, String)>, Value) {
    (verdicts(report).into_iter().collect(), report["scores"].clone())
}

#[test]
fn reports_of_two_jobs_merge_into_the_report_of_one() {
    let dir = tempfile::tempdir().unwrap();
    let save = |name: &str, clients: &[&str]| {
        let out = exam(dir.path(), clients, &["--json"]);
        std::fs::write(dir.path().join(name), &out.stdout).unwrap();
        json(&out)
    };
    let both = save("both.json", &[GOOD, NEVER]);
    save("good.json", &[GOOD]);
    save("never.json", &[NEVER]);
    let out = flags(dir.path(), &["exam", "merge", "good.json", "never.json", "--json", "--junit", "merged.xml"]);
    assert_eq!(out.status.code(), Some(1), "never failed: {}", stderr(&out));
    let merged = json(&out);
    assert_eq!(graded(&merged), graded(&both));
    let order: Vec<_> = verdicts(&merged).into_iter().map(|v| (v.0, v.1)).collect();
    let expected: Vec<_> = verdicts(&both).into_iter().map(|v| (v.0, v.1)).collect();
    assert_eq!(order, expected, "case by case, then client by client");
    assert!(std::fs::read_to_string(dir.path().join("merged.xml")).unwrap().contains("<testsuite name=\"never\""));
    // A report of another catalog is refused.
    let text = std::fs::read_to_string(dir.path().join("never.json")).unwrap();
    let catalog = both["meta"]["catalog"].as_str().unwrap();
    std::fs::write(dir.path().join("other.json"), text.replace(catalog, "5-cases-0000000000000000")).unwrap();
    let out = flags(dir.path(), &["exam", "merge", "good.json", "other.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("other.json graded another catalog"), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing printed but the error");
    // So is a client graded twice, and a file that is not a report.
    let out = flags(dir.path(), &["exam", "merge", "both.json", "never.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("both graded a client named never"), "{}", stderr(&out));
    let out = flags(dir.path(), &["exam", "merge", "good.json", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read missing.json"), "{}", stderr(&out));
}

#[test]
fn markdown_has_the_scores_table_and_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = exam(dir.path(), &[GOOD, LOUD], &["--markdown", "summary.md"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        md.contains("| client | protocol pass | fail | info | n/a | task pass | fail | info | n/a | controls failed |")
    );
    // good: three PASS (its two plain controls, chunk extensions), an INFO
    // (bare LF), three N/A (the TLS and HTTP/2 controls, a TLS case), a
    // task FAIL.
    assert!(md.contains("\n| good | 3 | 0 | 1 | 3 | 0 | 1 | 0 | 0 | 0 |\n"), "{md}");
    // loud: its control failed, so it is graded on nothing else.
    assert!(md.contains("\n| loud | 0 | 1 | 0 | 3 | 0 | 0 | 0 | 0 | 1 |\n"), "{md}");
    assert!(
        md.contains("- **good** framing/length-shorter: left a partial file br.gif (the first 10 of 11 623 bytes)\n"),
        "{md}"
    );
    assert_eq!(md.matches("\n- **loud** ").count(), 1, "{md}");
}

#[test]
fn a_log_gets_one_line_per_finished_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = exam(dir.path(), &[GOOD, NEVER], &["--json"]);
    let lines: Vec<String> = stderr(&out).lines().map(String::from).collect();
    let mut seen = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let total = 2 * PER_CLIENT;
        let rest = line.strip_prefix(&format!("[{}/{total}] ", i + 1)).unwrap_or_else(|| panic!("{line:?}"));
        let (run, grade) = rest.split_once(": ").unwrap();
        assert!(["PASS", "FAIL", "INFO", "N/A", "--"].iter().any(|g| grade.starts_with(g)), "{line}");
        assert!(grade == "N/A" || grade == "--" || grade.ends_with(" s)"), "a run made shows its time: {line}");
        seen.insert(run.to_string());
    }
    let all: BTreeSet<String> = verdicts(&json(&out)).into_iter().map(|v| format!("{} {}", v.1, v.0)).collect();
    assert_eq!(seen, all);
    assert_eq!(lines.len(), 2 * PER_CLIENT);
}
