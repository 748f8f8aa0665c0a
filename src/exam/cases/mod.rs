//! The catalog: every case the exam holds, in family order. Each family's
//! cases are in a file of their own; this module has the helpers their
//! scripts share, so that a script reads as the bytes it sends.

mod answers;
mod control;
mod framing;
mod kit;
mod transport;

use std::sync::OnceLock;

use super::case::{Case, CaseInfo, Serve};
use super::script::{Ask, Piece, Reply, Step};

/// Every case, in family order.
pub fn catalog() -> &'static [Case] {
    static CATALOG: OnceLock<Vec<Case>> = OnceLock::new();
    CATALOG.get_or_init(|| [control::cases(), framing::cases(), answers::cases(), transport::cases()].concat())
}

/// The controls: the cases every client runs first.
pub fn controls() -> impl Iterator<Item = &'static Case> {
    catalog().iter().filter(|c| c.family == super::case::Family::Control)
}

/// Describes what the server does for a case, step by step, with text
/// escaped and the flag's bytes named: the listing's "server" lines.
pub fn describe(case: &Case) -> Vec<String> {
    match case.serve {
        Serve::Plain(s) | Serve::Tls(_, s) | Serve::Backlog(s) => {
            let mut lines = Vec::new();
            if let Serve::Backlog(_) = case.serve {
                lines.push("the listen queue is full when the client connects; accepting starts 0.5 s later".into());
            }
            if let Serve::Tls(cert, _) = case.serve {
                lines.push(format!("TLS with the {} certificate", cert.name()));
            }
            // What each of the first requests gets; runs of the same answer
            // are told once ("requests 1-2"), and the last one holds on.
            let mut ask = Ask::example(case.codes[0]);
            let mut replies: Vec<(usize, usize, Reply)> = Vec::new();
            for nth in 0..4 {
                ask.nth = nth;
                ask.on_conn = nth;
                ask.since_first = std::time::Duration::from_secs(nth as u64 * 10);
                let reply = s(&ask);
                match replies.last_mut() {
                    Some((_, last, r)) if *r == reply => *last = nth,
                    _ => replies.push((nth, nth, reply)),
                }
            }
            let count = replies.len();
            for (i, (first, last, reply)) in replies.into_iter().enumerate() {
                let label = match (first == last, i + 1 == count) {
                    (_, true) if count == 1 => "every request".to_string(),
                    (_, true) => format!("request {} on", first + 1),
                    (true, false) => format!("request {}", first + 1),
                    (false, false) => format!("requests {}-{}", first + 1, last + 1),
                };
                lines.push(format!("{label}: {}", steps_text(&reply.0, ask.flag.len())));
            }
            if case.id.starts_with("redirect/other") {
                ask.other = true;
                lines.push(format!("on the other port: {}", steps_text(&s(&ask).0, ask.flag.len())));
            }
            lines
        }
        Serve::H2(flaw) => super::h2::frames(flaw),
        Serve::Refused => vec!["nothing listens on the port".into()],
    }
}

/// Steps in words, their text escaped (`\r\n` shown as written).
pub(crate) fn steps_text(steps: &[Step], flag_len: usize) -> String {
    let parts_text = |parts: &[Piece]| -> String {
        parts
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.escape_debug().to_string(),
                Piece::Flag(r) => {
                    let (a, b) = (r.start.min(flag_len), r.end.min(flag_len));
                    if a == 0 && b == flag_len {
                        format!("<the flag, {flag_len} bytes>")
                    } else {
                        format!("<bytes {a}..{b} of the flag's {flag_len}>")
                    }
                }
                Piece::Bytes(b, name) if b.len() <= 16 => format!("<{name}: {}>", hex(b)),
                Piece::Bytes(b, name) => format!("<{name}, {} bytes>", b.len()),
            })
            .collect()
    };
    let words: Vec<String> = steps
        .iter()
        .map(|s| match s {
            Step::Send(parts) => format!("\"{}\"", parts_text(parts)),
            Step::Drip { parts, pieces, every } => {
                format!("in {pieces} pieces {:.0} s apart: \"{}\"", every.as_secs_f64(), parts_text(parts))
            }
            Step::Endless { chunked: false } => "filler bytes without end (8 MB/s)".into(),
            Step::Endless { chunked: true } => "64 KiB chunks without end (8 MB/s)".into(),
            Step::EndlessHeaders => "1000-byte header lines without end (1 MB/s)".into(),
            Step::Pause(d) if d.as_millis() < 1000 => format!("pause {} ms", d.as_millis()),
            Step::Pause(d) => format!("pause {:.1} s", d.as_secs_f64()),
            Step::Close => "close".into(),
            Step::CloseNoNotify => "close without close_notify".into(),
            Step::Reset => "reset (RST)".into(),
            Step::Hold => "hold the connection open, silent".into(),
        })
        .collect();
    words.join(", then ")
}

/// Bytes as hex pairs: `00 00 01 14`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

impl Case {
    /// The case as the listing shows it.
    pub fn info(&self) -> CaseInfo {
        CaseInfo {
            id: self.id.into(),
            family: self.family,
            kind: self.kind,
            expect: self.expect,
            needs: self.needs,
            about: self.about.into(),
            why: self.why.into(),
            server: describe(self),
            codes: self.codes.iter().map(|cc| cc.to_string()).collect(),
        }
    }
}

/// Why `--cases` chose nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("no case named: give ids or patterns such as framing/*")]
    Empty,
    #[error("no case matches {0:?} (flags exam --list shows them)")]
    NoMatch(String),
}

/// The cases whose id matches one of the comma-separated patterns, where
/// `*` matches any run of characters (`framing/*,tls/*`).
pub fn select(patterns: &str) -> Result<Vec<&'static Case>, SelectError> {
    let patterns: Vec<&str> = patterns.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if patterns.is_empty() {
        return Err(SelectError::Empty);
    }
    let mut chosen = Vec::new();
    for p in &patterns {
        let before = chosen.len();
        for case in catalog() {
            if glob(p, case.id) && !chosen.iter().any(|c: &&Case| c.id == case.id) {
                chosen.push(case);
            }
        }
        if chosen.len() == before && !catalog().iter().any(|c| glob(p, c.id)) {
            return Err(SelectError::NoMatch(p.to_string()));
        }
    }
    Ok(chosen)
}

/// `*`-only glob matching.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|&i| tail.is_char_boundary(i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exam::case::Family;

    #[test]
    fn patterns_select_cases_once_each() {
        let framing = select("framing/*").unwrap();
        assert!(framing.len() >= 10 && framing.iter().all(|c| c.family == Family::Framing));
        let two = select("tls/*, tls/expired").unwrap();
        assert_eq!(two.len(), select("tls/*").unwrap().len());
        assert!(select("nope/*").unwrap_err().to_string().contains("nope/*"));
        assert!(select(" , ").is_err());
        assert!(glob("*", "a/b") && glob("a*b", "ab") && glob("a*b*c", "aXbYc") && !glob("a*b", "ba"));
    }

    #[test]
    fn the_listing_says_what_the_server_does() {
        let case = |id: &str| catalog().iter().find(|c| c.id == id).unwrap();
        let fail_twice = describe(case("status/fail-twice"));
        assert!(fail_twice[0].starts_with("requests 1-2: \"HTTP/1.1 500"), "{fail_twice:?}");
        assert!(fail_twice[1].starts_with("request 3 on: \"HTTP/1.1 200 OK"), "{fail_twice:?}");
        let garbage = describe(case("connection/garbage")).join(" ");
        assert!(garbage.contains("<binary: 00 00 01 14 0a 14 ff>"), "{garbage}");
        assert!(describe(case("control/http1"))[0].starts_with("every request: "));
        let pause = steps_text(&[Step::Pause(std::time::Duration::from_millis(50))], 0);
        assert_eq!(pause, "pause 50 ms");
    }

    #[test]
    fn the_catalog_is_well_formed() {
        let all = catalog();
        assert!(all.len() >= 40, "{} cases", all.len());
        let families: std::collections::BTreeSet<&str> = all.iter().map(|c| c.family.name()).collect();
        assert!(families.len() >= 8);
        for (i, case) in all.iter().enumerate() {
            let (family, name) = case.id.split_once('/').expect("family/name");
            assert_eq!(family, case.family.name(), "{}", case.id);
            assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert!(all[..i].iter().all(|c| c.id != case.id), "{} twice", case.id);
            assert!(!case.about.is_empty() && !case.why.is_empty(), "{}", case.id);
            assert!(!case.codes.is_empty());
            assert_eq!(case.needs.several, case.codes.len() > 1, "{}", case.id);
        }
    }
}
