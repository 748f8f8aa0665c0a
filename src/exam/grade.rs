//! Verdicts: what a run left and did, held against what the case expects.
//!
//! A file is judged ([`super::judge`]) by its bytes against the flags this
//! run's server sent, and by its name and place: a flag counts only as
//! `CC.gif` in the run's folder holding CC's flag as sent in this run. The
//! rules are in [`verdict`], in the order a reader would ask them: did it
//! end, did it leak credentials, did it use too much memory, did it leave
//! a process running, then the files and the exit status; and last, did
//! the server see what a PASS claims the client dealt with.

use serde::{Deserialize, Serialize};

use super::case::{Case, Expect, Family, Kind, Serve};
use super::certs::Cert;
pub use super::judge::{is_leftover, judge, thousands, FileSeen, Judged, Place};
use super::record::Saw;

/// A grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grade {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "fail")]
    Fail,
    /// A legitimate choice; the reason says which.
    #[serde(rename = "info")]
    Info,
    /// The case needs what the client does not declare.
    #[serde(rename = "n/a")]
    NotApplicable,
    /// Not graded: the client failed the control this case rests on (it
    /// never ran, never connected, or could not fetch a plain flag), so
    /// nothing it did here can count.
    #[serde(rename = "ungraded")]
    Ungraded,
    /// The exam itself could not make the run (a folder, a port, a
    /// process): nothing was graded, and the exam fails.
    #[serde(rename = "error")]
    Error,
}

impl Grade {
    /// The grid's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Grade::Pass => "PASS",
            Grade::Fail => "FAIL",
            Grade::Info => "INFO",
            Grade::NotApplicable => "N/A",
            Grade::Ungraded => "--",
            Grade::Error => "ERROR",
        }
    }
}

/// A grade and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub grade: Grade,
    pub reason: String,
}

impl Verdict {
    fn new(grade: Grade, reason: impl Into<String>) -> Verdict {
        Verdict { grade, reason: reason.into() }
    }
}

/// What one run showed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Observed {
    /// The command run, after the template's placeholders were replaced.
    pub command: String,
    /// The exit code, or none when a signal ended the client.
    pub exit: Option<i32>,
    pub signal: Option<i32>,
    /// True when the deadline passed and the client's group was killed.
    pub hung: bool,
    pub wall_ms: u64,
    /// The peak memory of the run's processes, in KiB: the largest of the
    /// client's own (`wait4`), any one process's peak, and the sum of all
    /// the run's processes at one moment (polled every 50 ms).
    pub peak_rss_kib: Option<u64>,
    /// Every file left in the run's folder and its `TMPDIR`, and those in
    /// its `HOME` that hold a download's bytes.
    pub files: Vec<FileSeen>,
    /// The processes of the run still running when the client ended
    /// (`pid name`); the exam killed them.
    #[serde(default)]
    pub left_running: Vec<String>,
    /// What the case's server saw.
    pub server: Saw,
    /// The other port (the "other host" of the redirect cases).
    pub other_port: u16,
    /// The first and last 2 KB of the client's stdout and stderr, with a
    /// line that says how many bytes between them were left out.
    pub stdout_tail: String,
    pub stderr_tail: String,
    /// Every byte the client printed on stdout and on stderr.
    #[serde(default)]
    pub stdout_bytes: u64,
    #[serde(default)]
    pub stderr_bytes: u64,
}

impl Observed {
    /// How the client ended, in words: `exit 1`, `killed by signal 9`.
    pub fn status(&self) -> String {
        match (self.exit, self.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "no exit status".into(),
        }
    }
}

/// Above this peak RSS a client failed, whatever it saved.
pub const MEMORY_LIMIT_KIB: u64 = 256 << 10;

/// The verdict of a run of `case` that `observed` describes.
pub fn verdict(case: &Case, o: &Observed) -> Verdict {
    let v = outcome(case, o);
    if !matches!(v.grade, Grade::Pass | Grade::Info) {
        return v;
    }
    // A PASS (or a choice) says the client met what the case does and
    // dealt with it: the server must have seen it come.
    let seen = match must_see(case) {
        Sight::Request => !o.server.requests.iter().all(|r| r.other),
        Sight::Connection => o.server.spoke > 0,
        Sight::Nothing => true,
    };
    match seen {
        true => v,
        false => Verdict::new(Grade::Fail, format!("the server saw no {}", must_see(case).word())),
    }
}

/// What the server must have seen for a run to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sight {
    Request,
    /// A TLS handshake begun (the client's first bytes): a TLS case whose
    /// certificate a correct client refuses before it sends a request.
    Connection,
    /// Nothing: nothing listens.
    Nothing,
}

impl Sight {
    fn word(self) -> &'static str {
        match self {
            Sight::Request => "request",
            Sight::Connection => "TLS handshake",
            Sight::Nothing => "",
        }
    }
}

fn must_see(case: &Case) -> Sight {
    match case.serve {
        Serve::Refused => Sight::Nothing,
        Serve::Tls(cert, _) if cert != Cert::Valid => Sight::Connection,
        _ => Sight::Request,
    }
}

/// The score a run counts in. A protocol case counts its FAIL as a task
/// failure only where the client met the protocol's duty and the one thing
/// wrong is the file it kept: it reported the failure with a non-zero exit
/// code (not a signal) and every wrong file is a partial copy of a flag
/// (curl's exit 18 on a truncated body); or the case is a redirect, the
/// client did not follow it (one request: following is a MAY), and what it
/// saved is the redirect's body (a page, or the GIF the 3xx carried).
pub fn counts_as(case: &Case, o: &Observed, v: &Verdict) -> Kind {
    if case.kind == Kind::Task || v.grade != Grade::Fail || !only_files_wrong(o) {
        return case.kind;
    }
    let wrong: Vec<&FileSeen> = o.files.iter().filter(|f| !f.is_right()).collect();
    let reported = matches!(o.exit, Some(c) if c != 0);
    let truncated = reported && wrong.iter().all(|f| matches!(f.judged, Judged::Partial { .. }));
    let not_followed = case.family == Family::Redirect
        && o.server.requests.len() == 1
        && wrong.iter().all(|f| matches!(f.judged, Judged::Html | Judged::OtherGif));
    match !wrong.is_empty() && (truncated || not_followed) {
        true => Kind::Task,
        false => case.kind,
    }
}

/// True when nothing but the files can have failed the run: no fault of
/// [`fault_before_files`], and the server saw its request.
fn only_files_wrong(o: &Observed) -> bool {
    fault_before_files(o).is_none() && o.server.requests.iter().any(|r| !r.other)
}

/// What fails a run whatever its files: it hung, leaked credentials to
/// another host, used too much memory, or left a process running.
fn fault_before_files(o: &Observed) -> Option<Verdict> {
    use Grade::Fail;
    if o.hung {
        let rss = o.peak_rss_kib.map(|k| format!(", RSS {} MB", k / 1024)).unwrap_or_default();
        return Some(Verdict::new(Fail, format!("hung: killed after {:.0} s{rss}", o.wall_ms as f64 / 1000.0)));
    }
    if let Some(r) = o.server.requests.iter().find(|r| r.other && !r.credentials.is_empty()) {
        let field = r.credentials.join(" and ");
        return Some(Verdict::new(Fail, format!("sent {field} to 127.0.0.1:{} (another host)", o.other_port)));
    }
    if let Some(kib) = o.peak_rss_kib.filter(|k| *k > MEMORY_LIMIT_KIB) {
        return Some(Verdict::new(
            Fail,
            format!("used {} MB of memory (more than {} MB)", kib / 1024, MEMORY_LIMIT_KIB / 1024),
        ));
    }
    if !o.left_running.is_empty() {
        return Some(Verdict::new(Fail, format!("left a process running ({})", o.left_running.join(", "))));
    }
    None
}

/// The verdict by what the run left and its exit, before the server's
/// sight is checked.
fn outcome(case: &Case, o: &Observed) -> Verdict {
    if let Some(fault) = fault_before_files(o) {
        return fault;
    }
    let left = Left::of(case, o);
    match case.expect {
        Expect::Saved => left.saved(),
        Expect::NotSaved => left.not_saved(),
        Expect::NoFile => left.no_file(),
        Expect::Either => left.either(),
        Expect::Retry | Expect::NeverWrong => left.some_saved(),
        Expect::Choice { as_sent } => left.choice(as_sent),
    }
}

/// What a run left (its files, held against the case's codes) and how it
/// exited: the facts [`outcome`] weighs, one method per [`Expect`].
struct Left<'a> {
    case: &'a Case,
    o: &'a Observed,
    /// How it exited, in words.
    status: String,
    /// The files that are right.
    right: Vec<&'a FileSeen>,
    /// The case's codes among them.
    saved: Vec<&'a str>,
    /// What is wrong with the first file that is not right.
    worst: Option<String>,
    clean_exit: bool,
    all_saved: bool,
    nothing: bool,
}

impl<'a> Left<'a> {
    fn of(case: &'a Case, o: &'a Observed) -> Self {
        let right: Vec<&FileSeen> = o.files.iter().filter(|f| f.is_right()).collect();
        let saved: Vec<&str> = case
            .codes
            .iter()
            .copied()
            .filter(|cc| right.iter().any(|f| f.named_for().as_deref() == Some(*cc)))
            .collect();
        let worst = o.files.iter().find(|f| !f.is_right()).map(FileSeen::fault);
        let all_saved = saved.len() == case.codes.len() && worst.is_none();
        let (clean_exit, nothing) = (o.exit == Some(0), o.files.is_empty());
        Left { case, o, status: o.status(), right, saved, worst, clean_exit, all_saved, nothing }
    }

    fn names(&self) -> String {
        format!("saved {}", self.right.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "))
    }

    fn refused(&self) -> String {
        format!("reported it ({}), saved nothing", self.status)
    }

    /// The client's last word on stderr, for a control that failed.
    fn said(&self) -> String {
        last_line(&self.o.stderr_tail).map(|l| format!("; stderr: {l}")).unwrap_or_default()
    }

    /// [`Expect::Saved`]: every flag, and exit 0.
    fn saved(self) -> Verdict {
        use Grade::{Fail, Pass};
        let (status, control) = (&self.status, self.case.family == Family::Control);
        match () {
            _ if self.all_saved && self.clean_exit => Verdict::new(Pass, self.names()),
            _ if self.all_saved => Verdict::new(Fail, format!("saved the flag, but {status}")),
            _ if self.worst.is_some() => Verdict::new(Fail, self.worst.unwrap_or_default()),
            _ if control && self.o.server.requests.is_empty() => {
                Verdict::new(Fail, format!("the server saw no request ({status}{})", self.said()))
            }
            _ if self.nothing && self.clean_exit => Verdict::new(Fail, "exit 0, but no file"),
            _ if self.nothing && control => Verdict::new(Fail, format!("no file ({status}{})", self.said())),
            _ if self.nothing => Verdict::new(Fail, format!("no file ({status})")),
            _ => {
                Verdict::new(Fail, format!("saved {} of {} flags ({status})", self.saved.len(), self.case.codes.len()))
            }
        }
    }

    /// [`Expect::NotSaved`]: no file, and the failure reported.
    fn not_saved(self) -> Verdict {
        use Grade::{Fail, Pass};
        match () {
            _ if self.nothing && !self.clean_exit => Verdict::new(Pass, self.refused()),
            _ if self.nothing => Verdict::new(Fail, "exit 0, but no file: the failure is not reported"),
            _ => self.kept_a_refused_answer(),
        }
    }

    /// [`Expect::NoFile`]: no file, whatever the exit.
    fn no_file(self) -> Verdict {
        match () {
            _ if self.nothing => Verdict::new(Grade::Pass, format!("saved nothing ({})", self.status)),
            _ => self.kept_a_refused_answer(),
        }
    }

    /// A file from an answer the client had to refuse: what is wrong with
    /// it, or the names of those saved.
    fn kept_a_refused_answer(self) -> Verdict {
        let why = format!("{} from an answer it had to refuse ({})", self.names(), self.status);
        Verdict::new(Grade::Fail, self.worst.unwrap_or(why))
    }

    /// [`Expect::Either`]: the flag and exit 0, or nothing and a failure
    /// reported.
    fn either(self) -> Verdict {
        use Grade::{Fail, Pass};
        let status = &self.status;
        match () {
            _ if self.all_saved && self.clean_exit => Verdict::new(Pass, self.names()),
            _ if self.nothing && !self.clean_exit => Verdict::new(
                Pass,
                format!("gave up after {:.1} s ({status}), saved nothing", self.o.wall_ms as f64 / 1000.0),
            ),
            _ if self.nothing => Verdict::new(Fail, "exit 0, but no file"),
            _ => Verdict::new(Fail, self.worst.unwrap_or_else(|| format!("saved the flag, but {status}"))),
        }
    }

    /// [`Expect::Retry`] and [`Expect::NeverWrong`]: every flag and exit 0,
    /// or the right ones kept and the rest reported.
    fn some_saved(self) -> Verdict {
        use Grade::{Fail, Info, Pass};
        let (status, expect) = (&self.status, self.case.expect);
        match () {
            _ if self.all_saved && self.clean_exit => Verdict::new(Pass, self.names()),
            _ if self.worst.is_some() => Verdict::new(Fail, self.worst.unwrap_or_default()),
            _ if self.clean_exit => Verdict::new(
                Fail,
                format!(
                    "saved {} of {} flags, but exit 0: the failure is not reported",
                    self.saved.len(),
                    self.case.codes.len()
                ),
            ),
            _ => {
                let grade = if expect == Expect::Retry { Info } else { Pass };
                let kept = if self.right.is_empty() { "saved nothing".to_string() } else { self.names() };
                let what = if expect == Expect::Retry { "did not retry" } else { "refused the rest" };
                Verdict::new(grade, format!("{what}: {kept}, reported the rest ({status})"))
            }
        }
    }

    /// [`Expect::Choice`]: accepted or refused, both told; the bytes as
    /// sent kept too when `allowed`.
    fn choice(self, allowed: bool) -> Verdict {
        use Grade::{Fail, Info};
        let files = &self.o.files;
        let as_sent = files.len() == 1 && files[0].judged == Judged::Gzip && !files[0].leftover;
        let status = &self.status;
        match () {
            _ if self.all_saved && self.clean_exit => Verdict::new(Info, format!("accepted: {}", self.names())),
            _ if self.nothing && !self.clean_exit => Verdict::new(Info, format!("refused: {}", self.refused())),
            _ if allowed && as_sent && self.clean_exit => {
                Verdict::new(Info, format!("kept the bytes as sent: {}", files[0].fault()))
            }
            _ if self.nothing => Verdict::new(Fail, "exit 0, but no file"),
            _ => Verdict::new(Fail, self.worst.unwrap_or_else(|| format!("saved the flag, but {status}"))),
        }
    }
}

/// The last line of a client's output that says something.
fn last_line(text: &str) -> Option<String> {
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty())?;
    Some(crate::proto::text::peer_text(line.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_spaced() {
        assert_eq!(thousands(11623), "11 623");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1 000 000");
        assert_eq!(last_line("a\nsh: ./get.sh: not found\n\n").as_deref(), Some("sh: ./get.sh: not found"));
    }
}
