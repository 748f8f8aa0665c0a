//! What a file a run left holds, judged by its bytes against the flags
//! this run's server sent (each run marks its flags, so a copy made
//! elsewhere is told apart), and where it was left: the run's folder, its
//! `TMPDIR` or its `HOME`.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Where a file was left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// The run's folder, where the flags go.
    #[default]
    Dir,
    /// The run's `TMPDIR`: whatever is left there is a leftover.
    Tmp,
    /// The run's `HOME`: a file that holds the download's bytes is a leftover.
    Home,
}

impl Place {
    /// `name` as the report shows it: `br.gif`, `$TMPDIR/x.part`, `~/.cache/x`.
    pub fn shown(self, name: &str) -> String {
        match self {
            Place::Dir => name.into(),
            Place::Tmp => format!("$TMPDIR/{name}"),
            Place::Home => format!("~/{name}"),
        }
    }
}

/// What a file left by a run holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "kebab-case")]
pub enum Judged {
    /// Exactly the flag this run sent for this code.
    Flag {
        cc: String,
    },
    /// This code's flag with more bytes after it.
    FlagPlus {
        cc: String,
        extra: u64,
    },
    /// The first bytes of this code's flag, of `of`.
    Partial {
        cc: String,
        of: usize,
    },
    /// This code's flag, but not the bytes this run sent: a copy made elsewhere.
    Stale {
        cc: String,
    },
    /// The flag, gzipped (a gzip body kept as sent).
    Gzip,
    Html,
    Empty,
    /// A GIF, but not one of the case's flags.
    OtherGif,
    Other,
}

impl Judged {
    /// True when the file holds bytes of a download (not a tool's own state).
    pub fn is_download(&self) -> bool {
        !matches!(self, Judged::Other | Judged::Empty)
    }
}

/// A file left by a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileSeen {
    /// Its path inside its place, as shown (`br.gif`, `$TMPDIR/x`).
    pub name: String,
    pub size: u64,
    pub judged: Judged,
    /// True for a temporary or state file, by its name or its place.
    pub leftover: bool,
    #[serde(default)]
    pub place: Place,
}

impl FileSeen {
    /// The code whose flag this file must hold, by its name: `BR.gif` and
    /// `br.gif` in the run's folder are Brazil's.
    pub fn named_for(&self) -> Option<String> {
        if self.place != Place::Dir || self.leftover {
            return None;
        }
        let base = self.name.rsplit('/').next().unwrap_or(&self.name).to_ascii_lowercase();
        let cc = base.strip_suffix(".gif")?;
        (cc.len() == 2 && cc.chars().all(|c| c.is_ascii_lowercase())).then(|| cc.to_string())
    }

    /// True when the file is the flag its name promises: this run's bytes.
    pub fn is_right(&self) -> bool {
        matches!((&self.judged, self.named_for()), (Judged::Flag { cc }, Some(named)) if *cc == named)
    }

    /// What is wrong with the file, in words.
    pub fn fault(&self) -> String {
        let (name, size) = (&self.name, thousands(self.size));
        let upper = |cc: &str| cc.to_ascii_uppercase();
        if self.leftover {
            return match &self.judged {
                Judged::Flag { cc } => format!("left {name}, a copy of {}'s flag", upper(cc)),
                _ => format!("left {name} ({size} bytes)"),
            };
        }
        match &self.judged {
            Judged::Flag { cc } => match self.named_for() {
                Some(_) => format!("{name} holds {}'s flag", upper(cc)),
                None => format!("saved {}'s flag as {name}, a name that is not its code's", upper(cc)),
            },
            Judged::FlagPlus { cc, extra } => {
                format!("{name} holds {}'s flag with {} bytes after it", upper(cc), thousands(*extra))
            }
            Judged::Partial { of, .. } => {
                format!("left a partial file {name} (the first {size} of {} bytes)", thousands(*of as u64))
            }
            Judged::Stale { cc } => format!("{name} holds a copy of {}'s flag that this run did not send", upper(cc)),
            Judged::Gzip => format!("saved the gzip bytes as {name}"),
            Judged::Html => format!("saved text/html as {name}"),
            Judged::Empty => format!("left an empty {name}"),
            Judged::OtherGif => format!("saved another image as {name}"),
            Judged::Other => format!("saved {size} bytes that are not the flag as {name}"),
        }
    }
}

/// Judges `bytes` (the first 64 KiB of a file of `size` bytes) against
/// the flags this run sent.
pub fn judge(bytes: &[u8], size: u64, flags: &[(&str, Bytes)]) -> Judged {
    if size == 0 {
        return Judged::Empty;
    }
    let whole = size as usize == bytes.len();
    for (cc, flag) in flags {
        if size as usize == flag.len() && bytes == &flag[..] {
            return Judged::Flag { cc: cc.to_string() };
        }
    }
    for (cc, flag) in flags {
        if size as usize > flag.len() && bytes.starts_with(flag) {
            return Judged::FlagPlus { cc: cc.to_string(), extra: size - flag.len() as u64 };
        }
        if (size as usize) < flag.len() && whole && flag.starts_with(bytes) {
            return Judged::Partial { cc: cc.to_string(), of: flag.len() };
        }
    }
    for (cc, flag) in flags {
        if whole && bytes.len() == flag.len() && same_but_the_mark(bytes, flag, cc) {
            return Judged::Stale { cc: cc.to_string() };
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

/// True when `a` and `cc`'s flag `b` differ only where a run writes its
/// mark (found in the catalog's unmarked drawing).
fn same_but_the_mark(a: &[u8], b: &[u8], cc: &str) -> bool {
    let Some(room) = crate::server::image::stamp_room(&super::script::flag(cc)) else { return false };
    a[..room.start] == b[..room.start] && a[room.end..] == b[room.end..]
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

/// True for a name that only a temporary or state file has.
pub fn is_leftover(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let temp = [".part", ".tmp", ".aria2", ".download", ".crdownload", ".partial", "~", ".incomplete"];
    base.starts_with('.') || temp.iter().any(|t| base.ends_with(t)) || base.contains(".tmp")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exam::script::{flag, Stamp};

    fn seen(name: &str, judged: Judged) -> FileSeen {
        FileSeen { name: name.into(), size: 11623, judged, leftover: is_leftover(name), place: Place::Dir }
    }

    #[test]
    fn files_are_judged_by_this_runs_bytes_and_their_names() {
        let stamp = Stamp::new();
        let (br, fr) = (stamp.flag("br"), stamp.flag("fr"));
        let flags = [("br", br.clone()), ("fr", fr.clone())];
        let n = br.len() as u64;
        assert_eq!(judge(&br, n, &flags), Judged::Flag { cc: "br".into() });
        assert_eq!(judge(&br[..5], 5, &flags), Judged::Partial { cc: "br".into(), of: br.len() });
        let longer = [&br[..], b"12345"].concat();
        assert_eq!(judge(&longer, n + 5, &flags), Judged::FlagPlus { cc: "br".into(), extra: 5 });
        assert_eq!(judge(&flag("br"), n, &flags), Judged::Stale { cc: "br".into() }, "the catalog's own drawing");
        assert_eq!(judge(&Stamp::new().flag("br"), n, &flags), Judged::Stale { cc: "br".into() });
        assert_eq!(judge(b"", 0, &flags), Judged::Empty);
        assert_eq!(judge(b"\x1f\x8b\x08", 3, &flags), Judged::Gzip);
        assert_eq!(judge(b"  <!DOCTYPE html>", 17, &flags), Judged::Html);
        assert_eq!(judge(b"GIF89a other", 12, &flags), Judged::OtherGif);
        assert_eq!(judge(b"SSH-2.0", 7, &flags), Judged::Other);

        assert!(seen("br.gif", Judged::Flag { cc: "br".into() }).is_right());
        assert!(seen("BR.gif", Judged::Flag { cc: "br".into() }).is_right());
        let swapped = seen("jp.gif", Judged::Flag { cc: "fr".into() });
        assert!(!swapped.is_right());
        assert_eq!(swapped.fault(), "jp.gif holds FR's flag");
        assert!(!seen("br.gif.1", Judged::Flag { cc: "br".into() }).is_right());
        assert!(is_leftover("br.gif.part") && is_leftover("br.gif.aria2") && is_leftover(".br.gif.x1"));
        assert!(!is_leftover("br.gif") && !is_leftover("BR.gif"));
        let tmp = FileSeen {
            place: Place::Tmp,
            leftover: true,
            ..seen("$TMPDIR/x", Judged::Partial { cc: "br".into(), of: 9 })
        };
        assert_eq!(tmp.named_for(), None);
        assert_eq!(Place::Tmp.shown("a/b"), "$TMPDIR/a/b");
    }
}
