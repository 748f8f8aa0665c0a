//! Each code's timeline, from the real binary's `--json`, against a server
//! with a delay: events in order, sequential requests one after another,
//! never more in flight than `-m` and, for async, exactly `-m` at the peak;
//! the `--timeline` waterfall (parsed as XML, and drawn by Chromium).

use std::time::Duration;

use assert_cmd::Command;
use flags::download::TimelineMs;

use super::util::{ServeProcess, FLAGS_EXE};

const STYLES: [&str; 4] = ["sequential", "threadpool", "processpool", "async"];

fn get(srv: &ServeProcess, dest: &std::path::Path) -> Command {
    let mut cmd = Command::new(FLAGS_EXE);
    cmd.arg("get").arg("-s").arg(format!("http://{}/flags", srv.addr)).arg("-d").arg(dest);
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// The timelines of a `--json` run, per code.
fn timelines(out: &[u8]) -> Vec<(String, TimelineMs)> {
    let report: serde_json::Value = serde_json::from_slice(out).expect("a JSON report");
    report["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let t = &f["timeline"];
            let at = |name: &str| t[name].as_f64();
            let timeline = TimelineMs {
                queued: at("queued"),
                started: at("started"),
                connected: at("connected"),
                sent: at("sent"),
                first_byte: at("first_byte"),
                body_done: at("body_done"),
                released: at("released"),
                saved: at("saved"),
                done: at("done"),
                conn: t["conn"].as_u64(),
                reused: t["reused"].as_bool().unwrap(),
                attempts: t["attempts"].as_u64().unwrap() as u32,
                work: None,
            };
            (f["cc"].as_str().unwrap().to_string(), timeline)
        })
        .collect()
}

/// The most intervals open at once.
fn most_at_once(spans: &[(f64, f64)]) -> usize {
    let mut edges: Vec<(f64, i32)> = spans.iter().flat_map(|&(a, b)| [(a, 1), (b, -1)]).collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    edges
        .iter()
        .scan(0, |n, e| {
            *n += e.1;
            Some(*n)
        })
        .max()
        .unwrap_or(0) as usize
}

#[test]
fn every_style_records_events_in_order_and_never_more_than_m_in_flight() {
    let srv = ServeProcess::start(&["--delay", "0.05"]);
    for style in STYLES {
        let dir = tempfile::tempdir().unwrap();
        let out =
            get(&srv, dir.path()).args(["-a", "-l", "30", "-m", "4", "--json", "--mode", style]).assert().success();
        let all = timelines(&out.get_output().stdout);
        assert_eq!(all.len(), 30, "{style}");
        for (cc, t) in &all {
            let events = t.events();
            let names: Vec<&str> = events.iter().map(|e| e.0).collect();
            assert!(events.windows(2).all(|w| w[0].1 <= w[1].1), "{style} {cc}: out of order: {events:?}");
            for must in ["queued", "started", "sent", "first_byte", "body_done", "released", "saved", "done"] {
                assert!(names.contains(&must), "{style} {cc}: no {must}: {events:?}");
            }
            assert_eq!(t.connected.is_some(), !t.reused, "{style} {cc}: {t:?}");
            assert!(t.conn.is_some() && t.attempts == 1, "{style} {cc}: {t:?}");
            // The server's delay lies between taking it up and the first byte.
            assert!(t.first_byte.unwrap() - t.started.unwrap() >= 45.0, "{style} {cc}: {t:?}");
        }
        let spans: Vec<(f64, f64)> = all.iter().filter_map(|(_, t)| t.in_flight()).collect();
        let cap = if style == "sequential" { 1 } else { 4 };
        assert!(most_at_once(&spans) <= cap, "{style}: {} in flight at once", most_at_once(&spans));
        if style == "sequential" {
            let mut requests: Vec<(f64, f64)> =
                all.iter().map(|(_, t)| (t.sent.unwrap(), t.body_done.unwrap())).collect();
            requests.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(requests.windows(2).all(|w| w[0].1 <= w[1].0), "sequential requests overlap: {requests:?}");
            // One kept-alive connection carries them all.
            assert!(all.iter().all(|(_, t)| t.conn == Some(1)), "{all:?}");
        }
    }
}

#[test]
fn async_with_m_10_reaches_10_in_flight() {
    let srv = ServeProcess::start(&["--delay", "0.2"]);
    let dir = tempfile::tempdir().unwrap();
    let out = get(&srv, dir.path()).args(["-a", "-l", "40", "-m", "10", "--json"]).assert().success();
    let all = timelines(&out.get_output().stdout);
    let spans: Vec<(f64, f64)> = all.iter().filter_map(|(_, t)| t.in_flight()).collect();
    assert_eq!(most_at_once(&spans), 10);
    let tl: Vec<TimelineMs> = all.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(flags::download::timeline::peak_in_flight(&tl), 10);
}

#[test]
fn the_timeline_file_is_an_svg_with_a_row_per_code() {
    let srv = ServeProcess::start(&["--delay", "0.02"]);
    let dir = tempfile::tempdir().unwrap();
    let svg_path = dir.path().join("run.svg");
    let a = get(&srv, &dir.path().join("dl")).args(["b", "--timeline"]).arg(&svg_path).assert().success();
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains(&format!("Timeline: {}", svg_path.display())));
    let text = std::fs::read_to_string(&svg_path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let rows: Vec<_> = doc.descendants().filter(|n| n.attribute("class") == Some("row")).collect();
    assert_eq!(rows.len(), 26);
    let labels: Vec<&str> = rows.iter().filter_map(|r| r.attribute("data-label")).collect();
    assert!(labels.contains(&"BR") && labels.contains(&"BC"), "{labels:?}");
    // Every row has its times on hover.
    assert!(rows.iter().all(|r| r.children().any(|c| c.tag_name().name() == "title")));

    // Every code of -e, condensed, as HTML.
    let html = dir.path().join("every.html");
    get(&srv, &dir.path().join("dl2")).args(["-e", "-m", "200", "--timeline"]).arg(&html).assert().success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert_eq!(page.matches("<g class=\"row\"").count(), 676);

    // A timeline that cannot be written is a usage error before anything runs.
    let a = get(&srv, &dir.path().join("dl3")).args(["BR", "--timeline", "/no/such/dir/t.svg"]).assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--timeline"));
    assert!(!dir.path().join("dl3").join("br.gif").exists());
}

#[test]
fn saved_files_get_the_usual_mode() {
    let srv = ServeProcess::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "umask 022; exec {FLAGS_EXE} get BR -s http://{}/flags -d {} --timeline {}/t.svg",
        srv.addr,
        dir.path().join("dl").display(),
        dir.path().display()
    );
    assert!(std::process::Command::new("sh").args(["-c", &script]).output().unwrap().status.success());
    use std::os::unix::fs::PermissionsExt;
    for file in [dir.path().join("dl/br.gif"), dir.path().join("t.svg")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{}", file.display());
    }
}

/// `--timeline FILE` writes as `> FILE` would: through a FIFO, a device
/// or `/dev/stdout`, never replacing them; a regular file is replaced
/// whole; a directory is refused (exit 2) before any request is made.
#[test]
fn the_timeline_goes_where_a_shell_redirect_would() {
    use std::os::unix::fs::FileTypeExt;
    let srv = ServeProcess::start(&[]);
    let base = format!("http://{}/flags", srv.addr);
    let dir = tempfile::tempdir().unwrap();
    let get = |timeline: &std::path::Path| {
        std::process::Command::new(FLAGS_EXE)
            .args(["get", "BR", "-s", &base, "--timeline"])
            .arg(timeline)
            .arg("-d")
            .arg(dir.path().join("flags"))
            .output()
            .unwrap()
    };
    // A FIFO, read by another thread.
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    assert!(get(&fifo).status.success());
    assert!(reader.join().unwrap().contains("<svg"), "the SVG came through the FIFO");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
    // A device.
    assert!(get(std::path::Path::new("/dev/null")).status.success());
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device(), "/dev/null is still a device");
    // A symbolic link to our stdout.
    let out = get(std::path::Path::new("/dev/stdout"));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"), "written to stdout");
    // A regular file is replaced.
    let file = dir.path().join("t.svg");
    std::fs::write(&file, b"old").unwrap();
    assert!(get(&file).status.success());
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("<svg"));
    // A directory: exit 2, and no request made.
    let before = super::util::stats(srv.addr)["requests"].as_u64().unwrap();
    let refused = get(dir.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("it is a directory"));
    assert_eq!(super::util::stats(srv.addr)["requests"].as_u64().unwrap(), before, "no request before the refusal");
}

#[test]
fn a_server_timeline_that_cannot_be_written_fails_the_server() {
    // The folder is there when the server starts (so the option is
    // accepted) and gone when it stops: exit 1 and a message, as `flags
    // get` does, not 0.
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("served.svg");
    let mut server = super::util::ServeProcess::start(&["--timeline", path.to_str().unwrap()]);
    std::fs::remove_dir(&sub).unwrap();
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(std::time::Duration::from_secs(10)), Some(1));
    assert!(!path.exists());
}
