//! Each server fault against each download style. After every run the
//! invariants hold: every code accounted once, the destination holds exactly
//! the ok files byte-identical to what the server sent, no temp file, no
//! more than `-m` requests at once, at most 1 + retries requests per code.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use flags::countries::pop20_sorted;
use flags::download::{self, Job, Mode, Outcome, Quiet, RunResult};
use flags::server::{self, FaultPlan, FaultSettings, RunningServer, ServerConfig};
use flags::shutdown::Shutdown;

use super::util::{assert_exactly_saved, wait_until, FLAGS_EXE};

const CONCURRENCY: usize = 4;

fn faulty_server(faults: &str) -> RunningServer {
    faulty_server_with(faults, 0)
}

fn faulty_server_with(faults: &str, retry_after: u64) -> RunningServer {
    flags::download::processpool::use_worker_program(FLAGS_EXE);
    let config = ServerConfig {
        faults: faults.parse::<FaultPlan>().unwrap(),
        fault_settings: FaultSettings {
            jitter: Duration::from_millis(200),
            drip_rate: 64 * 1024,
            stall: Duration::from_secs(30),
            slow_close: Duration::from_millis(500),
            retry_after,
        },
        seed: 7,
        // One thread, so the server handles a connection's close before a
        // later connection's request. A client that gives up on a request
        // (a stall) closes it before starting the next one, but two server
        // threads could take the new request first and count one request
        // too many in flight.
        threads: 1,
        ..ServerConfig::default()
    };
    server::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap()
}

/// Runs `mode` over POP20 and checks the invariants; returns the result.
fn run_checked(srv: &RunningServer, mode: Mode, retries: u32) -> RunResult {
    run_with_stall(srv, mode, retries, Duration::from_secs(2))
}

fn run_with_stall(srv: &RunningServer, mode: Mode, retries: u32, stall: Duration) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    let mut job = Job::new(srv.base(), dir.path(), CONCURRENCY);
    job.timeout = Duration::from_secs(5);
    job.stall = stall;
    job.retries = retries;
    let codes = pop20_sorted();
    let result = download::run(mode, job, codes.clone(), Arc::new(Quiet), &Shutdown::default());
    let mut seen: Vec<_> = result.outcomes().map(|(cc, _)| cc).collect();
    seen.sort();
    assert_eq!(seen, codes, "{mode}: every code exactly once");
    let ok: Vec<&str> =
        result.done.iter().filter(|d| matches!(d.outcome, Outcome::Saved { .. })).map(|d| d.cc.as_str()).collect();
    assert_exactly_saved(dir.path(), &ok);
    let cap = if mode == Mode::Sequential { 1 } else { CONCURRENCY };
    let own = flags::download::timeline::peak_in_flight(&result.timelines());
    assert!(own <= cap, "{mode}: {own} in flight by the client's own record");
    // The server counts a request in flight until it reads its client's
    // close. A request the client gave up on (a stall) may have that close
    // read after a later connection's request: epoll does not order events
    // across sockets. Each such request may add one to the server's peak,
    // and only such requests: every answered one ends on the server before
    // its client sees it end.
    wait_until("the server to see every client leave", Duration::from_secs(10), || {
        srv.stats().snapshot().in_flight == 0
    });
    let abandoned = srv.stats().snapshot().unanswered as usize;
    let peak = srv.stats().peak_in_flight();
    assert!(peak <= cap + abandoned, "{mode}: {peak} in flight ({abandoned} abandoned)");
    assert!(srv.stats().most_asked() <= 1 + retries as u64, "{mode}: {} tries", srv.stats().most_asked());
    result
}

fn reasons(result: &RunResult) -> Vec<String> {
    result
        .outcomes()
        .filter_map(|(_, o)| match o {
            Outcome::Failed(e) => Some(e.to_string()),
            _ => None,
        })
        .collect()
}

/// Every style, once without retries (the fault shows as errors that
/// `expect` recognises) and once with retries (all recover).
fn check_fault(fault: &str, expect: impl Fn(&str) -> bool) {
    check_fault_with_stall(fault, Duration::from_secs(2), expect)
}

fn check_fault_with_stall(fault: &str, stall: Duration, expect: impl Fn(&str) -> bool) {
    for mode in Mode::ALL {
        let srv = faulty_server(&format!("{fault}:0.3"));
        let plain = run_with_stall(&srv, mode, 0, stall);
        let why = reasons(&plain);
        assert!(!why.is_empty(), "{fault} {mode}: no errors");
        assert!(why.iter().all(|r| expect(r)), "{fault} {mode}: {why:?}");
        let srv = faulty_server(&format!("{fault}:0.3"));
        let retried = run_with_stall(&srv, mode, 4, stall);
        assert_eq!(retried.saved(), 20, "{fault} {mode} with retries: {:?}", reasons(&retried));
    }
}

/// Faults that slow a response but don't fail it.
fn check_benign(fault: &str) {
    for mode in Mode::ALL {
        let srv = faulty_server(&format!("{fault}:0.5"));
        let r = run_checked(&srv, mode, 0);
        assert_eq!(r.saved(), 20, "{fault} {mode}: {:?}", reasons(&r));
    }
}

#[test]
fn truncated_bodies_are_errors_never_files() {
    check_fault("truncate", |r| r.contains("closed") || r.contains("Content-Length") || r.contains("body"));
}

#[test]
fn resets_are_errors_never_files() {
    check_fault("reset", |r| r.contains("reset") || r.contains("closed") || r.contains("body"));
}

#[test]
fn stalls_are_caught_by_the_stall_detector() {
    check_fault_with_stall("stall", Duration::from_millis(400), |r| r == "timed out waiting for an answer");
}

#[test]
fn status_faults_are_errors_and_transient_ones_recover() {
    check_fault("500", |r| r == "HTTP 500 - Internal Server Error");
    check_fault("503", |r| r == "HTTP 503 - Service Unavailable");
    check_fault("429", |r| r == "HTTP 429 - Too Many Requests");
}

#[test]
fn retry_after_is_honoured() {
    let srv = faulty_server_with("503:0.5", 1);
    let result = run_checked(&srv, Mode::Async, 3);
    assert_eq!(result.saved(), 20);
    assert!(result.elapsed >= Duration::from_secs(1), "retried before Retry-After: {:?}", result.elapsed);
}

#[test]
fn teapots_are_not_retried() {
    for mode in Mode::ALL {
        let srv = faulty_server("418:0.3");
        let result = run_checked(&srv, mode, 3);
        assert_eq!(srv.stats().most_asked(), 1, "{mode}: 418 is not transient");
        assert!(reasons(&result).iter().all(|r| r == "HTTP 418 - I'm a Teapot"));
    }
}

#[test]
fn latency_drip_and_slow_close_still_deliver() {
    check_benign("latency");
    check_benign("drip");
    check_benign("slow-close");
}
