//! Every command keeps its promises on exit, as users run it: Ctrl-C ends
//! `demo` and `bench` as it ends `get` (exit 130, every temporary file and
//! folder removed), a rejected `bench` writes nothing, a failed run stops
//! the bench, and `serve` will not share a port another server holds.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::util::{flags_exe, send_signal, ServeProcess};

/// What is in `dir`, names only, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits (at most `limit`, which only a broken build reaches) until `ready`.
fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !ready() {
        assert!(t0.elapsed() < limit, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for `child` to exit, killing it after `limit`; its exit code.
fn exit_code(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ctrl_c_ends_the_demo_with_a_report_and_no_temporary_file() {
    let cwd = tempfile::tempdir().unwrap();
    let mut child = Command::new(flags_exe()).current_dir(cwd.path()).stdout(Stdio::piped()).spawn().unwrap();
    let downloads = cwd.path().join("downloads");
    // The sequential run is under way once its first flag is saved.
    wait_for("a flag saved by the demo", Duration::from_secs(60), || {
        entries(&downloads).iter().any(|f| f.ends_with(".gif"))
    });
    send_signal(child.id(), libc::SIGINT);
    assert_eq!(exit_code(&mut child, Duration::from_secs(30)), Some(130));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert!(out.contains("Interrupted"), "{out}");
    let left = entries(&downloads);
    assert!(left.iter().all(|f| !f.starts_with('.')), "temporary files left: {left:?}");
    assert!(!cwd.path().join("demo-timeline.html").exists(), "nothing is written after Ctrl-C");
}

#[test]
fn ctrl_c_stops_the_demo_while_it_computes() {
    use std::io::BufRead;
    let cwd = tempfile::tempdir().unwrap();
    // One flag of part two alone costs 20 s of CPU: only a stop inside the
    // work ends it sooner.
    let mut child = Command::new(flags_exe())
        .current_dir(cwd.path())
        .args(["demo", "--delay", "0.01", "--work", "20s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        out += &line;
        out.push('\n');
        if line.starts_with("$ flags get --mode sequential --work 20s --gil") {
            break;
        }
    }
    assert!(out.contains("Part two"), "{out}");
    let asked = std::time::Instant::now();
    send_signal(child.id(), libc::SIGINT);
    assert_eq!(exit_code(&mut child, Duration::from_secs(30)), Some(130));
    assert!(asked.elapsed() < Duration::from_secs(10), "the work went on for {:?}", asked.elapsed());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(rest.iter().any(|l| l.starts_with("Interrupted")), "{rest:#?}");
    let left = entries(&cwd.path().join("downloads"));
    assert!(left.iter().all(|f| !f.starts_with('.')), "temporary files left: {left:?}");
    assert!(!cwd.path().join("demo-timeline.html").exists(), "nothing is written after Ctrl-C");
}

#[test]
fn ctrl_c_ends_the_bench_and_removes_its_scratch_folder_and_ca() {
    for workload in ["W1", "W5"] {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = Command::new(flags_exe())
            .args(["bench", "--quick", "--workloads", workload, "--styles", "sequential,async"])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // A run is under way once its folder is in the scratch root.
        wait_for("a bench run's folder", Duration::from_secs(60), || {
            entries(tmp.path())
                .iter()
                .filter(|d| d.starts_with("flags-bench-runs-"))
                .any(|d| !entries(&tmp.path().join(d)).is_empty())
        });
        send_signal(child.id(), libc::SIGINT);
        assert_eq!(exit_code(&mut child, Duration::from_secs(30)), Some(130), "{workload}");
        assert_eq!(entries(tmp.path()), Vec::<String>::new(), "{workload}: left in the temporary directory");
    }
}

#[test]
fn a_rejected_bench_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    for args in [
        vec!["--workloads", "W9"],
        vec!["--out", file.to_str().unwrap()],
        vec!["--markdown", tmp.path().to_str().unwrap()],
        vec!["--server", "http://127.0.0.1:1/flags"],
    ] {
        let out = Command::new(flags_exe()).arg("bench").args(&args).env("TMPDIR", tmp.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(entries(tmp.path()), vec!["a-file"], "{args:?} left something behind");
    }
}

#[test]
fn a_failed_run_stops_the_bench_unless_failures_are_ignored() {
    // Half the answers are 500s: every run of flags ends with failures.
    let srv = ServeProcess::start(&["--fault", "500:0.5", "--seed", "3"]);
    let base = format!("http://{}/flags", srv.addr);
    let out = tempfile::tempdir().unwrap();
    let bench = |extra: &[&str]| {
        Command::new(flags_exe())
            .args(["bench", "--quick", "--workloads", "W2", "--styles", "async", "--server", &base, "--out"])
            .arg(out.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let failed = bench(&[]);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{err}");
    assert!(err.contains("flags async failed on W2") && err.contains("--ignore-failure"), "{err}");
    assert!(!out.path().join("bench.json").exists(), "a failed bench has no results");
    let kept = bench(&["--ignore-failure"]);
    assert!(kept.status.success(), "{}", String::from_utf8_lossy(&kept.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("bench.json")).unwrap()).unwrap();
    let point = &report["points"][0];
    assert_eq!(point["failed_runs"], 1, "{point}");
    assert!(point["saved"].as_u64().unwrap() < 194, "{point}");
}

#[test]
fn serve_refuses_a_port_another_server_holds() {
    let first = ServeProcess::start(&[]);
    let python = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    for port in [first.addr.port(), python.local_addr().unwrap().port()] {
        let mut child = Command::new(flags_exe())
            .args(["serve", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert_eq!(exit_code(&mut child, Duration::from_secs(20)), Some(2), "port {port}");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(err.contains(&format!("port {port} is in use")), "{err}");
    }
}

#[test]
fn the_demo_refuses_a_page_it_cannot_write_before_any_request() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("demo-timeline.html")).unwrap();
    let out = Command::new(flags_exe()).current_dir(cwd.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("demo-timeline.html: it is a directory"));
    assert!(entries(&cwd.path().join("downloads")).is_empty(), "nothing was downloaded");
}

#[test]
fn a_command_peer_has_its_row_and_a_failing_one_stops_the_bench_by_name() {
    let out = tempfile::tempdir().unwrap();
    let bench = |peer: &str| {
        Command::new(flags_exe())
            .args(["bench", "--quick", "--workloads", "W2", "--styles", "async", "--peer", peer, "--out"])
            .arg(out.path())
            .output()
            .unwrap()
    };
    // A small shell command: one curl per flag, two at a time.
    let loop_ = "loop=printf '%s\\n' {cc} | xargs -P 2 -I@ curl -sf -o @.gif {base}/@/@.gif";
    let ran = bench(loop_);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let said = String::from_utf8_lossy(&ran.stdout);
    assert!(said.lines().next().unwrap_or("").ends_with("; peers loop"), "the header names the peer: {said}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("bench.json")).unwrap()).unwrap();
    let row = report["points"].as_array().unwrap().iter().find(|p| p["tool"] == "loop").expect("the peer's row");
    assert_eq!(row["saved"], 194, "{row}");
    assert_eq!(row["requests"], 194, "the server counted its requests: {row}");
    // At no latency two curls overlap only when both are up at once, which
    // a loaded machine may never let happen: at most two, never more.
    let peak = row["peak_in_flight"].as_u64().unwrap();
    assert!((1..=2).contains(&peak), "and saw two at a time at most: {row}");
    assert!(row["cpu_s"].as_f64().unwrap() > 0.0 && row["peak_rss_kib"].as_u64().unwrap() > 0, "{row}");
    let failed = bench("broken=exit 1 # {base} {cc}");
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{err}");
    assert!(err.contains("broken failed on W2") && err.contains("exit status 1"), "{err}");
}
