//! Clients written to get a grade from `flags exam` without earning it, and
//! the verdict each deserves: the proof that the grader can be fooled, and
//! then that it no longer is.
//!
//! The rules these tests hold the exam to: every client first runs its
//! controls (`control/http1`, a plain flag), and one that fails it is not
//! graded (`ungraded` everywhere else, no PASS, its score says which control
//! failed and why, exit 1); a file counts as a flag only if it holds this
//! run's bytes for the code it is named after; a run's TMPDIR is its own and
//! what is left there is a leftover; memory and processes are counted for
//! everything a run started, whatever group or session it moved to; and an
//! error status is an error even when its body is a whole GIF.
//!
//! Each test runs the real binary on a handful of cases with one kind of
//! cheat (tests/clients/cheat_*), and lists every verdict the cheat did not
//! deserve, so that one failure says all that is wrong.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::util::{fetch, flags_exe, ServeProcess};

/// One `flags exam --json`: its exit code and report.
struct Exam {
    code: Option<i32>,
    report: Value,
}

impl Exam {
    /// Runs `flags exam --json ARGS` with a TMPDIR of the test's own, so
    /// that what a client leaves in its TMPDIR goes with the test.
    fn run(args: &[&str]) -> Exam {
        let tmp = tempfile::tempdir().unwrap();
        let out =
            Command::new(flags_exe()).args(["exam", "--json"]).args(args).env("TMPDIR", tmp.path()).output().unwrap();
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("no JSON report; stderr: {}", String::from_utf8_lossy(&out.stderr)));
        Exam { code: out.status.code(), report }
    }

    /// `client`'s runs: (case, grade, reason).
    fn runs(&self, client: &str) -> Vec<(String, String, String)> {
        self.report["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["client"] == client)
            .map(|r| {
                let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
                (s(&r["case"]), s(&r["verdict"]["grade"]), s(&r["verdict"]["reason"]))
            })
            .collect()
    }

    /// The controls `client` failed, as its score words them.
    fn controls_failed(&self, client: &str) -> Vec<String> {
        let score = self.report["scores"].as_array().unwrap().iter().find(|s| s["client"] == client);
        let failed = score.and_then(|s| s["controls_failed"].as_array()).cloned().unwrap_or_default();
        failed.iter().map(|f| f.as_str().unwrap_or_default().to_string()).collect()
    }

    /// Exit 1, which a failed control or verdict must give.
    fn exit_1(&self, wrong: &mut Vec<String>) {
        if self.code != Some(1) {
            wrong.push(format!("flags exam exited {:?}, not 1", self.code));
        }
    }
}

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name).to_string_lossy().into_owned()
}

/// Panics with every verdict that was not deserved, one a line.
fn deserved(wrong: Vec<String>) {
    assert!(wrong.is_empty(), "verdicts not deserved:\n  {}", wrong.join("\n  "));
}

/// What is wrong with the exam's verdicts on `client`, a client that must
/// fail its plain control, for a reason that says one of `why`: no PASS,
/// every run but the controls `ungraded`.
fn not_graded(exam: &Exam, client: &str, cases: &[&str], why: &[&str]) -> Vec<String> {
    let mut wrong = Vec::new();
    let failed = exam.controls_failed(client);
    if failed.is_empty() {
        wrong.push(format!("{client}: no control failed"));
    } else if !failed.iter().any(|f| why.iter().any(|w| f.contains(w))) {
        wrong.push(format!("{client}: the control's reason says none of {why:?}: {failed:?}"));
    }
    let runs = exam.runs(client);
    for case in cases {
        if !runs.iter().any(|(c, ..)| c == case) {
            wrong.push(format!("{client}: no run of {case}"));
        }
    }
    for (case, grade, reason) in runs {
        if grade == "pass" {
            wrong.push(format!("{client} passed {case}: {reason}"));
        } else if !case.starts_with("control/") && grade != "ungraded" {
            wrong.push(format!("{client} was graded {grade} on {case}: {reason}"));
        }
    }
    wrong
}

/// What is wrong with the exam's verdicts on `client`, which must fail each
/// of `cases` for a reason `says` (`what`, in words). A client whose own
/// controls catch the same cheat may be ungraded instead, if the control's
/// reason `says` it.
fn fails_for(exam: &Exam, client: &str, cases: &[&str], what: &str, says: impl Fn(&str) -> bool) -> Vec<String> {
    let failed = exam.controls_failed(client);
    if failed.iter().any(|f| says(f)) {
        return not_graded(exam, client, cases, &[""]);
    }
    let mut wrong: Vec<String> =
        failed.iter().map(|f| format!("{client} failed a control, not for {what}: {f}")).collect();
    let runs = exam.runs(client);
    for case in cases {
        match runs.iter().find(|(c, ..)| c == case) {
            None => wrong.push(format!("{client}: no run of {case}")),
            Some((_, grade, reason)) if grade != "fail" || !says(reason) => {
                wrong.push(format!("{client} on {case}: {grade} \"{reason}\", not a FAIL for {what}"))
            }
            Some(_) => {}
        }
    }
    for (case, grade, reason) in runs {
        if grade == "pass" && !case.starts_with("control/") && !cases.contains(&case.as_str()) {
            wrong.push(format!("{client} passed {case}: {reason}"));
        }
    }
    wrong
}

/// Cases that a client which does nothing and exits non-zero passes, where
/// nothing checks that it ran.
const NOTHING_PASSES: &str = "framing/length-shorter,status/not-found-page,connection/garbage,time/refused";

#[test]
fn a_client_that_never_runs_is_not_graded() {
    // The README's own example, in a folder without get.sh (sh: exit 127),
    // and a client that exits 1 without a byte on the wire.
    let exam = Exam::run(&[
        "--cases",
        NOTHING_PASSES,
        "--client",
        "mine=./get.sh {url} {out}",
        "--client",
        "quitter=exit 1; : {url}",
    ]);
    let cases: Vec<&str> = NOTHING_PASSES.split(',').collect();
    let mut wrong = not_graded(&exam, "mine", &cases, &["127", "not found"]);
    wrong.extend(not_graded(&exam, "quitter", &cases, &["exit 1", "saw no request"]));
    exam.exit_1(&mut wrong);
    deserved(wrong);
}

#[test]
fn a_client_that_never_connects_is_not_graded() {
    // Flags fetched before the exam, from a server that is gone when it runs.
    let cache = tempfile::tempdir().unwrap();
    {
        let server = ServeProcess::start(&[]);
        for cc in ["br", "fr", "jp"] {
            let answer = fetch(server.addr, &format!("/flags/{cc}/{cc}.gif"));
            assert_eq!(answer.status, 200, "flags serve: {}", answer.head);
            std::fs::write(cache.path().join(format!("{cc}.gif")), &answer.body).unwrap();
        }
    }
    let client = format!("cached=sh {} {} {{dir}} {{urls}}", script("cheat_cached.sh"), cache.path().display());
    // Cases a correct client passes by saving the flags, one of them three.
    let cases = ["framing/chunk-extensions", "framing/obs-fold", "status/interim", "connection/closed-on-reuse"];
    let exam = Exam::run(&["--cases", &cases.join(","), "--client", &client]);
    let mut wrong = not_graded(&exam, "cached", &cases, &["saw no request", "br.gif", "this run"]);
    exam.exit_1(&mut wrong);
    deserved(wrong);
}

#[test]
fn a_client_that_saves_each_flag_under_another_name_fails() {
    let client = format!("swapper=python3 {} {{dir}} {{urls}}", script("cheat_swapper.py"));
    // Where three flags are asked for: bytes unasked on an idle connection,
    // and a connection closed on reuse.
    let cases = ["connection/unasked-bytes", "connection/closed-on-reuse"];
    let exam = Exam::run(&["--cases", &cases.join(","), "--client", &client]);
    // br's bytes went to fr.gif, fr's to jp.gif, jp's to br.gif.
    let swapped = |reason: &str| {
        let reason = reason.to_lowercase();
        ["fr.gif holds br's flag", "jp.gif holds fr's flag", "br.gif holds jp's flag"]
            .iter()
            .any(|s| reason.contains(s))
    };
    let mut wrong = fails_for(&exam, "swapper", &cases, "the swapped names", swapped);
    exam.exit_1(&mut wrong);
    deserved(wrong);
}

#[test]
fn a_client_that_leaves_its_partial_files_in_tmpdir_fails() {
    let client = format!("leaker=python3 {} {{url}} {{out}}", script("cheat_tmp_leaker.py"));
    // Cases where a body ends half-way: the partial file stays in TMPDIR.
    let cases = ["framing/length-longer-close", "time/stall-mid-body", "connection/reset-mid-body"];
    let exam = Exam::run(&["--cases", &cases.join(","), "--client", &client]);
    let leftover = |reason: &str| reason.contains("left") || reason.to_lowercase().contains("tmp");
    let mut wrong = fails_for(&exam, "leaker", &cases, "a leftover in TMPDIR", leftover);
    // Its control is a whole flag, which it moves out of TMPDIR.
    wrong.extend(exam.controls_failed("leaker").iter().map(|f| format!("leaker failed a control: {f}")));
    exam.exit_1(&mut wrong);
    deserved(wrong);
}

/// The processes the setsid cheats started, from the files they wrote
/// ("PID STARTTIME" lines); dropped, it kills those still running, and
/// only those.
struct Escapees {
    files: Vec<PathBuf>,
}

impl Escapees {
    /// (pid, start time) of every process the cheats wrote down.
    fn all(&self) -> Vec<(i32, String)> {
        let text: String = self.files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect();
        text.lines()
            .filter_map(|l| {
                let (pid, start) = l.split_once(' ')?;
                Some((pid.parse().ok()?, start.to_string()))
            })
            .collect()
    }

    /// True while the process `pid` that started at `start` runs (a zombie
    /// is gone).
    fn running(pid: i32, start: &str) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
        let Some((_, rest)) = stat.rsplit_once(") ") else { return false };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.first() != Some(&"Z") && fields.get(19) == Some(&start)
    }

    fn alive(&self) -> Vec<i32> {
        self.all().into_iter().filter(|(pid, start)| Escapees::running(*pid, start)).map(|(pid, _)| pid).collect()
    }
}

impl Drop for Escapees {
    fn drop(&mut self) {
        for (pid, start) in self.all() {
            if Escapees::running(pid, &start) {
                // SAFETY: kill(2) of a process this test's client started,
                // identified by its pid and start time.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        // No panic here: a drop while a failed assertion unwinds would abort.
        let t0 = std::time::Instant::now();
        while !self.alive().is_empty() && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn processes_that_leave_the_group_count_against_their_run() {
    let marks = tempfile::tempdir().unwrap();
    let (hog_pids, linger_pids) = (marks.path().join("hog"), marks.path().join("linger"));
    let escapees = Escapees { files: vec![hog_pids.clone(), linger_pids.clone()] };
    let cheat = script("cheat_setsid.py");
    let hog = format!("hog=python3 {cheat} hog {} {{url}} {{out}}", hog_pids.display());
    let linger = format!("linger=python3 {cheat} linger {} {{url}} {{out}}", linger_pids.display());
    // A bomb it refuses, and a flag it saves: right, but for what it hid.
    let cases = ["content/gzip-bomb", "framing/chunk-extensions"];
    let exam = Exam::run(&["--cases", &cases.join(","), "--client", &hog, "--client", &linger]);
    let started = escapees.all().len();
    let left = escapees.alive();
    drop(escapees);
    let memory = |reason: &str| reason.contains("used ") && reason.contains("MB of memory");
    // The hog hides its memory only where the download fails: the bomb.
    let mut wrong = fails_for(&exam, "hog", &cases[..1], "its grandchild's 400 MB", memory);
    // Where its download succeeds it hides nothing, and passes.
    wrong.retain(|w| !w.starts_with("hog passed framing/chunk-extensions"));
    let running = |reason: &str| reason.contains("left a process running");
    wrong.extend(fails_for(&exam, "linger", &cases, "the sleep it left running", running));
    // The hog hides its memory only when a download fails (the bomb), and
    // the linger leaves a process in every run it makes (its control, at least).
    if started < 2 {
        wrong.push(format!("the cheats wrote down {started} processes, not one a client at least"));
    }
    if !left.is_empty() {
        wrong.push(format!("processes of its runs outlived the exam: {left:?}"));
    }
    exam.exit_1(&mut wrong);
    deserved(wrong);
}

#[test]
fn a_client_that_keeps_any_whole_gif_fails_the_error_statuses_with_a_gif_body() {
    let out = Command::new(flags_exe()).args(["exam", "--list", "--json"]).output().unwrap();
    let listing: Value = serde_json::from_slice(&out.stdout).expect("the listing is JSON");
    let statuses: Vec<(String, String)> = listing["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["about"].as_str().unwrap().to_string()))
        .filter(|(id, _)| id.starts_with("status/") || id.starts_with("redirect/"))
        .collect();
    // The error statuses (and the 3xx) whose body is a whole GIF: a GIF in
    // the words, and no 2xx as the first status named.
    let not_2xx = |about: &str| {
        let status =
            about.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| w.len() == 3 && w.parse::<u16>().is_ok());
        !status.is_some_and(|s| s.starts_with('2'))
    };
    let gif: Vec<&str> = statuses
        .iter()
        .filter(|(_, about)| about.to_lowercase().contains("gif") && not_2xx(about))
        .map(|(id, _)| id.as_str())
        .collect();
    let mut wrong = Vec::new();
    if gif.len() < 3 {
        let all: Vec<String> = statuses.iter().map(|(id, about)| format!("{id}: {about}")).collect();
        wrong.push(format!("{} status cases with a GIF body, not 3 or more; the catalog has {all:#?}", gif.len()));
    }
    if !gif.is_empty() {
        let client = format!("sniffer+retries=python3 {} {{url}} {{out}}", script("cheat_sniffer.py"));
        let exam = Exam::run(&["--cases", &gif.join(","), "--client", &client]);
        wrong.extend(fails_for(&exam, "sniffer", &gif, "keeping an error's GIF", |_| true));
        // A plain flag it saves: its control passes, and it is graded.
        wrong.extend(exam.controls_failed("sniffer").iter().map(|f| format!("sniffer failed a control: {f}")));
    }
    deserved(wrong);
}

#[test]
fn the_checks_accept_what_the_rules_give_and_refuse_what_the_old_grader_gave() {
    // Reports written by hand, in the JSON's layout: the checks above can
    // be met, and are not met by PASSes.
    let run = |case: &str, client: &str, grade: &str, reason: &str| serde_json::json!({ "case": case, "client": client, "verdict": { "grade": grade, "reason": reason } });
    let score = |client: &str, failed: &[&str]| serde_json::json!({ "client": client, "controls_failed": failed });
    let never = Exam {
        code: Some(1),
        report: serde_json::json!({
            "runs": [
                run("control/http1", "mine", "fail", "exit 127: sh: 1: ./get.sh: not found"),
                run("time/refused", "mine", "ungraded", "not graded: control/http1 failed"),
            ],
            "scores": [score("mine", &["control/http1: exit 127: sh: 1: ./get.sh: not found"])],
        }),
    };
    assert_eq!(not_graded(&never, "mine", &["time/refused"], &["not found"]), Vec::<String>::new());
    let cheats = Exam {
        code: Some(1),
        report: serde_json::json!({
            "runs": [
                run("control/http1", "swapper", "pass", "saved br.gif"),
                run("connection/unasked-bytes", "swapper", "fail", "br.gif holds JP's flag"),
                run("control/http1", "hog", "fail", "used 401 MB of memory (more than 256 MB)"),
                run("content/gzip-bomb", "hog", "ungraded", "not graded: control/http1 failed"),
            ],
            "scores": [score("swapper", &[]), score("hog", &["control/http1: used 401 MB of memory (more than 256 MB)"])],
        }),
    };
    let swapped = |r: &str| r.to_lowercase().contains("br.gif holds jp's flag");
    assert!(fails_for(&cheats, "swapper", &["connection/unasked-bytes"], "a swap", swapped).is_empty());
    let memory = |r: &str| r.contains("MB of memory");
    assert!(fails_for(&cheats, "hog", &["content/gzip-bomb"], "memory", memory).is_empty());
    let fooled = Exam {
        code: Some(0),
        report: serde_json::json!({
            "runs": [run("connection/unasked-bytes", "swapper", "pass", "saved br.gif, fr.gif, jp.gif")],
            "scores": [score("swapper", &[])],
        }),
    };
    assert_eq!(fails_for(&fooled, "swapper", &["connection/unasked-bytes"], "a swap", swapped).len(), 1);
    assert_eq!(not_graded(&fooled, "swapper", &["connection/unasked-bytes"], &["exit"]).len(), 2);
}

#[test]
fn a_client_that_counts_its_runs_to_pass_only_the_first_controls_is_not_graded() {
    // It downloads well on its first run (the controls come first), then
    // refuses every answer, which passes every case where a correct client
    // saves nothing. It counts its runs in a folder outside them (mkdir is
    // atomic, so runs at once each get a number of their own).
    let count = tempfile::tempdir().unwrap();
    let counter = count.path().display().to_string();
    let counting = format!(
        "counting=n=1; while ! mkdir {counter}/$n 2>/dev/null; do n=$((n+1)); done; \
         if [ $n -le 1 ]; then exec curl -sSf -o {{out}} {{url}}; fi; curl -s -m 1 -o /dev/null {{url}}; exit 1"
    );
    let cases = ["framing/length-longer-close", "status/not-found-page", "connection/garbage", "content/html-page"];
    let exam = Exam::run(&["--cases", &cases.join(","), "--client", &counting]);
    let mut wrong = Vec::new();
    exam.exit_1(&mut wrong);
    let runs = exam.runs("counting");
    for (case, grade, reason) in &runs {
        let deserved = match case.as_str() {
            "control/http1" => grade == "pass",
            "control/again" => grade == "fail" && reason.contains("exit 1"),
            "control/tls" | "control/http2" => grade == "n/a",
            _ => grade == "ungraded" && reason.starts_with("not graded: control/again failed"),
        };
        if !deserved {
            wrong.push(format!("counting got {grade} on {case}: {reason}"));
        }
    }
    if !exam.controls_failed("counting").iter().any(|f| f.starts_with("control/again")) {
        wrong.push(format!("no failed control/again in its score: {:?}", exam.controls_failed("counting")));
    }
    deserved(wrong);
}

#[test]
fn nothing_is_hidden_from_the_walk_of_a_runs_folders() {
    // A partial file 20 folders down in TMPDIR (past how deep a walk
    // goes), and a FIFO named br.gif (which a walk that opens it waits on
    // for ever): both seen, neither passes, the exam ends.
    let deep = "deep=curl -sSf --remove-on-error -o {out} {url} && exit 0; d=$TMPDIR/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20; \
                mkdir -p $d; head -c 100 /dev/zero > $d/part; exit 1";
    let fifo = "fifo=mkfifo {out}; : {url}; exit 1";
    let cases = ["framing/length-longer-close"];
    let exam = Exam::run(&["--cases", &cases.join(","), "--client", deep, "--client", fifo]);
    let mut wrong = Vec::new();
    exam.exit_1(&mut wrong);
    for (case, grade, reason) in exam.runs("deep") {
        let deserved = match case.as_str() {
            "framing/length-longer-close" => grade == "fail" && reason.contains("a folder too deep to walk"),
            "control/http1" | "control/again" => grade == "pass",
            _ => grade == "n/a",
        };
        if !deserved {
            wrong.push(format!("deep got {grade} on {case}: {reason}"));
        }
    }
    let failed = exam.controls_failed("fifo");
    if !failed.iter().any(|f| f.starts_with("control/http1") && f.contains("br.gif")) {
        wrong.push(format!("fifo: its control's reason does not name br.gif: {failed:?}"));
    }
    deserved(wrong);
}
