//! What a static file server owes its clients beyond the bytes: `ETag` and
//! `If-None-Match`, `Last-Modified` and `If-Modified-Since` (304), and
//! single byte ranges (`Range: bytes=...`, 206 or 416). Multiple ranges are
//! answered with the whole file, which RFC 9110 allows.

use std::time::SystemTime;

use hyper::header::{HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, RANGE};

/// What the server knows about a file.
#[derive(Debug, Clone)]
pub struct Validators {
    /// A strong entity tag, quotes included.
    pub etag: String,
    pub last_modified: SystemTime,
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
        Validators { etag, last_modified: modified }
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
    let header = |name| headers.get(name).and_then(|h: &hyper::header::HeaderValue| h.to_str().ok());
    if let Some(tags) = header(IF_NONE_MATCH) {
        if tags.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == v.etag) {
            return Answer::NotModified;
        }
    } else if let Some(since) = header(IF_MODIFIED_SINCE).and_then(|d| httpdate::parse_http_date(d).ok()) {
        // HTTP dates have whole seconds.
        if httpdate::parse_http_date(&v.http_date()).is_ok_and(|ours| ours <= since) {
            return Answer::NotModified;
        }
    }
    let Some(range) = header(RANGE) else { return Answer::Whole };
    if let Some(cond) = header(IF_RANGE) {
        if cond != v.etag && cond != v.http_date() {
            return Answer::Whole;
        }
    }
    parse_range(range, len)
}

/// One `bytes=` range: `a-b`, `a-` or `-n`.
fn parse_range(spec: &str, len: u64) -> Answer {
    let Some(set) = spec.trim().strip_prefix("bytes=") else { return Answer::Whole };
    if set.contains(',') {
        return Answer::Whole;
    }
    let Some((a, b)) = set.trim().split_once('-') else { return Answer::Whole };
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => (s, e.min(len.saturating_sub(1))),
        (Ok(s), Err(_)) if b.is_empty() => (s, len.saturating_sub(1)),
        (Err(_), Ok(n)) if a.is_empty() => {
            if n == 0 {
                return Answer::Unsatisfiable;
            }
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        _ => return Answer::Whole,
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
    use hyper::header::HeaderValue;

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
        assert_eq!(parse_range("bytes=100-", 100), Answer::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Answer::Whole);
        assert_eq!(parse_range("lines=1-2", 100), Answer::Whole);
    }

    #[test]
    fn validators_give_304() {
        let v = Validators::new(None, 4, SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_424_716_800));
        assert_eq!(v.etag, "\"54eb7400-4\"");
        assert_eq!(Validators::new(Some("br-v1"), 11_623, SystemTime::UNIX_EPOCH).etag, "\"br-v1-2d67\"");
        assert_eq!(answer(&with(IF_NONE_MATCH, &v.etag), &v, 4), Answer::NotModified);
        assert_eq!(answer(&with(IF_NONE_MATCH, "\"other\""), &v, 4), Answer::Whole);
        assert_eq!(answer(&with(IF_MODIFIED_SINCE, &v.http_date()), &v, 4), Answer::NotModified);
        assert_eq!(answer(&with(IF_MODIFIED_SINCE, "Thu, 01 Jan 2015 00:00:00 GMT"), &v, 4), Answer::Whole);
    }
}
