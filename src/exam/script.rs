//! The vocabulary of a case's behaviour: what a script is told of a
//! request ([`Ask`]) and what it answers ([`Reply`], a list of [`Step`]s
//! made of [`Part`]s). Data only: the stage sends it (`play.rs`).

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
        }
    }
}

/// The bytes of `cc`'s flag (Brazil's for a code the catalog lacks).
pub fn flag(cc: &str) -> Bytes {
    use crate::countries::{position, CountryCode};
    let index = CountryCode::new(cc).ok().and_then(position).or_else(|| position(CountryCode::of("BR")));
    crate::server::image::catalog_image(index.unwrap_or(0))
}

/// A piece of what the server sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Text, sent as its bytes.
    Text(String),
    /// These bytes of the requested flag (the range is clamped to it).
    Flag(Range<usize>),
    /// Other bytes, with a name for the listing.
    Bytes(Vec<u8>, &'static str),
}

impl Part {
    /// The whole flag.
    pub fn flag() -> Part {
        Part::Flag(0..usize::MAX)
    }
}

/// One thing the server does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Send(Vec<Part>),
    /// Send the parts in `pieces` equal pieces, `every` apart.
    Drip {
        parts: Vec<Part>,
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
pub fn render(parts: &[Part], flag: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Text(t) => out.extend_from_slice(t.as_bytes()),
            Part::Flag(r) => out.extend_from_slice(&flag[r.start.min(flag.len())..r.end.min(flag.len())]),
            Part::Bytes(b, _) => out.extend_from_slice(b),
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
        let parts = [Part::Text("A".into()), Part::Flag(0..3), Part::Bytes(vec![0, 1], "two"), Part::Flag(8..99)];
        assert_eq!(render(&parts, flag), b"AGIF\x00\x01.;");
        assert_eq!(code_in("/flags/BR/BR.gif"), "br");
        assert_eq!(code_in("/sorry.html"), "br");
    }
}
