//! HTTP/1.1 as the server speaks it, without I/O: what a buffer of request
//! bytes holds ([`parse`]), and the head of an answer with how its body is
//! framed ([`answer_head`]). The driver ([`super::conn`]) only moves bytes.
//!
//! The rules (RFC 9112):
//! - A head that does not parse is 400; one over the size limit, or with
//!   more fields than [`MAX_FIELDS`], is 431; either way the connection
//!   then closes.
//! - A request body is framed by `Transfer-Encoding: chunked` (which must
//!   be the last coding, §6.3) or by one agreed `Content-Length`; both at
//!   once is answered, and the connection closed after (§6.1).
//! - HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0
//!   only with `Connection: keep-alive`.
//! - An answer to HEAD, and a 204 or 304, has no body; a 204 has no
//!   `Content-Length` either (RFC 9110 §8.6). An answer of unknown length
//!   is chunked to an HTTP/1.1 client, and ends with the connection to an
//!   HTTP/1.0 one.

use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use hyper::{Method, Request, StatusCode, Version};

use crate::proto::syntax::reason_phrase;
use crate::proto::syntax::{agreed_length, has_token, keeps_alive};

/// The most fields a head may have before it is 431. One more than the
/// routes' own limit, so that they see, and refuse, a head just over it.
pub const MAX_FIELDS: usize = 101;

/// What follows a request's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    None,
    /// This many bytes.
    Length(u64),
    /// Chunks: the server does not read them, and closes after answering.
    Chunked,
}

/// A request head taken from the front of a buffer.
#[derive(Debug)]
pub struct Head {
    pub request: Request<()>,
    /// Its length in the buffer.
    pub len: usize,
    pub body: RequestBody,
    /// Whether the client lets the connection carry another request.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client may wait to send its body.
    pub expects_continue: bool,
}

/// What the front of a buffer holds.
#[derive(Debug)]
pub enum Parsed {
    /// Not a whole head yet: read more.
    Partial,
    Head(Box<Head>),
    /// A head that is refused with this status; the connection then closes.
    Refuse(StatusCode),
}

/// Reads the request head at the front of `buf`, at most `max_head` bytes.
pub fn parse(buf: &[u8], max_head: usize) -> Parsed {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut req = httparse::Request::new(&mut fields);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= max_head => len,
        Ok(httparse::Status::Partial) if buf.len() < max_head => return Parsed::Partial,
        Ok(_) | Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Refuse(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        }
        Err(_) => return Parsed::Refuse(StatusCode::BAD_REQUEST),
    };
    match build(&req) {
        Some((request, body)) => {
            let minor = u8::from(request.version() != Version::HTTP_10);
            let keep_alive = keeps_alive(minor, connection(request.headers())) && body != RequestBody::Chunked;
            let expects_continue = request
                .headers()
                .get(hyper::header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            Parsed::Head(Box::new(Head { request, len, body, keep_alive, expects_continue }))
        }
        None => Parsed::Refuse(StatusCode::BAD_REQUEST),
    }
}

/// The request and its body's framing, or `None` for a 400.
fn build(req: &httparse::Request<'_, '_>) -> Option<(Request<()>, RequestBody)> {
    let method = Method::from_bytes(req.method?.as_bytes()).ok()?;
    let uri: hyper::Uri = req.path?.parse().ok()?;
    let version = match req.version? {
        0 => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    for field in req.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).ok()?;
        headers.append(name, HeaderValue::from_bytes(field.value).ok()?);
    }
    let body = body_of(version, &headers)?;
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Some((request, body))
}

/// How the body after a head is framed, or `None` when it cannot be told.
fn body_of(version: Version, headers: &HeaderMap) -> Option<RequestBody> {
    let codings: Vec<&[u8]> = headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .collect();
    if !codings.is_empty() {
        let chunked_last = codings.last().is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"));
        return (version == Version::HTTP_11 && chunked_last).then_some(RequestBody::Chunked);
    }
    let length = agreed_length(headers.get_all(CONTENT_LENGTH).iter().map(HeaderValue::as_bytes)).ok()?;
    Some(match length {
        None | Some(0) => RequestBody::None,
        Some(n) => RequestBody::Length(n),
    })
}

/// `headers`' `Connection` values.
fn connection(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(CONNECTION).iter().map(HeaderValue::as_bytes)
}

/// How an answer's body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (HEAD, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunks, then the last chunk.
    Chunked,
    /// Bytes until the connection closes.
    UntilClose,
}

/// What the driver knows of the request an answer is for.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub head: bool,
    pub version: Version,
    /// The connection may carry another request after this answer.
    pub keep_alive: bool,
}

/// The bytes of an answer's head, and how its body is framed. Adds `Date`,
/// the framing header and `Connection` as needed; `asked.keep_alive` comes
/// back false when the connection must close after this answer.
pub fn answer_head(
    status: StatusCode,
    headers: &mut HeaderMap,
    asked: &mut Asked,
    date: &HeaderValue,
) -> (Vec<u8>, Framing) {
    let length = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let framing = if status == StatusCode::NO_CONTENT || status.is_informational() {
        headers.remove(CONTENT_LENGTH);
        headers.remove(TRANSFER_ENCODING);
        Framing::Empty
    } else if asked.head || status == StatusCode::NOT_MODIFIED {
        Framing::Empty
    } else if let Some(n) = length {
        Framing::Length(n)
    } else if asked.version == Version::HTTP_11 {
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        Framing::Chunked
    } else {
        asked.keep_alive = false;
        Framing::UntilClose
    };
    if has_token(connection(headers), b"close") {
        asked.keep_alive = false;
    }
    if !asked.keep_alive && !headers.contains_key(CONNECTION) {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    } else if asked.keep_alive && asked.version == Version::HTTP_10 {
        headers.insert(CONNECTION, HeaderValue::from_static("keep-alive"));
    }
    if !headers.contains_key(DATE) {
        headers.insert(DATE, date.clone());
    }
    // The book's phrases (`418 I'm a Teapot`), as the client shows them.
    let reason = reason_phrase(status.as_u16()).as_bytes();
    let size = 20 + reason.len() + headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers.iter() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    (out, framing)
}

/// The line before a chunk of `len` bytes.
pub fn chunk_line(len: usize) -> Vec<u8> {
    format!("{len:X}\r\n").into_bytes()
}

/// The last chunk, with no trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The whole answer to a refused head: no body, and the connection closes.
pub fn refusal(status: StatusCode, date: &HeaderValue) -> Vec<u8> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    let mut asked = Asked { head: false, version: Version::HTTP_11, keep_alive: false };
    answer_head(status, &mut headers, &mut asked, date).0
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

    fn head(bytes: &[u8]) -> Head {
        match parse(bytes, 32 << 10) {
            Parsed::Head(h) => *h,
            other => panic!("{other:?}"),
        }
    }

    fn refused(bytes: &[u8]) -> StatusCode {
        match parse(bytes, 1024) {
            Parsed::Refuse(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_head_is_taken_from_the_front_of_the_buffer() {
        let two = b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n";
        let h = head(two);
        assert_eq!(h.request.uri().path(), "/flags/br/br.gif");
        assert_eq!(h.request.headers()["host"], "x");
        assert_eq!(&two[h.len..], b"GET / HTTP/1.1\r\n");
        assert!(h.keep_alive);
        assert!(matches!(parse(&two[h.len..], 1024), Parsed::Partial));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection() {
        assert!(!head(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive);
        assert!(!head(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(head(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert!(!head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").keep_alive);
    }

    #[test]
    fn bodies_are_framed_or_refused() {
        assert_eq!(head(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").body, RequestBody::Length(5));
        assert_eq!(head(b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n").body, RequestBody::Length(5));
        assert_eq!(head(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").body, RequestBody::Chunked);
        assert_eq!(refused(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
        assert_eq!(refused(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(refused(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 400);
        assert_eq!(refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    }

    #[test]
    fn broken_and_oversized_heads_are_refused() {
        assert_eq!(refused(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
        assert_eq!(refused(b"GET / HTTP/3.0\r\n\r\n"), 400);
        assert_eq!(refused(&[b'a'; 1024]), 431);
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_FIELDS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(parse(&many, 32 << 10), Parsed::Refuse(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)));
    }

    fn answer(status: StatusCode, headers: &[(&'static str, &'static str)], asked: Asked) -> (String, Framing, bool) {
        let mut map = HeaderMap::new();
        for (n, v) in headers {
            map.insert(*n, HeaderValue::from_static(v));
        }
        let mut asked = asked;
        let (bytes, framing) = answer_head(status, &mut map, &mut asked, &HeaderValue::from_static(DATE));
        (String::from_utf8(bytes).unwrap(), framing, asked.keep_alive)
    }

    const GET11: Asked = Asked { head: false, version: Version::HTTP_11, keep_alive: true };

    #[test]
    fn an_answer_is_framed_by_its_length_by_chunks_or_by_the_close() {
        let (text, framing, keep) = answer(StatusCode::OK, &[("content-length", "7")], GET11);
        assert_eq!(text, format!("HTTP/1.1 200 OK\r\ncontent-length: 7\r\ndate: {DATE}\r\n\r\n"));
        assert_eq!((framing, keep), (Framing::Length(7), true));
        let (text, framing, _) = answer(StatusCode::OK, &[], GET11);
        assert!(text.contains("transfer-encoding: chunked\r\n"), "{text}");
        assert_eq!(framing, Framing::Chunked);
        let old = Asked { version: Version::HTTP_10, ..GET11 };
        let (text, framing, keep) = answer(StatusCode::OK, &[], old);
        assert!(text.contains("connection: close\r\n"), "{text}");
        assert_eq!((framing, keep), (Framing::UntilClose, false));
    }

    #[test]
    fn head_204_and_304_have_no_body() {
        let head = Asked { head: true, ..GET11 };
        let (text, framing, _) = answer(StatusCode::OK, &[("content-length", "7")], head);
        assert!(text.contains("content-length: 7"), "HEAD keeps the GET's length: {text}");
        assert_eq!(framing, Framing::Empty);
        let (text, framing, _) = answer(StatusCode::NO_CONTENT, &[("content-length", "0")], GET11);
        assert!(!text.contains("content-length"), "{text}");
        assert_eq!(framing, Framing::Empty);
        assert_eq!(answer(StatusCode::NOT_MODIFIED, &[], GET11).1, Framing::Empty);
    }

    #[test]
    fn a_close_is_announced_and_a_kept_http10_connection_too() {
        let closing = Asked { keep_alive: false, ..GET11 };
        assert!(answer(StatusCode::OK, &[("content-length", "1")], closing).0.contains("connection: close\r\n"));
        let (_, _, keep) = answer(StatusCode::OK, &[("content-length", "1"), ("connection", "close")], GET11);
        assert!(!keep, "the route asked for the close");
        let old = Asked { version: Version::HTTP_10, ..GET11 };
        assert!(answer(StatusCode::OK, &[("content-length", "1")], old).0.contains("connection: keep-alive\r\n"));
        assert!(String::from_utf8(refusal(StatusCode::BAD_REQUEST, &HeaderValue::from_static(DATE)))
            .unwrap()
            .starts_with("HTTP/1.1 400 Bad Request\r\n"));
    }
}
