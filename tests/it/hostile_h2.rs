//! Hostile HTTP/2 servers against the async style, the one that speaks
//! HTTP/2 (`--http2`, with prior knowledge on plain http). Each case is a
//! server on the `h2` crate's server side, which frames what it is told to
//! without checking it: it can announce one length and send another, reset
//! a stream in the middle of a body, or go away in the middle of a run.
//!
//! For every behaviour HTTP/1.1 also has (`hostile_server`), the outcome
//! demanded is the one the HTTP/1.1 case demands, word for word: the
//! framing differs, the policy does not.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::server::SendResponse;
use serde_json::Value;

use super::script_server::tiny_gif;
use super::util::{files_in, flags_exe};

/// What the server does with each request.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// A good answer.
    Flag,
    /// A good answer after 300 ms, so that the streams overlap.
    Held,
    /// A 200 with an HTML page.
    Html,
    /// A 302 elsewhere.
    Redirect,
    /// A 204.
    NoContent,
    /// The GIF and more bytes than the Content-Length announced.
    Longer,
    /// The GIF, announced 10 bytes longer, then the stream's end.
    Shorter,
    /// Half the GIF, then `RST_STREAM`.
    ResetMidBody,
    /// The head and a few bytes, then nothing for a long time.
    StopsComing,
    /// A body with no length that never ends.
    Endless,
    /// A good answer whose head has 150 fields, more than the 100 the
    /// client takes over HTTP/1.1.
    ManyFields,
}

/// How a connection ends.
#[derive(Debug, Clone, Copy)]
enum Life {
    /// It serves every stream.
    Forever,
    /// After this many answers, a graceful `GOAWAY` (as nginx does after
    /// its `keepalive_requests`): streams already sent are still answered.
    GoAwayAfter(usize),
    /// After this many streams, `GOAWAY` naming the last of them, and the
    /// connection closes, whatever is still queued to be sent.
    DropAfter(usize),
    /// It takes this many streams at once, and refuses (REFUSED_STREAM)
    /// those a client opens past them before it has read the SETTINGS
    /// saying so.
    FewStreams(u32),
}

struct H2Server {
    addr: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for H2Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl H2Server {
    fn start(act: Act, life: Life) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(connection(stream, act, life));
            }
        });
        H2Server { addr, connections, runtime: Some(runtime) }
    }

    fn base(&self) -> String {
        format!("http://{}/flags", self.addr)
    }
}

async fn connection(stream: tokio::net::TcpStream, act: Act, life: Life) {
    let mut builder = h2::server::Builder::new();
    if let Life::FewStreams(n) = life {
        builder.max_concurrent_streams(n);
    }
    let Ok(mut conn) = builder.handshake(stream).await else { return };
    let mut answered = 0;
    let mut closing = false;
    while let Some(Ok((request, respond))) = conn.accept().await {
        let cc = request.uri().path().rsplit('/').next().unwrap_or("").trim_end_matches(".gif").to_string();
        let task = tokio::spawn(answer(act, cc, respond));
        answered += 1;
        match life {
            Life::GoAwayAfter(n) if answered >= n && !closing => {
                closing = true;
                conn.graceful_shutdown();
            }
            Life::DropAfter(n) if answered >= n => {
                // The stream's answer is queued first; then the GOAWAY names
                // it as the last, the streams after it are refused, and the
                // connection closes.
                let _ = task.await;
                conn.abrupt_shutdown(h2::Reason::NO_ERROR);
            }
            _ => {}
        }
    }
}

fn head(status: u16, fields: &[(&str, String)]) -> hyper::Response<()> {
    let mut response = hyper::Response::builder().status(status);
    for (name, value) in fields {
        response = response.header(*name, value);
    }
    response.body(()).unwrap()
}

async fn answer(act: Act, cc: String, mut respond: SendResponse<Bytes>) {
    let gif = tiny_gif(&cc);
    let gif_head = |len: usize| head(200, &[("content-type", "image/gif".into()), ("content-length", len.to_string())]);
    let (response, body): (hyper::Response<()>, Vec<u8>) = match act {
        Act::Flag => (gif_head(gif.len()), gif),
        Act::Held => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            (gif_head(gif.len()), gif)
        }
        Act::Html => {
            let page = b"<!doctype html><title>Sorry</title>".to_vec();
            let fields =
                [("content-type", "text/html; charset=utf-8".to_string()), ("content-length", page.len().to_string())];
            (head(200, &fields), page)
        }
        Act::Redirect => {
            let fields =
                [("location", "http://127.0.0.1:1/elsewhere.gif".to_string()), ("content-length", "0".to_string())];
            (head(302, &fields), Vec::new())
        }
        Act::NoContent => (head(204, &[]), Vec::new()),
        Act::ManyFields => {
            let names: Vec<String> = (0..148).map(|i| format!("x-filler-{i}")).collect();
            let mut fields = vec![("content-type", "image/gif".to_string()), ("content-length", gif.len().to_string())];
            fields.extend(names.iter().map(|n| (n.as_str(), "x".to_string())));
            (head(200, &fields), gif)
        }
        Act::Longer => {
            let mut longer = gif.clone();
            longer.extend_from_slice(b"and some more");
            (gif_head(gif.len()), longer)
        }
        Act::Shorter => (gif_head(gif.len() + 10), gif),
        Act::ResetMidBody => {
            let Ok(mut send) = respond.send_response(gif_head(gif.len()), false) else { return };
            let _ = send.send_data(Bytes::copy_from_slice(&gif[..gif.len() / 2]), false);
            tokio::time::sleep(Duration::from_millis(50)).await;
            send.send_reset(h2::Reason::INTERNAL_ERROR);
            return;
        }
        Act::StopsComing => {
            let Ok(mut send) = respond.send_response(gif_head(1000), false) else { return };
            let _ = send.send_data(Bytes::from_static(b"GIF89a"), false);
            tokio::time::sleep(Duration::from_secs(5)).await;
            return;
        }
        Act::Endless => {
            let Ok(mut send) = respond.send_response(head(200, &[("content-type", "image/gif".into())]), false) else {
                return;
            };
            let _ = send.send_data(Bytes::from_static(super::hostile_server::ENDLESS_GIF_HEAD), false);
            let block = Bytes::from(super::hostile_server::endless_gif_blocks(16 << 10));
            // Within the window the client grants, until it resets the
            // stream.
            for _ in 0..200 {
                send.reserve_capacity(block.len());
                if send.send_data(block.clone(), false).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
            return;
        }
    };
    let end = body.is_empty();
    let Ok(mut send) = respond.send_response(response, end) else { return };
    if !end {
        let _ = send.send_data(Bytes::from(body), true);
    }
}

/// `flags get CODES --mode async --http2 --json` against `srv`.
fn get(srv: &H2Server, codes: &[&str], args: &[&str]) -> (Option<i32>, Value, tempfile::TempDir, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let out = std::process::Command::new(flags_exe())
        .arg("get")
        .args(codes)
        .args(["--json", "--mode", "async", "--http2", "-s", &srv.base(), "-d"])
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON report; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report, dir, t0.elapsed())
}

/// Runs `codes` against a server doing `act`, and demands that each is an
/// error with the same `reason`, and that nothing is left on disk.
fn fails_with(act: Act, codes: &[&str], args: &[&str], reason: impl Fn(&str) -> bool) {
    let srv = H2Server::start(act, Life::Forever);
    let (code, report, dir, took) = get(&srv, codes, args);
    assert_eq!(code, Some(1), "{act:?}: {report}");
    assert_eq!(report["errors"].as_u64(), Some(codes.len() as u64), "{act:?}: {report}");
    for flag in report["flags"].as_array().unwrap() {
        let said = flag["reason"].as_str().unwrap_or("");
        assert!(reason(said), "{act:?}: unexpected reason: {said}");
    }
    assert!(files_in(dir.path()).is_empty(), "{act:?}: left {:?}", files_in(dir.path()));
    assert!(took < Duration::from_secs(5), "{act:?} took {took:?}");
    assert_eq!(srv.connections.load(Ordering::SeqCst), 1, "{act:?}: one connection for the run");
}

#[test]
fn what_is_not_a_flag_over_http2_is_what_it_is_over_http1() {
    fails_with(Act::Html, &["br", "fr"], &[], |r| r == "not a GIF (text/html)");
    fails_with(Act::Redirect, &["br"], &[], |r| {
        r == "HTTP 302 - Found (redirect to http://127.0.0.1:1/elsewhere.gif not followed)"
    });
    fails_with(Act::NoContent, &["br"], &[], |r| r == "unexpected HTTP 204 - No Content");
    // One limit on a head's fields, whichever protocol carried it.
    fails_with(Act::ManyFields, &["br"], &[], |r| r == "malformed response header (more than 100 header fields)");
}

#[test]
fn a_server_that_lies_about_the_length_over_http2() {
    // The HTTP/2 layer refuses the frame that breaks the length before the
    // client sees it, and does not say which way it broke: over HTTP/1.1
    // these read "body longer than its Content-Length" and "body is N
    // bytes, Content-Length said M".
    fails_with(Act::Longer, &["br", "fr"], &[], |r| r == "body does not match its Content-Length");
    fails_with(Act::Shorter, &["br"], &[], |r| r == "body does not match its Content-Length");
    fails_with(Act::ResetMidBody, &["br"], &[], |r| r.starts_with("body is ") && r.contains("Content-Length said"));
}

#[test]
fn an_http2_body_that_stops_or_never_ends() {
    fails_with(Act::StopsComing, &["br"], &["--stall", "0.3"], |r| r == "timed out in the middle of the answer");
    fails_with(Act::Endless, &["br", "fr"], &["--max-size", "100K"], |r| r == "body is over --max-size (100 KiB)");
}

#[test]
fn a_server_that_goes_away_mid_run_loses_no_flag() {
    let codes = ["br", "cn", "de", "eg", "fr", "in", "jp", "mx", "ng", "ru", "tr", "us"];
    for (life, m) in [(Life::GoAwayAfter(3), "4"), (Life::DropAfter(3), "1")] {
        let srv = H2Server::start(Act::Flag, life);
        let (code, report, dir, _) = get(&srv, &codes, &["-m", m]);
        assert_eq!(code, Some(0), "{life:?}: {report}");
        assert_eq!(report["ok"].as_u64(), Some(codes.len() as u64), "{life:?}: {report}");
        let mut expected: Vec<String> = codes.iter().map(|cc| format!("{cc}.gif")).collect();
        expected.sort();
        assert_eq!(files_in(dir.path()), expected, "{life:?}");
        for cc in codes {
            assert_eq!(std::fs::read(dir.path().join(format!("{cc}.gif"))).unwrap(), tiny_gif(cc), "{life:?}: {cc}");
        }
        let opened = srv.connections.load(Ordering::SeqCst);
        match life {
            // The streams in flight when it went away were still answered.
            Life::GoAwayAfter(_) => assert!(opened >= 2, "{life:?}: {opened} connections"),
            // One stream at a time, three to a connection.
            // Three streams to a connection at most; the third's answer may
            // be lost as the connection closes, and is asked again.
            _ => assert!(opened >= codes.len() / 3, "{life:?}: {opened} connections"),
        }
    }
}

#[test]
fn a_stream_the_server_refuses_is_sent_again() {
    let codes = ["br", "cn", "de", "eg", "fr", "in", "jp", "mx", "ng", "ru", "tr", "us"];
    for _ in 0..5 {
        let srv = H2Server::start(Act::Flag, Life::FewStreams(2));
        let (code, report, dir, _) = get(&srv, &codes, &["-m", "12"]);
        assert_eq!(code, Some(0), "{report}");
        assert_eq!(files_in(dir.path()).len(), codes.len(), "{report}");
    }
}

#[test]
fn past_the_servers_stream_limit_more_connections_are_opened_and_no_more() {
    // A server that takes 4 streams at once: 12 flags at -m 12 go on 3
    // connections, each full, rather than wait for places on one.
    let codes = ["br", "cn", "de", "eg", "fr", "in", "jp", "mx", "ng", "ru", "tr", "us"];
    for (life, m, connections) in [
        (Life::FewStreams(4), "12", 3),
        (Life::FewStreams(4), "4", 1),
        (Life::FewStreams(5), "12", 3),
        (Life::FewStreams(100), "12", 1),
        (Life::Forever, "12", 1),
    ] {
        let srv = H2Server::start(Act::Held, life);
        let (code, report, dir, _) = get(&srv, &codes, &["-m", m]);
        assert_eq!(code, Some(0), "{life:?} -m {m}: {report}");
        assert_eq!(files_in(dir.path()).len(), codes.len(), "{life:?} -m {m}: {report}");
        let opened = srv.connections.load(Ordering::SeqCst);
        assert_eq!(opened, connections, "{life:?} -m {m}: {opened} connections");
        let conns: std::collections::BTreeSet<u64> =
            report["flags"].as_array().unwrap().iter().filter_map(|f| f["timeline"]["conn"].as_u64()).collect();
        assert_eq!(conns.len(), connections, "{life:?} -m {m}: the timelines name {conns:?}");
    }
}
