//! An answer a client can ask for costs what the README says: clients that
//! ask for the largest answers (`/timeline` with a full ring, the gallery
//! `/`) and read none of them, over HTTP/1.1 and HTTP/2, must not make the
//! real `flags serve` grow past the README's figures. Before the fix, 50
//! such HTTP/1.1 clients on `/timeline` took the server from 12 to 157 MB.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::util::{fetch, stats, wait_until, ServeProcess};

/// Clients of each kind, as the issue measured them.
const H1_CLIENTS: usize = 50;
const H2_CLIENTS: usize = 20;
const H2_STREAMS: usize = 32;

/// The most the server may grow over its size with a full ring, in KB:
/// the README's 2.6 KB for each held HTTP/2 stream and its
/// few KB for each connection, plus one page of the timeline and its
/// rendered pieces for each held answer, with room for the allocator.
const MARGIN_KIB: u64 = 24 << 10;

/// The resident memory of process `pid`, in KB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Requests recorded by the server since it started, from its cheapest
/// timeline answer.
fn recorded(addr: SocketAddr) -> u64 {
    let doc: serde_json::Value = serde_json::from_slice(&fetch(addr, "/timeline?after=18446744073709551615").body)
        .expect("/timeline answers JSON");
    doc["total"].as_u64().unwrap()
}

/// Fills the server's ring with `n` quick requests: pipelined 404s on a
/// few keep-alive connections, each read to its end.
fn fill_ring(addr: SocketAddr, n: usize) {
    const PER_CONNECTION: usize = 2_500;
    let workers: Vec<_> = (0..n.div_ceil(PER_CONNECTION))
        .map(|c| {
            let count = PER_CONNECTION.min(n - c * PER_CONNECTION);
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let mut writer = s.try_clone().unwrap();
                let write = std::thread::spawn(move || {
                    for i in 0..count {
                        let close = if i + 1 == count { "Connection: close\r\n" } else { "" };
                        let req = format!("GET /fill/{i} HTTP/1.1\r\nHost: x\r\n{close}\r\n");
                        writer.write_all(req.as_bytes()).unwrap();
                    }
                });
                let mut all = Vec::new();
                s.read_to_end(&mut all).unwrap();
                write.join().unwrap();
                let answers = all.windows(12).filter(|w| w == b"HTTP/1.1 404").count();
                assert_eq!(answers, count, "every quick request answered");
            })
        })
        .collect();
    workers.into_iter().for_each(|w| w.join().unwrap());
    wait_until("the ring is full", Duration::from_secs(20), || recorded(addr) >= n as u64);
}

/// A socket whose receive buffer is small, connected to `addr`.
fn small_window(addr: SocketAddr) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&addr.into()).unwrap();
    sock.into()
}

/// Opens `n` HTTP/1.1 connections that ask for `path` and read nothing.
fn h1_non_readers(addr: SocketAddr, path: &str, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = small_window(addr);
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
            s
        })
        .collect()
}

/// HTTP/2 clients that keep every stream's window at zero
/// (SETTINGS_INITIAL_WINDOW_SIZE 0) and ask for `path` on `streams`
/// streams each: no byte of any answer can be sent. They live as long as
/// the runtime.
fn h2_non_readers(runtime: &tokio::runtime::Runtime, addr: SocketAddr, path: &str, clients: usize, streams: usize) {
    for _ in 0..clients {
        let tcp = small_window(addr);
        tcp.set_nonblocking(true).unwrap();
        let uri = format!("http://{addr}{path}");
        runtime.block_on(async move {
            let tcp = tokio::net::TcpStream::from_std(tcp).unwrap();
            let (mut client, conn) =
                h2::client::Builder::new().initial_window_size(0).handshake::<_, bytes::Bytes>(tcp).await.unwrap();
            tokio::spawn(conn);
            let mut answers = Vec::new();
            for _ in 0..streams {
                client = client.ready().await.unwrap();
                let req = hyper::Request::get(uri.as_str()).body(()).unwrap();
                let (answer, _) = client.send_request(req, true).unwrap();
                answers.push(answer);
            }
            // Kept (never read) for as long as the runtime runs.
            tokio::spawn(async move {
                let _keep = (client, answers);
                std::future::pending::<()>().await
            });
        });
    }
}

/// Waits until the server has seen `n` connections in all (a connection
/// counts at its first request), then until its memory stops growing for two
/// seconds; the most it reached.
fn settled_rss(srv: &ServeProcess, n: u64) -> u64 {
    // A server busy making answers may not answer within `fetch`'s 5 s:
    // then it is asked again.
    wait_until("the clients' requests reach the server", Duration::from_secs(60), || {
        let raw = super::util::http_get(srv.addr, "/stats");
        let body = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(&[][..], |end| &raw[end + 4..]);
        serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|s| s["connections"].as_u64() >= Some(n))
    });
    let (mut most, mut last_growth, started) = (rss_kib(srv.pid()), Instant::now(), Instant::now());
    while last_growth.elapsed() < Duration::from_secs(2) && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
        let now = rss_kib(srv.pid());
        if now > most + 256 {
            last_growth = Instant::now();
        }
        most = most.max(now);
    }
    most
}

/// Fills the ring, then holds `H1_CLIENTS` HTTP/1.1 and `H2_CLIENTS` x
/// `H2_STREAMS` HTTP/2 clients asking `path` and reading nothing, and
/// checks the server's memory after each kind. The answers cannot all
/// be sent, so the send timeout is long enough to outlast the test.
fn non_readers_cost_little(path: &str) {
    let mut srv = ServeProcess::start(&["--send-timeout", "60", "--idle-timeout", "60"]);
    fill_ring(srv.addr, 10_000);
    let base_conns = stats(srv.addr)["connections"].as_u64().unwrap();
    let base = rss_kib(srv.pid());
    let _h1 = h1_non_readers(srv.addr, path, H1_CLIENTS);
    let after_h1 = settled_rss(&srv, base_conns + H1_CLIENTS as u64);
    eprintln!("{path}: {base} KB with a full ring, {after_h1} KB with {H1_CLIENTS} HTTP/1.1 non-readers");
    assert!(after_h1 <= base + MARGIN_KIB, "{path}: {H1_CLIENTS} HTTP/1.1 clients took {base} KB to {after_h1} KB");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    h2_non_readers(&runtime, srv.addr, path, H2_CLIENTS, H2_STREAMS);
    let after_h2 = settled_rss(&srv, base_conns + (H1_CLIENTS + H2_CLIENTS) as u64);
    eprintln!("{path}: {after_h2} KB with {H2_CLIENTS} HTTP/2 clients of {H2_STREAMS} streams more");
    assert!(
        after_h2 <= base + MARGIN_KIB,
        "{path}: {H2_CLIENTS} HTTP/2 clients x {H2_STREAMS} streams took {base} KB to {after_h2} KB"
    );
    runtime.shutdown_background();
    srv.assert_serves();
}

#[test]
fn clients_that_read_no_timeline_cost_the_server_little() {
    non_readers_cost_little("/timeline?since=0");
}

#[test]
fn clients_that_read_no_gallery_cost_the_server_little() {
    non_readers_cost_little("/");
}

#[test]
fn the_timeline_answers_in_pages_and_refuses_a_malformed_query() {
    let srv = ServeProcess::start(&[]);
    fill_ring(srv.addr, 2_500);
    for bad in ["since=nan", "since=", "since=inf", "after=-1", "after=x", "since=1e999"] {
        let got = fetch(srv.addr, &format!("/timeline?{bad}"));
        assert_eq!(got.status, 400, "?{bad}: {}", String::from_utf8_lossy(&got.body));
    }
    // Page by page from the start: each bounded, none missed, none twice.
    let (mut seen, mut after, mut pages) = (Vec::new(), 0u64, 0);
    loop {
        let got = fetch(srv.addr, &format!("/timeline?since=0&after={after}"));
        assert_eq!(got.status, 200);
        let doc: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
        let page = doc["requests"].as_array().unwrap();
        assert!(page.len() <= 1_000, "a page holds at most 1 000 requests: {}", page.len());
        seen.extend(page.iter().map(|r| r["seq"].as_u64().unwrap()));
        pages += 1;
        match doc["next"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, (1..=2_500).collect::<Vec<u64>>());
    assert_eq!(pages, 3);
}
