//! HTTP/1.1's syntax as the client, the server and the exam all read it:
//! options in a `Connection` header, whether a message keeps its
//! connection alive, the one length its `Content-Length` values agree on,
//! and the phrase for a status. Each rule is written once, so the server
//! ([`crate::server::h1`]) frames a request as the client ([`super::wire`])
//! frames an answer.

/// True when `token` is one of the comma-separated options in `values`
/// (a `Connection` header's), in any case.
pub fn has_token<'a>(values: impl IntoIterator<Item = &'a [u8]>, token: &[u8]) -> bool {
    values.into_iter().flat_map(|v| v.split(|&b| b == b',')).any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Whether a message of HTTP/1.`minor` whose `Connection` header has
/// these values lets its connection carry another exchange (RFC 9112
/// §9.3): HTTP/1.1 unless it says `close`, HTTP/1.0 only if it says
/// `keep-alive`. The client asks it of answers, the server
/// ([`crate::server::h1`]) of requests.
pub fn keeps_alive<'a>(minor: u8, connection: impl IntoIterator<Item = &'a [u8]>) -> bool {
    match minor {
        0 => has_token(connection, b"keep-alive"),
        _ => !has_token(connection, b"close"),
    }
}

/// Why `Content-Length` values give no length.
#[derive(Debug, PartialEq, Eq)]
pub enum BadLength<'a> {
    /// This value is not a number.
    Invalid(&'a [u8]),
    /// Two values differ.
    Disagree,
}

/// The one length that every `Content-Length` value gives, lists included
/// (RFC 9110 §8.6: repeated or listed values must all agree); `None` when
/// there are none. Asked of answers by the client, of requests by the
/// server.
pub fn agreed_length<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<u64>, BadLength<'a>> {
    let mut agreed = None;
    for value in values.into_iter().flat_map(|v| v.split(|&b| b == b',')) {
        let digits = value.trim_ascii();
        let n = match std::str::from_utf8(digits).ok().and_then(|t| t.parse::<u64>().ok()) {
            Some(n) if digits.iter().all(u8::is_ascii_digit) => n,
            _ => return Err(BadLength::Invalid(digits)),
        };
        if agreed.is_some_and(|a| a != n) {
            return Err(BadLength::Disagree);
        }
        agreed = Some(n);
    }
    Ok(agreed)
}

/// The reason phrase for a status, as Python's `http.HTTPStatus` spells it
/// (the book prints `HTTP 418 - I'm a Teapot`).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        418 => "I'm a Teapot",
        429 => "Too Many Requests",
        s => hyper::StatusCode::from_u16(s).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown"),
    }
}
