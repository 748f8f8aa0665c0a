//! What `flags` asks of the operating system beyond the standard library,
//! in one place: a port to another Unix touches this file. Each call is
//! gated by `cfg(target_os)`, with a portable fallback where Linux has
//! something better.
//!
//! `flags` is built and tested on Linux. The fallbacks are what macOS and
//! the BSDs offer; they are expected to build there, untested:
//!
//! | call | Linux | elsewhere |
//! |---|---|---|
//! | [`clock_ns`] | the clocks, `_COARSE` ones and the thread's CPU clock included | the precise clocks for the coarse ones |
//! | [`peer_closed`] | `POLLRDHUP`: a FIN seen even with data waiting | `POLLHUP`, or a peek that reads the end |
//! | [`reset_on_close`] | `SO_LINGER` 0 | the same |
//! | [`peak_rss_kib`] | `VmHWM` in `/proc/PID/status` | none: the bench shows no RSS |
//! | [`is_running`] | `/proc/PID/stat`, zombies counted as gone | `kill(pid, 0)` |
//! | [`wait_with_usage`] | `wait4`: status, CPU time, `ru_maxrss` in KiB | the same, `ru_maxrss` in bytes on macOS |
//! | [`kill_group`] | `killpg(SIGKILL)` | the same |
//! | [`children`] | `/proc/PID/task/*/children` | none |
//! | [`hostname`] | `gethostname` | the same |
//! | [`signal_group`], [`kill`] | `killpg`, `kill` | the same |
//! | [`wait_exited`], [`reap_if_ended`] | `waitid(WNOWAIT)`; `wait4(WNOHANG)` | the same |
//! | [`adopt_orphans`] | `PR_SET_CHILD_SUBREAPER` | nothing: the exam's orphans are found by their mark only |
//! | [`enter_session_and_cgroup`] | `setsid`, then the pid written to `cgroup.procs` | the same (no cgroup found) |
//! | [`mask_signals`] | `pthread_sigmask` | the same |
//! | [`wait_writable`], [`peek`], [`connect_in_progress`] | `poll(POLLOUT)`, `recv(MSG_PEEK \| MSG_DONTWAIT)`, `EINPROGRESS` | the same |
//! | [`may_write`] | `access(W_OK)` | the same |
//!
//! No other file calls `libc` (`tests/it/layout.rs` checks).
//!
//! Worker processes die with their parent through `PR_SET_PDEATHSIG` on
//! Linux; elsewhere the end of their stdin (the parent's pipe) ends them
//! (`crates/concurrent-futures`).

use std::os::fd::RawFd;

/// Which clock [`clock_ns`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Monotonic, precise: the timelines' stamps.
    Monotonic,
    /// Monotonic, the kernel's last tick (a few ms stale, cheaper).
    MonotonicCoarse,
    /// Wall time, the kernel's last tick.
    RealtimeCoarse,
    /// The CPU time the calling thread has used: `--work`'s budget.
    ThreadCpu,
}

impl Clock {
    fn id(self) -> libc::clockid_t {
        #[cfg(target_os = "linux")]
        return match self {
            Clock::Monotonic => libc::CLOCK_MONOTONIC,
            Clock::MonotonicCoarse => libc::CLOCK_MONOTONIC_COARSE,
            Clock::RealtimeCoarse => libc::CLOCK_REALTIME_COARSE,
            Clock::ThreadCpu => libc::CLOCK_THREAD_CPUTIME_ID,
        };
        #[cfg(not(target_os = "linux"))]
        return match self {
            Clock::Monotonic | Clock::MonotonicCoarse => libc::CLOCK_MONOTONIC,
            Clock::RealtimeCoarse => libc::CLOCK_REALTIME,
            Clock::ThreadCpu => libc::CLOCK_THREAD_CPUTIME_ID,
        };
    }
}

/// A reading of `clock` in nanoseconds. Every process on the machine reads
/// the same monotonic clock, so a worker's stamps line up with its
/// parent's.
pub fn clock_ns(clock: Clock) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec it is given.
    unsafe { libc::clock_gettime(clock.id(), &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// True when the peer of the connected socket `fd` has closed its end
/// (even only for writing) or reset it; never waits.
pub fn peer_closed(fd: RawFd) -> bool {
    #[cfg(target_os = "linux")]
    {
        let mut watched = libc::pollfd { fd, events: libc::POLLRDHUP, revents: 0 };
        // SAFETY: poll(2) on one pollfd the caller owns, with no wait.
        let ready = unsafe { libc::poll(&mut watched, 1, 0) };
        ready > 0 && watched.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
    }
    #[cfg(not(target_os = "linux"))]
    portable::peer_closed(fd)
}

/// Makes the close of the connected socket `fd` a reset (RST) rather
/// than a FIN: `SO_LINGER` on, with no time to linger. A socket that
/// refuses it closes as it would have.
pub fn reset_on_close(fd: RawFd) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt(2) reads the `linger` it is given, for its size.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
}

/// The peak resident set of process `pid` so far, in KiB, while it runs;
/// `None` once it has exited, or where the system does not say.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    #[cfg(target_os = "linux")]
    return std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| {
        // A zombie's status has no VmHWM.
        s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
    });
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

/// True while process `pid` runs (a zombie, exited but not reaped, counts
/// as gone where the system tells them apart).
pub fn is_running(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    return match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    };
    #[cfg(not(target_os = "linux"))]
    portable::is_running(pid)
}

/// What [`wait_with_usage`] tells of a child that ended.
#[derive(Debug, Clone, Copy)]
pub struct Waited {
    /// The raw wait status ([`exit_of`] reads it).
    pub status: i32,
    /// The peak RSS, in KiB, of the largest process among the child and
    /// the children it waited for (Linux carries a parent's mark across
    /// `exec`, so a child of a large process starts that large).
    pub max_rss_kib: u64,
    /// User and system CPU time of the child and the children it waited for.
    pub cpu: std::time::Duration,
}

/// Waits for child `pid` to end: how, and what it used.
pub fn wait_with_usage(pid: u32) -> std::io::Result<Waited> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 on our own child, writing into locals we own.
        let got = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if got == pid as libc::pid_t {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let max = usage.ru_maxrss.max(0) as u64;
    #[cfg(target_os = "macos")]
    let max = max / 1024;
    let tv = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec as u64) + std::time::Duration::from_micros(t.tv_usec as u64)
    };
    Ok(Waited { status, max_rss_kib: max, cpu: tv(usage.ru_utime) + tv(usage.ru_stime) })
}

/// The exit code, or the signal that ended it, of a raw wait status.
pub fn exit_of(status: i32) -> (Option<i32>, Option<i32>) {
    match libc::WIFEXITED(status) {
        true => (Some(libc::WEXITSTATUS(status)), None),
        false => (None, libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))),
    }
}

/// The processes `pid` started that still run (its children, not their
/// children); none where the system does not say.
pub fn children(pid: u32) -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
        tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|list| list.split_whitespace().filter_map(|c| c.parse().ok()).collect::<Vec<u32>>())
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        Vec::new()
    }
}

/// Kills every process of group `pgid` (SIGKILL); a group already gone is fine.
pub fn kill_group(pgid: u32) {
    // SAFETY: killpg only sends a signal; a missing group is ESRCH.
    unsafe { libc::killpg(pgid as libc::pid_t, libc::SIGKILL) };
}

/// Sends `signal` to process group `pgid`; none when `pgid` is 0 (no group
/// yet) or the group is gone.
pub fn signal_group(pgid: u32, signal: i32) {
    if pgid != 0 {
        // SAFETY: killpg only sends a signal; a group gone is ESRCH.
        unsafe { libc::killpg(pgid as libc::pid_t, signal) };
    }
}

/// Kills process `pid` (SIGKILL); a process already gone is fine.
pub fn kill(pid: u32) {
    // SAFETY: kill only sends a signal; a pid gone is ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

/// Returns once child `pid` has exited, leaving it unreaped (so its pid,
/// its group's id, is not given to another process meanwhile).
pub fn wait_exited(pid: u32) {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value for waitid to overwrite.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child, writing into a local; WNOWAIT leaves it unreaped.
        let rc = unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Reaps child `pid` if it has ended, without waiting: the peak memory it
/// reached (`ru_maxrss`, KiB on Linux), or none if it runs on.
pub fn reap_if_ended(pid: u32) -> Option<u64> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on a child of ours, without blocking.
    let got = unsafe { libc::wait4(pid as libc::pid_t, &mut status, libc::WNOHANG, &mut usage) };
    (got == pid as libc::pid_t).then(|| usage.ru_maxrss.max(0) as u64)
}

/// Makes this process the parent of the orphans of its descendants
/// (Linux's child subreaper); nothing elsewhere.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with an integer argument changes only this process's
    // own attribute.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// For a child between fork and exec: starts a session of its own (its
/// pid becomes its group's and session's id) and, given a cgroup's
/// `cgroup.procs`, moves into that cgroup. Only async-signal-safe calls
/// (setsid, getpid, open, write, close), on memory made before the fork.
pub fn enter_session_and_cgroup(procs: Option<&std::ffi::CStr>) -> std::io::Result<()> {
    // SAFETY: setsid, getpid, open, write and close on a path and a
    // buffer we own; each result is checked.
    unsafe {
        if libc::setsid() < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if let Some(path) = procs {
            let mut digits = [0u8; 12];
            let text = decimal(libc::getpid() as u32, &mut digits);
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
            if fd < 0 || libc::write(fd, text.as_ptr().cast(), text.len()) < 0 {
                let e = std::io::Error::last_os_error();
                if fd >= 0 {
                    libc::close(fd);
                }
                return Err(e);
            }
            libc::close(fd);
        }
    }
    Ok(())
}

/// `n` in decimal at the end of `buf`, with no allocation (for a child
/// between fork and exec).
pub fn decimal(mut n: u32, buf: &mut [u8; 12]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Blocks (`block`) or unblocks the `signals` in the calling thread.
pub fn mask_signals(block: bool, signals: impl Iterator<Item = i32>) -> std::io::Result<()> {
    // SAFETY: an all-zero sigset_t is valid storage, and sigemptyset
    // initialises it before any other use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    let how = if block { libc::SIG_BLOCK } else { libc::SIG_UNBLOCK };
    // SAFETY: sigemptyset and sigaddset write into the set we own, with
    // valid signal numbers; pthread_sigmask changes only this thread's mask.
    let rc = unsafe {
        libc::sigemptyset(&mut set);
        for signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(how, &set, std::ptr::null_mut())
    };
    match rc {
        0 => Ok(()),
        e => Err(std::io::Error::from_raw_os_error(e)),
    }
}

/// True for the error of a non-blocking connect that goes on.
pub fn connect_in_progress(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == std::io::ErrorKind::WouldBlock
}

/// Waits at most `ms` for socket `fd` to be writable (a connect in
/// progress has ended, well or not): how many descriptors are ready (0 or
/// 1), or the error (`Interrupted` by a signal included).
pub fn wait_writable(fd: RawFd, ms: u64) -> std::io::Result<usize> {
    let mut watched = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: one valid pollfd for a socket the caller owns.
    match unsafe { libc::poll(&mut watched, 1, ms.clamp(1, i32::MAX as u64) as libc::c_int) } {
        n if n >= 0 => Ok(n as usize),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Peeks at socket `fd` without blocking or taking anything: 1 when a byte
/// waits, 0 when the peer closed it, the error otherwise (`WouldBlock`:
/// nothing waits).
pub fn peek(fd: RawFd) -> std::io::Result<usize> {
    let mut byte = 0u8;
    // SAFETY: a one-byte buffer we own; MSG_PEEK leaves the data in place
    // and MSG_DONTWAIT never blocks, whatever the socket's mode.
    let n = unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    match n {
        n if n >= 0 => Ok(n as usize),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Whether this process may write `path` (a folder, `dir`: make files in
/// it), asked of the system (access(2)), writing nothing.
pub fn may_write(path: &std::ffi::CStr, dir: bool) -> std::io::Result<()> {
    let mode = if dir { libc::W_OK | libc::X_OK } else { libc::W_OK };
    // SAFETY: a NUL-terminated path the caller owns.
    match unsafe { libc::access(path.as_ptr(), mode) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Whether socket `fd` is in non-blocking mode (tests).
#[cfg(test)]
pub(crate) fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    flags & libc::O_NONBLOCK != 0
}

/// Makes a FIFO at `path` (tests).
#[cfg(test)]
pub(crate) fn make_fifo(path: &std::ffi::CStr) -> bool {
    // SAFETY: a NUL-terminated path the caller owns.
    unsafe { libc::mkfifo(path.as_ptr(), 0o644) == 0 }
}

/// The fallbacks, in POSIX only: compiled (and tested) on Linux too, so
/// that what another Unix runs is checked here.
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod portable {
    use std::os::fd::RawFd;

    /// [`super::peer_closed`] without `POLLRDHUP`: a hang-up, or a
    /// readable socket whose peek reads the end of the stream. A FIN that
    /// follows data not yet read is seen only once that data is read.
    pub fn peer_closed(fd: RawFd) -> bool {
        let mut watched = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: poll(2) on one pollfd the caller owns, with no wait.
        if unsafe { libc::poll(&mut watched, 1, 0) } <= 0 {
            return false;
        }
        if watched.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            return true;
        }
        let mut byte = 0u8;
        // SAFETY: a one-byte buffer we own; MSG_PEEK leaves the data.
        unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) == 0 }
    }

    /// [`super::is_running`] by `kill(pid, 0)`: a zombie still counts.
    pub fn is_running(pid: u32) -> bool {
        // SAFETY: signal 0 only asks whether the process exists.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }
}

/// The machine's name, as `gethostname` gives it.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the name is cut to it.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    (ok && end > 0).then(|| String::from_utf8_lossy(&buf[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_go_forward_and_this_process_runs() {
        let a = clock_ns(Clock::Monotonic);
        assert!(clock_ns(Clock::Monotonic) >= a);
        assert!(clock_ns(Clock::RealtimeCoarse) > 1_700_000_000 * 1_000_000_000, "wall time is after 2023");
        assert!(clock_ns(Clock::MonotonicCoarse) > 0);
        let cpu = clock_ns(Clock::ThreadCpu);
        // A millisecond of this thread's CPU passes (the loop ends).
        let mut x = 1u64;
        while clock_ns(Clock::ThreadCpu) < cpu + 1_000_000 {
            x = std::hint::black_box(x.wrapping_mul(31));
        }
        assert!(is_running(std::process::id()));
        assert!(peak_rss_kib(std::process::id()).is_some_and(|k| k > 0));
    }

    #[test]
    fn a_closed_peer_is_seen_without_waiting() {
        use std::os::fd::AsRawFd;
        for closed in [peer_closed as fn(RawFd) -> bool, portable::peer_closed] {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, _) = listener.accept().unwrap();
            assert!(!closed(server.as_raw_fd()));
            client.shutdown(std::net::Shutdown::Write).unwrap();
            let t0 = std::time::Instant::now();
            while !closed(server.as_raw_fd()) {
                assert!(t0.elapsed() < std::time::Duration::from_secs(10), "the FIN never showed");
                std::thread::yield_now();
            }
        }
        assert!(portable::is_running(std::process::id()));
    }
}
