//! Every connection to the spawned `flags serve` either makes progress or
//! is closed, in every protocol: one that never sends a request (nothing,
//! half an HTTP/2 preface, a preface and SETTINGS, TLS and then silence),
//! one left idle after its answers, and one whose answers its client never
//! takes. None of them locks a normal client out.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flags::http::tls::Alpn;
use flags::http::Trust;

use super::util::{fetch, stats, wait_until, ServeProcess};

/// The HTTP/2 connection preface and an empty SETTINGS frame.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

/// How a silent client opens its connection.
#[derive(Debug, Clone, Copy)]
enum Silent {
    Nothing,
    HalfPreface,
    PrefaceAndSettings,
}

fn open_silent(addr: SocketAddr, how: Silent) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    match how {
        Silent::Nothing => {}
        Silent::HalfPreface => s.write_all(&PREFACE[..12]).unwrap(),
        Silent::PrefaceAndSettings => s.write_all(&[PREFACE, SETTINGS].concat()).unwrap(),
    }
    s
}

/// Reads `s` until the server closes it; how long that took.
fn until_closed(mut s: impl Read, limit: Duration) -> Duration {
    let t0 = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return t0.elapsed(),
            Ok(_) => assert!(t0.elapsed() < limit, "still open after {limit:?}"),
        }
    }
}

/// A TLS connection to `srv` offering `alpn`, its handshake done.
fn tls_silent(srv: &ServeProcess, alpn: Alpn) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let trust = Trust { cacert: srv.ca.clone(), insecure: false };
    let config = flags::http::tls::config(&trust, alpn).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::clone(&config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(srv.addr).unwrap());
    tls.sock.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

#[test]
fn a_connection_that_sends_no_request_is_closed_at_the_header_timeout() {
    let srv = ServeProcess::start(&["--header-timeout", "1"]);
    for how in [Silent::Nothing, Silent::HalfPreface, Silent::PrefaceAndSettings] {
        let s = open_silent(srv.addr, how);
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let took = until_closed(s, Duration::from_secs(30));
        assert!(took >= Duration::from_millis(900), "{how:?}: closed before its time, {took:?}");
    }
    let tls = ServeProcess::start(&["--tls", "--header-timeout", "1"]);
    for alpn in [Alpn::H2, Alpn::Http1] {
        let s = tls_silent(&tls, alpn);
        assert!(s.conn.alpn_protocol().is_some(), "{alpn:?}");
        until_closed(s, Duration::from_secs(30));
    }
    // None of them counted: no request came.
    assert_eq!(stats(srv.addr)["connections"], 0);
}

#[test]
fn silent_connections_do_not_lock_out_a_normal_client() {
    for how in [Silent::Nothing, Silent::HalfPreface, Silent::PrefaceAndSettings] {
        let srv = ServeProcess::start(&["--max-connections", "40", "--header-timeout", "2", "--threads", "1"]);
        let silent: Vec<TcpStream> = (0..40).map(|_| open_silent(srv.addr, how)).collect();
        let t0 = Instant::now();
        // A GET that waits as long as it takes (the usual helper gives up at 5 s).
        let mut normal = TcpStream::connect(srv.addr).unwrap();
        normal.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        normal.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = Vec::new();
        let _ = normal.read_to_end(&mut answer);
        let took = t0.elapsed();
        assert!(answer.starts_with(b"HTTP/1.1 200 OK"), "{how:?}: {}", String::from_utf8_lossy(&answer));
        eprintln!("{how:?}: a normal GET behind 40 silent connections was served after {took:?}");
        assert!(took < Duration::from_secs(20), "{how:?}: waited {took:?}");
        drop(silent);
    }
}

#[test]
fn an_idle_http2_connection_is_sent_goaway_and_closed() {
    let srv = ServeProcess::start(&["--idle-timeout", "1"]);
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // One request over h2c: HEADERS for GET /flags/br/metadata.json, with
    // the header block in HPACK's literal forms (no Huffman, no indexing).
    let mut block = vec![0x82, 0x86]; // :method GET, :scheme http
    let literal = |block: &mut Vec<u8>, index: u8, value: &[u8]| {
        block.push(index);
        block.push(value.len() as u8);
        block.extend_from_slice(value);
    };
    literal(&mut block, 0x04, b"/flags/br/metadata.json"); // :path
    literal(&mut block, 0x01, srv.addr.to_string().as_bytes()); // :authority
    let len = block.len() as u32;
    let mut headers = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, 1, 0x5, 0, 0, 0, 1];
    headers.extend_from_slice(&block);
    s.write_all(&[PREFACE, SETTINGS, &headers].concat()).unwrap();
    // The answer, then GOAWAY (frame type 7), then the close.
    let t0 = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "still open");
    }
    let types = frame_types(&got);
    assert!(types.contains(&1) && types.contains(&0), "no answer: {types:?}");
    let answered = types.iter().position(|&t| t == 0).unwrap();
    assert!(types[answered..].contains(&7), "no GOAWAY before the close: {types:?}");
    assert!(t0.elapsed() >= Duration::from_millis(900), "closed before it was idle a second");
}

/// The types of the HTTP/2 frames in `bytes`, in order.
fn frame_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while bytes.len() >= 9 {
        let len = (usize::from(bytes[0]) << 16) | (usize::from(bytes[1]) << 8) | usize::from(bytes[2]);
        types.push(bytes[3]);
        bytes = &bytes[(9 + len).min(bytes.len())..];
    }
    types
}

#[test]
fn a_keep_alive_connection_left_idle_is_closed() {
    let srv = ServeProcess::start(&["--idle-timeout", "1", "--header-timeout", "30"]);
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /flags/br/metadata.json HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let took = until_closed(s, Duration::from_secs(30));
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
}

#[test]
fn a_kept_alive_connection_that_starts_a_second_head_and_stops_is_closed_at_the_idle_timeout() {
    // A slowloris after its first answer: the header timeout is for the
    // first head; from then on a connection answering nothing is idle,
    // half a head or not.
    let srv = ServeProcess::start(&["--idle-timeout", "1", "--header-timeout", "30"]);
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /flags/br/metadata.json HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    s.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHo").unwrap();
    let took = until_closed(s, Duration::from_secs(20));
    assert!(took >= Duration::from_millis(500), "closed after {took:?}");
    assert_eq!(fetch(srv.addr, "/flags/br/metadata.json").status, 200);
}

/// A client that asks for many flags over HTTP/2 with a flow-control
/// window of zero, so that no answer can be sent.
fn zero_window_client(addr: SocketAddr, requests: u32) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    // SETTINGS_INITIAL_WINDOW_SIZE (4) = 0.
    let settings = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    let mut out = [PREFACE, &settings].concat();
    for i in 0..requests {
        let mut block = vec![0x82, 0x86, 0x04, 16];
        block.extend_from_slice(b"/flags/br/br.gif");
        block.extend_from_slice(&[0x01, 1, b'x']);
        let len = block.len() as u32;
        let id = 2 * i + 1;
        out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, 1, 0x5]);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&block);
    }
    s.write_all(&out).unwrap();
    s
}

#[test]
fn answers_a_client_never_takes_close_their_connection_and_memory_stays_bounded() {
    let srv = ServeProcess::start(&["--send-timeout", "2", "--threads", "1"]);
    let before = super::util::peak_rss_kib(srv.pid());
    // 100 GETs each; the server takes 32 streams at once on a connection.
    let clients: Vec<TcpStream> = (0..200).map(|_| zero_window_client(srv.addr, 100)).collect();
    wait_until("the requests in", Duration::from_secs(60), || stats(srv.addr)["requests"].as_u64() >= Some(200 * 32));
    let held = super::util::peak_rss_kib(srv.pid());
    eprintln!("200 zero-window HTTP/2 connections x 100 GETs: peak RSS {before} -> {held} KiB");
    // Served meanwhile, and after the send timeout every stuck connection is closed.
    assert_eq!(fetch(srv.addr, "/flags/fr/fr.gif").status, 200);
    for c in clients {
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        until_closed(c, Duration::from_secs(30));
    }
    // At most 200 KB a connection (1 000 such hold under 100 MB).
    assert!(held - before < 200 * 200, "{before} -> {held} KiB");
}

#[test]
fn requests_held_on_purpose_are_not_cut_by_the_timeouts() {
    // A delay, a drip and a slow close, each longer than every timeout.
    for args in [
        &["--delay", "2.5"][..],
        &["--fault", "drip", "--drip-rate", "4000"],
        &["--fault", "slow-close", "--slow-close", "2.5"],
    ] {
        let timeouts = ["--header-timeout", "1", "--idle-timeout", "1", "--send-timeout", "1"];
        let srv = ServeProcess::start(&[args, &timeouts[..]].concat());
        let mut s = TcpStream::connect(srv.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let body = answer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| &answer[at + 4..]).unwrap_or(&[]);
        assert_eq!(body, super::util::served_image("BR"), "{args:?}: the whole flag");
    }
}
