//! `flags get`, the real binary, against the server on port 0.

use std::time::Duration;

use assert_cmd::Command;
use flags::server::Delay;

use super::util::{assert_exactly_saved, files_in, server, server_with, FLAGS_EXE};

fn get(base: &str, dest: &std::path::Path) -> Command {
    let mut cmd = Command::new(FLAGS_EXE);
    cmd.arg("get").arg("-s").arg(base).arg("-d").arg(dest).timeout(Duration::from_secs(60));
    cmd
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn json(a: &assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&a.get_output().stdout).unwrap()
}

#[test]
fn letter_b_verbose_reports_17_found_and_9_not_found() {
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    let a = get(&srv.base_url(), dir.path()).args(["b", "-v"]).assert().success();
    let out = stdout(&a);
    assert!(out.starts_with(&format!("URL site: {}\n", srv.base_url())), "{out}");
    assert!(out.contains("Searching for 26 flags: from BA to BZ\n"), "{out}");
    assert!(out.contains("26 concurrent connections will be used.\n"), "{out}");
    assert!(out.lines().any(|l| l == "BR OK"), "{out}");
    assert!(out.lines().any(|l| l == "BZ OK"), "{out}");
    assert!(out.lines().any(|l| l == "BC not found"), "{out}");
    assert!(
        out.contains("--------------------\n17 flags downloaded.\n9 not found.\n0 errors.\nElapsed time: "),
        "{out}"
    );
    assert_eq!(files_in(dir.path()).len(), 17);
}

#[test]
fn every_mode_saves_all_194_byte_identical() {
    let srv = server();
    let all: Vec<String> = flags::countries::catalog().iter().map(|c| c.cc.to_string()).collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    for mode in ["sequential", "threadpool", "async", "processpool"] {
        let dir = tempfile::tempdir().unwrap();
        let a = get(&srv.base_url(), dir.path()).args(["-a", "--mode", mode, "-m", "8"]).assert().success();
        assert!(stdout(&a).contains("194 flags downloaded.\n0 not found.\n0 errors.\n"), "{mode}");
        assert_exactly_saved(dir.path(), &all);
    }
}

#[test]
fn limit_and_concurrency_caps() {
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    let a = get(&srv.base_url(), dir.path()).args(["-a", "-l", "5", "-m", "5000"]).assert().success();
    let out = stdout(&a);
    assert!(out.contains("Searching for 5 flags: AD, AE, AF, AG, AL\n"), "{out}");
    assert!(out.contains("5 concurrent connections will be used.\n"), "{out}");
    let a = get(&srv.base_url(), dir.path()).args(["us", "--mode", "sequential", "-m", "9"]).assert().success();
    assert!(stdout(&a).contains("Searching for 1 flag: US\n1 concurrent connection will be used.\n"));
}

#[test]
fn errors_are_counted_once_each_and_leave_only_ok_files() {
    // The book's asyncio script once counted every download after the first
    // error as an error; here the client's count must match the server's.
    for mode in ["async", "threadpool", "sequential"] {
        let srv = server_with(Delay::NONE, 0.3);
        let dir = tempfile::tempdir().unwrap();
        let a = get(&srv.base_url(), dir.path()).args(["-e", "-m", "50", "--json", "--mode", mode]).assert().code(1);
        let report = json(&a);
        let flags = report["flags"].as_array().unwrap();
        assert_eq!(flags.len(), 676);
        assert_eq!(report["requested"], 676);
        let count = |k: &str| flags.iter().filter(|f| f["outcome"] == k).count();
        assert_eq!(count("ok") + count("not_found") + count("error"), 676);
        assert_eq!(report["errors"].as_u64().unwrap() as usize, count("error"));
        assert_eq!(count("error") as u64, srv.stats().teapots(), "{mode}");
        assert!(count("ok") > 50 && count("error") > 50, "{mode}");
        let ok: Vec<&str> = flags.iter().filter(|f| f["outcome"] == "ok").map(|f| f["cc"].as_str().unwrap()).collect();
        assert_exactly_saved(dir.path(), &ok);
        let teapot = flags.iter().find(|f| f["outcome"] == "error").unwrap();
        assert_eq!(teapot["reason"], "HTTP 418 - I'm a Teapot");
    }
}

#[test]
fn verbose_shows_the_error_line() {
    let srv = server_with(Delay::NONE, 1.0);
    let dir = tempfile::tempdir().unwrap();
    let a = get(&srv.base_url(), dir.path()).args(["br", "-v"]).assert().code(1);
    assert!(stdout(&a).contains("*** Error for BR: HTTP 418 - I'm a Teapot\n"));
    assert!(stdout(&a).contains("1 error.\n"));
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn json_report_has_counts_mode_and_concurrency() {
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    let a = get(&srv.base_url(), dir.path()).args(["br", "zz", "--json", "--mode", "threadpool"]).assert().success();
    let r = json(&a);
    assert_eq!((r["ok"].as_u64(), r["not_found"].as_u64(), r["errors"].as_u64()), (Some(1), Some(1), Some(0)));
    assert_eq!(r["mode"], "threadpool");
    assert_eq!(r["concurrency"], 2);
    assert_eq!(r["flags"][0]["cc"], "BR");
    assert_eq!(r["flags"][0]["bytes"], 11_623);
    assert_eq!(r["flags"][1]["outcome"], "not_found");
    assert!(r["elapsed_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn names_fetch_metadata_and_use_country_names() {
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    get(&srv.base_url(), dir.path()).args(["us", "ci", "br", "--names"]).assert().success();
    assert_eq!(files_in(dir.path()), ["Brazil-BR.gif", "Côte_d'Ivoire-CI.gif", "United_States_of_America-US.gif"]);
}

#[test]
fn a_refused_connection_is_an_error_with_a_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{port}/flags");
    for mode in ["async", "sequential"] {
        let a = get(&base, dir.path()).args(["br", "--json", "--mode", mode]).assert().code(1);
        let reason = json(&a)["flags"][0]["reason"].as_str().unwrap().to_string();
        assert!(reason.starts_with("connection failed"), "{mode}: {reason}");
    }
}

/// A server of its own that answers every connection with a 200 whose
/// header is 40 KB long, then closes; it stops after `answers` connections.
fn oversized_header_server(answers: usize) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/flags", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming().take(answers) {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let filler = "x".repeat(40 << 10);
            let answer = format!("HTTP/1.1 200 OK\r\nX-Filler: {filler}\r\nContent-Length: 3\r\n\r\nGIF");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (base, thread)
}

#[test]
fn an_oversized_response_header_is_an_error_not_a_file() {
    let modes = ["sequential", "threadpool", "async"];
    let (base, server) = oversized_header_server(modes.len());
    let dir = tempfile::tempdir().unwrap();
    for mode in modes {
        let a = get(&base, dir.path()).args(["br", "--json", "--mode", mode]).assert().code(1);
        let report = json(&a);
        assert_eq!(report["errors"], 1, "{mode}: {report}");
        assert_eq!(report["flags"][0]["outcome"], "error", "{mode}: {report}");
        assert_eq!(report["flags"][0]["reason"], "response header over 32 KiB", "{mode}: {report}");
    }
    server.join().unwrap();
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn a_slow_server_times_out() {
    let srv = server_with(Delay::fixed(3.0), 0.0);
    let dir = tempfile::tempdir().unwrap();
    for mode in ["async", "threadpool"] {
        let a = get(&srv.base_url(), dir.path())
            .args(["br", "--timeout", "0.3", "--json", "--mode", mode])
            .assert()
            .code(1);
        assert_eq!(json(&a)["flags"][0]["reason"], "timed out waiting for an answer", "{mode}");
    }
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn usage_errors_exit_2_name_the_argument_and_request_nothing() {
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    for (args, named) in [
        (&["1"][..], "CC"),
        (&["ABC"], "CC"),
        (&["-l", "0"], "--limit"),
        (&["-m", "0"], "--max-req"),
        (&["--timeout", "-1"], "--timeout"),
        (&["--mode", "fibers"], "--mode"),
    ] {
        let a = get(&srv.base_url(), dir.path()).args(args).assert().code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(err.contains(named) && err.contains("Usage:"), "{args:?}: {err}");
    }
    for server in ["NOWHERE", "http://", "http://[::1", "http://a b", "ftp://x/flags", "http://h:99999/flags"] {
        let a = Command::new(FLAGS_EXE).args(["get", "-s", server]).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains("--server") && err.contains("Usage:"), "{server}: {err}");
    }
    let a = Command::new(FLAGS_EXE).args(["get", "--max-size", "0"]).assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--max-size"));
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let a = get(&srv.base_url(), &file).arg("br").assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--dest"));
    assert_eq!(srv.stats().requests(), 0);
}

#[test]
fn verbose_stdout_carries_results_only_and_retries_go_to_stderr() {
    let srv = super::util::ServeProcess::start(&["--fault", "503:0.5", "--seed", "3", "--retry-after", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{}/flags", srv.addr);
    let a = get(&base, dir.path()).args(["-a", "-l", "20", "-v", "--retries", "5"]).assert().success();
    let out = stdout(&a);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.lines().any(|l| l.contains(" retry 1 in ") && l.ends_with("HTTP 503 - Service Unavailable")), "{err}");
    assert!(!out.contains("retry"), "{out}");
    let results = out.lines().filter(|l| l.ends_with(" OK")).count();
    assert_eq!(results, 20, "{out}");
    for mode in ["processpool", "threadpool"] {
        let a =
            get(&base, dir.path()).args(["-a", "-l", "20", "-v", "--retries", "5", "--mode", mode]).assert().success();
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(err.contains(" retry 1 in "), "{mode}: the workers' retries reach the report: {err}");
    }
}

#[test]
fn on_a_terminal_the_bar_ends_its_line_before_the_report() {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    let (mut leader, mut follower) = (0, 0);
    // SAFETY: openpty fills two descriptors we then own.
    let rc =
        unsafe { libc::openpty(&mut leader, &mut follower, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are open and ours alone.
    let (leader, follower) = unsafe { (OwnedFd::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) };
    let mut child = std::process::Command::new(FLAGS_EXE)
        .args(["get", "-a", "-m", "20", "-s", &srv.base_url(), "-d"])
        .arg(dir.path())
        .stdout(follower.try_clone().unwrap())
        .stderr(follower)
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut screen = Vec::new();
    let mut leader = std::fs::File::from(leader);
    let mut buf = [0u8; 65536];
    // Read what is there; the terminal gives EIO once the writer is gone.
    while let Ok(n) = leader.read(&mut buf) {
        if n == 0 {
            break;
        }
        screen.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&screen).contains("Elapsed time") {
            break;
        }
    }
    let screen = String::from_utf8_lossy(&screen);
    assert!(screen.contains("194/194"), "no bar drawn: {screen:?}");
    let before = screen.split("--------------------").next().unwrap();
    assert!(
        before.ends_with('\n'),
        "the separator runs into the bar: {:?}",
        &before[before.len().saturating_sub(80)..]
    );
}

/// A reader of stdout that goes away (`flags get -v | head -1`) stops the
/// run quietly: exit 141 as other Unix tools, long before the run would
/// end, with nothing on stderr.
#[test]
fn a_closed_stdout_stops_the_run_quietly() {
    use std::io::BufRead;
    let srv = super::util::ServeProcess::start(&["--delay", "0.3"]);
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(super::util::flags_exe())
        .args(["get", "-e", "-v", "-m", "4", "-s", &format!("http://{}/flags", srv.addr), "-d"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.contains("site:"), "{first}");
    // The reader is gone (dropped with its BufReader).
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    // The whole run takes 676 / 4 x 0.3 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "ran on for {:?}", started.elapsed());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "quietly");
    let left = super::util::files_in(dir.path());
    assert!(left.iter().all(|f| !f.starts_with('.')), "temporary files left: {left:?}");
}

#[test]
fn the_report_says_what_the_counts_alone_do_not() {
    let dir = tempfile::tempdir().unwrap();
    // A base URL without /flags: every code is "not found", which is no
    // error, so the report says that the URL is probably wrong.
    let srv = server();
    let root = srv.base_url().trim_end_matches("/flags").to_string();
    let a = get(&root, dir.path()).args(["br", "fr"]).assert().code(0);
    assert!(stdout(&a).contains("*** Every code was not found at "), "{}", stdout(&a));
    assert!(stdout(&a).contains("is the base URL right?"), "{}", stdout(&a));
    // A refused connection to a URL (not a label): the reason and a hint.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let a = get(&format!("http://127.0.0.1:{port}/flags"), dir.path()).arg("br").assert().code(1);
    assert!(
        stdout(&a).contains("*** connection failed: connection refused. Is a server running at http://127.0.0.1:"),
        "{}",
        stdout(&a)
    );
    // Requests sent, answers slower than --timeout: said so, not "overwhelmed".
    let slow = server_with(Delay::fixed(3.0), 0.0);
    let a = get(&slow.base_url(), dir.path()).args(["br", "fr", "de", "--timeout", "0.2"]).assert().code(1);
    let out = stdout(&a);
    assert!(out.contains("so the server took longer than --timeout 0.2 to answer"), "{out}");
    assert!(!out.contains("overwhelmed"), "{out}");
    assert!(files_in(dir.path()).is_empty());
}
