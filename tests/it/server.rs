//! The flag server, run as users run it, over real HTTP on loopback.

use std::time::{Duration, Instant};

use flags::countries::catalog;

use super::util::{fetch, served_image, ServeProcess};

#[test]
fn serves_every_catalog_flag_with_its_size_and_dimensions() {
    let srv = ServeProcess::start(&[]);
    for country in catalog() {
        let cc = country.cc.to_lowercase();
        let answer = fetch(srv.addr, &format!("/flags/{cc}/{cc}.gif"));
        assert_eq!(answer.body.len(), country.gif_bytes, "{}", country.cc);
        let dec = gif::DecodeOptions::new().read_info(&answer.body[..]).unwrap();
        assert_eq!((dec.width(), dec.height()), (country.width, country.height), "{}", country.cc);
    }
}

#[test]
fn brazil_has_the_headers_a_client_expects() {
    let srv = ServeProcess::start(&[]);
    let answer = fetch(srv.addr, "/flags/br/br.gif");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("image/gif"));
    assert_eq!(answer.header("content-length"), Some("11623"));
    let answer = fetch(srv.addr, "/flags/br/metadata.json");
    assert_eq!(answer.header("content-type"), Some("application/json"));
}

#[test]
fn metadata_has_the_books_fields() {
    let srv = ServeProcess::start(&[]);
    let body = fetch(srv.addr, "/flags/us/metadata.json").body;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["iso_cc"], "US");
    assert_eq!(v["country"], "United States of America");
    assert_eq!(v["tld_cc"], ".us");
    assert_eq!(v["gec_cc"], "US");
}

#[test]
fn unknown_codes_and_paths_are_404() {
    let srv = ServeProcess::start(&[]);
    for path in ["/zz/zz.gif", "/zz/metadata.json", "/br/us.gif", "/BR/BR.gif", "/br", "/br/br.gif/x"] {
        assert_eq!(fetch(srv.addr, &format!("/flags{path}")).status, 404, "{path}");
    }
}

#[test]
fn delay_holds_each_response_but_not_a_thread() {
    let srv = ServeProcess::start(&["--delay", "0.3"]);
    let t0 = Instant::now();
    assert_eq!(fetch(srv.addr, "/flags/br/br.gif").status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // 100 delayed requests at once finish in about one delay, not 100 of them.
    let t0 = Instant::now();
    let addr = srv.addr;
    let handles: Vec<_> =
        (0..100).map(|_| std::thread::spawn(move || fetch(addr, "/flags/br/br.gif").body.len())).collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 11_623);
    }
    assert!(t0.elapsed() < Duration::from_secs(10), "took {:?}", t0.elapsed());
}

/// Which of the first 40 catalog flags a server with a 50% error rate and
/// seed 42 serves.
fn served_with_errors(srv: &ServeProcess) -> Vec<bool> {
    (0..40)
        .map(|i| {
            let cc = catalog()[i].cc.to_lowercase();
            let answer = fetch(srv.addr, &format!("/flags/{cc}/{cc}.gif"));
            match answer.status {
                200 => {
                    assert_eq!(answer.body, served_image(&cc));
                    true
                }
                418 => {
                    assert!(answer.head.starts_with("HTTP/1.1 418 I'm a Teapot"), "{}", answer.head);
                    false
                }
                s => panic!("{cc}: {s}"),
            }
        })
        .collect()
}

#[test]
fn error_rate_answers_that_share_with_418_and_a_seed_reproduces_them() {
    let first = served_with_errors(&ServeProcess::start(&["--error-rate", "0.5", "--seed", "42"]));
    let second = served_with_errors(&ServeProcess::start(&["--error-rate", "0.5", "--seed", "42"]));
    assert_eq!(first, second);
    let teapots = first.iter().filter(|ok| !**ok).count();
    // Half of 40 is 20; a fair coin stays well inside 8..32.
    assert!((8..=32).contains(&teapots), "{teapots} teapots");
}

#[test]
fn dir_mode_serves_files_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("br")).unwrap();
    std::fs::write(dir.path().join("br/br.gif"), b"GIF89a real bytes").unwrap();
    std::fs::write(dir.path().join("br/metadata.json"), br#"{"country": "Brazil"}"#).unwrap();
    let srv = ServeProcess::start(&["--dir", dir.path().to_str().unwrap()]);
    assert_eq!(fetch(srv.addr, "/flags/br/br.gif").body, b"GIF89a real bytes");
    assert_eq!(fetch(srv.addr, "/flags/br/metadata.json").body, br#"{"country": "Brazil"}"#);
    assert_eq!(fetch(srv.addr, "/flags/us/us.gif").status, 404);
}

#[test]
fn the_banner_counts_the_flags_of_a_dir_and_warns_at_none() {
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(super::util::FLAGS_EXE);
    cmd.args(["serve", "--port", "0", "--dir"]).arg(empty.path());
    let mut child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Its banner ends with a command to try: then it is serving.
    let mut stdout = String::new();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    for line in lines.by_ref() {
        let line = line.unwrap();
        stdout += &line;
        stdout.push('\n');
        if line.contains("try: flags get") {
            break;
        }
    }
    super::util::send_signal(child.id(), libc::SIGTERM);
    lines.for_each(|l| stdout += &l.unwrap_or_default());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("serving the 0 flags in"), "{stdout}");
    assert!(stderr.contains("holds no flag to serve"), "{stderr}");
    let full = tempfile::tempdir().unwrap();
    for cc in ["br", "fr"] {
        std::fs::create_dir(full.path().join(cc)).unwrap();
        std::fs::write(full.path().join(format!("{cc}/{cc}.gif")), b"GIF89a;").unwrap();
    }
    let srv = ServeProcess::start(&["--dir", full.path().to_str().unwrap()]);
    assert!(srv.output()[0].contains("serving the 2 flags in"), "{:?}", srv.output());
}

#[test]
fn verbose_logs_a_stalled_request_when_its_client_leaves() {
    let srv = ServeProcess::start(&["-v", "--fault", "stall"]);
    {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(srv.addr).unwrap();
        s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        // The server holds the request (the stall) before its client leaves.
        super::util::wait_in_flight(srv.addr, 1);
    }
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        if srv.output().iter().any(|l| l == "GET /flags/br/br.gif client went away [fault: stall]") {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no log line for the stalled request: {:?}", srv.output());
}

/// With `--seed`, which request gets a 418 depends on the seed, the URL and
/// how many times that URL was asked for, not on the order requests
/// arrive in: two servers asked in opposite orders answer alike.
#[test]
fn seeded_draws_do_not_depend_on_arrival_order() {
    let paths: Vec<String> = flags::POP20.iter().map(|cc| format!("/flags/{0}/{0}.gif", cc.lower())).collect();
    let answers = |order: &mut dyn Iterator<Item = &String>| {
        let srv = ServeProcess::start(&["--error-rate", "0.5", "--seed", "7"]);
        let mut got = std::collections::BTreeMap::new();
        for path in order {
            for n in 0..3 {
                got.insert((path.clone(), n), fetch(srv.addr, path).status);
            }
        }
        got
    };
    let forward = answers(&mut paths.iter());
    let backward = answers(&mut paths.iter().rev());
    assert_eq!(forward, backward);
    let teapots = forward.values().filter(|s| **s == 418).count();
    assert!(teapots > 5 && teapots < 55, "a share of 0.5 drew {teapots} of 60");
}

/// An HTTP/2 GET over h2c with prior knowledge, by the h2 crate: the
/// status and body of `path`, with `:authority` naming `authority`.
fn h2c_get(addr: std::net::SocketAddr, authority: &str, path: &str) -> (u16, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut client, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::get(format!("http://{authority}{path}")).body(()).unwrap();
        let (answer, _) = client.send_request(req, true).unwrap();
        let answer = answer.await.unwrap();
        let status = answer.status().as_u16();
        let mut body = answer.into_body();
        let mut bytes = Vec::new();
        while let Some(piece) = body.data().await {
            let piece = piece.unwrap();
            let _ = body.flow_control().release_capacity(piece.len());
            bytes.extend_from_slice(&piece);
        }
        (status, bytes)
    })
}

#[test]
fn the_gallery_names_the_server_as_an_http2_client_reached_it() {
    let srv = ServeProcess::start(&[]);
    let authority = format!("localhost:{}", srv.addr.port());
    let (status, page) = h2c_get(srv.addr, &authority, "/");
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains(&format!("flags get -s http://{authority}/flags")), "no download command with its port");
}

#[test]
fn watching_stats_counts_nothing_in_any_protocol() {
    let srv = ServeProcess::start(&[]);
    let tls = ServeProcess::start(&["--tls"]);
    for _ in 0..3 {
        assert_eq!(fetch(srv.addr, "/stats").status, 200);
        assert_eq!(h2c_get(srv.addr, "x", "/stats").0, 200);
        let _ = super::util::https_get(tls.addr, "/stats", tls.ca.as_ref().unwrap());
    }
    let plain: serde_json::Value = serde_json::from_slice(&fetch(srv.addr, "/stats").body).unwrap();
    let answer = super::util::https_get(tls.addr, "/stats", tls.ca.as_ref().unwrap());
    let body = answer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| &answer[at + 4..]).unwrap();
    let secure: serde_json::Value = serde_json::from_slice(body).unwrap();
    for key in ["requests", "connections", "h2_connections", "tls_handshakes"] {
        assert_eq!(plain[key], 0, "{key}: {plain}");
        assert_eq!(secure[key], 0, "{key}: {secure}");
    }
    // A flag's request counts its connection, once.
    assert_eq!(fetch(srv.addr, "/flags/br/br.gif").status, 200);
    let after: serde_json::Value = serde_json::from_slice(&fetch(srv.addr, "/stats").body).unwrap();
    assert_eq!((after["requests"].as_u64(), after["connections"].as_u64()), (Some(1), Some(1)), "{after}");
}

/// The most intervals open at once, and the number of waves: runs of
/// starts with no gap longer than `gap` seconds between them.
fn peak_and_waves(mut spans: Vec<(f64, f64)>, gap: f64) -> (usize, usize) {
    let mut edges: Vec<(f64, i32)> = spans.iter().flat_map(|&(a, b)| [(a, 1), (b, -1)]).collect();
    edges.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let (mut now, mut peak) = (0, 0);
    for (_, d) in edges {
        now += d;
        peak = peak.max(now);
    }
    spans.sort_by(|x, y| x.0.total_cmp(&y.0));
    let waves = 1 + spans.windows(2).filter(|w| w[1].0 - w[0].0 > gap).count();
    (peak as usize, waves)
}

#[test]
fn the_server_draws_a_python_thread_pool_of_six_as_four_waves() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    let mut server = ServeProcess::start(&["--delay", "0.5", "--timeline", out.to_str().unwrap()]);
    let codes: Vec<String> = flags::POP20.iter().map(|c| c.lower()).collect();
    // Every image drawn first (a debug build draws slowly), and the pool's
    // requests told apart from these by time.
    for cc in &codes {
        assert_eq!(super::util::fetch(server.addr, &format!("/flags/{cc}/{cc}.gif")).status, 200);
    }
    let warm: serde_json::Value = serde_json::from_slice(&super::util::fetch(server.addr, "/timeline").body).unwrap();
    let since = warm["now_ms"].as_f64().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pool6.py");
    let run = Command::new("python3")
        .arg(&script)
        .arg(format!("http://{}/flags", server.addr))
        .args(&codes)
        .current_dir(dir.path())
        .output()
        .expect("python3 runs (.ci/run installs it)");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let client: Vec<(f64, f64)> = serde_json::from_slice(&run.stdout).unwrap();
    // The live record first: GET /timeline.
    let live = super::util::fetch(server.addr, &format!("/timeline?since={since}"));
    let live: serde_json::Value = serde_json::from_slice(&live.body).unwrap();
    assert_eq!(live["requests"].as_array().unwrap().len(), 20, "{live}");
    server.signal(libc::SIGINT);
    assert!(server.wait_exit(std::time::Duration::from_secs(10)).is_some());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let served: Vec<(f64, f64)> = doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["head_ms"].as_f64().unwrap() > since)
        .map(|r| (r["head_ms"].as_f64().unwrap() / 1000.0, r["done_ms"].as_f64().unwrap() / 1000.0))
        .collect();
    assert_eq!(served.len(), 20);
    assert_eq!(peak_and_waves(served.clone(), 0.25), (6, 4), "the server view: {served:?}");
    assert_eq!(peak_and_waves(client, 0.25), (6, 4), "the client's own view");
    let conns: std::collections::BTreeSet<u64> = doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["head_ms"].as_f64().unwrap() > since)
        .map(|r| r["conn"].as_u64().unwrap())
        .collect();
    assert_eq!(conns.len(), 20, "urllib opens a connection per request");
}

#[test]
fn the_server_records_a_client_that_vanishes_mid_request_as_left_early() {
    use std::io::Write;
    let server = ServeProcess::start(&["--delay", "5"]);
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    super::util::wait_in_flight(server.addr, 1);
    drop(s);
    // The held request notices the client gone, and the record says so.
    let mut doc = serde_json::Value::Null;
    super::util::wait_until("the request is recorded", Duration::from_secs(10), || {
        doc = serde_json::from_slice(&fetch(server.addr, "/timeline").body).unwrap();
        !doc["requests"].as_array().unwrap().is_empty()
    });
    let r = &doc["requests"][0];
    assert_eq!(r["request"], "GET /flags/br/br.gif", "{r}");
    assert_eq!(
        (r["left_early"].as_bool(), r["status"].is_null(), r["bytes"].as_u64()),
        (Some(true), true, Some(0)),
        "{r}"
    );
    assert!(r["done_ms"].as_f64().unwrap() - r["head_ms"].as_f64().unwrap() < 4000.0, "let go before its delay: {r}");
}

#[test]
fn a_preface_sent_in_pieces_still_speaks_http2_and_a_get_that_starts_like_it_http1() {
    use std::io::{Read, Write};
    let srv = ServeProcess::start(&[]);
    // HTTP/2 with prior knowledge, the preface in two writes: the server's
    // first frame back is its SETTINGS (type 4).
    let mut h2 = std::net::TcpStream::connect(srv.addr).unwrap();
    h2.set_nodelay(true).unwrap();
    h2.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n").unwrap();
    h2.write_all(b"\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").unwrap();
    let mut frame = [0u8; 9];
    h2.read_exact(&mut frame).unwrap();
    assert_eq!(frame[3], 4, "not a SETTINGS frame: {frame:?}");
    // A request that shares the preface's first letter is HTTP/1.1.
    let mut h1 = std::net::TcpStream::connect(srv.addr).unwrap();
    h1.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    h1.write_all(b"PUT /flags/br/br.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = h1.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 "), "{answer:?}");
}

#[test]
fn a_client_that_leaves_halfway_through_the_preface_is_let_go_before_its_header_timeout() {
    use std::io::{Read, Write};
    let srv = ServeProcess::start(&["--header-timeout", "30"]);
    let mut gone = std::net::TcpStream::connect(srv.addr).unwrap();
    gone.write_all(b"PRI * HTTP/2.0\r\n").unwrap();
    gone.shutdown(std::net::Shutdown::Write).unwrap();
    gone.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let t0 = Instant::now();
    let mut rest = Vec::new();
    // The server closes its end (after an answer to the half request, or none).
    let _ = gone.read_to_end(&mut rest);
    assert!(t0.elapsed() < Duration::from_secs(15), "held for {:?}", t0.elapsed());
    // And it serves the next client as ever.
    assert_eq!(fetch(srv.addr, "/flags/br/br.gif").status, 200);
}

#[test]
fn every_request_is_accounted_for_in_the_stats_those_left_unanswered_included() {
    // A client that leaves during a delay got no answer: /stats counts it,
    // so requests = answers by status + unanswered + in flight, as the
    // gallery shows them.
    use std::io::Write;
    let server = super::util::ServeProcess::start(&["--delay", "30"]);
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    super::util::wait_until("the request is in flight", std::time::Duration::from_secs(10), || {
        super::util::stats(server.addr)["in_flight"] == 1
    });
    drop(s);
    super::util::wait_until("it is counted as unanswered", std::time::Duration::from_secs(10), || {
        super::util::stats(server.addr)["unanswered"] == 1
    });
    let _ = super::util::fetch(server.addr, "/flags/fr/fr.gif.nope");
    let st = super::util::stats(server.addr);
    let answered: u64 = st["by_status"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let (requests, unanswered) = (st["requests"].as_u64().unwrap(), st["unanswered"].as_u64().unwrap());
    assert_eq!(requests, answered + unanswered + st["in_flight"].as_u64().unwrap(), "{st}");
}
