//! What the family files build their cases with: a case for one flag,
//! the needs a case may have, and the pieces of an answer, so that a
//! script reads as the bytes it sends.

use crate::exam::case::{Case, Expect, Family, Kind, Needs, Serve};
use crate::exam::script::{Ask, Piece, Reply, Step};

/// The one flag most cases ask for.
pub(super) const BR: &[&str] = &["br"];
/// The codes of the cases about a connection used for several requests.
pub(super) const THREE: &[&str] = &["br", "fr", "jp"];

/// A case for one flag, needing nothing special.
pub(super) fn case(
    id: &'static str,
    kind: Kind,
    expect: Expect,
    serve: Serve,
    about: &'static str,
    why: &'static str,
) -> Case {
    let family = match id.split_once('/').map(|(f, _)| f) {
        Some("control") => Family::Control,
        Some("framing") => Family::Framing,
        Some("status") => Family::Status,
        Some("content") => Family::Content,
        Some("size") => Family::Size,
        Some("time") => Family::Time,
        Some("connection") => Family::Connection,
        Some("redirect") => Family::Redirect,
        Some("tls") => Family::Tls,
        _ => Family::Http2,
    };
    Case { id, family, kind, about, why, expect, needs: Needs::NOTHING, codes: BR, serve, credentials: false }
}

impl Case {
    pub(super) fn needing(mut self, needs: Needs) -> Case {
        self.needs = needs;
        if needs.several {
            self.codes = THREE;
        }
        self
    }
}

pub(super) const RETRIES: Needs = Needs { retries: true, ..Needs::NOTHING };
pub(super) const SEVERAL: Needs = Needs { several: true, ..Needs::NOTHING };
pub(super) const TLS: Needs = Needs { tls: true, ..Needs::NOTHING };
pub(super) const H2: Needs = Needs { h2: true, ..Needs::NOTHING };

pub(super) fn text(s: impl Into<String>) -> Piece {
    Piece::Text(s.into())
}

/// A response head: the status line, the fields, the blank line.
pub(super) fn head(status: &str, fields: &[(&str, String)]) -> Piece {
    let mut s = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in fields {
        s.push_str(&format!("{name}: {value}\r\n"));
    }
    s.push_str("\r\n");
    Piece::Text(s)
}

/// The fields of an honest GIF answer of `len` bytes.
pub(super) fn gif_fields(len: usize) -> Vec<(&'static str, String)> {
    vec![("Content-Type", "image/gif".into()), ("Content-Length", len.to_string())]
}

pub(super) fn send(parts: Vec<Piece>) -> Step {
    Step::Send(parts)
}

/// The correct answer: 200, the flag, the connection kept.
pub(super) fn ok(a: &Ask) -> Reply {
    Reply(vec![send(vec![head("200 OK", &gif_fields(a.flag.len())), Piece::flag()])])
}

/// A small page answered with `status`.
pub(super) fn page(status: &str, html: &str) -> Vec<Piece> {
    let fields = [("Content-Type", "text/html; charset=utf-8".to_string()), ("Content-Length", html.len().to_string())];
    vec![head(status, &fields), text(html)]
}

/// A chunk of the flag's bytes `from..to`, framed (RFC 9112 §7.1).
pub(super) fn chunk(from: usize, to: usize, ext: &str) -> Vec<Piece> {
    vec![text(format!("{:x}{ext}\r\n", to - from)), Piece::Flag(from..to), text("\r\n")]
}
