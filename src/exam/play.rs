//! One HTTP/1.x connection of a case's server: requests read, the
//! script's steps played, plain or over TLS. Only moves bytes and keeps
//! time; what to send is the script's ([`super::script`]).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::record::{Request, Shared};
use super::script::{code_in, render, Ask, Reply, Script, Step};
use crate::proto::text::peer_text;

/// How fast the endless steps send.
const ENDLESS_RATE: usize = 8 << 20;
const HEADERS_RATE: usize = 1 << 20;
/// Most bytes an endless step sends, whatever the deadline.
const ENDLESS_MAX: usize = 1 << 30;
/// The longest request head read.
const MAX_HEAD: usize = 64 << 10;
/// The longest a `Hold` step holds, when the stage does not stop first
/// (`flags serve --scenario` runs until Ctrl-C): longer than any client
/// deadline worth grading.
const HOLD_MAX: Duration = Duration::from_secs(300);

/// A connection, plain or TLS.
pub(super) enum Wire {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Wire {
    fn tcp(&self) -> &TcpStream {
        match self {
            Wire::Plain(s) => s,
            Wire::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Wire::Plain(s) => s.read(buf),
            Wire::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Wire::Plain(s) => s.write(buf),
            Wire::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Wire::Plain(s) => s.flush(),
            Wire::Tls(s) => s.flush(),
        }
    }
}

/// Reads requests and plays the script's answers until a step ends the
/// connection, the client leaves, or the stage stops.
pub(super) fn http1(mut wire: Wire, script: Script, conn: usize, other: bool, shared: &Shared) -> io::Result<()> {
    let mut buf = Vec::new();
    let (port, other_port) = *shared.addrs.get().unwrap_or(&(0, 0));
    for on_conn in 0.. {
        let Some((path, line, credentials, head)) = read_request(&mut wire, &mut buf)? else {
            shared.log(conn, "the client closed the connection");
            return Ok(());
        };
        let first = *shared.first.get_or_init(Instant::now);
        let nth = if other { 0 } else { shared.answered.fetch_add(1, Ordering::SeqCst) };
        shared.log(
            conn,
            format!(
                "{line}{}",
                if credentials.is_empty() { String::new() } else { format!(" [{}]", credentials.join(", ")) }
            ),
        );
        shared.saw.lock().unwrap_or_else(|e| e.into_inner()).requests.push(Request {
            conn,
            at_ms: shared.started.elapsed().as_millis() as u64,
            line,
            head,
            other,
            credentials,
        });
        let cc = code_in(&path);
        let stamp = shared.stamp.clone();
        let ask = Ask {
            flag: stamp.flag(&cc),
            cc,
            path,
            nth,
            on_conn,
            since_first: first.elapsed(),
            other,
            port,
            other_port,
            stamp,
            now: std::time::SystemTime::now(),
        };
        let Reply(steps) = script(&ask);
        {
            let mut saw = shared.saw.lock().unwrap_or_else(|e| e.into_inner());
            if saw.sent.is_empty() && !other {
                saw.sent = super::cases::steps_text(&steps, ask.flag.len());
            }
        }
        for step in &steps {
            if !play(&mut wire, step, &ask, conn, shared)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Plays one step; false when it ended the connection.
fn play(wire: &mut Wire, step: &Step, ask: &Ask, conn: usize, shared: &Shared) -> io::Result<bool> {
    match step {
        Step::Send(parts) => {
            let bytes = render(parts, &ask.flag);
            wire.write_all(&bytes)?;
            wire.flush()?;
            shared.sent(bytes.len());
            shared.log(conn, format!("sent {} bytes", bytes.len()));
        }
        Step::Drip { parts, pieces, every } => {
            let bytes = render(parts, &ask.flag);
            let size = bytes.len().div_ceil((*pieces).max(1)).max(1);
            for (i, piece) in bytes.chunks(size).enumerate() {
                if i > 0 && !shared.sleep(*every) {
                    return Ok(false);
                }
                wire.write_all(piece)?;
                wire.flush()?;
                shared.sent(piece.len());
                shared.log(conn, format!("sent a piece of {} bytes", piece.len()));
            }
        }
        Step::Endless { chunked } => {
            let chunk = vec![0u8; 64 << 10];
            let framed = match chunked {
                true => [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat(),
                false => chunk,
            };
            shared.log(conn, "sending filler without end");
            endless(wire, &framed, ENDLESS_RATE, shared)?;
        }
        Step::EndlessHeaders => {
            let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
            shared.log(conn, "sending header lines without end");
            endless(wire, line.as_bytes(), HEADERS_RATE, shared)?;
        }
        Step::Pause(d) => {
            if !shared.sleep(*d) {
                return Ok(false);
            }
        }
        Step::Close => {
            if let Wire::Tls(s) = wire {
                s.conn.send_close_notify();
                let _ = s.flush();
            }
            let _ = wire.tcp().shutdown(Shutdown::Write);
            shared.log(conn, "closed");
            linger(wire, shared);
            return Ok(false);
        }
        Step::CloseNoNotify => {
            let _ = wire.tcp().shutdown(Shutdown::Write);
            shared.log(conn, "closed, without close_notify");
            linger(wire, shared);
            return Ok(false);
        }
        Step::Reset => {
            let _ = socket2::SockRef::from(wire.tcp()).set_linger(Some(Duration::ZERO));
            let _ = wire.tcp().shutdown(Shutdown::Both);
            shared.log(conn, "reset");
            return Ok(false);
        }
        Step::Hold => {
            shared.log(conn, "holding the connection, silent");
            let _ = shared.sleep(HOLD_MAX);
            return Ok(false);
        }
    }
    Ok(true)
}

/// After a FIN: reads what the client still sends until it closes, so the
/// close is not turned into a reset by unread bytes.
fn linger(wire: &mut Wire, shared: &Shared) {
    let _ = wire.tcp().set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    while !shared.is_stopped() && matches!(wire.tcp().read(&mut sink), Ok(n) if n > 0) {}
}

fn endless(wire: &mut Wire, piece: &[u8], rate: usize, shared: &Shared) -> io::Result<()> {
    let every = Duration::from_secs_f64(piece.len() as f64 / rate as f64);
    let mut sent = 0;
    while sent < ENDLESS_MAX && !shared.is_stopped() {
        wire.write_all(piece)?;
        shared.sent(piece.len());
        sent += piece.len();
        if !shared.sleep(every) {
            break;
        }
    }
    Ok(())
}

type Head = (String, String, Vec<String>, String);

/// The longest part of a request head kept for the report.
const HEAD_KEPT: usize = 2048;

/// Reads one request head: its target, its escaped request line, the
/// names of the credential fields it carried, and the head itself,
/// escaped. None when the client closed.
fn read_request(wire: &mut Wire, buf: &mut Vec<u8>) -> io::Result<Option<Head>> {
    loop {
        if let Some(end) = find_end(buf) {
            let mut fields = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut fields);
            let parsed = req.parse(&buf[..end]).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if parsed.is_partial() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "a request head that does not parse"));
            }
            let path = req.path.unwrap_or("").to_string();
            let line = peer_text(format!("{} {}", req.method.unwrap_or(""), path).as_bytes());
            let credentials = req
                .headers
                .iter()
                .map(|h| h.name.to_ascii_lowercase())
                .filter(|n| matches!(n.as_str(), "authorization" | "cookie" | "proxy-authorization"))
                .collect();
            let head = peer_text(&buf[..end.min(HEAD_KEPT)]);
            buf.drain(..end);
            return Ok(Some((path, line, credentials, head)));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a request head over 64 KiB"));
        }
        let mut chunk = [0u8; 8192];
        match wire.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if buf.is_empty()
                    && matches!(e.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
    }
}

/// Where a request head ends (after its blank line).
fn find_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}
