//! Ctrl-C and SIGTERM against the real `flags get`, in every style: the
//! first signal ends the run with a report that accounts for every code,
//! exit 130 (SIGINT) or 143 (SIGTERM); a second quits at once. After any
//! exit the destination holds only complete flags, no temporary file, no
//! file appears after the signal was handled, and no worker process is
//! left.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::util::{files_in, flags_exe, send_signal, stats, wait_in_flight, wait_until, ServeProcess};

const STYLES: [&str; 4] = ["sequential", "threadpool", "async", "processpool"];

/// Starts `flags get` with `extra` (the codes among them) against `base`
/// in `mode`, writing into `dest`.
fn start_get(base: &str, mode: &str, dest: &Path, extra: &[&str]) -> Child {
    Command::new(flags_exe())
        .args(["get", "--json", "--mode", mode, "-s", base, "-d"])
        .arg(dest)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until process `pid` catches SIGINT (its `SigCgt` mask says so):
/// a signal before that would find the program still starting, before
/// its `main`.
fn wait_until_catching(pid: u32) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap_or(0);
        if caught & (1 << (libc::SIGINT - 1)) != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("process {pid} never caught SIGINT");
}

/// The pids of worker processes whose parent was `parent`, still running.
fn workers_of(parent: u32) -> Vec<u32> {
    let wanted = format!("CONCURRENT_FUTURES_PARENT={parent}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
            !zombie && env.split(|&b| b == 0).any(|kv| kv == wanted.as_bytes())
        })
        .collect()
}

/// Waits for `child` to exit (at most `limit`); its exit code and stdout.
fn finish(child: Child, limit: Duration) -> (Option<i32>, Vec<u8>, Duration) {
    let t0 = Instant::now();
    let id = child.id();
    let guard = std::thread::spawn(move || {
        std::thread::sleep(limit);
        // SAFETY: kill(2); a stale pid at worst gets a signal it ignores.
        unsafe { libc::kill(id as i32, libc::SIGKILL) };
    });
    let out = child.wait_with_output().unwrap();
    drop(guard);
    (out.status.code(), out.stdout, t0.elapsed())
}

/// Asserts what every exit owes: no temporary file, no worker left, and
/// (given a report) exactly the files it reports saved.
fn assert_clean_exit(pid: u32, dest: &Path, report: Option<&Value>) {
    let files = files_in(dest);
    assert!(!files.iter().any(|f| f.starts_with('.')), "temporary files left: {files:?}");
    // Workers notice their parent is gone within moments.
    let t0 = Instant::now();
    while !workers_of(pid).is_empty() && t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(workers_of(pid).is_empty(), "worker processes left: {:?}", workers_of(pid));
    if let Some(report) = report {
        let mut ok: Vec<String> = report["flags"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["outcome"] == "ok")
            .map(|f| format!("{}.gif", f["cc"].as_str().unwrap().to_lowercase()))
            .collect();
        ok.sort();
        assert_eq!(files, ok, "the files are not the ones reported saved");
        let sum: u64 = ["ok", "not_found", "errors", "cancelled"].iter().map(|k| report[k].as_u64().unwrap()).sum();
        assert_eq!(sum, 676, "every code accounted once: {report}");
    }
}

/// One signal, `signal`, once the run is under way: the run stops,
/// reports, exits `code`; the files are exactly the ones it reports saved.
fn one_signal(mode: &str, signal: i32, code: i32) {
    let srv = ServeProcess::start(&["--delay", "0.5"]);
    let dir = tempfile::tempdir().unwrap();
    let child = start_get(&format!("http://{}/flags", srv.addr), mode, dir.path(), &["-e", "-m", "10"]);
    let pid = child.id();
    // Under way: a first round answered and the next one in flight.
    wait_until("the run under way", Duration::from_secs(60), || {
        let now = stats(srv.addr);
        now["requests"].as_u64() > Some(10) && now["in_flight"].as_u64() > Some(0)
    });
    send_signal(pid, signal);
    let (status, stdout, _) = finish(child, Duration::from_secs(60));
    assert_eq!(status, Some(code), "{mode}: exit status");
    let report: Value = serde_json::from_slice(&stdout).unwrap_or_else(|_| panic!("{mode}: no report"));
    // A run that went on would take 676 / 10 x 0.5 s; most codes were never asked for.
    assert!(report["cancelled"].as_u64().unwrap() > 400, "{mode}: {}", report["cancelled"]);
    assert_clean_exit(pid, dir.path(), Some(&report));
}

#[test]
fn ctrl_c_stops_every_style_with_a_full_report() {
    for mode in STYLES {
        one_signal(mode, libc::SIGINT, 130);
    }
}

#[test]
fn sigterm_stops_every_style_with_a_full_report() {
    for mode in STYLES {
        one_signal(mode, libc::SIGTERM, 143);
    }
}

/// Whether a thread of process `pid` is blocked writing into a full pipe.
fn writing_to_a_full_pipe(pid: u32) -> bool {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
    { tasks }.any(|t| std::fs::read_to_string(t.path().join("wchan")).is_ok_and(|w| w.contains("pipe_write")))
}

#[test]
fn a_second_ctrl_c_quits_at_once_and_leaves_nothing_behind() {
    for mode in STYLES {
        // Slow bodies, so that many temporary files are open at the time.
        let srv = ServeProcess::start(&["--fault", "drip", "--drip-rate", "2000"]);
        let dir = tempfile::tempdir().unwrap();
        let mut child = start_get(&format!("http://{}/flags", srv.addr), mode, dir.path(), &["-e", "-m", "20"]);
        let pid = child.id();
        // Under way: bodies are dripping (one at a time in sequence).
        let asked = if mode == "sequential" { 1 } else { 20 };
        wait_until("bodies on their way", Duration::from_secs(60), || {
            stats(srv.addr)["requests"].as_u64() >= Some(asked)
        });
        send_signal(pid, libc::SIGINT);
        // The first signal's report (676 codes, more than a pipe holds) has
        // started and waits for a reader, who does not come: only the
        // second signal's abort can end the process now.
        wait_until("the report being written", Duration::from_secs(60), || writing_to_a_full_pipe(pid));
        send_signal(pid, libc::SIGINT);
        let mut status = None;
        wait_until("the abort's exit", Duration::from_secs(60), || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        assert_eq!(status.unwrap().code(), Some(130), "{mode}");
        let mut stdout = Vec::new();
        std::io::Read::read_to_end(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
        assert!(serde_json::from_slice::<Value>(&stdout).is_err(), "{mode}: the abort finished the report");
        assert_clean_exit(pid, dir.path(), None);
    }
}

#[test]
fn async_drops_requests_in_flight_at_once() {
    let srv = ServeProcess::start(&["--delay", "60"]);
    let dir = tempfile::tempdir().unwrap();
    let child = start_get(&format!("http://{}/flags", srv.addr), "async", dir.path(), &["-a", "-m", "194"]);
    let pid = child.id();
    wait_in_flight(srv.addr, 194);
    let signalled = Instant::now();
    send_signal(pid, libc::SIGINT);
    let (status, stdout, _) = finish(child, Duration::from_secs(120));
    let took = signalled.elapsed();
    assert_eq!(status, Some(130));
    // Far less than the minute the answers take.
    assert!(took < Duration::from_secs(30), "exited {took:?} after SIGINT");
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(report["cancelled"], 194);
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn blocking_styles_drop_requests_in_flight_too() {
    let srv = ServeProcess::start(&["--delay", "60"]);
    for mode in ["sequential", "threadpool", "processpool"] {
        let dir = tempfile::tempdir().unwrap();
        let child = start_get(&format!("http://{}/flags", srv.addr), mode, dir.path(), &["-e", "-m", "8"]);
        let pid = child.id();
        let expected = if mode == "sequential" { 1 } else { 8 };
        wait_in_flight(srv.addr, expected);
        let signalled = Instant::now();
        send_signal(pid, libc::SIGINT);
        let (status, _, _) = finish(child, Duration::from_secs(120));
        let took = signalled.elapsed();
        assert_eq!(status, Some(130), "{mode}");
        assert!(took < Duration::from_secs(30), "{mode}: exited {took:?} after SIGINT");
        assert_clean_exit(pid, dir.path(), None);
        // The server has let go of the dropped requests before the next style.
        wait_until("the dropped requests gone", Duration::from_secs(30), || stats(srv.addr)["in_flight"] == 0);
    }
}

#[test]
fn ctrl_c_while_the_process_pool_starts() {
    let srv = ServeProcess::start(&["--delay", "0.2"]);
    for i in 0..30u64 {
        let dir = tempfile::tempdir().unwrap();
        let child = start_get(&format!("http://{}/flags", srv.addr), "processpool", dir.path(), &["-e", "-m", "8"]);
        let pid = child.id();
        wait_until_catching(pid);
        std::thread::sleep(Duration::from_millis(10 + (i * 37) % 80));
        send_signal(pid, libc::SIGINT);
        let (status, stdout, _) = finish(child, Duration::from_secs(20));
        assert_eq!(status, Some(130), "try {i}: exit status");
        let report: Value = serde_json::from_slice(&stdout).unwrap_or_else(|_| panic!("try {i}: no report"));
        assert_clean_exit(pid, dir.path(), Some(&report));
    }
}

/// Whether a thread named `name` runs in process `pid`, one of its
/// children or one of theirs (a process pool's workers, forked by its fork
/// server).
fn has_thread(pid: u32, name: &str) -> bool {
    let parent_of = |p: &str| {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok())
    };
    std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok()).any(|p| {
        let up = parent_of(&p);
        let ours = p == pid.to_string() || up == Some(pid) || up.and_then(|u| parent_of(&u.to_string())) == Some(pid);
        let tasks = std::fs::read_dir(format!("/proc/{p}/task")).into_iter().flatten().flatten();
        ours && { tasks }.any(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|comm| comm.trim() == name))
    })
}

/// A name the resolver never answers for (through the binary's test hook,
/// `FLAGS_TEST_HANG_LOOKUP`): the request's deadline ends the lookup in
/// every style, and so does Ctrl-C in the blocking styles, whose lookup
/// runs on a thread of its own.
#[test]
fn a_name_lookup_that_never_answers_ends_at_the_deadline_and_at_ctrl_c() {
    let hung = "never-answers.invalid";
    let base = format!("http://{hung}:9/flags");
    let get = |mode: &str, timeout: &str| {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(flags_exe())
            .args(["get", "BR", "--json", "--mode", mode, "--timeout", timeout, "-s", &base, "-d"])
            .arg(dir.path())
            .env("FLAGS_TEST_HANG_LOOKUP", hung)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        (child, dir)
    };
    for mode in STYLES {
        let (child, _dir) = get(mode, "1");
        let (status, stdout, _) = finish(child, Duration::from_secs(30));
        assert_eq!(status, Some(1), "{mode}: a lookup past the deadline is a failure");
        let report: Value = serde_json::from_slice(&stdout).unwrap_or_else(|_| panic!("{mode}: no report"));
        assert_eq!(report["flags"][0]["reason"], "timed out waiting for an answer", "{mode}: {report}");
    }
    for mode in ["sequential", "threadpool", "processpool"] {
        let (child, dir) = get(mode, "600");
        let pid = child.id();
        let t0 = Instant::now();
        while !has_thread(pid, "flags-lookup") {
            assert!(t0.elapsed() < Duration::from_secs(30), "{mode}: the lookup never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        send_signal(pid, libc::SIGINT);
        let (status, stdout, _) = finish(child, Duration::from_secs(30));
        assert_eq!(status, Some(130), "{mode}: Ctrl-C ends a lookup that never answers");
        let report: Value = serde_json::from_slice(&stdout).unwrap_or_else(|_| panic!("{mode}: no report"));
        assert_eq!(report["cancelled"], 1, "{mode}: {report}");
        assert_clean_exit(pid, dir.path(), None);
    }
}
