//! Running one command and measuring it: wall time from spawn to exit, CPU
//! time from the kernel (`wait4`, the children it waited for included), and
//! peak resident set from `VmHWM` in `/proc/PID/status` of the process and
//! of those it starts, sampled every 2 ms while it runs. (`ru_maxrss` would
//! be wrong: Linux carries the parent's high-water mark across `exec`, so
//! every child of a large benchmark process would look large.) Our styles
//! and the peers (curl, aria2c, wget2) are measured the same way, as whole
//! processes, start-up included.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    /// What it printed on stdout.
    pub stdout: Vec<u8>,
}

/// Runs `cmd` to completion and measures it; `started` is told the
/// child's pid as soon as it runs.
pub fn run(mut cmd: Command, started: &dyn Fn(u32)) -> std::io::Result<Sample> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    started(child.id());
    let sampler = hwm_sampler(child.id());
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout)?;
    }
    let waited = crate::os::wait_with_usage(child.id());
    let wall = start.elapsed();
    let waited = waited?;
    let rss_kib = sampler.join().unwrap_or(0);
    Ok(Sample { wall, rss_kib, cpu: waited.cpu, status: crate::os::exit_of(waited.status).0, stdout })
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
        let s = run(cmd, &|_| {}).unwrap();
        assert_eq!(s.status, Some(3));
        assert_eq!(s.stdout, b"hi\n");
        assert!(s.rss_kib > 0);
    }

    #[test]
    fn spread_is_median_min_max() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(spread(&[d(300), d(100), d(200)]), (0.2, 0.1, 0.3));
        assert_eq!(spread(&[d(100), d(300)]), (0.2, 0.1, 0.3));
    }
}
