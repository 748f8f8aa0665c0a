//! The report card as data: what an exam found, client by client and case
//! by case, with what was graded, where and when. It is the JSON that
//! `flags exam --json` prints (its layout is versioned by [`SCHEMA`] and
//! documented in `docs/exam.md`), and what every other output (the grid,
//! the HTML, JUnit, Markdown, a baseline) is made from. Reports made on
//! several machines merge into one (`flags exam merge`) when they
//! graded the same catalog.

use serde::{Deserialize, Serialize};

use super::case::{CaseInfo, Kind};
use super::client::Client;
use super::grade::{Grade, Observed, Verdict};

/// The version of the JSON layout. 2: controls, the run's metadata, each
/// client's version, owned strings throughout.
pub const SCHEMA: u32 = 2;

/// One case run by one client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRun {
    pub case: String,
    /// The score this run counts in: the case's kind, or `task` for a
    /// protocol case where the client met the protocol's duty and only the
    /// file it kept is wrong.
    pub kind: Kind,
    pub client: String,
    pub verdict: Verdict,
    /// None when the case did not apply or was not graded.
    pub observed: Option<Observed>,
}

/// The grades of one client, for one kind of case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub pass: usize,
    pub fail: usize,
    pub info: usize,
    pub not_applicable: usize,
    /// Runs not graded because a control failed.
    #[serde(default)]
    pub ungraded: usize,
    /// Runs the exam itself could not make.
    #[serde(default)]
    pub error: usize,
}

/// A client's score: protocol and task cases apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub client: String,
    pub protocol: Tally,
    pub task: Tally,
    /// Why the client was not graded at all (its plain control failed), or
    /// which of its controls failed, in words; empty when every control passed.
    #[serde(default)]
    pub controls_failed: Vec<String>,
}

/// What was graded, where and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `flags`' version.
    pub flags_version: String,
    /// The catalog's fingerprint: a merge of reports with different ones is refused.
    pub catalog: String,
    /// When the exam started, as an HTTP date.
    pub date: String,
    /// The machine's name, its system and architecture.
    pub host: String,
    /// Seconds a run may take before it is killed.
    pub deadline_s: f64,
    /// Runs at once.
    pub jobs: usize,
    /// How a run's memory and processes were watched: `cgroup` (a cgroup
    /// of its own) or `session` (its session and marked orphans, polled).
    pub watch: String,
}

/// The whole exam.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExamReport {
    /// The version of this document's layout (`SCHEMA`).
    pub schema: u32,
    pub meta: Meta,
    pub wall_ms: u64,
    pub clients: Vec<Client>,
    /// The cases, in catalog order.
    pub cases: Vec<CaseInfo>,
    /// Case by case, client by client, in that order.
    pub runs: Vec<CaseRun>,
    pub scores: Vec<Score>,
}

impl ExamReport {
    /// The run of `case` by `client`.
    pub fn run(&self, case: &str, client: &str) -> Option<&CaseRun> {
        self.runs.iter().find(|r| r.case == case && r.client == client)
    }

    /// True when a verdict failed, a control did, or the exam could not
    /// make a run: what exit status 1 means.
    pub fn failed(&self) -> bool {
        self.runs.iter().any(|r| matches!(r.verdict.grade, Grade::Fail | Grade::Error))
            || self.scores.iter().any(|s| !s.controls_failed.is_empty())
    }
}

/// Counts `client`'s grades in `runs`, protocol and task apart.
pub fn score(client: &str, runs: &[CaseRun]) -> Score {
    let tally = |kind: Kind| {
        let mut t = Tally::default();
        for r in runs.iter().filter(|r| r.client == client && r.kind == kind) {
            match r.verdict.grade {
                Grade::Pass => t.pass += 1,
                Grade::Fail => t.fail += 1,
                Grade::Info => t.info += 1,
                Grade::NotApplicable => t.not_applicable += 1,
                Grade::Ungraded => t.ungraded += 1,
                Grade::Error => t.error += 1,
            }
        }
        t
    };
    let controls_failed = runs
        .iter()
        .filter(|r| {
            r.client == client
                && r.case.starts_with("control/")
                && matches!(r.verdict.grade, Grade::Fail | Grade::Error)
        })
        .map(|r| format!("{}: {}", r.case, r.verdict.reason))
        .collect();
    Score { client: client.into(), protocol: tally(Kind::Protocol), task: tally(Kind::Task), controls_failed }
}

/// A fingerprint of the cases: their ids, kinds, expectations and what
/// their servers send, hashed (FNV-1a, 64 bits), so that two reports can
/// tell whether they graded the same catalog.
pub fn fingerprint(cases: &[CaseInfo]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in cases {
        let text = serde_json::to_string(&(&c.id, c.kind, c.expect, c.needs, &c.why, &c.server)).unwrap_or_default();
        for b in text.bytes().chain([0]) {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{}-cases-{h:016x}", cases.len())
}

/// The machine's name, its system and architecture: `box (linux x86_64)`.
pub fn host() -> String {
    let name = crate::os::hostname().unwrap_or_else(|| "unknown".into());
    format!("{name} ({} {})", std::env::consts::OS, std::env::consts::ARCH)
}
