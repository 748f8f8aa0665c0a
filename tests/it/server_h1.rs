//! The server's own HTTP/1.1 (`server::h1`) against clients that bend the
//! rules, on the real `flags serve`: pipelined requests with bodies in
//! between, heads that are broken or too large, HTTP/1.0, and many
//! connections held for a delay in little memory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::util::{peak_rss_kib, wait_in_flight, ServeProcess};

/// Writes `bytes` at once on a new connection and reads until the server
/// closes it (at most 10 s): everything it answered.
fn exchange(srv: &ServeProcess, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The status lines of the answers in `text`, in order (a body does not
/// end in a line break, so the next answer's line starts mid-line).
fn statuses(text: &str) -> Vec<&str> {
    text.match_indices("HTTP/1.1 ").map(|(at, _)| text[at..].split("\r\n").next().unwrap()).collect()
}

/// The server still answers: its `/stats`, which no delay holds.
fn still_serves(srv: &ServeProcess) {
    assert!(super::util::stats(srv.addr)["requests"].is_u64());
}

#[test]
fn pipelined_requests_are_answered_in_order_and_bodies_between_them_skipped() {
    let mut srv = ServeProcess::start(&[]);
    let text = exchange(
        &srv,
        b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nGET / HTTP/\
          HEAD /flags/fr/fr.gif HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /flags/zz/zz.gif HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        statuses(&text),
        ["HTTP/1.1 200 OK", "HTTP/1.1 405 Method Not Allowed", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"],
        "the POST's body is not read as a request: {text}"
    );
    let last = text.rsplit("HTTP/1.1 ").next().unwrap().to_ascii_lowercase();
    assert!(last.contains("connection: close\r\n") && last.contains("date: "), "{last}");
    srv.assert_serves();
}

#[test]
fn a_chunked_body_is_answered_and_the_connection_closed() {
    let mut srv = ServeProcess::start(&[]);
    let text = exchange(
        &srv,
        b"POST /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n\
          GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(statuses(&text), ["HTTP/1.1 405 Method Not Allowed"], "{text}");
    assert!(text.to_ascii_lowercase().contains("connection: close\r\n"), "{text}");
    srv.assert_serves();
}

#[test]
fn broken_and_oversized_heads_are_refused_and_closed() {
    let mut srv = ServeProcess::start(&[]);
    for (bytes, status) in [
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n".to_vec(), "HTTP/1.1 400 Bad Request"),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec(), "HTTP/1.1 400 Bad Request"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n".to_vec(), "HTTP/1.1 400 Bad Request"),
        (
            [b"GET / HTTP/1.1\r\nX-Big: ".as_slice(), &[b'v'; 40 << 10], b"\r\n\r\n"].concat(),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
    ] {
        let mut both = bytes.clone();
        both.extend_from_slice(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n");
        let text = exchange(&srv, &both);
        assert_eq!(statuses(&text), [status], "nothing after a refused head is read: {text}");
    }
    srv.assert_serves();
}

#[test]
fn http10_is_answered_and_closed_unless_it_asks_to_keep_alive() {
    let mut srv = ServeProcess::start(&[]);
    let text = exchange(&srv, b"GET /flags/br/br.gif HTTP/1.0\r\n\r\nGET /flags/br/br.gif HTTP/1.0\r\n\r\n");
    assert_eq!(statuses(&text), ["HTTP/1.1 200 OK"], "{text}");
    let text = exchange(
        &srv,
        b"GET /flags/br/br.gif HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /flags/br/br.gif HTTP/1.0\r\n\r\n",
    );
    assert_eq!(statuses(&text), ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"], "{text}");
    assert!(text.to_ascii_lowercase().contains("connection: keep-alive\r\n"), "{text}");
    srv.assert_serves();
}

#[test]
fn a_client_that_leaves_during_a_delay_is_not_in_flight_a_moment_later() {
    let srv = ServeProcess::start(&["--delay", "30"]);
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    wait_in_flight(srv.addr, 1);
    drop(s);
    // Noticed on the connection itself, not at the next look for the client.
    let t0 = std::time::Instant::now();
    super::util::wait_until("the request dropped", Duration::from_secs(20), || {
        super::util::stats(srv.addr)["in_flight"].as_u64() == Some(0)
    });
    assert!(t0.elapsed() < Duration::from_millis(500), "held {:?} after its client left", t0.elapsed());
    still_serves(&srv);
}

#[test]
fn connections_held_for_a_delay_cost_a_few_kilobytes_each() {
    const HELD: usize = 800;
    let srv = ServeProcess::start(&["--delay", "30"]);
    // A connection served, before measuring.
    still_serves(&srv);
    let before = peak_rss_kib(srv.pid());
    let held: Vec<TcpStream> = (0..HELD)
        .map(|_| {
            let mut s = TcpStream::connect(srv.addr).unwrap();
            s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nUser-Agent: flags-test\r\n\r\n").unwrap();
            s
        })
        .collect();
    wait_in_flight(srv.addr, HELD as u64);
    let each = (peak_rss_kib(srv.pid()) - before) as f64 / HELD as f64;
    // hyper's connection took about 24 KB each.
    assert!(each < 10.0, "{each:.1} KB a held connection");
    drop(held);
    still_serves(&srv);
}
