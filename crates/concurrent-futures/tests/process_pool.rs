//! The process pool, with this test program as its workers: its `main`
//! (no libtest harness) serves jobs when started as a worker, and runs the
//! tests otherwise.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use concurrent_futures::{
    FutureError, ProcessPoolExecutor, Registry, ReturnWhen, StartMethod, WorkerStats, as_completed, wait,
};
use serde_json::json;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        // Like `sleep_ms`, but says it started: it creates the file first.
        Registry::with_diagnostics().register("mark_then_sleep_ms", |(mark, ms): (std::path::PathBuf, u64)| {
            let _ = std::fs::write(mark, b"");
            std::thread::sleep(Duration::from_millis(ms));
            ms
        })
    })
}

fn pool(n: usize) -> ProcessPoolExecutor {
    ProcessPoolExecutor::new(n).unwrap()
}

fn map_keeps_input_order_across_processes() {
    let ex = pool(3);
    let out: Vec<u64> = ex.map("sleep_ms", [120u64, 60, 0, 30]).map(Result::unwrap).collect();
    assert_eq!(out, [120, 60, 0, 30]);
}

fn jobs_run_in_other_processes_at_most_max_workers() {
    let ex = pool(2);
    let pids: Vec<u32> = ex.map("pid", vec![json!(null); 6]).map(Result::unwrap).collect();
    let mut distinct = pids.clone();
    distinct.sort();
    distinct.dedup();
    assert!(!distinct.contains(&std::process::id()));
    assert!((1..=2).contains(&distinct.len()), "{pids:?}");
}

fn as_completed_yields_fastest_first_and_wait_returns_early() {
    let ex = pool(3);
    let futures: Vec<_> = [300u64, 10, 150].iter().map(|ms| ex.submit::<_, u64>("sleep_ms", ms)).collect();
    let order: Vec<u64> =
        as_completed(&futures, Some(Duration::from_secs(20))).map(|f| f.unwrap().result(None).unwrap()).collect();
    assert_eq!(order, [10, 150, 300]);
    let slow = ex.submit::<_, u64>("sleep_ms", 2_000);
    let fast = ex.submit::<_, u64>("sleep_ms", 0);
    let (done, not_done) = wait(&[slow, fast], Some(Duration::from_secs(20)), ReturnWhen::FirstCompleted);
    assert_eq!((done.len(), not_done.len()), (1, 1));
}

fn a_panic_in_a_worker_comes_back_and_the_worker_lives_on() {
    let ex = pool(1);
    let before: u32 = ex.submit("pid", ()).result(None).unwrap();
    let f = ex.submit::<_, u32>("panic", "no such flag");
    assert_eq!(f.result(None), Err(FutureError::Panicked("no such flag".into())));
    let after: u32 = ex.submit("pid", ()).result(None).unwrap();
    assert_eq!(before, after);
}

fn unknown_jobs_and_wrong_types_are_errors() {
    let ex = pool(1);
    let f = ex.submit::<_, u32>("no_such_job", 1);
    assert!(matches!(f.result(None), Err(FutureError::Remote(m)) if m.contains("no_such_job")));
    let f = ex.submit::<_, String>("sleep_ms", 1);
    assert!(matches!(f.result(None), Err(FutureError::Remote(_))));
}

fn a_killed_worker_fails_only_its_job_and_is_replaced() {
    let ex = pool(1);
    let pid: u32 = ex.submit("pid", ()).result(None).unwrap();
    let started = std::env::temp_dir().join(format!("process-pool-started-{}", std::process::id()));
    let _ = std::fs::remove_file(&started);
    let doomed = ex.submit::<_, u64>("mark_then_sleep_ms", json!([started, 10_000]));
    let queued = ex.submit::<_, u32>("pid", ());
    // Let the worker start the long job (it leaves a mark), then kill it.
    let t0 = Instant::now();
    while !started.exists() {
        assert!(t0.elapsed() < Duration::from_secs(5), "the worker never started the long job");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = std::fs::remove_file(&started);
    // SAFETY: kill(2) on our own worker process.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    match doomed.result(Some(Duration::from_secs(10))) {
        Err(FutureError::WorkerDied(msg)) => assert!(msg.contains(&pid.to_string()), "{msg}"),
        other => panic!("expected WorkerDied, got {other:?}"),
    }
    let new_pid = queued.result(Some(Duration::from_secs(10))).unwrap();
    assert_ne!(new_pid, pid);
    assert!(t0.elapsed() < Duration::from_secs(8));
}

/// The parent of `pid`, from /proc.
fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(") ").unwrap().1.split(' ').nth(1).unwrap().parse().unwrap()
}

fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |s| s.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')))
}

fn workers_are_forked_by_one_fork_server_and_die_with_it() {
    let ex = pool(3).with_start_method(concurrent_futures::StartMethod::ForkServer);
    // Three jobs at once start three workers.
    let slept: Vec<u64> = ex.map("sleep_ms", [200u64, 200, 200]).map(Result::unwrap).collect();
    assert_eq!(slept, [200, 200, 200]);
    let pids: Vec<u32> = ex.map("pid", vec![json!(null); 6]).map(Result::unwrap).collect();
    let servers: std::collections::BTreeSet<u32> = pids.iter().map(|&p| parent_of(p)).collect();
    assert_eq!(servers.len(), 1, "one fork server: {pids:?} {servers:?}");
    let server = *servers.first().unwrap();
    assert_ne!(server, std::process::id());
    assert_eq!(parent_of(server), std::process::id(), "the fork server is ours");
    // Killed, it takes its workers with it, and the next job gets a new one.
    // SAFETY: kill(2) on the fork server this pool started.
    assert_eq!(unsafe { libc::kill(server as i32, libc::SIGKILL) }, 0);
    let t0 = Instant::now();
    while !pids.iter().all(|&p| gone(p)) {
        assert!(t0.elapsed() < Duration::from_secs(5), "workers outlived their fork server");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut next = Err(FutureError::Shutdown);
    // Each of the three threads may first meet its dead worker: that job
    // fails and the thread starts a new worker. So of four jobs, one runs.
    for _ in 0..4 {
        next = ex.submit::<_, u32>("pid", ()).result(Some(Duration::from_secs(10)));
        if next.is_ok() {
            break;
        }
    }
    let again = next.unwrap();
    assert_ne!(parent_of(again), server);
    assert_eq!(parent_of(parent_of(again)), std::process::id());
}

fn spawned_workers_are_our_children() {
    let ex = pool(2);
    let pids: Vec<u32> = ex.map("pid", vec![json!(null); 4]).map(Result::unwrap).collect();
    assert!(pids.iter().all(|&p| parent_of(p) == std::process::id()), "{pids:?}");
}

fn worker_stats_count_the_workers_started_at_once_and_their_start_up() {
    for method in [StartMethod::Spawn, StartMethod::ForkServer] {
        let ex = pool(3).with_start_method(method);
        assert_eq!(ex.worker_stats(), WorkerStats::default(), "{method:?}: none before the first job");
        // Six jobs of 200 ms at once: each of the three threads starts its worker.
        let out: Vec<u64> = ex.map("sleep_ms", [200u64; 6]).map(Result::unwrap).collect();
        assert_eq!(out.len(), 6);
        let stats = ex.worker_stats();
        assert_eq!((stats.started, stats.peak_live), (3, 3), "{method:?}: {stats:?}");
        assert_eq!(stats.start_ups.len(), 3);
        assert!(stats.start_ups.iter().all(|d| *d > Duration::ZERO && *d < Duration::from_secs(20)), "{stats:?}");
        assert_eq!(ex.started_pids().len(), 3);
    }
}

fn submit_after_shutdown_is_an_error() {
    let ex = pool(1);
    ex.shutdown(true);
    assert_eq!(ex.submit::<_, u32>("pid", ()).result(Some(Duration::from_secs(1))), Err(FutureError::Shutdown));
}

fn main() {
    concurrent_futures::run_worker_if_requested(registry());
    let tests: [(&str, fn()); 10] = [
        ("map_keeps_input_order_across_processes", map_keeps_input_order_across_processes),
        ("jobs_run_in_other_processes_at_most_max_workers", jobs_run_in_other_processes_at_most_max_workers),
        (
            "as_completed_yields_fastest_first_and_wait_returns_early",
            as_completed_yields_fastest_first_and_wait_returns_early,
        ),
        (
            "a_panic_in_a_worker_comes_back_and_the_worker_lives_on",
            a_panic_in_a_worker_comes_back_and_the_worker_lives_on,
        ),
        ("unknown_jobs_and_wrong_types_are_errors", unknown_jobs_and_wrong_types_are_errors),
        ("a_killed_worker_fails_only_its_job_and_is_replaced", a_killed_worker_fails_only_its_job_and_is_replaced),
        ("submit_after_shutdown_is_an_error", submit_after_shutdown_is_an_error),
        (
            "workers_are_forked_by_one_fork_server_and_die_with_it",
            workers_are_forked_by_one_fork_server_and_die_with_it,
        ),
        ("spawned_workers_are_our_children", spawned_workers_are_our_children),
        (
            "worker_stats_count_the_workers_started_at_once_and_their_start_up",
            worker_stats_count_the_workers_started_at_once_and_their_start_up,
        ),
    ];
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let mut failed = 0;
    for (name, test) in tests {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        match std::panic::catch_unwind(test) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("\ntest result: {}. {failed} failed", if failed == 0 { "ok" } else { "FAILED" });
    std::process::exit(if failed == 0 { 0 } else { 101 });
}
