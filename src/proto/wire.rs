//! The client's HTTP/1.1 on the wire, without I/O: the bytes of a GET, and
//! a [`Reader`] that turns the bytes of a response, as they arrive, into a
//! head and the body's data. Both clients, blocking and async, drive the
//! same reader, so they frame every response alike. The rules the server
//! reads requests by too (keep-alive, `Content-Length`) are
//! `super::syntax`'s.
//!
//! Heads are parsed by `httparse`. Framing follows RFC 9112 §6.3, in
//! [`framing`]: no body for 1xx, 204 and 304; a `Transfer-Encoding` whose
//! only coding is `chunked` means a chunked body; otherwise one agreed
//! `Content-Length`; otherwise the body runs to the end of the connection.
//! A response with both `Transfer-Encoding` and `Content-Length` is an
//! error (§6.3 says it "ought to be handled as an error"; it is how
//! response splitting looks), and so is any other transfer coding.

use std::fmt::Write as _;

use super::syntax::{agreed_length, keeps_alive, BadLength};
use super::text::peer_text;
use crate::ident::PRODUCT;

/// The most header fields a response may have.
pub const MAX_FIELDS: usize = 100;

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum WireError {
    /// The head did not fit in the limit.
    #[error("response header over {} KiB", .0 >> 10)]
    HeadTooLarge(usize),
    /// The head is not HTTP.
    #[error("malformed response header ({0})")]
    BadHead(BadHead),
    /// The framing headers contradict each other or are invalid.
    #[error("{0}")]
    BadFraming(String),
    /// A chunked body broke its grammar.
    #[error("malformed chunked body ({0})")]
    BadChunk(BadChunk),
    /// The connection ended inside the head.
    #[error("connection closed in the middle of the response header")]
    ClosedInHead,
    /// The connection ended before a `Content-Length` body was complete.
    #[error("body is {got} bytes, Content-Length said {expected}")]
    Short { expected: u64, got: u64 },
    /// The connection ended inside a chunked body.
    #[error("connection closed before the chunked body ended")]
    ClosedInChunks,
    /// Bytes followed an answer whose end was known: the server sent more
    /// than it announced.
    #[error("{}", match .0 {
        Framing::Chunked => "bytes after the end of the chunked body",
        Framing::Empty => "a body where the status allows none",
        _ => "body longer than its Content-Length",
    })]
    Overrun(Framing),
    /// Bytes were waiting on the connection before the request was written:
    /// they answer nothing that was asked.
    #[error("the server sent bytes before the request was written (not an answer to it)")]
    Unasked,
    /// Over TLS, a body that runs to the close ended in a close without
    /// close_notify: it may have been cut short (RFC 9112 §9.8).
    #[error("the TLS connection closed without close_notify, so the body may be cut short")]
    NoCloseNotify,
    /// HTTP/2 only: the body's frames did not add up to its
    /// `Content-Length`, and the HTTP/2 layer refused the frame that showed
    /// it without saying whether it went past the length or ended short.
    #[error("body does not match its Content-Length")]
    Mismatch,
}

/// What is wrong with a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum BadChunk {
    #[error("size")]
    Size,
    #[error("no CRLF after a chunk")]
    NoCrlf,
    #[error("line too long")]
    LongLine,
}

/// What is wrong with a response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum BadHead {
    #[error("invalid header name")]
    HeaderName,
    #[error("invalid header value")]
    HeaderValue,
    #[error("invalid new line")]
    NewLine,
    #[error("invalid response status")]
    Status,
    #[error("invalid token")]
    Token,
    #[error("invalid HTTP version")]
    Version,
    #[error("more than {MAX_FIELDS} header fields")]
    TooManyFields,
    #[error("101 Switching Protocols to a GET")]
    Switching,
    /// Over HTTP/2, the framing layer refused the head.
    #[error("HTTP/2 protocol error")]
    Http2,
}

impl From<httparse::Error> for BadHead {
    fn from(e: httparse::Error) -> Self {
        match e {
            httparse::Error::HeaderName => BadHead::HeaderName,
            httparse::Error::HeaderValue => BadHead::HeaderValue,
            httparse::Error::NewLine => BadHead::NewLine,
            httparse::Error::Status => BadHead::Status,
            httparse::Error::Token => BadHead::Token,
            httparse::Error::TooManyHeaders => BadHead::TooManyFields,
            httparse::Error::Version => BadHead::Version,
        }
    }
}

impl WireError {
    /// True when the connection broke off in the middle: worth another try.
    pub fn cut_short(&self) -> bool {
        matches!(
            self,
            WireError::Short { .. } | WireError::ClosedInHead | WireError::ClosedInChunks | WireError::NoCloseNotify
        )
    }
}

/// The head of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Header fields in order, names in lower case.
    pub fields: Vec<(String, Vec<u8>)>,
}

impl Head {
    /// Every value of the header `name` (lower case).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// The first value of `name` as text, if it is text.
    pub fn get<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.all(name).next().and_then(|v| std::str::from_utf8(v).ok()).map(str::trim)
    }

    /// Whether the connection may carry another request after this response
    /// (its framing permitting).
    pub fn keep_alive(&self) -> bool {
        keeps_alive(self.minor, self.all("connection").filter(|v| std::str::from_utf8(v).is_ok()))
    }
}

/// How a response's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Framing {
    /// There is none.
    Empty,
    /// After this many bytes.
    Length(u64),
    /// At the zero-size chunk.
    Chunked,
    /// When the server closes the connection.
    Close,
}

/// The framing of `head`, the response to a GET (RFC 9112 §6.3).
pub fn framing(head: &Head) -> Result<Framing, WireError> {
    // The limit on fields holds over HTTP/2 too, where the head arrives
    // already parsed: one policy for both.
    if head.fields.len() > MAX_FIELDS {
        return Err(WireError::BadHead(BadHead::TooManyFields));
    }
    if matches!(head.status, 100..=199 | 204 | 304) {
        return Ok(Framing::Empty);
    }
    let lengths: Vec<&[u8]> = head.all("content-length").collect();
    let codings: Vec<String> = head
        .all("transfer-encoding")
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|t| peer_text(t.trim_ascii()).to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if head.all("transfer-encoding").next().is_some() {
        if !lengths.is_empty() {
            return Err(WireError::BadFraming(
                "both Transfer-Encoding and Content-Length (RFC 9112 §6.3: a sign of response splitting)".into(),
            ));
        }
        if head.minor == 0 {
            return Err(WireError::BadFraming("Transfer-Encoding in an HTTP/1.0 response".into()));
        }
        return match codings.as_slice() {
            [only] if only == "chunked" => Ok(Framing::Chunked),
            _ => Err(WireError::BadFraming(format!("unsupported Transfer-Encoding: {}", codings.join(", ")))),
        };
    }
    if lengths.is_empty() {
        return Ok(Framing::Close);
    }
    match agreed_length(lengths) {
        Ok(n) => Ok(Framing::Length(n.unwrap_or(0))),
        Err(BadLength::Invalid(digits)) => {
            Err(WireError::BadFraming(format!("invalid Content-Length \"{}\"", peer_text(digits))))
        }
        Err(BadLength::Disagree) => Err(WireError::BadFraming("Content-Length values that disagree".into())),
    }
}

/// The request a GET sends.
pub fn get_request(path: &str, host: &str, authorization: Option<&str>) -> Vec<u8> {
    let mut r = String::with_capacity(128);
    let _ = write!(r, "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {PRODUCT}\r\nAccept: */*\r\n");
    if let Some(auth) = authorization {
        let _ = write!(r, "Authorization: {auth}\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// What [`Reader::advance`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Nothing until more bytes arrive.
    NeedMore,
    /// The final head (interim 1xx heads are skipped).
    Head(Head),
    /// Some of the body.
    Data(&'a [u8]),
    /// The body is complete.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// `left` bytes of a `Content-Length` body to go, of `total`.
    Length {
        left: u64,
        total: u64,
    },
    /// Before a chunk's size line.
    ChunkSize,
    /// Inside a chunk.
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// Trailer fields after the last chunk.
    Trailers,
    /// Until the connection closes.
    Close,
    Done,
}

/// The longest chunk-size or trailer line taken.
const MAX_LINE: usize = 4096;

/// Reads one response from its bytes.
#[derive(Debug)]
pub struct Reader {
    state: State,
    max_head: usize,
    framing: Framing,
}

impl Reader {
    /// A reader for a response whose head may be up to `max_head` bytes.
    pub fn new(max_head: usize) -> Self {
        Reader { state: State::Head, max_head, framing: Framing::Empty }
    }

    /// The body's framing, once the head is read.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// True once the body is complete.
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Takes what it can from `input` (the bytes received and not yet
    /// consumed): returns how many bytes it used and what they held.
    pub fn advance<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Event<'a>), WireError> {
        match self.state {
            State::Head => self.head(input),
            State::Length { left, .. } => {
                let n = (input.len() as u64).min(left) as usize;
                if left == 0 {
                    self.state = State::Done;
                    return Ok((0, Event::End));
                }
                if n == 0 {
                    return Ok((0, Event::NeedMore));
                }
                if let State::Length { left, .. } = &mut self.state {
                    *left -= n as u64;
                }
                Ok((n, Event::Data(&input[..n])))
            }
            State::Close => match input.len() {
                0 => Ok((0, Event::NeedMore)),
                n => Ok((n, Event::Data(input))),
            },
            State::ChunkSize => {
                let Some((line, used)) = line(input)? else { return Ok((0, Event::NeedMore)) };
                let size = chunk_size(line)?;
                self.state = if size == 0 { State::Trailers } else { State::ChunkData(size) };
                Ok((used, Event::NeedMore))
            }
            State::ChunkData(left) => {
                let n = (input.len() as u64).min(left) as usize;
                if n == 0 {
                    return Ok((0, Event::NeedMore));
                }
                self.state = if n as u64 == left { State::ChunkEnd } else { State::ChunkData(left - n as u64) };
                Ok((n, Event::Data(&input[..n])))
            }
            // CRLF, or a bare LF (RFC 9112 §2.2), as for every line.
            State::ChunkEnd => match input {
                [b'\r', b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok((2, Event::NeedMore))
                }
                [b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok((1, Event::NeedMore))
                }
                [] | [b'\r'] => Ok((0, Event::NeedMore)),
                _ => Err(WireError::BadChunk(BadChunk::NoCrlf)),
            },
            State::Trailers => {
                let Some((line, used)) = line(input)? else { return Ok((0, Event::NeedMore)) };
                if line.is_empty() {
                    self.state = State::Done;
                    return Ok((used, Event::End));
                }
                Ok((used, Event::NeedMore))
            }
            State::Done => Ok((0, Event::End)),
        }
    }

    fn head<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Event<'a>), WireError> {
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        let mut response = httparse::Response::new(&mut fields);
        // obs-fold is taken, and each fold read as a space below (RFC 9112 §5.2).
        let parsed = httparse::ParserConfig::default()
            .allow_obsolete_multiline_headers_in_responses(true)
            .parse_response(&mut response, input);
        let used = match parsed {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if input.len() >= self.max_head => {
                return Err(WireError::HeadTooLarge(self.max_head))
            }
            Ok(httparse::Status::Partial) => return Ok((0, Event::NeedMore)),
            Err(e) => return Err(WireError::BadHead(e.into())),
        };
        if used > self.max_head {
            return Err(WireError::HeadTooLarge(self.max_head));
        }
        let head = Head {
            status: response.code.unwrap_or(0),
            minor: response.version.unwrap_or(1),
            fields: response.headers.iter().map(|h| (h.name.to_ascii_lowercase(), unfold(h.value))).collect(),
        };
        match head.status {
            101 => return Err(WireError::BadHead(BadHead::Switching)),
            // An interim answer: the final one follows.
            100..=199 => return Ok((used, Event::NeedMore)),
            _ => {}
        }
        self.framing = framing(&head)?;
        self.state = match self.framing {
            Framing::Empty => State::Done,
            Framing::Length(n) => State::Length { left: n, total: n },
            Framing::Chunked => State::ChunkSize,
            Framing::Close => State::Close,
        };
        Ok((used, Event::Head(head)))
    }

    /// The connection closed (with every byte before it consumed): the
    /// body's end, or an error saying where it broke off.
    pub fn at_eof(&mut self) -> Result<(), WireError> {
        match self.state {
            State::Close | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            State::Head => Err(WireError::ClosedInHead),
            State::Length { left, total } => Err(WireError::Short { expected: total, got: total - left }),
            _ => Err(WireError::ClosedInChunks),
        }
    }
}

/// A field value with each obs-fold (a line break before spaces or tabs)
/// replaced by a space, as a recipient must before reading it (RFC 9112
/// §5.2).
fn unfold(value: &[u8]) -> Vec<u8> {
    if !value.contains(&b'\n') {
        return value.to_vec();
    }
    value.iter().filter(|&&b| b != b'\r').map(|&b| if b == b'\n' { b' ' } else { b }).collect()
}

/// One line at the start of `input`, ended by CRLF or by a bare LF (RFC
/// 9112 §2.2 lets a recipient take LF alone, as heads are read): the line
/// without its end and the bytes it took, or `None` if it is not all there
/// yet.
fn line(input: &[u8]) -> Result<Option<(&[u8], usize)>, WireError> {
    match input.iter().position(|&b| b == b'\n') {
        Some(end) if end <= MAX_LINE => {
            let text = &input[..end];
            Ok(Some((text.strip_suffix(b"\r").unwrap_or(text), end + 1)))
        }
        Some(_) => Err(WireError::BadChunk(BadChunk::LongLine)),
        None if input.len() > MAX_LINE => Err(WireError::BadChunk(BadChunk::LongLine)),
        None => Ok(None),
    }
}

/// The size on a chunk-size line (extensions after `;` ignored): hex
/// digits, as many leading zeros as the sender likes, a value that fits
/// 64 bits (RFC 9112 §7.1 bounds the value, not the digits).
fn chunk_size(line: &[u8]) -> Result<u64, WireError> {
    let bad = WireError::BadChunk(BadChunk::Size);
    let size = line.split(|&b| b == b';').next().unwrap_or(b"");
    let size = std::str::from_utf8(size).map_err(|_| bad.clone())?.trim_end_matches([' ', '\t']);
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad);
    }
    let digits = size.trim_start_matches('0');
    match digits.len() {
        0 => Ok(0),
        1..=16 => u64::from_str_radix(digits, 16).map_err(|_| bad),
        _ => Err(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in pieces of `step` and collects the head and body.
    fn read(bytes: &[u8], step: usize) -> Result<(Head, Vec<u8>), WireError> {
        let mut reader = Reader::new(32 << 10);
        let (mut buf, mut fed, mut head, mut body) = (Vec::new(), 0, None, Vec::new());
        loop {
            let (used, event) = reader.advance(&buf)?;
            let end = match event {
                Event::Head(h) => {
                    head = Some(h);
                    false
                }
                Event::Data(d) => {
                    body.extend_from_slice(d);
                    false
                }
                Event::End => true,
                Event::NeedMore if used == 0 => {
                    if fed == bytes.len() {
                        reader.at_eof()?;
                        return Ok((head.unwrap(), body));
                    }
                    let next = (fed + step).min(bytes.len());
                    buf.extend_from_slice(&bytes[fed..next]);
                    fed = next;
                    false
                }
                Event::NeedMore => false,
            };
            buf.drain(..used);
            if end {
                assert!(buf.is_empty() && fed == bytes.len(), "bytes after the end");
                return Ok((head.unwrap(), body));
            }
        }
    }

    #[test]
    fn lengths_chunks_and_close() {
        for step in [1, 3, 1000] {
            let (h, b) = read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", step).unwrap();
            assert_eq!((h.status, b.as_slice()), (200, &b"hello"[..]));
            let chunked =
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nT: v\r\n\r\n";
            assert_eq!(read(chunked, step).unwrap().1, b"hello");
            assert_eq!(read(b"HTTP/1.0 200 OK\r\n\r\nhello", step).unwrap().1, b"hello");
            let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            assert_eq!(read(interim, step).unwrap().1, b"ok");
        }
        assert_eq!(read(b"HTTP/1.1 204 No Content\r\n\r\n", 10).unwrap().1, b"");
    }

    #[test]
    fn framing_that_contradicts_itself_is_an_error() {
        let both = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert!(read(both, 100).unwrap_err().to_string().contains("both Transfer-Encoding and Content-Length"));
        let gzip = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert!(read(gzip, 100).unwrap_err().to_string().contains("unsupported Transfer-Encoding"));
        let two = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd";
        assert!(read(two, 100).unwrap_err().to_string().contains("disagree"));
        let same = b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc";
        assert_eq!(read(same, 100).unwrap().1, b"abc");
        let signed = b"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc";
        assert!(read(signed, 100).unwrap_err().to_string().contains("invalid Content-Length"));
    }

    #[test]
    fn cut_short_bodies_say_where() {
        assert_eq!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", 100).unwrap_err(),
            WireError::Short { expected: 10, got: 5 }
        );
        let chunks = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
        assert_eq!(read(chunks, 100).unwrap_err(), WireError::ClosedInChunks);
        assert_eq!(read(b"HTTP/1.1 200 OK\r\nConte", 100).unwrap_err(), WireError::ClosedInHead);
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(read(bad, 100).unwrap_err(), WireError::BadChunk(BadChunk::Size));
    }

    #[test]
    fn chunk_lines_may_end_in_a_bare_lf_and_sizes_may_have_leading_zeros() {
        let lf = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nhel\n2;x=y\r\nlo\n0\n\n";
        assert_eq!(read(lf, 1).unwrap().1, b"hello");
        let zeros =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000000005\r\nhello\r\n0\r\n\r\n";
        assert_eq!(read(zeros, 7).unwrap().1, b"hello");
        let huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n";
        assert_eq!(read(huge, 100).unwrap_err(), WireError::BadChunk(BadChunk::Size), "over 64 bits");
    }

    #[test]
    fn a_folded_field_is_read_as_one_line() {
        let folded = b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\nX-Note: a\r\n\tb\r\n\r\nhello";
        let (head, body) = read(folded, 3).unwrap();
        assert_eq!(body, b"hello");
        assert_eq!(head.get("x-note"), Some("a \tb"));
    }

    #[test]
    fn heads_have_limits() {
        let big = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(40 << 10));
        assert_eq!(read(big.as_bytes(), 4096).unwrap_err(), WireError::HeadTooLarge(32 << 10));
        let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
        let many = format!("HTTP/1.1 200 OK\r\n{many}Content-Length: 0\r\n\r\n");
        assert!(read(many.as_bytes(), 100000).unwrap_err().to_string().contains("more than 100"));
        assert!(matches!(read(b"<html>hello</html>\r\n\r\n", 100), Err(WireError::BadHead(_))));
    }

    #[test]
    fn keep_alive_follows_the_version() {
        let head = |minor, conn: &str| Head {
            status: 200,
            minor,
            fields: if conn.is_empty() { vec![] } else { vec![("connection".into(), conn.as_bytes().to_vec())] },
        };
        assert!(head(1, "").keep_alive());
        assert!(!head(1, "Close").keep_alive());
        assert!(!head(0, "").keep_alive());
        assert!(head(0, "keep-alive").keep_alive());
    }

    #[test]
    fn a_get_request() {
        let r = get_request("/flags/br/br.gif", "h:8000", Some("Basic eA=="));
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("GET /flags/br/br.gif HTTP/1.1\r\nHost: h:8000\r\n"), "{text}");
        assert!(text.ends_with("Authorization: Basic eA==\r\n\r\n"), "{text}");
    }
}
