//! Hostile servers against every style of the real `flags get`: one
//! scripted server per case (`script_server`), the same outcome demanded of
//! all four styles, the report's accounting checked, and the destination
//! holding complete GIFs or nothing, never a temporary file.
//!
//! `FLAGS_TEST_EXE=path/to/flags` runs the suite against another build
//! (an older one, to see what it got wrong).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::script_server::{answer, gif_fields, tiny_gif, After, ScriptServer};
use super::util::{files_in, flags_exe};

pub(super) const STYLES: [&str; 4] = ["sequential", "threadpool", "async", "processpool"];

/// One style's run: its exit status, its JSON report, and its destination.
pub(super) struct StyleRun {
    pub(super) mode: &'static str,
    pub(super) code: Option<i32>,
    pub(super) report: Value,
    pub(super) dir: tempfile::TempDir,
    took: Duration,
}

impl StyleRun {
    /// Code -> (outcome, reason).
    pub(super) fn outcomes(&self) -> BTreeMap<String, (String, String)> {
        self.report["flags"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no report: {}", self.mode, self.report))
            .iter()
            .map(|f| {
                let reason = f["reason"].as_str().unwrap_or("").to_string();
                (f["cc"].as_str().unwrap().to_string(), (f["outcome"].as_str().unwrap().to_string(), reason))
            })
            .collect()
    }

    /// Asserts the report accounts for `codes` once each, and the
    /// destination holds exactly the files reported saved, each a complete
    /// GIF equal to `served(cc)`, and nothing else.
    pub(super) fn assert_consistent(&self, codes: usize, served: impl Fn(&str) -> Vec<u8>) {
        let r = &self.report;
        let sum: u64 = ["ok", "not_found", "errors", "cancelled"].iter().map(|k| r[k].as_u64().unwrap()).sum();
        assert_eq!(sum as usize, codes, "{}: accounting {r}", self.mode);
        assert_eq!(self.outcomes().len(), codes, "{}", self.mode);
        let mut saved: Vec<String> = Vec::new();
        for f in r["flags"].as_array().unwrap() {
            if f["outcome"] == "ok" {
                let path = Path::new(f["file"].as_str().unwrap());
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let cc = f["cc"].as_str().unwrap();
                let bytes = std::fs::read(self.dir.path().join(&name)).unwrap();
                assert_eq!(bytes, served(cc), "{}: {name} is not what the server sent", self.mode);
                assert!(bytes.starts_with(b"GIF8") && bytes.ends_with(b";"), "{}: {name}", self.mode);
                saved.push(name);
            }
        }
        saved.sort();
        assert_eq!(files_in(self.dir.path()), saved, "{}: files on disk", self.mode);
    }
}

/// The start of a GIF that never ends: a 1x1 screen, then a comment
/// extension whose sub-blocks ([`endless_gif_blocks`]) go on for ever, so
/// that only a size limit or a deadline can stop a client.
pub(super) const ENDLESS_GIF_HEAD: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x21\xFE";

/// About `len` bytes of full comment sub-blocks (255 bytes each).
pub(super) fn endless_gif_blocks(len: usize) -> Vec<u8> {
    let one = [&[255u8][..], &[b'a'; 255][..]].concat();
    one.repeat(len / 256)
}

/// Runs `flags get CODES --json -s BASE` with `args` in every style.
pub(super) fn every_style(base: &str, codes: &[&str], args: &[&str]) -> Vec<StyleRun> {
    STYLES.iter().map(|mode| one_style(mode, base, codes, args)).collect()
}

pub(super) fn one_style(mode: &'static str, base: &str, codes: &[&str], args: &[&str]) -> StyleRun {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let out = std::process::Command::new(flags_exe())
        .arg("get")
        .args(codes)
        .args(["--json", "--mode", mode, "-s", base, "-d"])
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    let took = t0.elapsed();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{mode}: no JSON report; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    StyleRun { mode, code: out.status.code(), report, dir, took }
}

/// Asserts every style ended each code the same way, and returns that.
pub(super) fn same_outcomes(runs: &[StyleRun]) -> BTreeMap<String, (String, String)> {
    let first = runs[0].outcomes();
    for run in &runs[1..] {
        assert_eq!(run.outcomes(), first, "{} and {} disagree", runs[0].mode, run.mode);
    }
    first
}

/// A server that answers every image request with `write`, and metadata
/// with a good document.
pub(super) fn server(write: impl Fn(&str, &mut TcpStream) -> After + Send + Sync + 'static) -> ScriptServer {
    ScriptServer::start(move |seen, s| {
        if seen.is_gif() {
            write(&seen.cc(), s)
        } else {
            let body = format!("{{\"country\": \"Land {}\"}}", seen.cc());
            answer(s, "200 OK", &[("Content-Length", body.len().to_string())], body.as_bytes());
            After::KeepAlive
        }
    })
}

/// Runs the codes in every style against `srv`, demands one outcome for
/// all, and that it is an error whose reason `expect` accepts; no file.
pub(super) fn every_style_fails(
    srv: &ScriptServer,
    codes: &[&str],
    args: &[&str],
    expect: impl Fn(&str) -> bool,
) -> String {
    let runs = every_style(&srv.base(), codes, args);
    let outcomes = same_outcomes(&runs);
    for run in &runs {
        assert_eq!(run.code, Some(1), "{}: exit status", run.mode);
        run.assert_consistent(codes.len(), |_| unreachable!("nothing is saved"));
    }
    let (outcome, reason) = outcomes.values().next().unwrap().clone();
    assert_eq!(outcome, "error");
    assert!(expect(&reason), "unexpected reason: {reason}");
    reason
}

#[test]
fn a_redirect_is_not_followed() {
    let srv = server(|_, s| {
        answer(
            s,
            "302 Found",
            &[("Location", "http://127.0.0.1:1/elsewhere.gif".into()), ("Content-Length", "0".into())],
            b"",
        );
        After::KeepAlive
    });
    let reason = every_style_fails(&srv, &["br"], &[], |r| r.starts_with("HTTP 302"));
    assert_eq!(reason, "HTTP 302 - Found (redirect to http://127.0.0.1:1/elsewhere.gif not followed)");
}

#[test]
fn only_a_200_carries_a_flag() {
    let no_content = server(|_, s| {
        answer(s, "204 No Content", &[], b"");
        After::KeepAlive
    });
    every_style_fails(&no_content, &["br"], &[], |r| r == "unexpected HTTP 204 - No Content");
    let part = server(|cc, s| {
        let gif = tiny_gif(cc);
        answer(
            s,
            "206 Partial Content",
            &[("Content-Range", format!("bytes 0-9/{}", gif.len())), ("Content-Length", "10".into())],
            &gif[..10],
        );
        After::KeepAlive
    });
    every_style_fails(&part, &["br"], &[], |r| r == "unexpected HTTP 206 - Partial Content");
}

#[test]
fn html_is_not_a_gif() {
    let srv = server(|_, s| {
        let page = b"<!doctype html><title>Sorry</title>";
        answer(
            s,
            "200 OK",
            &[("Content-Type", "text/html; charset=utf-8".into()), ("Content-Length", page.len().to_string())],
            page,
        );
        After::KeepAlive
    });
    every_style_fails(&srv, &["br", "fr"], &[], |r| r == "not a GIF (text/html)");
}

#[test]
fn a_gif_cut_short_of_its_trailer_is_not_a_flag() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        let cut = &gif[..gif.len() - 3];
        answer(s, "200 OK", &gif_fields(cut.len()), cut);
        After::KeepAlive
    });
    every_style_fails(&srv, &["br"], &[], |r| r.contains("not a complete GIF"));
}

#[test]
fn a_body_longer_than_its_content_length_is_an_error() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        let mut longer = gif.clone();
        longer.extend_from_slice(b"and some more");
        answer(s, "200 OK", &gif_fields(gif.len()), &longer);
        After::KeepAlive
    });
    every_style_fails(&srv, &["br", "fr"], &[], |r| r == "body longer than its Content-Length");
}

#[test]
fn a_body_shorter_than_its_content_length_is_truncated() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        answer(s, "200 OK", &gif_fields(gif.len() + 10), &gif);
        After::Close
    });
    every_style_fails(&srv, &["br"], &[], |r| r.starts_with("body is ") && r.contains("Content-Length said"));
}

#[test]
fn transfer_encoding_with_content_length_is_an_error_everywhere() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        let mut chunked = format!("{:x}\r\n", gif.len()).into_bytes();
        chunked.extend_from_slice(&gif);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let fields = [("Transfer-Encoding", "chunked".to_string()), ("Content-Length", gif.len().to_string())];
        answer(s, "200 OK", &fields, &chunked);
        After::KeepAlive
    });
    every_style_fails(&srv, &["br"], &[], |r| r.contains("both Transfer-Encoding and Content-Length"));
}

#[test]
fn chunked_bodies_are_fine() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        let (a, b) = gif.split_at(7);
        let mut body = Vec::new();
        for piece in [a, b] {
            body.extend_from_slice(format!("{:x};ext=1\r\n", piece.len()).as_bytes());
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
        answer(s, "200 OK", &[("Transfer-Encoding", "chunked".into())], &body);
        After::KeepAlive
    });
    let runs = every_style(&srv.base(), &["br", "fr", "jp"], &[]);
    same_outcomes(&runs);
    for run in &runs {
        assert_eq!(run.code, Some(0), "{}: {}", run.mode, run.report);
        run.assert_consistent(3, tiny_gif);
    }
}

#[test]
fn an_endless_body_stops_at_max_size_and_a_huge_one_is_refused_unread() {
    let endless = server(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n\r\n");
        let _ = s.write_all(ENDLESS_GIF_HEAD);
        let block = endless_gif_blocks(16 << 10);
        while s.write_all(&block).is_ok() {}
        After::Close
    });
    every_style_fails(&endless, &["br", "fr"], &["--max-size", "100K"], |r| r == "body is over --max-size (100 KiB)");
    let huge = server(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nGIF89a");
        After::Hold(Duration::from_secs(2))
    });
    let reason = every_style_fails(&huge, &["br"], &[], |r| r.contains("over --max-size (256 KiB)"));
    assert_eq!(reason, "body of 10000000000 bytes is over --max-size (256 KiB)");
}

#[test]
fn a_body_that_stops_coming_times_out() {
    let srv = server(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nGIF89a");
        After::Hold(Duration::from_secs(5))
    });
    let runs = every_style(&srv.base(), &["br"], &["--stall", "0.3"]);
    let outcomes = same_outcomes(&runs);
    assert_eq!(outcomes["BR"].1, "timed out in the middle of the answer");
    for run in &runs {
        assert!(run.took < Duration::from_secs(4), "{}: took {:?}", run.mode, run.took);
        run.assert_consistent(1, |_| unreachable!());
    }
}

#[test]
fn broken_heads_are_errors() {
    let garbage = server(|_, s| {
        let _ = s.write_all(b"<html>not http at all</html>\r\n\r\n");
        After::Close
    });
    every_style_fails(&garbage, &["br"], &[], |r| r.starts_with("malformed response header"));
    let many = server(|cc, s| {
        let gif = tiny_gif(cc);
        let mut fields = gif_fields(gif.len());
        fields.extend((0..120).map(|_| ("X-Field", "v".to_string())));
        answer(s, "200 OK", &fields, &gif);
        After::KeepAlive
    });
    every_style_fails(&many, &["br"], &[], |r| r == "malformed response header (more than 100 header fields)");
}

/// A server that keeps each connection alive for exactly one answer, then
/// closes it the moment the next request arrives, before any byte of an
/// answer: the race in which a client reuses a connection the server is
/// closing.
fn closes_idle_connections() -> ScriptServer {
    ScriptServer::start(|seen, s| {
        if seen.nth > 0 {
            return After::Close;
        }
        let gif = tiny_gif(&seen.cc());
        answer(s, "200 OK", &gif_fields(gif.len()), &gif);
        After::KeepAlive
    })
}

#[test]
fn a_request_on_a_connection_the_server_closed_is_sent_again_once() {
    let codes: Vec<String> = flags::countries::catalog().iter().take(30).map(|c| c.cc.to_lowercase()).collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    for mode in STYLES {
        let srv = closes_idle_connections();
        let run = one_style(mode, &srv.base(), &codes, &["-m", "3"]);
        assert_eq!(run.code, Some(0), "{mode}: {}", run.report);
        assert_eq!(run.report["ok"], 30, "{mode}");
        run.assert_consistent(30, tiny_gif);
        // Each code answered once: the request the server dropped was
        // sent again on a new connection, and nothing more.
        for cc in &codes {
            let path = format!("/flags/{cc}/{cc}.gif");
            let answered = srv.seen().iter().filter(|s| s.path == path && s.nth == 0).count();
            assert_eq!(answered, 1, "{mode}: {path}");
        }
    }
}

#[test]
fn a_new_connection_closed_before_any_answer_is_not_sent_again() {
    let srv = ScriptServer::start(|_, _| After::Close);
    let reason = every_style_fails(&srv, &["br"], &[], |r| r.contains("closed"));
    assert_eq!(srv.count("/flags/br/br.gif"), STYLES.len(), "one request per style: {reason}");
}

#[test]
fn credentials_in_the_url_are_sent_as_basic_auth_in_every_style() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        answer(s, "200 OK", &gif_fields(gif.len()), &gif);
        After::KeepAlive
    });
    let base = format!("http://user:p%40ss@{}/flags", srv.addr);
    let runs = every_style(&base, &["br"], &[]);
    for run in &runs {
        assert_eq!(run.code, Some(0), "{}: {}", run.mode, run.report);
        assert_eq!(run.report["base_url"], srv.base(), "no credentials in the report");
    }
    for seen in srv.seen() {
        assert!(seen.head.contains("\r\nAuthorization: Basic dXNlcjpwQHNz\r\n"), "{}", seen.head);
        assert!(seen.head.contains(&format!("\r\nHost: {}\r\n", srv.addr)), "{}", seen.head);
    }
}

#[test]
fn names_from_a_hostile_metadata_json_are_made_safe() {
    let names =
        [("us", "."), ("in", ".."), ("jp", "-"), ("il", "evil\u{202E}fig.exe"), ("de", "../../x"), ("fr", "-rf *")];
    let srv = ScriptServer::start(move |seen, s| {
        let cc = seen.cc();
        if seen.is_gif() {
            let gif = tiny_gif(&cc);
            answer(s, "200 OK", &gif_fields(gif.len()), &gif);
        } else {
            let name = names.iter().find(|(c, _)| *c == cc).map_or("?", |(_, n)| n);
            let body = serde_json::json!({ "country": name }).to_string();
            answer(s, "200 OK", &[("Content-Length", body.len().to_string())], body.as_bytes());
        }
        After::KeepAlive
    });
    let runs = every_style(&srv.base(), &["us", "in", "jp", "il", "de", "fr"], &["--names"]);
    for run in &runs {
        assert_eq!(run.code, Some(0), "{}: {}", run.mode, run.report);
        let expected = ["evilfig.exe-IL.gif", "in.gif", "jp.gif", "rf__-FR.gif", "us.gif", "x-DE.gif"];
        assert_eq!(files_in(run.dir.path()), expected, "{}", run.mode);
    }
}

#[test]
fn metadata_that_is_not_json_is_an_error() {
    let srv = ScriptServer::start(|seen, s| {
        if seen.is_gif() {
            let gif = tiny_gif(&seen.cc());
            answer(s, "200 OK", &gif_fields(gif.len()), &gif);
        } else {
            answer(s, "200 OK", &[("Content-Length", "6".into())], b"<html>");
        }
        After::KeepAlive
    });
    every_style_fails(&srv, &["br"], &["--names"], |r| r.starts_with("metadata.json is not JSON"));
}

#[test]
fn a_reset_after_a_partial_body_is_an_error_and_leaves_no_file() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        answer(s, "200 OK", &gif_fields(gif.len() * 100), &gif[..10]);
        std::thread::sleep(Duration::from_millis(20));
        After::Reset
    });
    every_style_fails(&srv, &["br", "fr"], &[], |r| r == "connection reset");
}

#[test]
fn a_body_dripped_a_byte_at_a_time_still_arrives_whole() {
    let srv = server(|cc, s| {
        let gif = tiny_gif(cc);
        let _ = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", gif.len()).as_bytes());
        for b in &gif {
            let _ = s.write_all(&[*b]);
            std::thread::sleep(Duration::from_millis(2));
        }
        After::KeepAlive
    });
    let runs = every_style(&srv.base(), &["br", "fr"], &[]);
    same_outcomes(&runs);
    for run in &runs {
        assert_eq!(run.code, Some(0), "{}", run.mode);
        run.assert_consistent(2, tiny_gif);
    }
}

#[test]
fn endless_bodies_do_not_grow_memory() {
    // Every code answered with a body that never ends: each is cut at
    // --max-size as it streams to its temporary file, so memory stays flat
    // however many are in flight.
    let srv = server(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n\r\n");
        let _ = s.write_all(ENDLESS_GIF_HEAD);
        let block = endless_gif_blocks(64 << 10);
        while s.write_all(&block).is_ok() {}
        After::Close
    });
    for (mode, m) in [("async", "1000"), ("threadpool", "1000"), ("sequential", "1"), ("processpool", "50")] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(flags_exe());
        cmd.args(["get", "-e", "-m", m, "--json", "--mode", mode, "-s", &srv.base(), "-d"]).arg(dir.path());
        let keep = flags::shell::measure::Keep { stdout: 8 << 20, stderr: None };
        let sample = flags::shell::measure::run(cmd, keep, &flags::shutdown::Shutdown::default()).unwrap();
        let report: Value = serde_json::from_slice(sample.whole_stdout().expect("the whole report")).unwrap();
        assert_eq!(report["errors"], 676, "{mode}");
        assert_eq!(report["flags"][0]["reason"], "body is over --max-size (256 KiB)", "{mode}");
        assert!(files_in(dir.path()).is_empty(), "{mode}: files left");
        let mib = sample.rss_kib as f64 / 1024.0;
        eprintln!("{mode} -m {m}: peak RSS {mib:.1} MiB");
        assert!(mib <= 64.0, "{mode}: peak RSS {mib:.1} MiB");
    }
}

/// `python3 -m http.server` (listen backlog 5) serving the 194 flags from a
/// directory, as the book has readers serve them; `None` without Python.
fn python_http_server() -> Option<(std::process::Child, String, tempfile::TempDir)> {
    use std::io::BufRead;
    let root = tempfile::tempdir().unwrap();
    for country in flags::countries::catalog() {
        let cc = country.cc.to_lowercase();
        let dir = root.path().join("flags").join(&cc);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{cc}.gif")), super::util::served_image(&cc)).unwrap();
    }
    let mut child = std::process::Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(root.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).ok()?;
    let port = line.split("port ").nth(1)?.split(' ').next()?.to_string();
    Some((child, format!("http://127.0.0.1:{port}/flags"), root))
}

#[test]
fn the_defaults_get_every_flag_from_pythons_http_server() {
    let Some((mut python, base, _root)) = python_http_server() else {
        assert!(std::env::var_os("CI").is_none(), "python3 is needed for this test");
        eprintln!("skipped: no python3");
        return;
    };
    // Its listen queue holds 5 connections; async's default is 100 at once.
    for mode in STYLES {
        let run = one_style(mode, &base, &["-a"], &[]);
        assert_eq!(run.report["ok"], 194, "{mode}: {}", run.report["errors"]);
        run.assert_consistent(194, super::util::served_image);
    }
    let _ = python.kill();
    let _ = python.wait();
}
