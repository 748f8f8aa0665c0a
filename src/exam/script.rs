//! The vocabulary of a case's behaviour: what a script is told of a
//! request ([`Ask`]) and what it answers ([`Reply`], a list of [`Step`]s
//! made of [`Piece`]s). Data only: the stage sends it (`play.rs`).

use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;

/// What a script knows of the request it answers.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The request target.
    pub path: String,
    /// The code in the target (`/flags/br/br.gif` -> `br`), or `br`.
    pub cc: String,
    /// The flag of that code, as the embedded server draws it.
    pub flag: Bytes,
    /// Requests this stage's main port answered before this one.
    pub nth: usize,
    /// Requests answered before on this connection.
    pub on_conn: usize,
    /// Time since the first request of the run.
    pub since_first: Duration,
    /// True when the request came to the other port (the "other host").
    pub other: bool,
    /// The main port and the other one.
    pub port: u16,
    pub other_port: u16,
    /// The run's mark, for the other flags a script sends.
    pub stamp: Stamp,
    /// The wall clock's time of the request (a fixed one when describing a
    /// case, so that its description does not change from run to run).
    pub now: std::time::SystemTime,
}

impl Ask {
    /// A request for `cc`'s flag, the first of its run, for describing a case.
    pub fn example(cc: &str) -> Ask {
        Ask {
            path: format!("/flags/{cc}/{cc}.gif"),
            cc: cc.into(),
            flag: flag(cc),
            nth: 0,
            on_conn: 0,
            since_first: Duration::ZERO,
            other: false,
            port: 8000,
            other_port: 8001,
            stamp: Stamp::none(),
            // 2026-01-01: any fixed moment will do.
            now: std::time::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
        }
    }
}

/// The mark of one run: every flag the run serves carries it in its GIF
/// comment, so that a file holds this run's flag only if the client
/// downloaded it in this run (a copy made elsewhere, or the catalog's own
/// drawing, has other bytes). Same size, still a valid GIF. It is written
/// as its text (empty for none): a scenario's record carries the mark its
/// flags had, so that a verdict given later judges the files by the same
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Stamp(Vec<u8>);

impl From<String> for Stamp {
    fn from(mark: String) -> Stamp {
        Stamp(mark.into_bytes())
    }
}

impl From<Stamp> for String {
    fn from(stamp: Stamp) -> String {
        String::from_utf8_lossy(&stamp.0).into_owned()
    }
}

impl Stamp {
    /// A new, unpredictable mark.
    pub fn new() -> Stamp {
        Stamp(format!("exam run {:016x}; ", unpredictable()).into_bytes())
    }

    /// No mark: the catalog's drawings as they are (for the listing).
    pub fn none() -> Stamp {
        Stamp(Vec::new())
    }

    /// `cc`'s flag with this mark (Brazil's for a code the catalog lacks).
    pub fn flag(&self, cc: &str) -> Bytes {
        let plain = flag(cc);
        match self.0.is_empty() {
            true => plain,
            false => crate::server::image::stamped(&plain, &self.0).unwrap_or(plain),
        }
    }
}

/// A number a client cannot guess: the exam's marks, folder names and run
/// order use it, so that nothing a client can see tells one run from
/// another but what its server does.
pub fn unpredictable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS per process; the count and the
    // clock make each number of a process differ.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.finish()
}

impl Default for Stamp {
    fn default() -> Stamp {
        Stamp::new()
    }
}

/// The bytes of `cc`'s flag as the catalog draws it, unmarked (Brazil's
/// for a code the catalog lacks).
pub fn flag(cc: &str) -> Bytes {
    use crate::countries::{position, CountryCode};
    let index = CountryCode::new(cc).ok().and_then(position).or_else(|| position(CountryCode::of("BR")));
    crate::server::image::catalog_image(index.unwrap_or(0))
}

/// A piece of what the server sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Text, sent as its bytes.
    Text(String),
    /// These bytes of the requested flag (the range is clamped to it).
    Flag(Range<usize>),
    /// Other bytes, with a name for the listing.
    Bytes(Vec<u8>, &'static str),
}

impl Piece {
    /// The whole flag.
    pub fn flag() -> Piece {
        Piece::Flag(0..usize::MAX)
    }
}

/// One thing the server does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Send(Vec<Piece>),
    /// Send the parts in `pieces` equal pieces, `every` apart.
    Drip {
        parts: Vec<Piece>,
        pieces: usize,
        every: Duration,
    },
    /// Filler bytes forever (or chunks of them), at 8 MB/s.
    Endless {
        chunked: bool,
    },
    /// Header lines forever, at 1 MB/s.
    EndlessHeaders,
    Pause(Duration),
    /// Close: TLS's close_notify, then FIN.
    Close,
    /// FIN without TLS's close_notify.
    CloseNoNotify,
    /// A TCP reset (SO_LINGER 0).
    Reset,
    /// Keep the connection open and silent until the run ends.
    Hold,
}

/// The answer to one request. After the last step the connection reads
/// the next request, unless a step ended it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply(pub Vec<Step>);

/// A case's behaviour: the answer to each request.
pub type Script = fn(&Ask) -> Reply;

/// The bytes of `parts`, with `flag` for the flag's parts.
pub fn render(parts: &[Piece], flag: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Piece::Text(t) => out.extend_from_slice(t.as_bytes()),
            Piece::Flag(r) => out.extend_from_slice(&flag[r.start.min(flag.len())..r.end.min(flag.len())]),
            Piece::Bytes(b, _) => out.extend_from_slice(b),
        }
    }
    out
}

/// The code in a flag's path: `/flags/br/br.gif` -> `br`; else `br`.
pub(super) fn code_in(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or("");
    match name.split_once('.') {
        Some((cc, _)) if cc.len() == 2 && cc.chars().all(|c| c.is_ascii_alphabetic()) => cc.to_ascii_lowercase(),
        _ => "br".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_render_with_the_flag() {
        let flag = b"GIF89a...;";
        let parts = [Piece::Text("A".into()), Piece::Flag(0..3), Piece::Bytes(vec![0, 1], "two"), Piece::Flag(8..99)];
        assert_eq!(render(&parts, flag), b"AGIF\x00\x01.;");
        assert_eq!(code_in("/flags/BR/BR.gif"), "br");
        assert_eq!(code_in("/sorry.html"), "br");
    }

    #[test]
    fn each_run_serves_flags_of_its_own_of_the_same_size() {
        let (a, b) = (Stamp::new(), Stamp::new());
        for cc in ["br", "fr", "jp", "us", "mc", "de"] {
            let (plain, x, y) = (flag(cc), a.flag(cc), b.flag(cc));
            assert_eq!((x.len(), y.len()), (plain.len(), plain.len()), "{cc}");
            assert!(x != plain && y != plain && x != y, "{cc}: the marks differ");
            let frame = gif::DecodeOptions::new().read_info(&x[..]).unwrap().read_next_frame().unwrap().is_some();
            assert!(frame && x.ends_with(b";"), "{cc}: still a GIF");
        }
        assert_eq!(Stamp::none().flag("br"), flag("br"));
    }
}
