//! The soak run (`cargo test --release -- --ignored soak --nocapture`):
//! 20 000 requests against a server with every fault in the mix (10% of
//! requests in all), `-m 200`, 3 retries. The invariants hold for every
//! batch, and memory stays flat. Bounded: it stops after 30 batches or
//! 10 minutes, whichever comes first.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flags::countries::CountryCode;
use flags::download::{self, Job, Mode, Outcome, Quiet};
use flags::server::{self, FaultPlan, FaultSettings, ServerConfig};
use flags::shutdown::Shutdown;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "soak run: about 20 000 requests, minutes; run it with --ignored"]
fn soak_20k_requests_with_every_fault() {
    let faults = "latency:0.01,drip:0.01,418:0.01,429:0.01,500:0.01,503:0.01,truncate:0.01,reset:0.01,stall:0.01,slow-close:0.01";
    let config = ServerConfig {
        faults: faults.parse::<FaultPlan>().unwrap(),
        fault_settings: FaultSettings {
            jitter: Duration::from_millis(300),
            stall: Duration::from_secs(20),
            retry_after: 0,
            ..Default::default()
        },
        seed: 2026,
        ..ServerConfig::default()
    };
    let srv = server::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let codes: Vec<CountryCode> = CountryCode::every().collect();
    let started = Instant::now();
    let (mut batches, mut requests_before, mut rss) = (0, 0, Vec::new());
    let (mut ok, mut not_found, mut errors) = (0usize, 0usize, 0usize);
    while srv.stats().requests() < 20_000 && batches < 30 && started.elapsed() < Duration::from_secs(600) {
        let dir = tempfile::tempdir().unwrap();
        let mut job = Job::new(srv.base(), dir.path(), 200);
        job.retries = 3;
        job.stall = Duration::from_secs(2);
        job.timeout = Duration::from_secs(10);
        let mode = [Mode::Async, Mode::ThreadPool][batches % 2];
        let result = download::run(mode, job, codes.clone(), Arc::new(Quiet), &Shutdown::default());
        assert_eq!(result.done.len(), 676);
        let saved: Vec<String> = result
            .outcomes()
            .filter(|(_, o)| matches!(o, Outcome::Saved { .. }))
            .map(|(cc, _)| format!("{}.gif", cc.lower()))
            .collect();
        let mut on_disk: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        let mut saved_sorted = saved.clone();
        saved_sorted.sort();
        on_disk.sort();
        assert_eq!(on_disk, saved_sorted, "batch {batches}: files on disk differ from the ok outcomes");
        for (_, o) in result.outcomes() {
            match o {
                Outcome::Saved { .. } => ok += 1,
                Outcome::NotFound => not_found += 1,
                _ => errors += 1,
            }
        }
        assert!(srv.stats().peak_in_flight() <= 200);
        batches += 1;
        rss.push(rss_kib());
        println!(
            "batch {batches:2} {mode:10} requests {:6} (+{:4}) in {:5.2}s, rss {} KiB",
            srv.stats().requests(),
            srv.stats().requests() - requests_before,
            result.elapsed.as_secs_f64(),
            rss_kib()
        );
        requests_before = srv.stats().requests();
    }
    println!(
        "soak: {} requests in {batches} batches, {:.0}s; outcomes ok {ok}, not found {not_found}, errors left {errors}; \
         most tries for one URL {}; peak in flight {}; rss first {} KiB, last {} KiB, max {} KiB",
        srv.stats().requests(),
        started.elapsed().as_secs_f64(),
        srv.stats().most_asked(),
        srv.stats().peak_in_flight(),
        rss[0],
        rss[rss.len() - 1],
        rss.iter().max().unwrap()
    );
    assert!(srv.stats().requests() >= 20_000, "stopped early after {} requests", srv.stats().requests());
    // Memory flat: the last batches use no more than the first ones plus a margin.
    let early = rss[..3].iter().max().unwrap();
    assert!(rss[rss.len() - 1] < early + 64 * 1024, "rss grew from {early} KiB to {} KiB", rss[rss.len() - 1]);
}
