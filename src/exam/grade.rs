//! Verdicts: what a run left and did, held against what the case expects.
//!
//! A file is judged by its bytes: the exact flag of one of the case's codes,
//! a prefix of one (partial), the flag gzipped, HTML, empty, another GIF, or
//! other bytes; and by its name: a temporary or state file (`.part`,
//! `.aria2`, a dot file...) is a leftover whatever it holds. The rules are
//! in [`verdict`], in the order a reader would ask them: did it end, did it
//! leak credentials, did it use too much memory, and then the files and
//! the exit status.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::case::{Case, Expect};
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

/// What a file left in the run's folder holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "kebab-case")]
pub enum Judged {
    /// Exactly this code's flag.
    Flag {
        cc: String,
    },
    /// The first bytes of this code's flag, of `of`.
    Partial {
        cc: String,
        of: usize,
    },
    /// The flag, gzipped (a gzip body kept as sent).
    Gzip,
    Html,
    Empty,
    /// A GIF, but not one of the case's flags.
    OtherGif,
    Other,
}

/// A file left in the run's folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileSeen {
    /// Its path inside the folder.
    pub name: String,
    pub size: u64,
    pub judged: Judged,
    /// True for a temporary or state file, by its name.
    pub leftover: bool,
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
    /// The peak RSS of the largest process of the client's tree (from
    /// `wait4`), or, for a hung client, of its whole group when killed.
    pub peak_rss_kib: Option<u64>,
    /// Every file left in the run's folder.
    pub files: Vec<FileSeen>,
    /// What the case's server saw.
    pub server: Saw,
    /// The other port (the "other host" of the redirect cases).
    pub other_port: u16,
    /// The last 2 KB of the client's stdout and stderr.
    pub stdout_tail: String,
    pub stderr_tail: String,
}

/// Above this peak RSS a client failed, whatever it saved.
pub const MEMORY_LIMIT_KIB: u64 = 256 << 10;

/// Judges `bytes` (the first 64 KiB of a file of `size` bytes) against the
/// case's flags.
pub fn judge(bytes: &[u8], size: u64, flags: &[(&str, Bytes)]) -> Judged {
    if size == 0 {
        return Judged::Empty;
    }
    for (cc, flag) in flags {
        if size as usize == flag.len() && bytes == &flag[..] {
            return Judged::Flag { cc: cc.to_string() };
        }
    }
    for (cc, flag) in flags {
        if (size as usize) < flag.len() && flag.starts_with(bytes) {
            return Judged::Partial { cc: cc.to_string(), of: flag.len() };
        }
    }
    let start = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    match () {
        _ if bytes.starts_with(&[0x1f, 0x8b]) => Judged::Gzip,
        _ if bytes.starts_with(b"GIF8") => Judged::OtherGif,
        _ if start.trim_start().starts_with('<') || start.contains("<html") || start.contains("<!doctype") => {
            Judged::Html
        }
        _ => Judged::Other,
    }
}

/// True for a name that only a temporary or state file has.
pub fn is_leftover(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let temp = [".part", ".tmp", ".aria2", ".download", ".crdownload", ".partial", "~", ".incomplete"];
    base.starts_with('.') || temp.iter().any(|t| base.ends_with(t)) || base.contains(".tmp")
}

/// `n` with a space every three digits: 11 623.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn describe(f: &FileSeen) -> String {
    let name = &f.name;
    if f.leftover {
        return format!("left {name} ({} bytes)", thousands(f.size));
    }
    match &f.judged {
        Judged::Flag { cc } => format!("saved {cc}'s flag as {name}"),
        Judged::Partial { of, .. } => {
            format!("left a partial file {name} ({} of {} bytes)", thousands(f.size), thousands(*of as u64))
        }
        Judged::Gzip => format!("saved the gzip bytes as {name}"),
        Judged::Html => format!("saved text/html as {name}"),
        Judged::Empty => format!("left an empty {name}"),
        Judged::OtherGif => format!("saved another image as {name}"),
        Judged::Other => format!("saved {} bytes that are not the flag as {name}", thousands(f.size)),
    }
}

/// The verdict of a run of `case` that `observed` describes.
pub fn verdict(case: &Case, o: &Observed) -> Verdict {
    use Grade::{Fail, Info, Pass};
    if o.hung {
        let rss = o.peak_rss_kib.map(|k| format!(", RSS {} MB", k / 1024)).unwrap_or_default();
        return Verdict::new(Fail, format!("hung: killed after {:.0} s{rss}", o.wall_ms as f64 / 1000.0));
    }
    if let Some(r) = o.server.requests.iter().find(|r| r.other && !r.credentials.is_empty()) {
        let field = r.credentials.join(" and ");
        return Verdict::new(Fail, format!("sent {field} to 127.0.0.1:{} (another host)", o.other_port));
    }
    if let Some(kib) = o.peak_rss_kib.filter(|k| *k > MEMORY_LIMIT_KIB) {
        return Verdict::new(
            Fail,
            format!("used {} MB of memory (more than {} MB)", kib / 1024, MEMORY_LIMIT_KIB / 1024),
        );
    }
    let status = match (o.exit, o.signal) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "no exit status".into(),
    };
    let saved: Vec<&str> = case
        .codes
        .iter()
        .copied()
        .filter(|cc| o.files.iter().any(|f| !f.leftover && f.judged == Judged::Flag { cc: cc.to_string() }))
        .collect();
    let wrong: Vec<&FileSeen> =
        o.files.iter().filter(|f| f.leftover || !matches!(f.judged, Judged::Flag { .. })).collect();
    let clean_exit = o.exit == Some(0);
    let all_saved = saved.len() == case.codes.len() && o.files.len() == saved.len();
    let nothing = o.files.is_empty();
    let as_sent = o.files.len() == 1 && o.files[0].judged == Judged::Gzip && !o.files[0].leftover;
    let worst = wrong.first().map(|f| describe(f));
    let refused = || format!("reported it ({status}), saved nothing");
    match case.expect {
        Expect::Saved => match () {
            _ if all_saved && clean_exit => Verdict::new(Pass, names(&o.files)),
            _ if all_saved => Verdict::new(Fail, format!("saved the flag, but {status}")),
            _ if worst.is_some() => Verdict::new(Fail, worst.unwrap_or_default()),
            _ if nothing && clean_exit => Verdict::new(Fail, "exit 0, but no file"),
            _ if nothing => Verdict::new(Fail, format!("no file ({status})")),
            _ => Verdict::new(Fail, format!("saved {} of {} flags ({status})", saved.len(), case.codes.len())),
        },
        Expect::NotSaved => match () {
            _ if nothing && !clean_exit => Verdict::new(Pass, refused()),
            _ if nothing => Verdict::new(Fail, "exit 0, but no file: the failure is not reported"),
            _ => Verdict::new(
                Fail,
                worst.unwrap_or_else(|| format!("{} from an answer it had to refuse ({status})", names(&o.files))),
            ),
        },
        Expect::NoFile => match () {
            _ if nothing => Verdict::new(Pass, format!("saved nothing ({status})")),
            _ => Verdict::new(
                Fail,
                worst.unwrap_or_else(|| format!("{} from an answer it had to refuse ({status})", names(&o.files))),
            ),
        },
        Expect::Either => match () {
            _ if all_saved && clean_exit => Verdict::new(Pass, names(&o.files)),
            _ if nothing && !clean_exit => Verdict::new(
                Pass,
                format!("gave up after {:.1} s ({status}), saved nothing", o.wall_ms as f64 / 1000.0),
            ),
            _ if nothing => Verdict::new(Fail, "exit 0, but no file"),
            _ => Verdict::new(Fail, worst.unwrap_or_else(|| format!("saved the flag, but {status}"))),
        },
        Expect::Choice { as_sent: allowed } => match () {
            _ if all_saved && clean_exit => Verdict::new(Info, format!("accepted: {}", names(&o.files))),
            _ if nothing && !clean_exit => Verdict::new(Info, format!("refused: {}", refused())),
            _ if allowed && as_sent && clean_exit => {
                Verdict::new(Info, format!("kept the bytes as sent: {}", describe(&o.files[0])))
            }
            _ if nothing => Verdict::new(Fail, "exit 0, but no file"),
            _ => Verdict::new(Fail, worst.unwrap_or_else(|| format!("saved the flag, but {status}"))),
        },
    }
}

/// "saved br.gif, fr.gif": the files that hold the case's flags.
fn names(files: &[FileSeen]) -> String {
    let names: Vec<&str> = files
        .iter()
        .filter(|f| !f.leftover && matches!(f.judged, Judged::Flag { .. }))
        .map(|f| f.name.as_str())
        .collect();
    format!("saved {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_judged_by_their_bytes() {
        let flag = Bytes::from_static(b"GIF89a-the-flag-;");
        let flags = [("br", flag.clone())];
        assert_eq!(judge(&flag, flag.len() as u64, &flags), Judged::Flag { cc: "br".into() });
        assert_eq!(judge(&flag[..5], 5, &flags), Judged::Partial { cc: "br".into(), of: flag.len() });
        assert_eq!(judge(b"", 0, &flags), Judged::Empty);
        assert_eq!(judge(b"\x1f\x8b\x08", 3, &flags), Judged::Gzip);
        assert_eq!(judge(b"  <!DOCTYPE html>", 17, &flags), Judged::Html);
        assert_eq!(judge(b"GIF89a other", 12, &flags), Judged::OtherGif);
        assert_eq!(judge(b"SSH-2.0", 7, &flags), Judged::Other);
        assert!(is_leftover("br.gif.part") && is_leftover("br.gif.aria2") && is_leftover(".br.gif.x1"));
        assert!(!is_leftover("br.gif") && !is_leftover("BR.gif"));
        assert_eq!(thousands(11623), "11 623");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1 000 000");
    }
}
