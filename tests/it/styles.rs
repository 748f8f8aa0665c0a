//! Each download style against the server on port 0.

use std::sync::{Arc, Mutex};

use flags::countries::{pop20_sorted, CountryCode, POP20};
use flags::download::{self, DownloadObserver, Failure, Job, Mode, Outcome, Quiet};
use flags::http::FetchError;
use flags::server::{Delay, RunningServer};
use flags::shutdown::Shutdown;

use super::util::{assert_exactly_saved, server, server_with};

fn job(base: flags::http::BaseUrl, dest: &std::path::Path, concurrency: usize) -> Job {
    Job::new(base, dest, concurrency)
}

/// Records the order outcomes arrive in.
#[derive(Default)]
struct Recorder(Mutex<Vec<CountryCode>>);

impl DownloadObserver for Recorder {
    fn outcome(&self, cc: CountryCode, _: &Outcome) {
        self.0.lock().unwrap().push(cc);
    }
}

/// Downloads POP20 with `mode` from `srv` into `dest`, `m` at a time.
fn pop20(mode: Mode, srv: &RunningServer, dest: &std::path::Path, m: usize) -> download::RunResult {
    download::run(mode, job(srv.base(), dest, m), pop20_sorted(), Arc::new(Quiet), &Shutdown::default())
}

#[test]
fn every_style_downloads_pop20_byte_identical() {
    let srv = server();
    for mode in Mode::ALL {
        let dir = tempfile::tempdir().unwrap();
        let result = pop20(mode, &srv, dir.path(), 20);
        assert_eq!(result.saved(), 20, "{mode}");
        assert_exactly_saved(dir.path(), &POP20.map(|c| c.as_str().to_string()).each_ref().map(String::as_str));
    }
}

#[test]
fn sequential_goes_in_sorted_order() {
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let mut shuffled: Vec<CountryCode> = POP20.to_vec();
    shuffled.reverse();
    download::run(Mode::Sequential, job(srv.base(), dir.path(), 1), shuffled, rec.clone(), &Shutdown::default());
    assert_eq!(*rec.0.lock().unwrap(), pop20_sorted());
}

#[test]
fn concurrent_styles_keep_all_requests_in_flight() {
    // Answers a minute away: the server sees all 20 requests at once, then
    // the run is stopped.
    for mode in [Mode::ThreadPool, Mode::Async] {
        let srv = server_with(Delay::fixed(60.0), 0.0);
        let dir = tempfile::tempdir().unwrap();
        let shutdown = Arc::new(Shutdown::default());
        let (base, dest, stop) = (srv.base(), dir.path().to_path_buf(), Arc::clone(&shutdown));
        let run = std::thread::spawn(move || {
            download::run(mode, job(base, &dest, 20), pop20_sorted(), Arc::new(Quiet), &stop)
        });
        super::util::wait_until("20 requests in flight", std::time::Duration::from_secs(60), || {
            srv.stats().snapshot().in_flight == 20
        });
        shutdown.stop();
        let result = run.join().unwrap();
        assert_eq!(result.done.len(), 20, "{mode}");
        assert_eq!(srv.stats().peak_in_flight(), 20, "{mode}");
    }
}

#[test]
fn the_concurrency_cap_holds() {
    for mode in [Mode::ThreadPool, Mode::Async] {
        let srv = server_with(Delay::fixed(0.05), 0.0);
        let dir = tempfile::tempdir().unwrap();
        let result = pop20(mode, &srv, dir.path(), 3);
        // All downloaded, and never more than three at once.
        assert_eq!(result.saved(), 20, "{mode}");
        assert!(srv.stats().peak_in_flight() <= 3, "{mode}: {}", srv.stats().peak_in_flight());
        assert!(srv.stats().peak_in_flight() >= 2, "{mode}: the requests did not overlap at all");
    }
}

#[test]
fn not_found_and_errors_are_outcomes_not_files() {
    let srv = server_with(Delay::NONE, 0.5);
    for mode in Mode::ALL {
        let dir = tempfile::tempdir().unwrap();
        let codes: Vec<CountryCode> =
            ["BR", "ZZ", "US", "QQ", "FR", "DE", "JP", "CN"].map(|c| c.parse().unwrap()).to_vec();
        let result =
            download::run(mode, job(srv.base(), dir.path(), 8), codes.clone(), Arc::new(Quiet), &Shutdown::default());
        assert_eq!(result.done.len(), codes.len());
        let mut saved = Vec::new();
        for (cc, outcome) in result.outcomes() {
            match outcome {
                Outcome::Saved { .. } => saved.push(cc),
                Outcome::NotFound => assert!(cc == "ZZ" || cc == "QQ"),
                // The same value in every style, a worker process's included.
                Outcome::Failed(Failure::Fetch(FetchError::Http { status: 418, .. })) => {}
                other => panic!("{mode} {cc}: {other:?}"),
            }
        }
        let saved: Vec<&str> = saved.iter().map(|cc| cc.as_str()).collect();
        assert_exactly_saved(dir.path(), &saved);
    }
}
