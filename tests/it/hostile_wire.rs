//! The second round of hostile servers, against every style of the real
//! `flags get`: bytes nobody asked for on a kept-alive connection, a TLS
//! body cut by a close without close_notify, line endings and folds the
//! grammar allows, and text from the wire that must be shown escaped.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::hostile_server::{every_style, every_style_fails, one_style, same_outcomes, server, STYLES};
use super::script_server::{answer, gif_fields, tiny_gif, After, ScriptServer};

/// Every style saved every one of `codes` as its own flag.
fn every_style_saves(srv: &ScriptServer, codes: &[&str], args: &[&str]) {
    for run in every_style(&srv.base(), codes, args) {
        assert_eq!(run.code, Some(0), "{}: {}", run.mode, run.report);
        run.assert_consistent(codes.len(), tiny_gif);
    }
}

#[test]
fn bytes_nobody_asked_for_are_never_read_as_an_answer() {
    // BR is answered 503 with Retry-After: 1 and then, 150 ms later, on the
    // same connection, a 200 with another flag that nobody asked for; the
    // retry must not take it for BR's answer, nor may CN after it (-m 1).
    for mode in STYLES {
        let brs = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&brs);
        let srv = server(move |cc, s| {
            if cc == "br" && seen.fetch_add(1, Ordering::SeqCst) == 0 {
                answer(
                    s,
                    "503 Service Unavailable",
                    &[("Retry-After", "1".into()), ("Content-Length", "0".into())],
                    b"",
                );
                std::thread::sleep(Duration::from_millis(150));
                let stray = tiny_gif("zz");
                answer(s, "200 OK", &gif_fields(stray.len()), &stray);
                return After::KeepAlive;
            }
            let gif = tiny_gif(cc);
            answer(s, "200 OK", &gif_fields(gif.len()), &gif);
            After::KeepAlive
        });
        let run = one_style(mode, &srv.base(), &["br", "cn"], &["-m", "1", "--retries", "1"]);
        assert_eq!(run.code, Some(0), "{mode}: {}", run.report);
        run.assert_consistent(2, tiny_gif);
    }
}

#[test]
fn chunk_lines_that_end_in_a_bare_lf_are_read() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        let head = "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut body = format!("{:x}\n", 5).into_bytes();
        body.extend_from_slice(&gif[..5]);
        body.extend_from_slice(format!("\n0000000000000000000000{:x};ext=1\n", gif.len() - 5).as_bytes());
        body.extend_from_slice(&gif[5..]);
        body.extend_from_slice(b"\n0\n\n");
        let _ = s.write_all(&[head.as_bytes(), &body].concat());
        After::KeepAlive
    });
    every_style_saves(&srv, &["br", "fr"], &["--timeout", "5"]);
}

#[test]
fn a_folded_content_length_is_unfolded() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length:\r\n {}\r\n\r\n", gif.len());
        let _ = s.write_all(&[head.as_bytes(), &gif].concat());
        After::KeepAlive
    });
    every_style_saves(&srv, &["br", "fr"], &[]);
}

#[test]
fn text_from_the_wire_is_shown_escaped() {
    let srv = server(|_, s| {
        answer(
            s,
            "302 Found",
            &[("Location", "http://x/\u{9b}31m\u{202e}<script>".into()), ("Content-Length", "0".into())],
            b"",
        );
        After::KeepAlive
    });
    let reason = every_style_fails(&srv, &["br"], &[], |r| r.contains("redirect to"));
    assert_eq!(reason, "HTTP 302 - Found (redirect to http://x/\\u{9b}31m\\u{202e}<script> not followed)");
    let html = server(|_, s| {
        answer(s, "200 OK", &[("Content-Type", "text/\u{9b}2Jhtml".into()), ("Content-Length", "6".into())], b"<html>");
        After::KeepAlive
    });
    every_style_fails(&html, &["br"], &[], |r| r == "not a GIF (text/\\u{9b}2Jhtml)");
    // And on the terminal, with -v.
    for mode in STYLES {
        let out = std::process::Command::new(super::util::flags_exe())
            .args(["get", "br", "-v", "--mode", mode, "-s", &srv.base(), "-d"])
            .arg(tempfile::tempdir().unwrap().path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\\u{9b}31m\\u{202e}"), "{mode}: {text}");
        assert!(!text.contains('\u{9b}') && !text.contains('\u{202e}'), "{mode}: raw control characters");
    }
}

/// A TLS server on 127.0.0.1 that answers every request with a
/// close-delimited GIF (no Content-Length) and then closes the TCP
/// connection, with close_notify when `clean`. Its CA file is returned.
fn tls_close_delimited(clean: bool) -> (String, tempfile::TempDir) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).unwrap().self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), cert.pem()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}/flags", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(n @ 1..) => head.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let cc = String::from_utf8_lossy(&head).split('/').nth(2).unwrap_or("xx").to_string();
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nConnection: close\r\n\r\n");
                let _ = tls.write_all(&tiny_gif(&cc));
                if clean {
                    tls.conn.send_close_notify();
                }
                let _ = tls.flush();
                let _ = tls.sock.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (base, dir)
}

#[test]
fn over_tls_a_body_ended_without_close_notify_is_not_a_flag() {
    let (base, dir) = tls_close_delimited(false);
    let ca = dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    let runs = every_style(&base, &["br"], &["--cacert", ca]);
    let outcomes = same_outcomes(&runs);
    assert_eq!(outcomes["BR"].0, "error");
    assert!(outcomes["BR"].1.contains("without close_notify"), "{:?}", outcomes["BR"]);
    for run in &runs {
        run.assert_consistent(1, |_| unreachable!("nothing is saved"));
    }
    // With close_notify the same body is whole.
    let (base, dir) = tls_close_delimited(true);
    let ca = dir.path().join("ca.pem");
    for run in every_style(&base, &["br"], &["--cacert", ca.to_str().unwrap()]) {
        assert_eq!(run.code, Some(0), "{}: {}", run.mode, run.report);
        run.assert_consistent(1, tiny_gif);
    }
}

#[test]
fn a_retry_after_too_large_for_64_bits_waits_the_cap_as_the_largest_does() {
    // RFC 9110 §10.2.3: delay-seconds is 1*DIGIT, however many. A value
    // past 64 bits was ignored and the request sent again at once, while
    // the largest 64-bit value waited the 10 s cap: both wait the cap.
    let times = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&times);
    let srv = server(move |cc, s| {
        let n = {
            let mut t = seen.lock().unwrap();
            t.push(std::time::Instant::now());
            t.len()
        };
        if n == 1 {
            let fields = [("Retry-After", "99999999999999999999999".to_string()), ("Content-Length", "0".into())];
            answer(s, "503 Service Unavailable", &fields, b"");
            return After::KeepAlive;
        }
        let gif = tiny_gif(cc);
        answer(s, "200 OK", &gif_fields(gif.len()), &gif);
        After::KeepAlive
    });
    let run = one_style("sequential", &srv.base(), &["br"], &["--retries", "1"]);
    assert_eq!(run.code, Some(0), "{}", run.report);
    let t = times.lock().unwrap();
    assert_eq!(t.len(), 2);
    let waited = t[1] - t[0];
    assert!(waited >= Duration::from_millis(9_500), "retried after {waited:?}, not at the 10 s cap");
}
