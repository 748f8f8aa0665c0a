//! The client's policy: what it accepts from a server, decided here once
//! for every style and scheme. Each rule has a test in the hostile-server
//! suite (`tests/it/hostile_server.rs`) that runs all four styles.
//!
//! - **Statuses.** Only `200` carries a flag. `404` is "not found" (not an
//!   error). A redirect is not followed: it is an error naming its
//!   `Location`. Any other success (`204`, an unasked-for `206`) is an
//!   error, and so is every other status.
//! - **What a flag is.** A `200` whose body is a complete GIF: it starts
//!   with `GIF87a` or `GIF89a`, its blocks end with the trailer byte `0x3B`
//!   at its last byte ([`super::gif`] walks them), and it has exactly the
//!   announced length; anything else is an error that says
//!   what was wrong (`not a GIF (text/html)`). A `metadata.json` must be a
//!   JSON object with a string `country`.
//! - **Size.** A body may not pass `--max-size` (default [`DEFAULT_MAX_SIZE`],
//!   seven times the largest flag); one that announces more is refused
//!   before it is read.
//! - **Framing.** See [`super::wire`]: a body shorter than its
//!   `Content-Length` is truncated, a longer one is an error, and
//!   `Transfer-Encoding` with `Content-Length` is an error.
//! - **Stale connections.** A request that fails on a reused keep-alive
//!   connection before any byte of an answer arrived is sent once more, on
//!   a new connection, and that does not count as a retry: the server
//!   closed an idle connection as the request left, and a GET is
//!   idempotent (RFC 9110 §9.2.2). See [`resend`].
//! - **Retries** (`--retries`): only failures that may pass, see [`transient`].

use std::io;
use std::time::SystemTime;

use super::error::{ContentError, FetchError, StreamFailure};
use super::gif::{GifFault, GifWalk};
use super::text::peer_text;
use super::wire::{Framing, Head};

/// `--max-size`'s default: the largest flag is 36 KB.
pub const DEFAULT_MAX_SIZE: u64 = 256 << 10;

/// What a request asks for, and so what its body must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A flag image: a complete GIF.
    Gif,
    /// A `metadata.json`: an object with a string `country`.
    Metadata,
}

/// The most bytes a `metadata.json` may have; it is held in memory.
const MAX_METADATA: u64 = 64 << 10;

/// Decides what a response's head means: `Ok` to read its body as the
/// answer, or the error it is. `wall` is when it came, on the wall clock
/// (a `Retry-After` may be a date).
pub fn check_head(
    head: &Head,
    framing: Framing,
    want: Want,
    max_size: u64,
    wall: SystemTime,
) -> Result<(), FetchError> {
    let status = head.status;
    match status {
        200 => {}
        404 => return Err(FetchError::NotFound),
        300..=399 => return Err(FetchError::Redirect { status, location: head.all("location").next().map(peer_text) }),
        201..=299 => return Err(FetchError::Unexpected { status }),
        _ => {
            return Err(FetchError::Http {
                status,
                retry_after: head.get("retry-after").and_then(|v| parse_retry_after(v, wall)),
            })
        }
    }
    let limit = limit(want, max_size);
    match framing {
        Framing::Length(size) if size > limit => {
            Err(ContentError::Announced { size, limit: size_limit_name(want, limit) }.into())
        }
        _ => Ok(()),
    }
}

fn limit(want: Want, max_size: u64) -> u64 {
    match want {
        Want::Gif => max_size,
        Want::Metadata => max_size.min(MAX_METADATA),
    }
}

fn size_limit_name(want: Want, limit: u64) -> String {
    match want {
        Want::Gif => format!("--max-size ({})", human_size(limit)),
        Want::Metadata => format!("the metadata's limit ({})", human_size(limit)),
    }
}

/// `262144` -> `256 KiB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// `Retry-After` in seconds: a number (RFC 9110 §10.2.3: `1*DIGIT`; one
/// too large for 64 bits is as long as the largest, which the retry's cap
/// then bounds, not ignored), or an HTTP date, from `wall`.
fn parse_retry_after(value: &str, wall: SystemTime) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse().unwrap_or(u64::MAX));
    }
    httpdate::parse_http_date(value).ok().map(|when| when.duration_since(wall).map_or(0, |d| d.as_secs()))
}

/// What a body turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// A complete GIF of this many bytes.
    Gif(u64),
    /// The `country` of a `metadata.json`.
    Country(String),
}

/// Checks a body piece by piece as it streams, before each piece is kept.
#[derive(Debug)]
pub struct BodyCheck {
    want: Want,
    limit: u64,
    content_type: Option<String>,
    /// The first bytes, until the GIF signature can be checked.
    start: Vec<u8>,
    seen: u64,
    walk: GifWalk,
    /// A `metadata.json`, kept whole.
    json: Vec<u8>,
}

/// The GIF signatures (GIF87a and GIF89a).
const SIGNATURES: [&[u8; 6]; 2] = [b"GIF87a", b"GIF89a"];

impl BodyCheck {
    /// A check for the body of `head`, which asked for `want`.
    pub fn new(want: Want, head: &Head, max_size: u64) -> Self {
        let content_type = head.all("content-type").next().map(|t| {
            let kind = t.split(|&b| b == b';').next().unwrap_or(t);
            peer_text(kind.trim_ascii())
        });
        BodyCheck {
            want,
            limit: limit(want, max_size),
            content_type,
            start: Vec::new(),
            seen: 0,
            walk: GifWalk::default(),
            json: Vec::new(),
        }
    }

    /// Takes the next piece of the body; an error means: stop, this is not it.
    pub fn take(&mut self, piece: &[u8]) -> Result<(), FetchError> {
        if piece.is_empty() {
            return Ok(());
        }
        self.seen += piece.len() as u64;
        if self.seen > self.limit {
            return Err(ContentError::TooLong(size_limit_name(self.want, self.limit)).into());
        }
        if self.want == Want::Metadata {
            self.json.extend_from_slice(piece);
            return Ok(());
        }
        if self.start.len() < 6 {
            let need = 6 - self.start.len();
            self.start.extend_from_slice(&piece[..need.min(piece.len())]);
            if self.start.len() == 6 && !SIGNATURES.iter().any(|s| s[..] == self.start[..]) {
                return Err(self.not_a_gif());
            }
        }
        self.walk.take(piece).map_err(|fault| {
            let why = match fault {
                GifFault::UnknownBlock(b) => format!("a block starts with byte 0x{b:02X}"),
                GifFault::AfterTrailer => "bytes follow its trailer".into(),
            };
            ContentError::BadGif(why).into()
        })
    }

    fn not_a_gif(&self) -> FetchError {
        let what = match &self.content_type {
            Some(t) => t.clone(),
            None => format!("it starts with \"{}\"", peer_text(&self.start)),
        };
        ContentError::NotGif(what).into()
    }

    /// The body ended (its framing said so): what it was, or why it is not
    /// what was asked for.
    pub fn finish(self) -> Result<Checked, FetchError> {
        match self.want {
            Want::Gif if self.seen < 6 => Err(self.not_a_gif()),
            Want::Gif if !self.walk.complete() => Err(ContentError::NoTrailer.into()),
            Want::Gif => Ok(Checked::Gif(self.seen)),
            Want::Metadata => country(&self.json).map(Checked::Country),
        }
    }
}

/// The `country` of a `metadata.json` body.
fn country(body: &[u8]) -> Result<String, FetchError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| ContentError::NotJson {
        line: e.line(),
        column: e.column(),
        ended: e.is_eof(),
    })?;
    match value.get("country") {
        Some(serde_json::Value::String(name)) => Ok(name.clone()),
        _ => Err(ContentError::NoCountry.into()),
    }
}

/// How long requests may take, and how much a body may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole request, connection included.
    pub timeout: std::time::Duration,
    /// The longest wait for the next byte.
    pub stall: std::time::Duration,
    /// The largest body taken, in bytes (`--max-size`).
    pub max_size: u64,
}

impl Limits {
    /// `timeout` for both times, and the default size.
    pub fn new(timeout: std::time::Duration) -> Self {
        Limits { timeout, stall: timeout, max_size: DEFAULT_MAX_SIZE }
    }
}

/// Whether a request that failed with `error` is sent once more on a new
/// connection: only when its connection was `reused` from the pool and no
/// byte of an answer had arrived (`answered` is false). A timeout is not
/// resent: the server may be slow rather than gone.
pub fn resend(reused: bool, answered: bool, error: io::ErrorKind) -> bool {
    reused
        && !answered
        && matches!(
            error,
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::NotConnected
        )
}

/// How an HTTP/2 request goes once more ([`resend_h2`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// On a new connection: the server went away, and its connection is
    /// forgotten first.
    Elsewhere,
    /// As the next request would go: on the same connection while it takes
    /// streams, on a new one once it has closed.
    Routed,
}

/// Whether an HTTP/2 request that failed with `error` goes once more, and
/// how, on a connection that was `fresh` (opened for it) and is now
/// `closed` or not. The server went away before taking the stream, or
/// closed the connection as the request left (its idle timeout): on a new
/// connection. The stream was refused before it was processed (the server
/// takes fewer streams at once than were sent before its SETTINGS said
/// so): on the same connection. A reused connection that closed under the
/// request, for a reason other than a timeout: as routed, so on a new one.
pub fn resend_h2(error: &FetchError, fresh: bool, closed: bool) -> Option<Again> {
    match error {
        FetchError::Stream(StreamFailure::GoneAway) => Some(Again::Elsewhere),
        FetchError::Stream(StreamFailure::Refused) => Some(Again::Routed),
        e if !fresh && closed && !e.is_timeout() => Some(Again::Routed),
        _ => None,
    }
}

/// True for failures worth another try with `--retries`: timeouts, resets,
/// truncated bodies, and 429/500/502/503/504. Never 404 or another 4xx, a
/// redirect, a body that is not a flag, a broken answer, nor a refused
/// connection (nobody is there).
pub fn transient(error: &FetchError) -> bool {
    match error {
        FetchError::Http { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
        FetchError::Timeout { .. } | FetchError::Io(_) | FetchError::Stream(_) => true,
        FetchError::Wire(e) => e.cut_short(),
        FetchError::NotFound
        | FetchError::Redirect { .. }
        | FetchError::Unexpected { .. }
        | FetchError::Connect(_)
        | FetchError::Content(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(status: u16, fields: &[(&str, &str)]) -> Head {
        Head { status, minor: 1, fields: fields.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect() }
    }

    fn check(status: u16, fields: &[(&str, &str)]) -> Result<(), FetchError> {
        check_head(&head(status, fields), Framing::Length(10), Want::Gif, DEFAULT_MAX_SIZE, SystemTime::now())
    }

    #[test]
    fn only_200_is_a_flag() {
        assert!(check(200, &[]).is_ok());
        assert!(matches!(check(404, &[]), Err(FetchError::NotFound)));
        assert_eq!(
            check(302, &[("location", "http://evil:1/x.gif")]).unwrap_err().to_string(),
            "HTTP 302 - Found (redirect to http://evil:1/x.gif not followed)"
        );
        assert_eq!(check(204, &[]).unwrap_err().to_string(), "unexpected HTTP 204 - No Content");
        assert_eq!(check(206, &[]).unwrap_err().to_string(), "unexpected HTTP 206 - Partial Content");
        assert_eq!(
            check(503, &[("retry-after", "99999999999999999999999")]).unwrap_err().retry_after(),
            check(503, &[("retry-after", &u64::MAX.to_string())]).unwrap_err().retry_after(),
            "a number too large for 64 bits is the largest, as the largest is"
        );
        assert_eq!(check(503, &[("retry-after", "-1")]).unwrap_err().retry_after(), None);
        assert_eq!(
            check(503, &[("retry-after", "2")]).unwrap_err().retry_after(),
            Some(std::time::Duration::from_secs(2))
        );
        let big = check_head(&head(200, &[]), Framing::Length(1 << 30), Want::Gif, DEFAULT_MAX_SIZE, SystemTime::now());
        assert_eq!(big.unwrap_err().to_string(), "body of 1073741824 bytes is over --max-size (256 KiB)");
    }

    fn body(want: Want, fields: &[(&str, &str)], pieces: &[&[u8]]) -> Result<Checked, FetchError> {
        let mut c = BodyCheck::new(want, &head(200, fields), 100);
        for p in pieces {
            c.take(p)?;
        }
        c.finish()
    }

    #[test]
    fn a_flag_is_a_complete_gif() {
        // A 1x1 image: the head, one image block, the trailer.
        const MINI: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0\x3B";
        assert_eq!(body(Want::Gif, &[], &[&MINI[..2], &MINI[2..20], &MINI[20..]]).unwrap(), Checked::Gif(29));
        let old = [b"GIF87a", &MINI[6..]].concat();
        assert_eq!(body(Want::Gif, &[], &[&old]).unwrap(), Checked::Gif(29));
        // A trailer byte at the end of a body cut inside its blocks is not the trailer.
        assert!(body(Want::Gif, &[], &[b"GIF89a..;"]).unwrap_err().to_string().contains("trailer"));
        let after = [MINI, b"x"].concat();
        assert_eq!(
            body(Want::Gif, &[], &[&after]).unwrap_err().to_string(),
            "not a valid GIF (bytes follow its trailer)"
        );
        let html = body(Want::Gif, &[("content-type", "text/html; charset=utf-8")], &[b"<html>"]);
        assert_eq!(html.unwrap_err().to_string(), "not a GIF (text/html)");
        assert!(body(Want::Gif, &[], &[b"GIF89a.."]).unwrap_err().to_string().contains("trailer"));
        assert!(body(Want::Gif, &[], &[b"GIF"]).unwrap_err().to_string().contains("not a GIF"));
        assert!(body(Want::Gif, &[], &[]).unwrap_err().to_string().contains("not a GIF"));
        assert!(body(Want::Gif, &[], &[b"GIF89a", &[0; 100]]).unwrap_err().to_string().contains("--max-size"));
    }

    #[test]
    fn metadata_needs_a_string_country() {
        let brazil = body(Want::Metadata, &[], &[br#"{"country": "Bra"#, br#"zil"}"#]).unwrap();
        assert_eq!(brazil, Checked::Country("Brazil".into()));
        assert!(body(Want::Metadata, &[], &[b"<html>"]).unwrap_err().to_string().contains("not JSON"));
        assert!(body(Want::Metadata, &[], &[br#"{"country": 7}"#]).unwrap_err().to_string().contains("no string"));
    }

    #[test]
    fn resend_only_unanswered_failures_on_reused_connections() {
        let reset = io::ErrorKind::ConnectionReset;
        assert!(resend(true, false, reset));
        assert!(!resend(false, false, reset), "a new connection that fails is an answer");
        assert!(!resend(true, true, reset), "part of an answer arrived");
        assert!(!resend(true, false, io::ErrorKind::TimedOut));
    }

    #[test]
    fn what_is_worth_a_retry() {
        assert!(transient(&FetchError::Http { status: 503, retry_after: None }));
        assert!(!transient(&FetchError::Http { status: 418, retry_after: None }));
        assert!(!transient(&FetchError::NotFound));
        assert!(transient(&FetchError::Timeout { answered: false }));
        assert!(transient(&FetchError::Wire(crate::proto::wire::WireError::Short { expected: 3, got: 2 })));
        assert!(!transient(&ContentError::NoTrailer.into()));
        assert_eq!(human_size(DEFAULT_MAX_SIZE), "256 KiB");
    }
}
