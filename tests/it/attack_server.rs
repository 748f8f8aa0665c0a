//! Hostile clients against `flags serve` run as users run it: the real
//! binary in a process of its own, where a signal such as SIGPIPE does what
//! it would do to a user's server. After every attack the server must still
//! be running and answer a normal request in full.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::util::{http_get, ServeProcess};

const TWO_GETS: &[u8] =
    b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\nGET /flags/us/us.gif HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn pipelining_then_vanishing_2000_times_does_not_kill_the_server() {
    // Before the fix, SIGPIPE killed the server within 9 to 210 of these.
    let mut srv = ServeProcess::start(&[]);
    for i in 0..2000 {
        let mut s = TcpStream::connect(srv.addr).unwrap_or_else(|e| panic!("connection {i} refused: {e}"));
        s.write_all(TWO_GETS).unwrap();
        if i % 2 == 1 {
            // Half of them leave with a reset rather than a FIN.
            socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
        }
    }
    srv.assert_serves();
}

#[test]
fn a_client_that_reads_a_little_and_leaves_mid_body() {
    let mut srv = ServeProcess::start(&["--fault", "drip:0.5", "--drip-rate", "100000"]);
    for _ in 0..200 {
        let mut s = TcpStream::connect(srv.addr).unwrap();
        s.write_all(TWO_GETS).unwrap();
        let mut buf = [0u8; 100];
        let _ = s.read(&mut buf);
    }
    srv.assert_serves();
}

/// A request after a seeded series of mutations: flipped, inserted,
/// deleted and duplicated bytes, cut short, or grown with long headers.
fn mutate(template: &[u8], rng: &mut u64) -> Vec<u8> {
    let mut next = |n: usize| {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        (*rng % n.max(1) as u64) as usize
    };
    let mut req = template.to_vec();
    for _ in 0..1 + next(4) {
        let at = next(req.len() + 1);
        match next(8) {
            0 => {
                if at < req.len() {
                    req[at] = next(256) as u8;
                }
            }
            1 => req.insert(at, next(256) as u8),
            2 => {
                if at < req.len() {
                    req.remove(at);
                }
            }
            3 => req.truncate(at),
            4 => {
                let chunk: Vec<u8> = req[at..].iter().take(next(40)).copied().collect();
                req.splice(at..at, chunk);
            }
            5 => {
                let line = format!("X-{}: {}\r\n", next(1000), "v".repeat(next(20_000)));
                let end = req.windows(2).position(|w| w == b"\r\n").map_or(req.len(), |p| p + 2);
                req.splice(end..end, line.into_bytes());
            }
            6 => {
                let junk = [b'\r', b'\n', 0, b':', b' ', b'\t'];
                req.splice(at..at, junk[next(6)..].iter().copied());
            }
            _ => req.extend_from_slice(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n"),
        }
    }
    req
}

const TEMPLATES: [&[u8]; 6] = [
    b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD /flags/fr/fr.gif HTTP/1.1\r\nHost: x\r\nRange: bytes=0-10\r\n\r\n",
    b"GET /flags/us/metadata.json HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\", W/\"b\"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    b"POST /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"GET /flags/jp/jp.gif HTTP/1.0\r\n\r\n",
];

/// Sends `req`, ends the writing side, and reads the answer for at most
/// 200 ms at a time; how many bytes came back.
fn send_and_leave(addr: SocketAddr, req: &[u8]) -> usize {
    let Ok(mut s) = TcpStream::connect(addr) else { return 0 };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = s.write_all(req);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = [0u8; 4096];
    let mut got = 0;
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got += n;
    }
    got
}

#[test]
fn twenty_thousand_mutated_requests_with_faults() {
    let mut srv = ServeProcess::start(&[
        "--seed",
        "11",
        "--fault",
        "reset:0.05,truncate:0.05,drip:0.05,503:0.05,latency:0.05",
        "--jitter",
        "0.05",
        "--drip-rate",
        "200000",
    ]);
    let t0 = Instant::now();
    let answered: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8u64)
            .map(|w| {
                let addr = srv.addr;
                scope.spawn(move || {
                    let mut rng = 0x9E37_79B9_7F4A_7C15 ^ (w + 1);
                    let mut answered = 0;
                    for i in 0..2_500 {
                        let req = mutate(TEMPLATES[i % TEMPLATES.len()], &mut rng);
                        answered += (send_and_leave(addr, &req) > 0) as usize;
                    }
                    answered
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    eprintln!("fuzz: 20 000 requests in {:.1}s, {answered} answered", t0.elapsed().as_secs_f64());
    assert!(answered > 10_000, "only {answered} of 20 000 got any answer");
    // Faults apply to images, so ask for what no fault touches.
    let metadata = flags::countries::lookup(flags::countries::CountryCode::of("BR")).unwrap().metadata_json();
    srv.assert_answers("/flags/br/metadata.json", metadata.as_bytes());
}

#[test]
fn slowloris_and_idle_floods_do_not_lock_out_a_normal_client() {
    let mut srv = ServeProcess::start(&[]);
    // 300 clients sending their headers a byte at a time...
    let mut slow: Vec<TcpStream> = (0..300).map(|_| TcpStream::connect(srv.addr).unwrap()).collect();
    // ...and 1 500 that connect and say nothing.
    let idle: Vec<TcpStream> = (0..1500).map(|_| TcpStream::connect(srv.addr).unwrap()).collect();
    let header = b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for byte in header.iter().take(20) {
        for s in &mut slow {
            let _ = s.write_all(&[*byte]);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let t0 = Instant::now();
    srv.assert_serves();
    assert!(t0.elapsed() < Duration::from_secs(2), "a normal request waited {:?}", t0.elapsed());
    drop(idle);
    drop(slow);
    srv.assert_serves();
}

/// Waits until `addr` refuses connections: the server stopped accepting.
fn wait_refused(addr: std::net::SocketAddr) {
    super::util::wait_until("connections refused", Duration::from_secs(30), || TcpStream::connect(addr).is_err());
}

#[test]
fn sigterm_stops_accepting_and_lets_requests_in_flight_finish() {
    let mut srv = ServeProcess::start(&["--delay", "4"]);
    let addr = srv.addr;
    let in_flight = std::thread::spawn(move || http_get(addr, "/flags/br/br.gif"));
    super::util::wait_in_flight(addr, 1);
    srv.signal(libc::SIGTERM);
    wait_refused(addr);
    assert!(srv.alive(), "the request in flight is still being answered");
    let answer = in_flight.join().unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200 OK"), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(srv.wait_exit(Duration::from_secs(30)), Some(0));
    // Its last line, once the thread that collects them has read it.
    super::util::wait_until("the last line", Duration::from_secs(10), || {
        srv.output().iter().any(|l| l == "flag server stopped.")
    });
}

#[test]
fn a_second_signal_quits_at_once() {
    let mut srv = ServeProcess::start(&["--delay", "120"]);
    let addr = srv.addr;
    let _stuck = std::thread::spawn(move || http_get(addr, "/flags/br/br.gif"));
    super::util::wait_in_flight(addr, 1);
    srv.signal(libc::SIGINT);
    wait_refused(addr);
    assert!(srv.alive(), "the first signal waits for the request in flight");
    srv.signal(libc::SIGINT);
    // Far sooner than the request in flight would end.
    assert_eq!(srv.wait_exit(Duration::from_secs(60)), Some(130));
}

#[test]
fn clients_that_vanish_mid_request_leave_nothing_in_flight() {
    // /stats's "in flight now" (the gallery's live strip) must come back to
    // 0 when clients leave before their answer: during the delay, during a
    // stall (held 60 s unless its client goes), or in a dripped body.
    let srv = ServeProcess::start(&["--delay", "0.3", "--fault", "stall:0.3,drip:0.3", "--drip-rate", "1000"]);
    for i in 0..60 {
        let mut s = TcpStream::connect(srv.addr).unwrap();
        s.write_all(TWO_GETS).unwrap();
        if i % 3 == 0 {
            // Some read the start of an answer first.
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            let _ = s.read(&mut [0u8; 64]);
        }
        if i % 2 == 1 {
            socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
        }
    }
    let stats = |srv: &ServeProcess| -> serde_json::Value {
        serde_json::from_slice(&super::util::fetch(srv.addr, "/stats").body).expect("stats are JSON")
    };
    // Every request seen (a server that drops a leaving client's request at
    // once can be at 0 in flight before it has read the last ones), and
    // none of them left in flight.
    let settled = |now: &serde_json::Value| now["in_flight"] == 0 && now["requests"].as_u64() >= Some(60);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut now = stats(&srv);
    while !settled(&now) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        now = stats(&srv);
    }
    assert_eq!(now["in_flight"], 0, "requests whose clients left are still counted: {now}");
    assert!(now["requests"].as_u64().unwrap() >= 60, "{now}");
    assert!(now["peak_in_flight"].as_u64().unwrap() >= 2, "{now}");
    // Still serving (metadata: the faults are the images').
    assert_eq!(super::util::fetch(srv.addr, "/flags/br/metadata.json").status, 200);
}
