//! Running one command and measuring it: wall time from spawn to exit, CPU
//! time from the kernel (`wait4`, the children it waited for included), and
//! peak resident set from `VmHWM` in `/proc/PID/status` of the process and
//! of those it starts, sampled every 2 ms while it runs. (`ru_maxrss` would
//! be wrong: Linux carries the parent's high-water mark across `exec`, so
//! every child of a large benchmark process would look large.) Our styles
//! and the peers (curl, aria2c, wget2) are measured the same way, as whole
//! processes, start-up included.
//!
//! Each command runs in a process group of its own, which a stop reaches
//! whole (a shell and the program it waits for alike) and which ends with
//! the command: a background process it leaves holds nothing up. What it
//! prints is read as it prints it, and only its ends are kept, with the
//! count of bytes: a command that prints gigabytes costs the bench a few
//! KB (our own styles' reports, which the bench reads whole, a few MB).

use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::capture::{Capture, Captured};
use crate::shutdown::Shutdown;

/// One run of one command.
#[derive(Debug, Clone)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set of the largest process of its tree, KiB: the
    /// process, or a child it started (a shell's command, a worker).
    pub rss_kib: u64,
    /// User + system CPU time.
    pub cpu: Duration,
    /// Exit status (`None` if killed by a signal).
    pub status: Option<i32>,
    /// What it printed on stdout: the ends [`Keep`] says, and the count.
    pub stdout: Captured,
    /// What it printed on stderr (nothing when [`Keep`] discards it).
    pub stderr: Captured,
    /// It ran past its time limit and was stopped ([`run_within`]).
    pub overran: bool,
}

impl Sample {
    /// Its stdout, when the whole of it was kept.
    pub fn whole_stdout(&self) -> Option<&[u8]> {
        (self.stdout.tail.is_empty()).then_some(self.stdout.head.as_slice())
    }
}

/// How much of a command's output a run keeps, at each end of a stream.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    pub stdout: usize,
    /// `None`: stderr goes to `/dev/null`.
    pub stderr: Option<usize>,
}

/// How long a stopped command has to end by itself before its process
/// group is killed.
pub const GRACE: Duration = Duration::from_secs(2);

/// How long the output is read after the command's process group is gone
/// (a process that left the group may hold a stream open).
const LINGER: Duration = Duration::from_millis(500);

/// How often a run looks whether it was stopped.
const POLL: Duration = Duration::from_millis(20);

/// Runs `cmd` to its end and measures it, as a step of `shutdown`. The command
/// runs in a process group of its own, and everything in that group ends
/// with it: a stop sends the group SIGINT (a terminal's Ctrl-C), then
/// SIGKILL after [`GRACE`]; an abort sends SIGKILL at once; and when the
/// command's own process exits, what it left running in its group is
/// killed, so a background child holding the output pipe costs nothing.
/// Its output is kept bounded as [`Keep`] says.
pub fn run(cmd: Command, keep: Keep, shutdown: &Shutdown) -> std::io::Result<Sample> {
    run_within(cmd, keep, shutdown, None)
}

/// [`run`], the command stopped as a stop would stop it once it has run
/// `limit` (if any): SIGINT to its group, then SIGKILL after [`GRACE`].
/// The sample says it overran.
pub fn run_within(
    mut cmd: Command,
    keep: Keep,
    shutdown: &Shutdown,
    limit: Option<Duration>,
) -> std::io::Result<Sample> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).process_group(0);
    cmd.stderr(if keep.stderr.is_some() { Stdio::piped() } else { Stdio::null() });
    // The group's id once it runs (0 before, and once reaped). Spawning
    // holds the lock, so an abort kills the group even while it starts,
    // and nothing starts after an abort.
    let group = Arc::new(Mutex::new(0));
    let abort = {
        let group = Arc::clone(&group);
        move || kill_group_now(*group.lock().unwrap_or_else(|e| e.into_inner()))
    };
    shutdown.step(
        || {},
        abort,
        || {
            let start = Instant::now();
            let (mut child, pid) = {
                let mut running = group.lock().unwrap_or_else(|e| e.into_inner());
                if shutdown.is_stopped() {
                    return Err(std::io::Error::other("stopped before it started"));
                }
                let child = cmd.spawn()?;
                *running = child.id();
                let pid = child.id();
                (child, pid)
            };
            let stdout = child.stdout.take().map(|s| Capture::start(s, keep.stdout));
            let stderr = child.stderr.take().zip(keep.stderr).map(|(s, k)| Capture::start(s, k));
            let sampler = hwm_sampler(pid);
            let (ended, overran) = wait_in_group(pid, shutdown, limit.map(|l| start + l));
            let wall = ended.duration_since(start);
            // Not yet reaped, the command still holds its group's id.
            signal_group(pid, libc::SIGKILL);
            let waited = {
                let mut running = group.lock().unwrap_or_else(|e| e.into_inner());
                *running = 0;
                crate::os::wait_with_usage(pid)
            };
            let waited = waited?;
            let rss_kib = sampler.join().unwrap_or(0);
            let kept = |c: Option<Capture>| c.map(|c| c.finish(LINGER)).unwrap_or_default();
            Ok(Sample {
                wall,
                rss_kib,
                cpu: waited.cpu,
                status: crate::os::exit_of(waited.status).0,
                stdout: kept(stdout),
                stderr: kept(stderr),
                overran,
            })
        },
    )
}

/// Waits until child `pid` has exited, without reaping it; stops its
/// group if `shutdown` is stopped meanwhile or once `deadline` passes. When it
/// exited, and whether the deadline stopped it.
fn wait_in_group(pid: u32, shutdown: &Shutdown, deadline: Option<Instant>) -> (Instant, bool) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        crate::os::wait_exited(pid);
        let _ = tx.send(Instant::now());
    });
    let (mut stopped, mut overran): (Option<Instant>, bool) = (None, false);
    loop {
        match rx.recv_timeout(POLL) {
            Ok(at) => return (at, overran),
            Err(RecvTimeoutError::Disconnected) => return (Instant::now(), overran),
            Err(RecvTimeoutError::Timeout) => {}
        }
        let late = deadline.is_some_and(|d| Instant::now() >= d);
        match stopped {
            None if shutdown.is_stopped() || late => {
                overran = late && !shutdown.is_stopped();
                signal_group(pid, libc::SIGINT);
                stopped = Some(Instant::now());
            }
            Some(at) if at.elapsed() >= GRACE => signal_group(pid, libc::SIGKILL),
            _ => {}
        }
    }
}

use crate::os::signal_group;

/// Kills process group `pgid` and waits (a second at most) until its
/// leader is gone, for a process about to exit at once.
fn kill_group_now(pgid: u32) {
    if pgid == 0 {
        return;
    }
    signal_group(pgid, libc::SIGKILL);
    let t0 = Instant::now();
    while crate::os::is_running(pgid) && t0.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Samples the peak resident set (KiB) of `pid`, and of the processes it
/// starts and theirs, until it exits: the largest of them (0 where the
/// system does not say, see [`crate::os::peak_rss_kib`]).
fn hwm_sampler(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while let Some(kib) = crate::os::peak_rss_kib(pid) {
            peak = peak.max(kib).max(tree_peak(pid, 3));
            std::thread::sleep(Duration::from_millis(2));
        }
        peak
    })
}

/// The largest peak resident set among `pid`'s descendants, `depth`
/// generations down.
fn tree_peak(pid: u32, depth: usize) -> u64 {
    if depth == 0 {
        return 0;
    }
    crate::os::children(pid)
        .into_iter()
        .map(|c| crate::os::peak_rss_kib(c).unwrap_or(0).max(tree_peak(c, depth - 1)))
        .max()
        .unwrap_or(0)
}

/// Median, min and max of some durations, in seconds.
pub fn spread(values: &[Duration]) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.iter().map(Duration::as_secs_f64).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mid = v.len() / 2;
    let median = if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 };
    (median, v[0], v[v.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_real_process() {
        let mut cmd = Command::new("sh");
        // Alive long enough for the sampler to read its VmHWM.
        cmd.args(["-c", "echo hi; sleep 0.2; exit 3"]);
        let keep = Keep { stdout: 100, stderr: Some(100) };
        let s = run(cmd, keep, &Shutdown::default()).unwrap();
        assert_eq!(s.status, Some(3));
        assert_eq!(s.whole_stdout(), Some(&b"hi\n"[..]));
        assert!(s.rss_kib > 0);
    }

    #[test]
    fn spread_is_median_min_max() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(spread(&[d(300), d(100), d(200)]), (0.2, 0.1, 0.3));
        assert_eq!(spread(&[d(100), d(300)]), (0.2, 0.1, 0.3));
    }
}
