//! `flags get --work`, the real binary against the real `flags serve`:
//! the work is honest (its digest checks), and each style computes in its
//! own way: under `--gil` the threads in turn, the processes side by side,
//! the async style on its one loop unless it offloads.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use super::util::{assert_exactly_saved, served_image, ServeProcess, FLAGS_EXE};

const CODES: [&str; 8] = ["BR", "CN", "DE", "EG", "FR", "IN", "JP", "US"];

/// `flags get --json` of [`CODES`] from `srv` with `args`; its report.
fn get_json(srv: &ServeProcess, dir: &Path, args: &[&str]) -> Value {
    let out = Command::new(FLAGS_EXE)
        .args(["get", "--json", "-s", &format!("http://{}/flags", srv.addr), "-d"])
        .arg(dir)
        .args(args)
        .args(CODES)
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// Every flag's computing phases, (from, to) in ms, sorted.
fn computing(report: &Value) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = flags_of(report)
        .flat_map(|f| f["timeline"]["work"]["phases"].as_array().unwrap().clone())
        .filter(|p| p["phase"] == "computing")
        .map(|p| (p["from"].as_f64().unwrap(), p["to"].as_f64().unwrap()))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    spans
}

fn flags_of(report: &Value) -> impl Iterator<Item = &Value> {
    report["flags"].as_array().unwrap().iter()
}

/// True when some two of `spans` (sorted by start) overlap.
fn overlapping(spans: &[(f64, f64)]) -> bool {
    spans.windows(2).any(|w| w[1].0 < w[0].1)
}

/// Each flag was saved whole, and its work is what the chain gives: a
/// digest that only doing every unit yields, and the CPU time asked.
fn assert_honest(report: &Value, dir: &Path, cpu_ms: f64) {
    assert_exactly_saved(dir, &CODES);
    for f in flags_of(report) {
        let cc = f["cc"].as_str().unwrap();
        let work = &f["timeline"]["work"];
        let units = work["units"].as_u64().unwrap();
        let expected = format!("{:08x}", flags::work::chain::digest(&served_image(cc), units));
        assert_eq!(work["digest"], expected.as_str(), "{cc}: the digest is not the chain's");
        assert!(work["cpu_ms"].as_f64().unwrap() >= cpu_ms, "{cc}: {work}");
        assert!(units > 0);
    }
    assert_eq!(report["work"]["flags"], CODES.len());
}

#[test]
fn under_the_gil_threads_compute_in_turn_while_their_downloads_overlap() {
    let srv = ServeProcess::start(&["--delay", "0.2"]);
    let dir = tempfile::tempdir().unwrap();
    // 60 ms each: the eight answers would have to come 60 ms apart, on a
    // loaded machine, for no thread to wait (at 20 ms a full test run once
    // spread them that far).
    let report = get_json(&srv, dir.path(), &["--mode", "threadpool", "-m", "8", "--work", "60ms", "--gil"]);
    assert_honest(&report, dir.path(), 60.0);
    let spans = computing(&report);
    assert!(!overlapping(&spans), "two threads computed at once under the GIL: {spans:?}");
    assert_eq!(report["work"]["peak_computing"], 1);
    // They took turns: some waited for the GIL, and the lock changed hands mid-work.
    let waits = flags_of(&report)
        .flat_map(|f| f["timeline"]["work"]["phases"].as_array().unwrap().clone())
        .filter(|p| p["phase"] == "gil_wait")
        .count();
    assert!(waits >= CODES.len() - 1, "{waits} waits");
    assert!(spans.len() > CODES.len(), "no thread was switched out mid-work: {spans:?}");
    // The downloads, which do not hold it, overlapped.
    let requests: Vec<(f64, f64)> = flags_of(&report)
        .map(|f| (f["timeline"]["sent"].as_f64().unwrap(), f["timeline"]["body_done"].as_f64().unwrap()))
        .collect();
    assert!(flags::download::timeline::peak_of(&requests) > 1, "{requests:?}");
}

#[test]
fn without_the_gil_threads_compute_side_by_side() {
    let srv = ServeProcess::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let report = get_json(&srv, dir.path(), &["--mode", "threadpool", "-m", "8", "--work", "20ms"]);
    assert_honest(&report, dir.path(), 20.0);
    let spans = computing(&report);
    assert_eq!(spans.len(), CODES.len(), "one unbroken phase each: {spans:?}");
    assert!(overlapping(&spans), "{spans:?}");
}

#[test]
fn worker_processes_compute_side_by_side_each_with_a_gil_of_its_own() {
    let srv = ServeProcess::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let report = get_json(&srv, dir.path(), &["--mode", "processpool", "-m", "4", "--work", "100ms", "--gil"]);
    assert_honest(&report, dir.path(), 100.0);
    let spans = computing(&report);
    assert!(overlapping(&spans), "{spans:?}");
    assert!(report["work"]["peak_computing"].as_u64().unwrap() > 1);
}

#[test]
fn async_work_blocks_the_loop_unless_offloaded() {
    let srv = ServeProcess::start(&["--delay", "0.05"]);
    let dir = tempfile::tempdir().unwrap();
    let report = get_json(&srv, dir.path(), &["--mode", "async", "-m", "8", "--work", "20ms"]);
    assert_honest(&report, dir.path(), 20.0);
    let spans = computing(&report);
    assert!(!overlapping(&spans), "two flags computed at once on the one loop: {spans:?}");
    // No request moved while the loop computed.
    for f in flags_of(&report) {
        let t = &f["timeline"];
        for event in ["connected", "sent", "first_byte", "body_done"] {
            let Some(at) = t[event].as_f64() else { continue };
            let inside = spans.iter().find(|(from, to)| *from < at && at < *to);
            assert!(inside.is_none(), "{} {event} at {at} ms, inside computing {inside:?}", f["cc"]);
        }
    }
    // Handed to the blocking pool, the work runs beside the loop and beside itself.
    let dir = tempfile::tempdir().unwrap();
    let report = get_json(&srv, dir.path(), &["--mode", "async", "-m", "8", "--work", "20ms", "--offload"]);
    assert_honest(&report, dir.path(), 20.0);
    assert!(overlapping(&computing(&report)), "{:?}", computing(&report));
}

#[test]
fn answers_that_came_while_the_loop_computed_are_taken_past_their_deadline() {
    // Two flags bigger than one receive buffer (16 KB), so each takes a
    // read after its head, delayed 0.3 to 0.9 s. The first head to come
    // (at 0.3 s or later) is followed by 1 s of work on the one loop, so
    // the loop looks at the second flag after its 1.2 s timeout, its head
    // (sent by 0.9 s) and body long arrived. Taking them is not waiting for
    // them, over either protocol: over HTTP/2 it is the connection's task
    // that must have read them before the timer is believed.
    let srv = ServeProcess::start(&["--delay", "0.3..0.9"]);
    let codes = ["CD", "IR"];
    for protocol in [&[][..], &["--http2"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(FLAGS_EXE)
            .args(["get", "--json", "-s", &format!("http://{}/flags", srv.addr), "-d"])
            .arg(dir.path())
            .args(["--mode", "async", "-m", "2", "--work", "1000ms", "--timeout", "1.2"])
            .args(protocol)
            .args(codes)
            .timeout(Duration::from_secs(60))
            .assert()
            .success();
        let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_exactly_saved(dir.path(), &codes);
        // The case did happen: some answer was taken more than the timeout after its request began.
        let late = flags_of(&report).any(|f| {
            let t = &f["timeline"];
            t["first_byte"].as_f64().unwrap() - t["started"].as_f64().unwrap() > 1200.0
                || t["body_done"].as_f64().unwrap() - t["started"].as_f64().unwrap() > 1200.0
        });
        assert!(late, "{protocol:?}: no answer was taken past its deadline: {report}");
    }
}

#[test]
fn the_text_report_says_what_a_unit_of_work_cost() {
    let srv = ServeProcess::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(FLAGS_EXE)
        .args(["get", "-s", &format!("http://{}/flags", srv.addr), "-d"])
        .arg(dir.path())
        .args(["--mode", "sequential", "--work", "5ms", "--gil", "BR", "CN"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let line = text.lines().find(|l| l.starts_with("Work: ")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("Work: 5 ms of CPU per flag under the model GIL (switch interval 5 ms), 2 flags, "),
        "{line}"
    );
    assert!(
        line.contains("one unit (FNV-1a over 1024 bytes) cost ") && line.contains("at most 1 flag computing"),
        "{line}"
    );
}

#[test]
fn work_arguments_are_checked() {
    let bad: [(&[&str], &str); 5] = [
        (&["--gil"], "--work"),
        (&["--offload"], "--work"),
        (&["--work", "50ms", "--offload", "--mode", "threadpool"], "--offload cannot be used here"),
        (&["--work", "0ms"], "invalid value '0ms' for '--work"),
        (&["--work", "50ms", "--switch-interval", "5ms"], "--gil"),
    ];
    for (args, says) in bad {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(FLAGS_EXE)
            .args(["get", "-s", "http://127.0.0.1:9/flags", "-d"])
            .arg(dir.path().join("never"))
            .args(args)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!dir.path().join("never").exists(), "{args:?} made the destination");
    }
}

#[test]
fn the_python_reference_computes_the_same_chain() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/flags_work.py");
    let dir = tempfile::tempdir().unwrap();
    for (cc, units) in [("BR", 0), ("NP", 1), ("AE", 7), ("US", 300)] {
        let path = dir.path().join(format!("{cc}.gif"));
        let flag = served_image(cc);
        std::fs::write(&path, &flag).unwrap();
        let out = std::process::Command::new("python3")
            .arg(script)
            .arg("--digest")
            .arg(&path)
            .arg(units.to_string())
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(theirs.trim(), format!("{:08x}", flags::work::chain::digest(&flag, units)), "{cc} after {units}");
    }
}

#[test]
fn every_style_with_work_gives_the_same_outcome_against_a_misbehaving_server() {
    // The same seed draws the same faults for the same paths: each style on
    // a server of its own meets the same cut bodies, lies, HTML and 418s.
    let faults = ["--seed", "7", "--error-rate", "0.2", "--fault", "truncate:0.2,length-lie:0.2,html:0.2"];
    let runs: [&[&str]; 5] = [
        &["--mode", "sequential"],
        &["--mode", "threadpool", "-m", "8"],
        &["--mode", "processpool", "-m", "4"],
        &["--mode", "async", "-m", "8"],
        &["--mode", "async", "-m", "8", "--offload"],
    ];
    let mut seen: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for run in runs {
        let srv = ServeProcess::start(&faults);
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(FLAGS_EXE)
            .args(["get", "--json", "-s", &format!("http://{}/flags", srv.addr), "-d"])
            .arg(dir.path())
            .args(run)
            .args(["--work", "5ms", "--gil"])
            .args(CODES)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(1);
        let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let outcomes: Vec<(String, String)> = flags_of(&report)
            .map(|f| (f["cc"].as_str().unwrap().to_string(), f["outcome"].as_str().unwrap().to_string()))
            .collect();
        // Work only for what was saved, and a file only for that.
        for f in flags_of(&report) {
            assert_eq!(f["outcome"] == "ok", !f["timeline"]["work"].is_null(), "{run:?}: {f}");
        }
        let saved: Vec<String> =
            outcomes.iter().filter(|(_, o)| o == "ok").map(|(cc, _)| format!("{}.gif", cc.to_lowercase())).collect();
        assert_eq!(super::util::files_in(dir.path()), saved, "{run:?}");
        assert!(outcomes.iter().any(|(_, o)| o == "ok") && outcomes.iter().any(|(_, o)| o == "error"), "{outcomes:?}");
        seen.push((format!("{run:?}"), outcomes));
    }
    for (run, outcomes) in &seen[1..] {
        assert_eq!(outcomes, &seen[0].1, "{run} differs from {}", seen[0].0);
    }
}

#[test]
fn on_one_event_loop_each_flag_is_saved_when_its_work_ends() {
    // As flags_asyncio.py's save_flag: right after the flag's work, on the
    // loop. Handed to the pool, every save waited for the last flag's work.
    let srv = ServeProcess::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let report = get_json(&srv, dir.path(), &["--mode", "async", "-m", "8", "--work", "50ms"]);
    let mut saved = Vec::new();
    for flag in flags_of(&report) {
        let t = &flag["timeline"];
        let worked = t["work"]["phases"].as_array().unwrap().last().unwrap()["to"].as_f64().unwrap();
        let at = t["saved"].as_f64().unwrap();
        assert!(at >= worked && at - worked < 25.0, "{}: work ended at {worked} ms, saved at {at} ms", flag["cc"]);
        saved.push(at);
    }
    saved.sort_by(f64::total_cmp);
    assert!(saved[7] - saved[0] > 200.0, "eight flags' work in turn, eight saves apart: {saved:?}");
    assert_exactly_saved(dir.path(), &CODES);
}
