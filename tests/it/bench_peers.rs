//! `flags bench --peer` and `flags demo --peer` hold a peer to what the
//! exam holds a client to: a stop reaches every process the peer started,
//! in its process group, ending it within a grace period even if it
//! ignores SIGINT; a background child it leaves holds nothing up; what it
//! prints costs the bench and the demo a few KB, whatever its size. And
//! the bench keeps its promises on every signal: SIGHUP as SIGTERM (exit
//! 129), SIGQUIT at once (131), SIGUSR1 and SIGALRM ignored.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::util::{flags_exe, send_signal, wait_until};

/// The processes whose command line has the word `marker`, still running
/// (the bench itself, whose `--peer` has it too, left out).
fn running(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let line = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let words: Vec<&[u8]> = line.split(|b| *b == 0 || *b == b' ').collect();
            let bench = words.contains(&&b"bench"[..]);
            !bench && words.contains(&marker.as_bytes()) && flags::os::is_running(*pid)
        })
        .collect()
}

/// Kills what a failed test left running under `marker`, and says what it was.
fn left_running(marker: &str) -> Vec<u32> {
    let left = running(marker);
    for pid in &left {
        // SAFETY: kill(2); a process gone meanwhile is ESRCH.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    left
}

/// `flags bench --quick` of the async style and `peer` on W1 (the 20 flags),
/// failed runs measured, with `tmp` as its TMPDIR.
fn bench(peer: &str, tmp: &Path) -> Child {
    Command::new(flags_exe())
        .args(["bench", "--quick", "--workloads", "W1", "--styles", "async", "--ignore-failure", "--peer", peer])
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits up to `limit` for `child`; its exit code (`None`: a signal, or
/// still running at `limit`, when it is killed) and how long it took.
fn exit_within(child: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    (None, t0.elapsed())
}

/// What is left in `dir`.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn every_stop_signal_ends_the_bench_with_its_peer_and_its_scratch() {
    for (signal, code, marker) in
        [(libc::SIGHUP, 129, "47.1"), (libc::SIGQUIT, 131, "47.2"), (libc::SIGTERM, 143, "47.3")]
    {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = bench(&format!("stub=sleep {marker} # {{base}}"), tmp.path());
        wait_until("the peer runs", Duration::from_secs(60), || !running(marker).is_empty());
        send_signal(child.id(), signal);
        let (status, took) = exit_within(&mut child, Duration::from_secs(10));
        let left = left_running(marker);
        assert_eq!(status, Some(code), "signal {signal}: exit status, after {took:?}");
        assert!(left.is_empty(), "signal {signal}: the peer's processes are left: {left:?}");
        assert_eq!(entries(tmp.path()), Vec::<String>::new(), "signal {signal}: left in TMPDIR");
    }
}

#[test]
fn a_peer_that_ignores_ctrl_c_is_killed_after_the_grace_period() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = "47.4";
    let mut child = bench(&format!("deaf=trap '' INT; sleep {marker} # {{base}}"), tmp.path());
    wait_until("the peer runs", Duration::from_secs(60), || running(marker).len() >= 2);
    send_signal(child.id(), libc::SIGINT);
    let (status, took) = exit_within(&mut child, Duration::from_secs(10));
    let left = left_running(marker);
    assert_eq!(status, Some(130), "exit status, after {took:?}");
    assert!(left.is_empty(), "the peer's processes are left: {left:?}");
    assert_eq!(entries(tmp.path()), Vec::<String>::new(), "left in TMPDIR");
}

#[test]
fn a_peers_background_child_does_not_hold_the_bench() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = "91.5";
    let mut child = bench(&format!("bg=sleep {marker} & true {{base}}"), tmp.path());
    let (status, took) = exit_within(&mut child, Duration::from_secs(15));
    let left = left_running(marker);
    assert_eq!(status, Some(0), "the bench ends with its peer, not its peer's child ({took:?})");
    assert!(left.is_empty(), "the background child is left: {left:?}");
    let kept = entries(tmp.path());
    assert!(kept.iter().all(|e| e.starts_with("flags-bench-") && !e.starts_with("flags-bench-runs-")), "{kept:?}");
}

#[test]
fn sigusr1_and_sigalrm_do_not_end_the_bench() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = "1.6";
    let mut child = bench(&format!("nap=sleep {marker} # {{base}}"), tmp.path());
    wait_until("the peer runs", Duration::from_secs(60), || !running(marker).is_empty());
    send_signal(child.id(), libc::SIGUSR1);
    send_signal(child.id(), libc::SIGALRM);
    let (status, took) = exit_within(&mut child, Duration::from_secs(30));
    assert_eq!(status, Some(0), "the bench runs to its end ({took:?})");
    let out = entries(tmp.path());
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(tmp.path().join(&out[0]).join("bench.json").exists(), "the results are written");
}

/// The peak resident set, in MiB, of `cmd` run to its end (at most
/// `limit`), its stdout read meanwhile; and that stdout.
#[allow(clippy::zombie_processes, reason = "reaped by wait_with_usage")]
fn peak_mib(mut cmd: Command, limit: Duration) -> (u64, Option<i32>, String) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    let sampler = super::util::hwm_until_exit(pid);
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut text).unwrap();
        String::from_utf8_lossy(&text).into_owned()
    });
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if rx.recv_timeout(limit).is_err() {
            // SAFETY: kill(2) on the child under test, not yet reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    });
    let waited = flags::os::wait_with_usage(pid).unwrap();
    let _ = tx.send(());
    guard.join().unwrap();
    let (code, _) = flags::os::exit_of(waited.status);
    (sampler.join().unwrap() / 1024, code, reader.join().unwrap())
}

/// A peer that prints 300 MB on stdout and saves nothing.
const LOUD: &str = "loud=head -c 300000000 /dev/zero # {base}";

#[test]
fn a_peer_printing_300_mb_costs_the_bench_a_flat_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(flags_exe());
    cmd.args(["bench", "--quick", "--workloads", "W1", "--styles", "async", "--ignore-failure", "--peer", LOUD]);
    cmd.env("TMPDIR", tmp.path());
    let (mib, code, _) = peak_mib(cmd, Duration::from_secs(120));
    assert_eq!(code, Some(0));
    assert!(mib < 100, "the bench peaked at {mib} MiB");
}

#[test]
fn a_peer_printing_300_mb_costs_the_demo_a_flat_memory_and_its_count_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(flags_exe());
    cmd.args(["demo", "--delay", "0", "--no-work", "--peer", LOUD]).current_dir(tmp.path());
    let (mib, code, stdout) = peak_mib(cmd, Duration::from_secs(120));
    assert_eq!(code, Some(0));
    assert!(mib < 100, "the demo peaked at {mib} MiB");
    assert!(stdout.contains("300000000 bytes"), "the count is shown: {}", &stdout[stdout.len().saturating_sub(3000)..]);
    assert!(stdout.len() < 100_000, "the output is shown bounded: {} bytes", stdout.len());
}
