//! `--timeline` as Trace Event (`.trace.json`) and HAR (`.har`), from the
//! real binary: `flags get`, `flags serve` stopped by SIGTERM, the
//! server's `/timeline.har` and `/timeline.trace.json`, and `flags demo`.
//! Each file is held to its format by the checks below, and text a peer
//! sent (a path, a `Location`) must come out as valid JSON.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::util::{fetch, http_get, stats, ServeProcess, FLAGS_EXE};

fn flags(args: &[&str]) -> std::process::Output {
    let mut cmd = assert_cmd::Command::new(FLAGS_EXE);
    cmd.args(args).timeout(Duration::from_secs(120));
    cmd.output().expect("flags runs")
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// `2024-05-01T09:03:07.250Z`: a date, a time with milliseconds, a zone.
fn is_iso8601_ms(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

/// Holds `doc` to HAR 1.2: the fields the format requires, their types,
/// timings that are -1 or not negative, `time` their sum. Its entries.
fn check_har(doc: &Value) -> Vec<Value> {
    let log = &doc["log"];
    assert_eq!(log["version"], "1.2", "{doc}");
    assert!(log["creator"]["name"].is_string() && log["creator"]["version"].is_string());
    let pages = log["pages"].as_array().map_or(&[][..], |p| &p[..]);
    let ids: HashSet<&str> = pages.iter().map(|p| p["id"].as_str().expect("a page id")).collect();
    for p in pages {
        assert!(is_iso8601_ms(p["startedDateTime"].as_str().unwrap()), "{p}");
        assert!(p["title"].is_string() && p["pageTimings"].is_object(), "{p}");
    }
    let entries = log["entries"].as_array().expect("entries").clone();
    let list =
        |v: &Value| v.as_array().is_some_and(|a| a.iter().all(|f| f["name"].is_string() && f["value"].is_string()));
    for e in &entries {
        if let Some(page) = e.get("pageref") {
            assert!(ids.contains(page.as_str().unwrap()), "{e}");
        }
        assert!(is_iso8601_ms(e["startedDateTime"].as_str().unwrap()), "{e}");
        let (req, resp) = (&e["request"], &e["response"]);
        for (name, v) in [("method", &req["method"]), ("url", &req["url"]), ("httpVersion", &req["httpVersion"])] {
            assert!(v.is_string(), "request.{name}: {e}");
        }
        for name in ["cookies", "headers", "queryString"] {
            assert!(list(&req[name]) || name == "cookies" && req[name].is_array(), "request.{name}: {e}");
        }
        assert!(req["headersSize"].is_i64() && req["bodySize"].is_i64(), "{e}");
        assert!(resp["status"].is_u64() && resp["statusText"].is_string() && resp["httpVersion"].is_string(), "{e}");
        assert!(resp["cookies"].is_array() && list(&resp["headers"]), "{e}");
        assert!(resp["content"]["size"].is_i64() && resp["content"]["mimeType"].is_string(), "{e}");
        assert!(resp["redirectURL"].is_string() && resp["headersSize"].is_i64() && resp["bodySize"].is_i64(), "{e}");
        assert!(e["cache"].is_object(), "{e}");
        let t = &e["timings"];
        let at = |name: &str| t[name].as_f64().unwrap_or_else(|| panic!("timings.{name}: {e}"));
        for name in ["blocked", "dns", "connect", "ssl"] {
            assert!(at(name) >= 0.0 || at(name) == -1.0, "timings.{name}: {e}");
        }
        for name in ["send", "wait", "receive"] {
            assert!(at(name) >= 0.0, "timings.{name}: {e}");
        }
        if at("ssl") >= 0.0 {
            assert!(at("connect") >= at("ssl"), "connect holds ssl: {e}");
        }
        let sum: f64 =
            ["blocked", "dns", "connect", "send", "wait", "receive"].iter().map(|n| at(n)).filter(|v| *v >= 0.0).sum();
        let time = e["time"].as_f64().expect("time");
        assert!((time - sum).abs() < 0.01, "time {time} is not the sum {sum}: {e}");
    }
    entries
}

/// Holds `doc` to the Trace Event format: every event has `ph`, `pid`,
/// `tid` and a numeric `ts`; `X` has a `dur` of 0 or more; `b`/`e` pair
/// by (cat, id), nested, each end after its begin; on each track the
/// complete slices nest (none overlaps another in part); every process
/// and every track with slices is named. The events.
fn check_trace(doc: &Value) -> Vec<Value> {
    assert_eq!(doc["displayTimeUnit"], "ms");
    let events = doc["traceEvents"].as_array().expect("traceEvents").clone();
    let mut open: HashMap<(String, String), Vec<(String, f64)>> = HashMap::new();
    let mut slices: HashMap<(u64, u64), Vec<(f64, f64)>> = HashMap::new();
    let (mut processes, mut threads) = (HashSet::new(), HashSet::new());
    let (mut used_pids, mut used_tracks) = (HashSet::new(), HashSet::new());
    for e in &events {
        let ph = e["ph"].as_str().unwrap_or_else(|| panic!("no ph: {e}"));
        let (pid, tid) = (e["pid"].as_u64().expect("pid"), e["tid"].as_u64().expect("tid"));
        let ts = e["ts"].as_f64().unwrap_or_else(|| panic!("no numeric ts: {e}"));
        assert!(e["name"].is_string(), "{e}");
        match ph {
            "M" => {
                assert!(e["args"]["name"].is_string(), "{e}");
                match e["name"].as_str().unwrap() {
                    "process_name" => processes.insert(pid),
                    "thread_name" => threads.insert((pid, tid)),
                    _ => true,
                };
            }
            "X" => {
                let dur = e["dur"].as_f64().unwrap_or_else(|| panic!("X without dur: {e}"));
                assert!(dur >= 0.0, "{e}");
                slices.entry((pid, tid)).or_default().push((ts, ts + dur));
                used_tracks.insert((pid, tid));
            }
            "b" | "e" => {
                let key = (e["cat"].as_str().expect("cat").to_string(), e["id"].to_string());
                let stack = open.entry(key).or_default();
                if ph == "b" {
                    stack.push((e["name"].as_str().unwrap().to_string(), ts));
                } else {
                    let (name, began) = stack.pop().unwrap_or_else(|| panic!("an end with no begin: {e}"));
                    assert_eq!(name, e["name"].as_str().unwrap(), "ends in the order begun: {e}");
                    assert!(ts >= began, "ends before it began: {e}");
                }
            }
            other => panic!("unexpected ph {other}: {e}"),
        }
        used_pids.insert(pid);
    }
    assert!(open.values().all(Vec::is_empty), "async slices never ended: {open:?}");
    for (track, mut list) in slices {
        list.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut stack: Vec<(f64, f64)> = Vec::new();
        for (from, to) in list {
            while stack.last().is_some_and(|top| from >= top.1) {
                stack.pop();
            }
            if let Some(top) = stack.last() {
                assert!(to <= top.1, "on track {track:?}, [{from}, {to}] overlaps [{}, {}] in part", top.0, top.1);
            }
            stack.push((from, to));
        }
    }
    assert!(used_pids.is_subset(&processes), "unnamed processes: {used_pids:?} vs {processes:?}");
    assert!(used_tracks.is_subset(&threads), "unnamed tracks: {used_tracks:?} vs {threads:?}");
    events
}

/// The names of the async root slices (the requests) of `events`.
fn requests(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["ph"] == "b" && e["args"]["url"].is_string()).collect()
}

#[test]
fn get_writes_har_and_trace_event() {
    let srv = ServeProcess::start(&["--delay", "0.02"]);
    let base = format!("http://{}/flags", srv.addr);
    let dir = tempfile::tempdir().unwrap();
    for mode in ["threadpool", "async"] {
        let (har, trace) = (dir.path().join(format!("{mode}.har")), dir.path().join(format!("{mode}.TRACE.json")));
        for file in [&har, &trace] {
            let dest = dir.path().join(format!("dl-{mode}"));
            let args = ["get", "BR", "CN", "US", "JP", "ZZ", "-m", "3", "--mode", mode, "-s", &base, "-d"];
            let out = assert_cmd::Command::new(FLAGS_EXE)
                .args(args)
                .arg(&dest)
                .arg("--timeline")
                .arg(file)
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("Timeline: {}", file.display())));
        }
        let entries = check_har(&read_json(&har));
        assert_eq!(entries.len(), 5, "{mode}");
        let status = |cc: &str| {
            let e = entries.iter().find(|e| e["request"]["url"].as_str().unwrap().ends_with(&format!("/{cc}.gif")));
            e.map(|e| e["response"]["status"].as_u64().unwrap())
        };
        assert_eq!((status("br"), status("zz")), (Some(200), Some(404)), "{mode}");
        assert!(entries.iter().all(|e| e["timings"]["wait"].as_f64().unwrap() >= 15.0), "the server's delay is wait");
        let br = entries.iter().find(|e| e["request"]["url"] == format!("{base}/br/br.gif")).expect("BR's URL");
        assert_eq!(br["response"]["content"]["mimeType"], "image/gif");
        assert!(br["response"]["bodySize"].as_i64().unwrap() > 0);
        // Three connections at most: three new ones connect, the rest reuse.
        assert!(entries.iter().filter(|e| e["timings"]["connect"].as_f64().unwrap() >= 0.0).count() <= 3);
        assert!(entries.iter().all(|e| e["request"]["httpVersion"] == "HTTP/1.1"), "{mode}: {entries:?}");

        let events = check_trace(&read_json(&trace));
        assert_eq!(requests(&events).len(), 5, "{mode}");
        let phases: HashSet<&str> =
            events.iter().filter(|e| e["ph"] == "b").filter_map(|e| e["name"].as_str()).collect();
        for phase in ["waiting for the server", "receiving", "saving", "connecting"] {
            assert!(phases.contains(phase), "{mode}: no {phase} in {phases:?}");
        }
        let wire = events.iter().filter(|e| e["ph"] == "X" && e["args"]["url"].is_string()).count();
        assert!(wire >= 1, "{mode}: requests on their connections' tracks");
        let names: Vec<&str> =
            events.iter().filter(|e| e["ph"] == "M").filter_map(|e| e["args"]["name"].as_str()).collect();
        assert!(names.iter().any(|n| n.starts_with(&format!("flags get --mode {mode}"))), "{names:?}");
        assert!(names.contains(&"connection 1"), "{names:?}");
    }
    // Over HTTP/2 (h2c with prior knowledge), each entry says so.
    let har = dir.path().join("h2.har");
    let dest = dir.path().join("dl-h2");
    let out = flags(&[
        "get",
        "BR",
        "CN",
        "--mode",
        "async",
        "--http2",
        "-s",
        &base,
        "-d",
        dest.to_str().unwrap(),
        "--timeline",
        har.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let entries = check_har(&read_json(&har));
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["response"]["httpVersion"] == "HTTP/2"), "{entries:?}");
}

#[test]
fn the_server_writes_har_and_trace_event_when_sigterm_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["served.har", "served.trace.json"] {
        let path = dir.path().join(name);
        let mut srv = ServeProcess::start(&["--delay", "0.01", "--timeline", path.to_str().unwrap()]);
        let base = format!("http://{}/flags", srv.addr);
        let out =
            flags(&["get", "BR", "CN", "ZZ", "-m", "2", "-s", &base, "-d", dir.path().join("dl").to_str().unwrap()]);
        assert!(out.status.success());
        srv.signal(libc::SIGTERM);
        assert!(srv.wait_exit(Duration::from_secs(20)).is_some(), "flags serve stops");
        let doc = read_json(&path);
        if name.ends_with(".har") {
            let entries = check_har(&doc);
            assert_eq!(entries.len(), 3);
            let url = format!("http://{}/flags/zz/zz.gif", srv.addr);
            let zz = entries.iter().find(|e| e["request"]["url"] == url.as_str()).expect("ZZ's URL");
            assert_eq!(
                (zz["response"]["status"].as_u64(), zz["response"]["statusText"].as_str()),
                (Some(404), Some("Not Found"))
            );
            assert!(entries.iter().all(|e| e["timings"]["wait"].as_f64().unwrap() >= 5.0), "the hold is wait");
            // Each connection's first request carries its opening.
            assert!(entries.iter().any(|e| e["timings"]["connect"].as_f64().unwrap() >= 0.0));
            assert!(entries.iter().all(|e| e["request"]["httpVersion"] == "HTTP/1.1"));
        } else {
            let events = check_trace(&doc);
            assert_eq!(requests(&events).len(), 3);
            assert!(events.iter().any(|e| e["name"] == "holding the answer"));
        }
    }
}

#[test]
fn the_servers_pages_come_as_har_and_trace_event_and_escape_what_peers_sent() {
    let srv = ServeProcess::start(&["--delay", "0.01"]);
    let base = format!("http://{}/flags", srv.addr);
    let dir = tempfile::tempdir().unwrap();
    assert!(flags(&["get", "BR", "CN", "-s", &base, "-d", dir.path().to_str().unwrap()]).status.success());
    // A path with a quote, a backslash and an escaped control character.
    let hostile = "/flags/%22q\"\\%01/x.gif";
    assert!(!http_get(srv.addr, hostile).is_empty(), "the server answers it");
    let before = stats(srv.addr)["requests"].as_u64().unwrap();
    let plain = fetch(srv.addr, "/timeline");
    let json: Value = serde_json::from_slice(&plain.body).expect("/timeline is JSON as before");
    assert_eq!(json["requests"].as_array().unwrap().len(), 3);
    assert!(json["next"].is_null() && json["keep"].is_u64());

    let har = fetch(srv.addr, "/timeline.har");
    assert_eq!(har.status, 200);
    let doc: Value = serde_json::from_slice(&har.body).expect("/timeline.har is JSON");
    let entries = check_har(&doc);
    assert_eq!(entries.len(), 3);
    assert!(doc["log"]["_next"].is_null());
    let odd = entries.iter().find(|e| e["response"]["status"] == 404).expect("the hostile request");
    let url = odd["request"]["url"].as_str().unwrap();
    assert!(url.starts_with("http://x/flags/") && url.contains('q'), "{url}");
    // Paged as /timeline is.
    let rest: Value = serde_json::from_slice(&fetch(srv.addr, "/timeline.har?after=2").body).unwrap();
    assert_eq!(check_har(&rest).len(), 1);
    assert!(fetch(srv.addr, "/timeline.har?after=x").status == 400);

    let trace = fetch(srv.addr, "/timeline.trace.json?since=0");
    let doc: Value = serde_json::from_slice(&trace.body).expect("/timeline.trace.json is JSON");
    let events = check_trace(&doc);
    assert_eq!(requests(&events).len(), 3);
    assert!(doc["otherData"]["next"].is_null());
    // Watching does not change what is watched.
    assert_eq!(stats(srv.addr)["requests"].as_u64().unwrap(), before);
}

/// A server that answers every request with a redirect whose `Location`
/// holds a quote, a backslash, a tab and non-ASCII text.
fn redirecting_server(location: &'static str) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let answer = format!(
                "HTTP/1.1 302 Found \"here\"\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    addr
}

#[test]
fn a_hostile_location_is_escaped_into_valid_json() {
    let location = "/elsewhere/\"quoted\"\\back\tslash/é";
    let addr = redirecting_server(location);
    let dir = tempfile::tempdir().unwrap();
    for name in ["r.har", "r.trace.json"] {
        let path = dir.path().join(name);
        let base = format!("http://{addr}/flags");
        let out = flags(&[
            "get",
            "BR",
            "-s",
            &base,
            "-d",
            dir.path().join("dl").to_str().unwrap(),
            "--timeline",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "a redirect is an error: {}", String::from_utf8_lossy(&out.stderr));
        let doc = read_json(&path);
        if name.ends_with(".har") {
            let entries = check_har(&doc);
            let e = &entries[0];
            assert_eq!(e["response"]["status"], 302);
            // The quote and the backslash come through as data (the client
            // shows a control character as `\u{9}`, as it does in messages).
            let url = e["response"]["redirectURL"].as_str().unwrap();
            assert!(url.starts_with("/elsewhere/\"quoted\"\\back") && url.ends_with("slash/é"), "{url}");
            assert!(e["comment"].as_str().unwrap().contains(url), "{e}");
        } else {
            let events = check_trace(&doc);
            let req = requests(&events)[0];
            assert!(req["args"]["redirect"].as_str().unwrap().starts_with("/elsewhere/\"quoted\"\\back"), "{req}");
            assert_eq!(req["args"]["status"], 302);
        }
    }
}

#[test]
fn the_demo_writes_har_and_trace_event() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("downloads");
    for name in ["demo.har", "demo.trace.json"] {
        let path = dir.path().join(name);
        let out = flags(&[
            "demo",
            "--delay",
            "0.005",
            "--no-work",
            "-d",
            dest.to_str().unwrap(),
            "--timeline",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc = read_json(&path);
        if name.ends_with(".har") {
            let entries = check_har(&doc);
            assert_eq!(doc["log"]["pages"].as_array().unwrap().len(), 4, "a page per style");
            assert_eq!(entries.len(), 80, "20 flags, four styles");
            assert!(entries.iter().all(|e| e["response"]["status"] == 200));
        } else {
            let events = check_trace(&doc);
            assert_eq!(requests(&events).len(), 80);
            let processes: Vec<&str> = events
                .iter()
                .filter(|e| e["name"] == "process_name")
                .filter_map(|e| e["args"]["name"].as_str())
                .collect();
            assert_eq!(processes.len(), 4, "{processes:?}");
            assert!(processes.iter().any(|p| p.ends_with(": sequential")), "{processes:?}");
        }
        assert!(!dir.path().join("demo-timeline.html").exists(), "--timeline replaces the default page");
    }
    // The demo has no lone SVG to write.
    let refused =
        flags(&["demo", "-d", dest.to_str().unwrap(), "--timeline", dir.path().join("d.svg").to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--timeline"));
}

/// What haralyzer (a HAR reader that is not ours, from PyPI) makes of a
/// HAR file: a line per page, then one per entry.
const HARALYZER: &str = r#"
import json, sys
from haralyzer import HarParser
har = HarParser(json.load(open(sys.argv[1], encoding="utf-8")))
for page in har.pages:
    print("page", len(page.entries), page.title)
    for e in page.entries:
        print("entry", e.status, round(e.time, 3), e.url, e.startTime.isoformat())
"#;

#[test]
fn haralyzer_reads_our_har_files() {
    let ready = std::process::Command::new("python3").args(["-c", "import haralyzer"]).output();
    if !ready.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with haralyzer is not installed (pip install -r tests/requirements.txt)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("served.har");
    let mut srv = ServeProcess::start(&["--delay", "0.01", "--timeline", served.to_str().unwrap()]);
    let client = dir.path().join("client.har");
    let base = format!("http://{}/flags", srv.addr);
    let dl = dir.path().join("dl");
    let out = flags(&[
        "get",
        "BR",
        "CN",
        "ZZ",
        "-s",
        &base,
        "-d",
        dl.to_str().unwrap(),
        "--timeline",
        client.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    srv.signal(libc::SIGTERM);
    assert!(srv.wait_exit(Duration::from_secs(20)).is_some());
    for file in [&client, &served] {
        let read = std::process::Command::new("python3").args(["-c", HARALYZER]).arg(file).output().unwrap();
        let text = String::from_utf8_lossy(&read.stdout);
        assert!(
            read.status.success(),
            "haralyzer failed on {}: {}",
            file.display(),
            String::from_utf8_lossy(&read.stderr)
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("page 3 flags "), "{text}");
        let entries: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with("entry ")).collect();
        assert_eq!(entries.len(), 3, "{text}");
        assert!(entries.iter().any(|l| l.starts_with("entry 404 ") && l.contains("/flags/zz/zz.gif")), "{text}");
        assert_eq!(entries.iter().filter(|l| l.starts_with("entry 200 ")).count(), 2, "{text}");
    }
}
