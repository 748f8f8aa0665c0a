//! A run made outside the exam, graded by the exam's own rules: the case
//! served by `flags serve --scenario ID --record FILE`, a client that
//! someone else ran (a test, a shell), and afterwards its folder, its exit
//! status and the server's record (`flags exam verdict`).
//!
//! Everything the exam can know of such a run is judged exactly as in a
//! run of its own, by the same code: the files in the folder (the walk a
//! run's folder gets, each file held against the flags the scenario
//! served, by the mark its record carries), the exit status, and what the
//! scenario's server saw (requests, TLS handshakes begun, credentials sent
//! to the other host).
//!
//! What the exam observes of a process it starts itself cannot be known of
//! a client it did not start: its memory, the processes it left running,
//! the files in its `TMPDIR` and `HOME`, the deadline, what it printed.
//! [`observed`] gives those parts of [`Observed`] neutral values (no peak,
//! nothing left running, no file elsewhere, not hung, nothing printed), so
//! they are not judged: they can neither fail nor pass a run.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::case::Case;
use super::grade::{self, FileSeen, Observed, Place, Verdict};
use super::record::Saw;
use super::script::Stamp;
use super::trial;

/// The mark on the flags `flags serve --scenario` serves: none, the
/// catalog's drawings as they are, so that a test can compare a download
/// with the plain server's flag. The record says which mark was used.
pub fn scenario_stamp() -> Stamp {
    Stamp::none()
}

/// What `flags serve --scenario ID --record FILE` writes when it stops:
/// what a verdict needs of its server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The case served, its id.
    pub case: String,
    /// The mark on every flag it served (empty: none).
    pub mark: Stamp,
    /// The other port (the "other host" of the redirect cases), which a
    /// reason about credentials sent there names.
    pub other_port: u16,
    /// What the server saw: connections, TLS handshakes begun, requests.
    pub server: Saw,
}

/// One run of `case` made outside the exam.
#[derive(Debug)]
pub struct OutsideRun<'a> {
    pub case: &'a Case,
    /// The folder the client saved into.
    pub dir: &'a Path,
    /// The client's exit status: non-zero is a reported failure.
    pub exit: i32,
    /// How long the client ran, when known (the reason of a slow case's
    /// PASS says it); zero otherwise.
    pub wall: Duration,
    pub record: &'a Record,
}

/// The verdict on a run made outside the exam, and what it was drawn from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Graded {
    /// The case's id.
    pub case: String,
    /// The grade and the reason, as the exam's report writes them.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// How the client ended, as the reasons say it: `exit 1`.
    pub status: String,
    /// Every file in the folder, and what it holds.
    pub files: Vec<FileSeen>,
}

/// What the exam would have observed of `run`, with the parts it cannot
/// know of a client it did not start given neutral values.
pub fn observed(run: &OutsideRun<'_>) -> Observed {
    let flags = trial::flags_of(run.case, &run.record.mark);
    Observed {
        command: String::new(),
        exit: Some(run.exit),
        signal: None,
        // Not judged: the deadline, the memory, the processes left, the
        // TMPDIR and HOME, the output.
        hung: false,
        wall_ms: run.wall.as_millis() as u64,
        peak_rss_kib: None,
        files: trial::files_in(run.dir, Place::Dir, &flags),
        left_running: Vec::new(),
        server: run.record.server.clone(),
        other_port: run.record.other_port,
        stdout_tail: String::new(),
        stderr_tail: String::new(),
        stdout_bytes: 0,
        stderr_bytes: 0,
    }
}

/// The exam's verdict on `run`.
pub fn grade(run: &OutsideRun<'_>) -> Graded {
    let o = observed(run);
    Graded { case: run.case.id.to_string(), verdict: grade::verdict(run.case, &o), status: o.status(), files: o.files }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_keeps_the_mark_its_flags_carried() {
        let stamp = Stamp::new();
        let record =
            Record { case: "control/http1".into(), mark: stamp.clone(), other_port: 1, server: Saw::default() };
        let back: Record = serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(back.mark.flag("br"), stamp.flag("br"));
        let plain: Record = serde_json::from_str(
            r#"{"case":"x","mark":"","other_port":1,"server":{"connections":0,"requests":[],"log":[]}}"#,
        )
        .unwrap();
        assert_eq!(plain.mark, scenario_stamp());
    }
}
