//! Hostile and picky clients, spoken to over raw sockets against the real
//! `flags serve`: odd paths, huge or slow headers, too many connections,
//! and the HTTP a static server owes (RFC 9110 and 9112: Host, HEAD, Range,
//! ETag, Last-Modified).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::util::{peak_rss_kib, ServeProcess};

/// Sends `request` as is and returns the whole answer's bytes (until the
/// server closes or 3 s pass).
fn raw_bytes(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// [`raw_bytes`] as text (binary bodies come out mangled).
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    String::from_utf8_lossy(&raw_bytes(addr, request)).into_owned()
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
fn dir_server() -> (ServeProcess, tempfile::TempDir, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("br")).unwrap();
    std::fs::write(root.path().join("br/br.gif"), b"GIF89a-brazil").unwrap();
    std::fs::write(root.path().join("secret.gif"), b"secret").unwrap();
    std::fs::create_dir(outside.path().join("us")).unwrap();
    std::fs::write(outside.path().join("us/us.gif"), b"outside").unwrap();
    std::os::unix::fs::symlink(outside.path().join("us"), root.path().join("us")).unwrap();
    let srv = ServeProcess::start(&["--dir", root.path().to_str().unwrap()]);
    (srv, root, outside)
}

#[test]
fn paths_cannot_leave_the_directory() {
    let (srv, _root, _outside) = dir_server();
    assert_eq!(status(&get(srv.addr, "/flags/br/br.gif", "")), 200);
    // The listing shows only what can be fetched: not the link that leads out.
    let listing = get(srv.addr, "/flags/", "");
    assert!(listing.contains("br/") && !listing.contains("us/"), "{listing}");
    assert_eq!(status(&get(srv.addr, "/flags/us/", "")), 404);
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
        let answer = get(srv.addr, path, "");
        assert!(matches!(status(&answer), 400 | 404), "{path}: {answer}");
        assert!(!answer.contains("secret") && !answer.contains("outside"), "{path}: {answer}");
    }
    // NUL and invalid UTF-8 in the request line.
    for line in [
        &b"GET /flags/br\0/br.gif HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET /flags/\xff\xfe/x.gif HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let answer = raw(srv.addr, line);
        assert!(matches!(status(&answer), 400 | 404), "{answer}");
    }
}

#[test]
fn methods_other_than_get_and_head_are_405() {
    let srv = ServeProcess::start(&[]);
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let answer = raw(
            srv.addr,
            format!("{method} /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(status(&answer), 405, "{method}");
        assert_eq!(header(&answer, "allow"), Some("GET, HEAD"));
    }
}

#[test]
fn huge_headers_are_431() {
    let srv = ServeProcess::start(&[]);
    let answer = get(srv.addr, "/flags/br/br.gif", &format!("X-Big: {}\r\n", "a".repeat(64 * 1024)));
    assert_eq!(status(&answer), 431, "{answer}");
}

#[test]
fn a_long_target_is_414_and_long_headers_431() {
    let srv = ServeProcess::start(&[]);
    let long = format!("/flags/br/br.gif?{}", "a".repeat(17 * 1024));
    assert_eq!(status(&get(srv.addr, &long, "")), 414, "RFC 9112 §3");
    let answer = get(srv.addr, "/flags/br/br.gif", &format!("X-Big: {}\r\n", "a".repeat(20 * 1024)));
    assert_eq!(status(&answer), 431, "{answer}");
    let ok = format!("/flags/br/br.gif?{}", "a".repeat(4 * 1024));
    assert_eq!(status(&get(srv.addr, &ok, "")), 200);
}

#[test]
fn a_slow_header_is_cut_off() {
    let srv = ServeProcess::start(&["--header-timeout", "0.5"]);
    let mut s = TcpStream::connect(srv.addr).unwrap();
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
    let srv = ServeProcess::start(&["--max-connections", "2"]);
    let request = b"GET /flags/br/metadata.json HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = TcpStream::connect(srv.addr).unwrap();
    let mut second = TcpStream::connect(srv.addr).unwrap();
    for s in [&mut first, &mut second] {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.write_all(request).unwrap();
        assert!(answered_ok(s));
    }
    // A third connection waits in the backlog...
    let mut third = TcpStream::connect(srv.addr).unwrap();
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
    let srv = ServeProcess::start(&[]);
    let (dir_srv, _root, _outside) = dir_server();
    for (addr, path, len) in [(srv.addr, "/flags/br/br.gif", 11_623u64), (dir_srv.addr, "/flags/br/br.gif", 13)] {
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

/// Sends `request` on a fresh connection and returns the answer's head.
fn head_of(addr: SocketAddr, request: &str) -> String {
    let answer = raw(addr, request.as_bytes());
    answer.split("\r\n\r\n").next().unwrap_or("").to_string()
}

#[test]
fn host_must_be_there_once_and_valid() {
    let srv = ServeProcess::start(&[]);
    let ask = |headers: &str, version: &str| {
        status(&head_of(srv.addr, &format!("GET /flags/br/br.gif {version}\r\n{headers}Connection: close\r\n\r\n")))
    };
    assert_eq!(ask("Host: x\r\n", "HTTP/1.1"), 200);
    assert_eq!(ask("", "HTTP/1.1"), 400, "no Host");
    assert_eq!(ask("Host: x\r\nHost: y\r\n", "HTTP/1.1"), 400, "two Hosts");
    assert_eq!(ask("Host: x\r\nHost: x\r\n", "HTTP/1.0"), 400, "two Hosts, even in HTTP/1.0");
    assert_eq!(ask("Host: a b\r\n", "HTTP/1.1"), 400, "not a host");
    assert_eq!(ask("Host: u@x\r\n", "HTTP/1.1"), 400, "userinfo is not a host");
    assert_eq!(ask("", "HTTP/1.0"), 200, "HTTP/1.0 may leave Host out");
}

#[test]
fn ranges_and_entity_tags_that_break_the_grammar_are_ignored() {
    let srv = ServeProcess::start(&[]);
    for range in ["bytes=+1-2", "bytes=-+5", "bytes=1-+2", "bytes=5-1"] {
        let answer = get(srv.addr, "/flags/br/br.gif", &format!("Range: {range}\r\n"));
        assert_eq!(status(&answer), 200, "{range}");
        assert_eq!(header(&answer, "content-length"), Some("11623"), "{range}");
    }
    let head = raw(srv.addr, b"HEAD /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let etag = header(&head, "etag").unwrap().to_string();
    assert_eq!(status(&get(srv.addr, "/flags/br/br.gif", &format!("If-None-Match: W/{etag}\r\n"))), 304);
    assert_eq!(status(&get(srv.addr, "/flags/br/br.gif", &format!("If-None-Match: W/W/{etag}\r\n"))), 200);
    assert_eq!(status(&get(srv.addr, "/flags/br/br.gif", &format!("If-None-Match: \"x\", {etag}\r\n"))), 304);
}

#[test]
fn head_carries_the_length_get_would_for_every_status() {
    let srv = ServeProcess::start(&[]);
    for (path, extra) in [
        ("/flags/zz/zz.gif", ""),
        ("/nowhere", ""),
        ("/", ""),
        ("/flags/", ""),
        ("/flags/br/", ""),
        ("/flags/br/metadata.json", ""),
        ("/flags/br/br.gif", "Range: bytes=999999-\r\n"),
        ("/flags/br/br.gif", "Range: bytes=0-9\r\n"),
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n");
        let get_answer = raw_bytes(srv.addr, request.as_bytes());
        let end = get_answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let get_head = String::from_utf8_lossy(&get_answer[..end]).into_owned();
        let get_head = get_head.as_str();
        let body_len = get_answer.len() - end - 4;
        let head = head_of(srv.addr, &format!("HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"));
        assert_eq!(status(&head), status(get_head), "{path}");
        assert_eq!(header(&head, "content-length"), Some(body_len.to_string().as_str()), "{path}: {head}");
        assert_eq!(header(get_head, "content-length"), Some(body_len.to_string().as_str()), "{path}: {get_head}");
    }
}

#[test]
fn too_many_header_fields_are_431() {
    let srv = ServeProcess::start(&[]);
    let fields: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(status(&get(srv.addr, "/flags/br/br.gif", &fields)), 431);
    let fields: String = (0..90).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(status(&get(srv.addr, "/flags/br/br.gif", &fields)), 200);
}

#[test]
fn dir_serves_only_regular_files_and_streams_large_ones() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for cc in ["br", "fi", "zz"] {
        std::fs::create_dir(r.join(cc)).unwrap();
    }
    std::fs::write(r.join("br/br.gif"), b"GIF89a-brazil").unwrap();
    let fifo = std::ffi::CString::new(r.join("fi/fi.gif").into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    const BIG: u64 = 64 << 20;
    std::fs::File::create(r.join("zz/zz.gif")).unwrap().set_len(BIG).unwrap();
    let srv = ServeProcess::start(&["--dir", r.to_str().unwrap()]);

    // A FIFO is not a file to serve, and never holds the request.
    let t0 = Instant::now();
    assert_eq!(status(&get(srv.addr, "/flags/fi/fi.gif", "")), 404);
    assert!(t0.elapsed() < Duration::from_secs(2));
    let listing = get(srv.addr, "/flags/", "");
    assert!(listing.contains("br/") && listing.contains("zz/") && !listing.contains("fi/"), "{listing}");

    // Ten clients at once on a 64 MiB file: memory stays far below one copy of it.
    let before = peak_rss_kib(srv.pid());
    let lengths: Vec<u64> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..10)
            .map(|_| {
                scope.spawn(|| {
                    let mut s = TcpStream::connect(srv.addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    s.write_all(b"GET /flags/zz/zz.gif HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
                    std::io::copy(&mut s, &mut std::io::sink()).unwrap()
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert!(lengths.iter().all(|&n| n > BIG), "{lengths:?}");
    let peak = peak_rss_kib(srv.pid());
    assert!(peak < before + 32 * 1024, "peak RSS went from {before} KiB to {peak} KiB");
}
