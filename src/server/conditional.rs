//! What a static file server owes its clients beyond the bytes (RFC 9110
//! §13 and §14): `ETag` and `If-None-Match`, `Last-Modified` and
//! `If-Modified-Since` (304), and single byte ranges (`Range: bytes=...`,
//! 206 or 416, `If-Range`). Multiple ranges are answered with the whole
//! file, which RFC 9110 allows; a `Range` or `If-None-Match` that does not
//! follow the grammar is ignored, as if it had not been sent.

use std::time::SystemTime;

use hyper::header::{HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, RANGE};

/// What the server knows about a file, with its header values made once.
#[derive(Debug, Clone)]
pub struct Validators {
    /// A strong entity tag, quotes included.
    pub etag: String,
    pub last_modified: SystemTime,
    /// `etag` as a header value.
    pub etag_value: HeaderValue,
    /// `Last-Modified` as a header value.
    pub last_modified_value: HeaderValue,
}

impl Validators {
    /// Validators for a file of `len` bytes last changed at `modified`,
    /// whose content is fixed by `identity` (a catalog image: its code and
    /// this program's version) or, when `None`, by its modification time
    /// and length (a file on disk, as nginx tags them). Cheap: nothing is hashed.
    pub fn new(identity: Option<&str>, len: usize, modified: SystemTime) -> Self {
        let etag = match identity {
            Some(id) => format!("\"{id}-{len:x}\""),
            None => {
                let secs = modified.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                format!("\"{secs:x}-{len:x}\"")
            }
        };
        let date = httpdate::fmt_http_date(modified);
        Validators {
            etag_value: HeaderValue::from_str(&etag).expect("an entity tag is visible ASCII"),
            last_modified_value: HeaderValue::from_str(&date).expect("an HTTP date is ASCII"),
            etag,
            last_modified: modified,
        }
    }

    /// `Last-Modified` as an HTTP date.
    pub fn http_date(&self) -> String {
        httpdate::fmt_http_date(self.last_modified)
    }
}

/// How to answer a GET for a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 with the whole file.
    Whole,
    /// 304: the client's copy is current.
    NotModified,
    /// 206 with bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// 416: no byte of the range exists.
    Unsatisfiable,
}

/// Decides the answer from the request headers.
pub fn answer(headers: &HeaderMap, v: &Validators, len: u64) -> Answer {
    let header = |name| headers.get(name).and_then(|h: &HeaderValue| h.to_str().ok());
    match header(IF_NONE_MATCH).and_then(entity_tags) {
        Some(Tags::Any) => return Answer::NotModified,
        // Weak comparison: `W/"x"` matches `"x"`.
        Some(Tags::List(tags)) => {
            if tags.iter().any(|t| t.opaque == v.etag) {
                return Answer::NotModified;
            }
        }
        None => {
            if let Some(since) = header(IF_MODIFIED_SINCE).and_then(|d| httpdate::parse_http_date(d).ok()) {
                // HTTP dates have whole seconds.
                if httpdate::parse_http_date(&v.http_date()).is_ok_and(|ours| ours <= since) {
                    return Answer::NotModified;
                }
            }
        }
    }
    let Some(range) = header(RANGE) else { return Answer::Whole };
    if let Some(cond) = header(IF_RANGE) {
        // Strong comparison only: a weak tag never matches here.
        let same_tag = cond.starts_with('"') && cond == v.etag;
        if !same_tag && cond != v.http_date() {
            return Answer::Whole;
        }
    }
    parse_range(range, len)
}

/// An entity tag from a request: its quoted part and whether it was weak.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag<'a> {
    /// The tag with its quotes, as our `ETag` header writes it.
    opaque: &'a str,
    weak: bool,
}

/// The value of `If-None-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tags<'a> {
    Any,
    List(Vec<Tag<'a>>),
}

/// Parses `"*"` or a comma-separated list of entity tags
/// (`entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`); `None` if the value does
/// not follow that grammar.
fn entity_tags(value: &str) -> Option<Tags<'_>> {
    if value.trim() == "*" {
        return Some(Tags::Any);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let body = quoted.strip_prefix('"')?;
        let close = body.find('"')?;
        // etagc: 0x21, 0x23-0x7E, or obs-text (not ASCII).
        if !body[..close].bytes().all(|b| b == 0x21 || (0x23..=0x7E).contains(&b) || b >= 0x80) {
            return None;
        }
        tags.push(Tag { opaque: &quoted[..close + 2], weak });
        rest = &body[close + 1..];
        let after = rest.trim_start_matches([' ', '\t']);
        if !(after.is_empty() || after.starts_with(',')) {
            return None;
        }
    }
    (!tags.is_empty()).then_some(Tags::List(tags))
}

/// A number of one or more ASCII digits (no sign, no spaces inside).
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One `bytes=` range: `a-b`, `a-` or `-n`. Anything else is ignored.
fn parse_range(spec: &str, len: u64) -> Answer {
    let Some((unit, set)) = spec.split_once('=') else { return Answer::Whole };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return Answer::Whole;
    }
    let Some((a, b)) = set.trim().split_once('-') else { return Answer::Whole };
    let (start, end) = match (a.is_empty(), b.is_empty()) {
        // `-n`: the last n bytes.
        (true, false) => match digits(b) {
            Some(0) => return Answer::Unsatisfiable,
            Some(n) => (len.saturating_sub(n), len.saturating_sub(1)),
            None => return Answer::Whole,
        },
        // `a-`: from a to the end.
        (false, true) => match digits(a) {
            Some(s) => (s, len.saturating_sub(1)),
            None => return Answer::Whole,
        },
        (false, false) => match (digits(a), digits(b)) {
            (Some(s), Some(e)) if s <= e => (s, e.min(len.saturating_sub(1))),
            _ => return Answer::Whole,
        },
        (true, true) => return Answer::Whole,
    };
    if len == 0 || start >= len {
        Answer::Unsatisfiable
    } else {
        Answer::Part { start, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: hyper::header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Answer::Part { start: 0, end: 9 });
        assert_eq!(parse_range("bytes=90-", 100), Answer::Part { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=-10", 100), Answer::Part { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=50-500", 100), Answer::Part { start: 50, end: 99 });
        assert_eq!(parse_range("Bytes=0-0", 100), Answer::Part { start: 0, end: 0 });
        assert_eq!(parse_range("bytes=100-", 100), Answer::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Answer::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Answer::Whole);
        assert_eq!(parse_range("lines=1-2", 100), Answer::Whole);
    }

    #[test]
    fn ranges_that_break_the_grammar_are_ignored() {
        for bad in ["bytes=+1-2", "bytes=-+5", "bytes=1-+2", "bytes= 1 - 2x", "bytes=-", "bytes=5-1", "bytes=a-b"] {
            assert_eq!(parse_range(bad, 100), Answer::Whole, "{bad}");
        }
        assert_eq!(parse_range("bytes=99999999999999999999999-", 100), Answer::Whole);
    }

    #[test]
    fn entity_tags_follow_the_grammar() {
        assert_eq!(entity_tags("*"), Some(Tags::Any));
        let tags = entity_tags(r#""a", W/"b" ,"c,d""#).unwrap();
        let Tags::List(list) = tags else { panic!() };
        assert_eq!(
            list.iter().map(|t| (t.opaque, t.weak)).collect::<Vec<_>>(),
            [("\"a\"", false), ("\"b\"", true), ("\"c,d\"", false)]
        );
        for bad in [r#"W/W/"x""#, "x", r#""x"#, r#""x"y"#, r#"w/"x""#, r#""a b""#, ""] {
            assert_eq!(entity_tags(bad), None, "{bad}");
        }
    }

    #[test]
    fn validators_give_304() {
        let v = Validators::new(None, 4, SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_424_716_800));
        assert_eq!(v.etag, "\"54eb7400-4\"");
        assert_eq!(Validators::new(Some("br-v1"), 11_623, SystemTime::UNIX_EPOCH).etag, "\"br-v1-2d67\"");
        assert_eq!(answer(&with(IF_NONE_MATCH, &v.etag), &v, 4), Answer::NotModified);
        assert_eq!(answer(&with(IF_NONE_MATCH, &format!("W/{}", v.etag)), &v, 4), Answer::NotModified);
        assert_eq!(answer(&with(IF_NONE_MATCH, &format!("W/W/{}", v.etag)), &v, 4), Answer::Whole);
        assert_eq!(answer(&with(IF_NONE_MATCH, "\"other\""), &v, 4), Answer::Whole);
        assert_eq!(answer(&with(IF_MODIFIED_SINCE, &v.http_date()), &v, 4), Answer::NotModified);
        assert_eq!(answer(&with(IF_MODIFIED_SINCE, "Thu, 01 Jan 2015 00:00:00 GMT"), &v, 4), Answer::Whole);
        let mut h = with(RANGE, "bytes=0-1");
        h.insert(IF_RANGE, HeaderValue::from_str(&format!("W/{}", v.etag)).unwrap());
        assert_eq!(answer(&h, &v, 4), Answer::Whole, "a weak If-Range never matches");
        h.insert(IF_RANGE, HeaderValue::from_str(&v.etag).unwrap());
        assert_eq!(answer(&h, &v, 4), Answer::Part { start: 0, end: 1 });
    }
}
