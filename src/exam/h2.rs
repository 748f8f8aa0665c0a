//! The HTTP/2 cases' server: raw frames over cleartext TCP, for clients that
//! speak HTTP/2 with prior knowledge (RFC 9113 §3.3).
//!
//! Written by hand because the `h2` crate will not send a malformed
//! response, which is the point of these cases. It reads the client's
//! frames, acknowledges SETTINGS and PING, and answers every HEADERS frame
//! with Brazil's flag (the request's HPACK block is not decoded: the cases
//! ask for one flag), flawed as the case says.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};

use serde::Serialize;

use super::script::flag;

/// What an HTTP/2 case does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flaw {
    /// Nothing: a correct answer.
    None,
    /// HEADERS, half the DATA, then RST_STREAM (INTERNAL_ERROR).
    ResetMidBody,
    /// On the first connection, GOAWAY (last stream 0, NO_ERROR) instead of
    /// an answer; later connections are answered.
    GoAway,
    /// `content-length` 100 more than the DATA, which ends the stream.
    LengthLie,
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
/// The largest frame payload a peer must accept (RFC 9113 §4.2).
const MAX_FRAME: usize = 16_384;

/// The frames a case sends for one request, in words, for the listing.
pub fn frames(flaw: Flaw) -> Vec<String> {
    let n = flag("br").len();
    let headers = |len: usize| format!("HEADERS :status 200, content-type image/gif, content-length {len}");
    match flaw {
        Flaw::None => vec![headers(n), format!("DATA {n} bytes of the flag, END_STREAM")],
        Flaw::ResetMidBody => vec![headers(n), format!("DATA {} bytes", n / 2), "RST_STREAM INTERNAL_ERROR".into()],
        Flaw::GoAway => vec![
            "first connection: GOAWAY last-stream-id 0, NO_ERROR, then FIN".into(),
            format!("later connections: {}, DATA {n} bytes, END_STREAM", headers(n)),
        ],
        Flaw::LengthLie => vec![headers(n + 100), format!("DATA {n} bytes, END_STREAM")],
    }
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An HPACK header block: `:status 200` from the static table, the rest
/// as literals without indexing (RFC 7541 §6.2.2).
fn header_block(length: usize) -> Vec<u8> {
    let mut block = vec![0x88];
    for (name, value) in [("content-type", "image/gif".to_string()), ("content-length", length.to_string())] {
        block.push(0x00);
        block.push(name.len() as u8);
        block.extend_from_slice(name.as_bytes());
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    }
    block
}

/// Serves one connection: `conn` is its number in the run (1 is the first).
pub fn serve(
    mut s: TcpStream,
    flaw: Flaw,
    conn: usize,
    body: &[u8],
    log: &dyn Fn(String),
    request: &dyn Fn(u32),
) -> io::Result<()> {
    let mut preface = [0u8; 24];
    s.read_exact(&mut preface)?;
    if preface != PREFACE {
        log("not the HTTP/2 preface: closed".into());
        return Ok(());
    }
    s.write_all(&frame(SETTINGS, 0, 0, &[]))?;
    loop {
        let mut head = [0u8; 9];
        if let Err(e) = s.read_exact(&mut head) {
            log(format!("the client left ({})", e.kind()));
            return Ok(());
        }
        let len = (head[0] as usize) << 16 | (head[1] as usize) << 8 | head[2] as usize;
        let (kind, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        if len > 1 << 20 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a frame over 1 MiB"));
        }
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload)?;
        match kind {
            SETTINGS if flags & ACK == 0 => s.write_all(&frame(SETTINGS, ACK, 0, &[]))?,
            PING if flags & ACK == 0 => s.write_all(&frame(PING, ACK, 0, &payload))?,
            HEADERS | CONTINUATION if flags & END_HEADERS != 0 => {
                log(format!("HEADERS on stream {stream}"));
                request(stream);
                if !answer(&mut s, flaw, conn, stream, body, log)? {
                    return Ok(());
                }
            }
            GOAWAY => {
                log("GOAWAY from the client".into());
                return Ok(());
            }
            RST_STREAM => log(format!("RST_STREAM from the client on stream {stream}")),
            _ => {}
        }
    }
}

/// Answers the request on `stream`; false when the connection is done.
fn answer(
    s: &mut TcpStream,
    flaw: Flaw,
    conn: usize,
    stream: u32,
    body: &[u8],
    log: &dyn Fn(String),
) -> io::Result<bool> {
    let n = body.len();
    let data = |bytes: &[u8], end: bool| -> Vec<u8> {
        let mut out = Vec::new();
        let pieces: Vec<&[u8]> = bytes.chunks(MAX_FRAME).collect();
        for (i, piece) in pieces.iter().enumerate() {
            out.extend(frame(DATA, if end && i + 1 == pieces.len() { END_STREAM } else { 0 }, stream, piece));
        }
        out
    };
    let mut out = Vec::new();
    match flaw {
        Flaw::GoAway if conn == 1 => {
            let mut payload = 0u32.to_be_bytes().to_vec();
            payload.extend_from_slice(&0u32.to_be_bytes());
            s.write_all(&frame(GOAWAY, 0, 0, &payload))?;
            log("sent GOAWAY (last stream 0), closing".into());
            let _ = s.shutdown(Shutdown::Write);
            let mut sink = [0u8; 4096];
            while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
            return Ok(false);
        }
        Flaw::None | Flaw::GoAway => {
            out.extend(frame(HEADERS, END_HEADERS, stream, &header_block(n)));
            out.extend(data(body, true));
        }
        Flaw::ResetMidBody => {
            out.extend(frame(HEADERS, END_HEADERS, stream, &header_block(n)));
            out.extend(data(&body[..n / 2], false));
            out.extend(frame(RST_STREAM, 0, stream, &2u32.to_be_bytes()));
        }
        Flaw::LengthLie => {
            out.extend(frame(HEADERS, END_HEADERS, stream, &header_block(n + 100)));
            out.extend(data(body, true));
        }
    }
    s.write_all(&out)?;
    log(format!("sent {} bytes of frames", out.len()));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_the_layout_of_rfc_9113() {
        let f = frame(DATA, END_STREAM, 3, b"abc");
        assert_eq!(f, [0, 0, 3, 0, 1, 0, 0, 0, 3, b'a', b'b', b'c']);
        let block = header_block(42);
        assert_eq!(block[0], 0x88);
        assert!(block.windows(2).any(|w| w == b"42"));
    }
}
