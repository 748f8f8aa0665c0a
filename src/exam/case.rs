//! What a case is: its family, its kind, what a correct client ends with,
//! what it needs of a client, and how it is served; and choosing cases by
//! pattern.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::certs;
use super::h2;
use super::script::Script;

/// A family of cases: the first part of a case's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// The cases every client must pass before it is graded at all.
    Control,
    Framing,
    Status,
    Content,
    Size,
    Time,
    Connection,
    Redirect,
    Tls,
    Http2,
}

impl Family {
    /// The name in a case's id.
    pub fn name(self) -> &'static str {
        match self {
            Family::Control => "control",
            Family::Framing => "framing",
            Family::Status => "status",
            Family::Content => "content",
            Family::Size => "size",
            Family::Time => "time",
            Family::Connection => "connection",
            Family::Redirect => "redirect",
            Family::Tls => "tls",
            Family::Http2 => "http2",
        }
    }
}

/// Whether a case asks what any correct HTTP client must do, or what a
/// flag downloader must do (a 204 or an HTML page is no flag). The report
/// scores the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Protocol,
    Task,
}

/// What a correct client ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// Every code's flag saved, exactly, nothing else left, exit 0.
    Saved,
    /// No file at all, and a non-zero exit (the failure is reported).
    NotSaved,
    /// No file at all; the exit status is the client's choice (a 404 is
    /// "not found", which the book's flags2 and `flags get` count apart
    /// from errors).
    NoFile,
    /// Either of those: the flag saved, or a reported failure with nothing
    /// left (a total deadline that ends a slow but honest answer).
    Either,
    /// Every flag saved (PASS), or those not saved reported with a
    /// non-zero exit (INFO: the client did not retry, which the RFC allows
    /// and does not require); a wrong file fails.
    Retry,
    /// Every flag saved, or those not saved reported: both PASS. The case
    /// asks only that no file is wrong (an answer nobody asked for saved
    /// as the next flag).
    NeverWrong,
    /// A legitimate policy choice (graded INFO, saying which): the flag
    /// saved, a reported failure, or, where `as_sent` is true, the bytes
    /// as sent (a gzip body saved undecoded).
    Choice { as_sent: bool },
}

/// What a client must be able to do for a case to apply to it; a case
/// that needs more than the client declares is graded N/A.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    /// Retries a failed download (503 or 429 with Retry-After, or 500).
    pub retries: bool,
    /// Fetches several files in one run (the template has `{cc}` or `{urls}`).
    pub several: bool,
    /// Speaks HTTP/2 with prior knowledge over http.
    pub h2: bool,
    /// Trusts a CA file (the template has `{cacert}`).
    pub tls: bool,
}

impl Needs {
    pub(super) const NOTHING: Needs = Needs { retries: false, several: false, h2: false, tls: false };

    /// True when a client that can do `can` can take this case.
    pub fn met_by(&self, can: &Needs) -> bool {
        (!self.retries || can.retries)
            && (!self.several || can.several)
            && (!self.h2 || can.h2)
            && (!self.tls || can.tls)
    }

    /// The needs `can` lacks, named.
    pub fn missing(&self, can: &Needs) -> Vec<&'static str> {
        let wants = [
            (self.retries && !can.retries, "retries"),
            (self.several && !can.several, "several files"),
            (self.h2 && !can.h2, "HTTP/2"),
            (self.tls && !can.tls, "a CA file"),
        ];
        wants.iter().filter(|(lacks, _)| *lacks).map(|(_, name)| *name).collect()
    }
}

/// How a case is served.
#[derive(Debug, Clone, Copy)]
pub enum Serve {
    /// HTTP/1.x over plain TCP, every request answered by the script.
    Plain(Script),
    /// HTTP/1.x over TLS with this certificate.
    Tls(certs::Cert, Script),
    /// Raw HTTP/2 frames with prior knowledge.
    H2(h2::Flaw),
    /// Nothing listens on the port.
    Refused,
    /// The listen queue is full when the client connects; the server
    /// starts accepting half a second later.
    Backlog(Script),
}

/// One case of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// `family/name`.
    pub id: &'static str,
    pub family: Family,
    pub kind: Kind,
    /// One line: what the server does.
    pub about: &'static str,
    /// What a correct client does, and why (with the RFC section where there is one).
    pub why: &'static str,
    pub expect: Expect,
    pub needs: Needs,
    /// The codes the client is asked for (`br`, or `br fr jp` for the
    /// cases about a connection used again).
    pub codes: &'static [&'static str],
    pub serve: Serve,
    /// True when the case's URL carries credentials (`user:secret@`).
    pub credentials: bool,
}

impl Case {
    /// The scheme of the case's URLs.
    pub fn scheme(&self) -> &'static str {
        match self.serve {
            Serve::Tls(..) => "https",
            _ => "http",
        }
    }
}

/// A case as the listing and the JSON report show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseInfo {
    pub id: String,
    pub family: Family,
    pub kind: Kind,
    pub expect: Expect,
    pub needs: Needs,
    pub about: String,
    pub why: String,
    /// What the server sends, step by step, with its text escaped.
    pub server: Vec<String>,
    /// The codes a client is asked for, lower case: a correct client that
    /// saves ends with `{cc}.gif` for each. (Reports written before it
    /// was listed read as none.)
    #[serde(default)]
    pub codes: Vec<String>,
}

/// The user name and password in the URL of the cases with credentials.
pub const CREDENTIALS: (&str, &str) = ("exam", "s3cret");

/// The default deadline of one run: past it the client is killed and
/// graded hung.
pub const DEADLINE: Duration = Duration::from_secs(20);
