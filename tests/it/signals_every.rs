//! Every signal that could end a command, against the real binary: SIGHUP
//! (a closed terminal) stops `get`, `serve`, `exam` as SIGTERM does, with
//! every promise kept and exit 129 (`serve`: 0, as after any clean stop);
//! SIGQUIT quits at once, exit 131, leaving no file and no process; SIGUSR1
//! and SIGALRM end nothing. The `bench` cases are in `bench_peers.rs`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::util::{files_in, flags_exe, https_get, send_signal, stats, wait_until, ServeProcess};

/// The in-process styles of `flags get`.
const STYLES: [&str; 3] = ["sequential", "threadpool", "async"];

/// Waits for `child` to exit, at most `limit` (then kills it): its exit
/// code (`None`: a signal ended it) and stdout.
fn finish(child: Child, limit: Duration) -> (Option<i32>, Vec<u8>) {
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if rx.recv_timeout(limit).is_err() {
            // SAFETY: kill(2) on the child under test, not yet reaped.
            unsafe { libc::kill(id as libc::pid_t, libc::SIGKILL) };
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = tx.send(());
    guard.join().unwrap();
    (out.status.code(), out.stdout)
}

/// The temporary files (`.flags-*`) in `dir`.
fn temporary_files(dir: &Path) -> Vec<String> {
    files_in(dir).into_iter().filter(|f| f.starts_with('.')).collect()
}

/// `flags get` of every code in `mode`, 20 at a time, against bodies that
/// drip, so that temporary files are open; started, and under way.
fn get_under_way(mode: &str) -> (ServeProcess, tempfile::TempDir, Child) {
    let srv = ServeProcess::start(&["--fault", "drip", "--drip-rate", "2000"]);
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(flags_exe())
        .args(["get", "--json", "-e", "-m", "20", "--mode", mode, "-s", &format!("http://{}/flags", srv.addr), "-d"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("a temporary file being written", Duration::from_secs(60), || !temporary_files(dir.path()).is_empty());
    (srv, dir, child)
}

#[test]
fn sighup_stops_get_with_its_report_and_no_temporary_file() {
    for mode in STYLES {
        let (_srv, dir, child) = get_under_way(mode);
        send_signal(child.id(), libc::SIGHUP);
        let (status, stdout) = finish(child, Duration::from_secs(60));
        assert_eq!(status, Some(129), "{mode}: exit status");
        let report: Value = serde_json::from_slice(&stdout).unwrap_or_else(|_| panic!("{mode}: no report"));
        assert!(report["cancelled"].as_u64().unwrap() > 0, "{mode}: {}", report["cancelled"]);
        assert_eq!(temporary_files(dir.path()), Vec::<String>::new(), "{mode}: temporary files left");
    }
}

#[test]
fn sigquit_quits_get_at_once_leaving_no_temporary_file() {
    for mode in STYLES {
        let (_srv, dir, child) = get_under_way(mode);
        send_signal(child.id(), libc::SIGQUIT);
        let (status, stdout) = finish(child, Duration::from_secs(60));
        assert_eq!(status, Some(131), "{mode}: exit status");
        assert!(serde_json::from_slice::<Value>(&stdout).is_err(), "{mode}: a quit does not report");
        assert_eq!(temporary_files(dir.path()), Vec::<String>::new(), "{mode}: temporary files left");
    }
}

#[test]
fn sigusr1_and_sigalrm_do_not_end_get() {
    let srv = ServeProcess::start(&["--delay", "0.5"]);
    for mode in STYLES {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(flags_exe())
            .args(["get", "--json", "-m", "20", "--mode", mode, "-s", &format!("http://{}/flags", srv.addr), "-d"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until("requests in flight", Duration::from_secs(30), || stats(srv.addr)["in_flight"].as_u64() > Some(0));
        send_signal(child.id(), libc::SIGUSR1);
        send_signal(child.id(), libc::SIGALRM);
        let (status, stdout) = finish(child, Duration::from_secs(60));
        assert_eq!(status, Some(0), "{mode}: the run goes on to its end");
        let report: Value = serde_json::from_slice(&stdout).unwrap_or_else(|_| panic!("{mode}: no report"));
        assert_eq!(report["ok"], 20, "{mode}: {report}");
        wait_until("the server idle", Duration::from_secs(30), || stats(srv.addr)["in_flight"] == 0);
    }
}

/// `flags serve --tls --timeline FILE`, having answered one request.
fn tls_server(timeline: &Path) -> (ServeProcess, std::path::PathBuf) {
    let srv = ServeProcess::start(&["--tls", "--timeline", timeline.to_str().unwrap()]);
    let ca = srv.ca.clone().expect("the banner names the CA file");
    let answer = https_get(srv.addr, "/flags/br/br.gif", &ca);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "the server answers over TLS");
    (srv, ca)
}

#[test]
fn sighup_stops_serve_writing_its_timeline_and_removing_its_ca_file() {
    let out = tempfile::tempdir().unwrap();
    let timeline = out.path().join("served.json");
    let (mut srv, ca) = tls_server(&timeline);
    srv.signal(libc::SIGHUP);
    assert_eq!(srv.wait_exit(Duration::from_secs(20)), Some(0), "a clean stop");
    assert!(!ca.exists(), "the CA file is left: {}", ca.display());
    let doc: Value = serde_json::from_slice(&std::fs::read(&timeline).expect("the timeline is written")).unwrap();
    assert!(doc.to_string().contains("br.gif"), "the timeline has the request");
}

#[test]
fn sigquit_quits_serve_leaving_no_file() {
    let out = tempfile::tempdir().unwrap();
    let timeline = out.path().join("served.json");
    let (mut srv, ca) = tls_server(&timeline);
    srv.signal(libc::SIGQUIT);
    assert_eq!(srv.wait_exit(Duration::from_secs(20)), Some(131));
    assert!(!ca.exists(), "the CA file is left: {}", ca.display());
    assert!(!timeline.exists(), "a quit writes no timeline");
}

#[test]
fn sigusr1_and_sigalrm_do_not_end_serve() {
    let out = tempfile::tempdir().unwrap();
    let timeline = out.path().join("served.json");
    let (mut srv, ca) = tls_server(&timeline);
    srv.signal(libc::SIGUSR1);
    srv.signal(libc::SIGALRM);
    let answer = https_get(srv.addr, "/flags/fr/fr.gif", &ca);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "still serving");
    assert!(srv.alive());
    srv.signal(libc::SIGTERM);
    assert_eq!(srv.wait_exit(Duration::from_secs(20)), Some(0));
    assert!(timeline.exists() && !ca.exists());
}

/// `flags exam` with a client that writes its pid to a file then sleeps
/// `secs`, with a TMPDIR of its own; the exam, its TMPDIR, and the client's pid.
fn exam_with_client(secs: &str) -> (Child, tempfile::TempDir, u32, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mark = tempfile::tempdir().unwrap();
    let pid_file = mark.path().join("pid");
    let client = format!("sleeper=echo $$ > {}; exec sleep {secs} # {{url}}", pid_file.display());
    let child = Command::new(flags_exe())
        .args(["exam", "--cases", "time/stall-before-head", "--client", &client])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the client starts", Duration::from_secs(20), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let pid = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    (child, tmp, pid, mark)
}

#[test]
fn sighup_and_sigquit_end_the_exam_killing_its_clients_and_removing_its_scratch() {
    for (signal, code) in [(libc::SIGHUP, 129), (libc::SIGQUIT, 131)] {
        let (child, tmp, client, _mark) = exam_with_client("60");
        send_signal(child.id(), signal);
        let (status, _) = finish(child, Duration::from_secs(30));
        // Killed, the client may still be ending (its cgroup already empty)
        // as the exam exits: it is gone within a moment, or left running.
        let t0 = Instant::now();
        while flags::os::is_running(client) && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left = flags::os::is_running(client);
        if left {
            send_signal(client, libc::SIGKILL);
        }
        assert_eq!(status, Some(code), "signal {signal}: exit status");
        assert!(!left, "signal {signal}: the client is left running");
        let entries: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(entries.is_empty(), "signal {signal}: left in TMPDIR: {entries:?}");
    }
}

#[test]
fn sigusr1_and_sigalrm_do_not_end_the_exam() {
    let (child, tmp, _client, _mark) = exam_with_client("1");
    let t0 = Instant::now();
    send_signal(child.id(), libc::SIGUSR1);
    send_signal(child.id(), libc::SIGALRM);
    let (status, stdout) = finish(child, Duration::from_secs(60));
    // The sleeper saves nothing: it fails the case, and the exam says so.
    assert_eq!(status, Some(1), "the exam runs to its end ({:?})", t0.elapsed());
    assert!(String::from_utf8_lossy(&stdout).contains("time/stall-before-head"), "the grid is printed");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
