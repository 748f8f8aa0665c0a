//! Hostile and picky clients, spoken to over raw sockets: odd paths, huge
//! or slow headers, too many connections, and the HTTP a static server owes
//! (HEAD, Range, ETag, Last-Modified).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use flags::server::{self, RunningServer, ServerConfig, Source};

use super::util::server;

/// Sends `request` as is and returns the whole answer (until the server closes or 3 s pass).
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn get(addr: SocketAddr, path: &str, headers: &str) -> String {
    raw(addr, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n").as_bytes())
}

fn status(answer: &str) -> u16 {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer
        .split("\r\n\r\n")
        .next()?
        .lines()
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

/// A server over a directory holding `br` and a symlink `us` that leads outside it.
fn dir_server() -> (RunningServer, tempfile::TempDir, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("br")).unwrap();
    std::fs::write(root.path().join("br/br.gif"), b"GIF89a-brazil").unwrap();
    std::fs::write(root.path().join("secret.gif"), b"secret").unwrap();
    std::fs::create_dir(outside.path().join("us")).unwrap();
    std::fs::write(outside.path().join("us/us.gif"), b"outside").unwrap();
    std::os::unix::fs::symlink(outside.path().join("us"), root.path().join("us")).unwrap();
    let config = ServerConfig { source: Source::Dir(root.path().to_path_buf()), ..ServerConfig::default() };
    (server::spawn(config, "127.0.0.1:0".parse().unwrap()).unwrap(), root, outside)
}

#[test]
fn paths_cannot_leave_the_directory() {
    let (srv, _root, _outside) = dir_server();
    assert_eq!(status(&get(srv.addr(), "/flags/br/br.gif", "")), 200);
    for path in [
        "/flags/../secret.gif",
        "/flags/%2e%2e/secret.gif",
        "/flags/br/..%2fsecret.gif",
        "/flags/br/%2e%2e%2fsecret.gif",
        "//flags/br/br.gif",
        "/flags//br.gif",
        "/flags/br/br.gif%00",
        "/flags/us/us.gif",
        "/secret.gif",
    ] {
        let answer = get(srv.addr(), path, "");
        assert!(matches!(status(&answer), 400 | 404), "{path}: {answer}");
        assert!(!answer.contains("secret") && !answer.contains("outside"), "{path}: {answer}");
    }
    // NUL and invalid UTF-8 in the request line.
    for line in [
        &b"GET /flags/br\0/br.gif HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET /flags/\xff\xfe/x.gif HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let answer = raw(srv.addr(), line);
        assert!(matches!(status(&answer), 400 | 404), "{answer}");
    }
}

#[test]
fn methods_other_than_get_and_head_are_405() {
    let srv = server();
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let answer = raw(
            srv.addr(),
            format!("{method} /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(status(&answer), 405, "{method}");
        assert_eq!(header(&answer, "allow"), Some("GET, HEAD"));
    }
}

#[test]
fn huge_headers_are_431() {
    let srv = server();
    let answer = get(srv.addr(), "/flags/br/br.gif", &format!("X-Big: {}\r\n", "a".repeat(64 * 1024)));
    assert_eq!(status(&answer), 431, "{answer}");
}

#[test]
fn a_slow_header_is_cut_off() {
    let config = ServerConfig { header_timeout: Duration::from_millis(500), ..ServerConfig::default() };
    let srv = server::spawn(config, "127.0.0.1:0".parse().unwrap()).unwrap();
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n").unwrap();
    let t0 = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(t0.elapsed() < Duration::from_secs(4), "the server waited {:?}", t0.elapsed());
}

/// Reads one chunk from `s` and says whether it starts a 200 answer.
fn answered_ok(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    buf[..n].starts_with(b"HTTP/1.1 200")
}

#[test]
fn at_the_connection_cap_established_clients_are_still_served() {
    let config = ServerConfig { max_connections: 2, ..ServerConfig::default() };
    let srv = server::spawn(config, "127.0.0.1:0".parse().unwrap()).unwrap();
    let request = b"GET /flags/br/metadata.json HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = TcpStream::connect(srv.addr()).unwrap();
    let mut second = TcpStream::connect(srv.addr()).unwrap();
    for s in [&mut first, &mut second] {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.write_all(request).unwrap();
        assert!(answered_ok(s));
    }
    // A third connection waits in the backlog...
    let mut third = TcpStream::connect(srv.addr()).unwrap();
    third.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    third.write_all(request).unwrap();
    let mut buf = [0u8; 512];
    assert!(third.read(&mut buf).is_err(), "the third connection was served past the cap");
    // ...while the established ones keep being served.
    first.write_all(request).unwrap();
    assert!(answered_ok(&mut first));
    // When one leaves, the third gets its turn.
    drop(second);
    third.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    assert!(answered_ok(&mut third));
}

#[test]
fn head_range_etag_and_last_modified() {
    let srv = server();
    let (dir_srv, _root, _outside) = dir_server();
    for (addr, path, len) in [(srv.addr(), "/flags/br/br.gif", 11_623u64), (dir_srv.addr(), "/flags/br/br.gif", 13)] {
        let head = raw(addr, format!("HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
        assert_eq!(status(&head), 200);
        assert_eq!(header(&head, "content-length"), Some(len.to_string().as_str()));
        assert!(head.ends_with("\r\n\r\n"), "HEAD sent a body");
        let etag = header(&head, "etag").unwrap().to_string();
        assert!(header(&head, "last-modified").is_some());

        let not_modified = get(addr, path, &format!("If-None-Match: {etag}\r\n"));
        assert_eq!(status(&not_modified), 304);
        let lm = header(&head, "last-modified").unwrap().to_string();
        assert_eq!(status(&get(addr, path, &format!("If-Modified-Since: {lm}\r\n"))), 304);

        let part = get(addr, path, "Range: bytes=0-5\r\n");
        assert_eq!(status(&part), 206);
        assert_eq!(header(&part, "content-range"), Some(format!("bytes 0-5/{len}").as_str()));
        assert!(part.ends_with("GIF89a"), "{part}");
        let tail = get(addr, path, "Range: bytes=-3\r\n");
        assert_eq!(header(&tail, "content-length"), Some("3"));
        let none = get(addr, path, &format!("Range: bytes={len}-\r\n"));
        assert_eq!(status(&none), 416);
        assert_eq!(header(&none, "content-range"), Some(format!("bytes */{len}").as_str()));
    }
}
