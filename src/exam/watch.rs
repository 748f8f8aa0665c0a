//! Every process a run starts, seen to the end: what they use and that
//! none outlives the run.
//!
//! A client may fork, leave its process group, start a session of its
//! own, or leave a child behind when it exits. The exam must still see
//! that child's memory and kill it. Where the machine allows (Linux, with
//! a writable cgroup file system, as root or in a delegated cgroup), each
//! run gets a cgroup of its own: the kernel puts every descendant in it,
//! and no process can leave it. Elsewhere the run starts a session of its
//! own and the watch polls `/proc` for the processes of that session and
//! group, for the children of any process it saw, and, since the exam
//! makes itself the reaper of orphans (`PR_SET_CHILD_SUBREAPER`), for the
//! orphans that carry the run's mark in their environment. A process that
//! both escapes between two polls and empties its environment escapes
//! this fallback; the report says which watch was used. Either way, once a
//! second and at the run's end, every process that carries the run's mark
//! is looked for wherever it is, so that one that moved itself out of its
//! cgroup (as root can) is still killed and counted as left running.
//!
//! Memory is polled every 50 ms: the sum of the resident sets of the
//! run's processes, and each process's own peak (`VmHWM`, which the
//! kernel keeps, so a short peak between polls is still seen). The peak
//! reported is the larger of the two, and of `wait4`'s figure for the
//! client itself.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::os;

/// How a run's processes are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A cgroup of the run's own.
    Cgroup,
    /// The run's session and process group, and their children, polled.
    Session,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cgroup => "cgroup",
            Kind::Session => "session",
        }
    }
}

/// The folder under which runs get their cgroups, made once per exam
/// process; None where no cgroup can be made, or when
/// `FLAGS_EXAM_WATCH=session` asks for the fallback.
fn parent() -> Option<&'static Path> {
    static PARENT: OnceLock<Option<PathBuf>> = OnceLock::new();
    PARENT
        .get_or_init(|| {
            if std::env::var("FLAGS_EXAM_WATCH").is_ok_and(|w| w == "session") {
                return None;
            }
            let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
            candidates(&own).into_iter().find_map(|dir| {
                let ours = dir.join(format!("flags-exam-{}", std::process::id()));
                std::fs::create_dir_all(&ours).ok()?;
                // A cgroup that cannot take a process is of no use.
                ours.join("cgroup.procs").exists().then_some(ours)
            })
        })
        .as_deref()
}

/// Where this process's cgroups are, best first: the unified hierarchy,
/// then the v1 `pids`, `memory` and `freezer` ones.
fn candidates(own: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let path = path.trim_start_matches('/');
        match controllers {
            "" => {
                for root in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
                    if Path::new(root).join("cgroup.procs").exists() {
                        out.insert(0, Path::new(root).join(path));
                    }
                }
            }
            c if ["pids", "memory", "freezer"].contains(&c) => out.push(Path::new("/sys/fs/cgroup").join(c).join(path)),
            _ => {}
        }
    }
    out
}

/// How runs are watched on this machine.
pub fn kind() -> Kind {
    match parent() {
        Some(_) => Kind::Cgroup,
        None => Kind::Session,
    }
}

/// Kills every process in the cgroup at `dir` (for an exam about to exit
/// at once: no wait), then tries to remove it.
pub fn kill_cgroup(dir: &Path) {
    // cgroup v2's own kill (Linux 5.14), then each process by its pid.
    let _ = std::fs::write(dir.join("cgroup.kill"), "1");
    let list = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for pid in list.split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
        os::kill(pid);
    }
    // A killed client stays in its cgroup until the thread waiting for it
    // reaps it: a second at most, then the folder can go.
    for _ in 0..200 {
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    clean_up();
}

/// Removes the exam's cgroup folder, once no run uses it.
pub fn clean_up() {
    if let Some(dir) = parent() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// The environment variable that marks a run's processes (the fallback).
const MARK: &str = "FLAGS_EXAM_RUN";

/// Makes this process the parent of the orphans of its descendants, so
/// that a run's process whose parent left is still found (the fallback).
fn adopt_orphans() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(os::adopt_orphans);
}

/// The processes of one run.
pub struct Watch {
    /// The value of [`MARK`] in the run's environment.
    mark: String,
    cgroup: Option<PathBuf>,
    /// The client's pid (its session and group) once started.
    root: Option<u32>,
    /// Every process seen: its start time (so that a pid used again by
    /// another process is not taken for it) and its command name.
    seen: BTreeMap<u32, (u64, String)>,
    /// The largest sum of resident sets seen, and the largest single peak.
    sum_kib: u64,
    hwm_kib: u64,
    /// Polls made.
    polls: u64,
}

impl Watch {
    /// A watch for a run: a cgroup of its own where one can be made.
    pub fn make() -> Watch {
        // Names and marks a client cannot read the run's place from.
        let mark = format!("{:016x}", super::script::unpredictable());
        let cgroup = parent().and_then(|p| {
            let dir = p.join(format!("run-{mark}"));
            std::fs::create_dir_all(&dir).ok().map(|_| dir)
        });
        let kind = if cgroup.is_some() { Kind::Cgroup } else { Kind::Session };
        if kind == Kind::Session {
            adopt_orphans();
        }
        Watch { mark, cgroup, root: None, seen: BTreeMap::new(), sum_kib: 0, hwm_kib: 0, polls: 0 }
    }

    /// The run's cgroup, if it has one.
    pub fn cgroup(&self) -> Option<&Path> {
        self.cgroup.as_deref()
    }

    /// Makes `command` start in a session of its own (so its pid is also
    /// its group's and session's id) and, with a cgroup, inside it.
    pub fn prepare(&self, command: &mut Command) {
        command.env(MARK, &self.mark);
        let procs = self
            .cgroup
            .as_ref()
            .and_then(|d| std::ffi::CString::new(d.join("cgroup.procs").as_os_str().as_encoded_bytes()).ok());
        // SAFETY: between fork and exec the closure calls only
        // async-signal-safe functions (os::enter_session_and_cgroup's
        // setsid, getpid, open, write, close) on memory made before the fork.
        unsafe {
            command.pre_exec(move || os::enter_session_and_cgroup(procs.as_deref()));
        }
    }

    /// The client started as `pid`.
    pub fn started(&mut self, pid: u32) {
        self.root = Some(pid);
        self.poll();
    }

    /// Looks at the run's processes now: who they are, what they use.
    pub fn poll(&mut self) {
        // Every second, a look for the run's marked processes anywhere.
        self.polls += 1;
        let pids = self.members_now(self.polls % 20 == 1);
        let mut sum = 0;
        for pid in pids {
            let Some(p) = read_proc(pid) else { continue };
            sum += p.rss_kib;
            self.hwm_kib = self.hwm_kib.max(p.hwm_kib);
            if let Some(start) = started_at(pid) {
                if !self.known(pid) {
                    self.seen.insert(pid, (start, p.name));
                }
            }
        }
        self.sum_kib = self.sum_kib.max(sum);
    }

    /// The peak memory seen, in KiB (0 when nothing was seen).
    pub fn peak_kib(&self) -> u64 {
        self.sum_kib.max(self.hwm_kib)
    }

    /// The run's processes still alive (zombies left out), named: `123 sleep`.
    pub fn alive(&mut self) -> Vec<String> {
        self.poll();
        self.members_now(true)
            .into_iter()
            .filter(|pid| crate::os::is_running(*pid))
            .map(|pid| format!("{pid} {}", self.seen.get(&pid).map(|(_, name)| name.as_str()).unwrap_or_default()))
            .collect()
    }

    /// Kills every process of the run, and waits (a second at most) until
    /// none is left running.
    pub fn kill_all(&mut self) {
        // Each process by its pid, not the client's group by its id: once
        // the client is reaped, that id may be another process's.
        for _ in 0..100 {
            let pids = self.members_now(true);
            let running: Vec<u32> = pids.into_iter().filter(|p| crate::os::is_running(*p)).collect();
            if running.is_empty() {
                return;
            }
            for pid in running {
                os::kill(pid);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            self.reap_orphans();
        }
    }

    /// True when `pid` is a process this watch saw (and not another
    /// process that got its pid since).
    fn known(&self, pid: u32) -> bool {
        self.seen.get(&pid).is_some_and(|(start, _)| started_at(pid) == Some(*start))
    }

    /// Reaps the run's orphans that this process adopted and that ended,
    /// counting the peak memory each reached.
    fn reap_orphans(&mut self) {
        let me = std::process::id();
        let adopted: Vec<u32> = self
            .seen
            .keys()
            .copied()
            .filter(|pid| Some(*pid) != self.root && self.known(*pid))
            .filter(|pid| stat_ids(*pid).is_some_and(|(ppid, ..)| ppid == me))
            .collect();
        for pid in adopted {
            if let Some(peak_kib) = os::reap_if_ended(pid) {
                self.hwm_kib = self.hwm_kib.max(peak_kib);
            }
        }
    }

    /// The pids that belong to the run now.
    /// The pids that belong to the run now: its cgroup's, or its session's
    /// and its children's; with `thorough`, also every process that carries
    /// the run's mark in its environment, wherever it went (one that moved
    /// itself out of the cgroup, or double-forked out of the session).
    fn members_now(&mut self, thorough: bool) -> Vec<u32> {
        let mut out = self.members();
        if thorough {
            for pid in marked_anywhere(&self.mark) {
                if !out.contains(&pid) {
                    out.push(pid);
                }
            }
        }
        out
    }

    fn members(&mut self) -> Vec<u32> {
        if let Some(dir) = &self.cgroup {
            let list = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            return list.split_whitespace().filter_map(|p| p.parse().ok()).collect();
        }
        let Some(root) = self.root else { return Vec::new() };
        let me = std::process::id();
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else { return out };
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            let Some((ppid, pgrp, session)) = stat_ids(pid) else { continue };
            let known = self.known(pid) || self.known(ppid);
            let adopted = ppid == me && pid != root && marked(pid, &self.mark);
            if pid == root || pgrp == root || session == root || known || adopted {
                out.push(pid);
            }
        }
        out
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(dir) = self.cgroup.take() {
            self.kill_all();
            let _ = std::fs::remove_dir(dir);
        }
    }
}

struct Proc {
    name: String,
    rss_kib: u64,
    hwm_kib: u64,
}

fn read_proc(pid: u32) -> Option<Proc> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .unwrap_or(0)
    };
    let name = status.lines().find_map(|l| l.strip_prefix("Name:")).unwrap_or("").trim().to_string();
    Some(Proc { name, rss_kib: field("VmRSS:"), hwm_kib: field("VmHWM:") })
}

/// Every process whose environment has `FLAGS_EXAM_RUN=mark`.
fn marked_anywhere(mark: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| *pid != std::process::id() && marked(*pid, mark))
        .collect()
}

/// True when process `pid`'s environment has `FLAGS_EXAM_RUN=mark`.
fn marked(pid: u32, mark: &str) -> bool {
    let want = format!("{MARK}={mark}");
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == want.as_bytes()))
}

/// The fields of `/proc/PID/stat` after the command's `)`: the state,
/// then, counted from the parent: the parent (0), group (1), session (2),
/// ... and the start time (18).
fn stat(pid: u32) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    Some(rest.split(' ').skip(1).map(|f| f.parse().unwrap_or(0)).take(19).collect())
}

/// When process `pid` started, in clock ticks since boot: with the pid, it
/// names one process.
fn started_at(pid: u32) -> Option<u64> {
    stat(pid)?.get(18).copied()
}

/// A process's parent, group and session.
fn stat_ids(pid: u32) -> Option<(u32, u32, u32)> {
    let f = stat(pid)?;
    Some((*f.first()? as u32, *f.get(1)? as u32, *f.get(2)? as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_cgroup_paths() {
        let mut buf = [0u8; 12];
        assert_eq!(os::decimal(0, &mut buf), b"0");
        assert_eq!(os::decimal(4_294_967_295, &mut buf), b"4294967295");
        let own = "4:memory:/a/b\n0::/\n1:cpu:/\n";
        let found = candidates(own);
        assert!(found.contains(&PathBuf::from("/sys/fs/cgroup/memory/a/b")), "{found:?}");
        assert!(!found.iter().any(|p| p.starts_with("/sys/fs/cgroup/cpu")));
        // This process: its parent is ours, and it started before now.
        let me = std::process::id();
        assert_eq!(stat_ids(me).map(|(ppid, ..)| ppid), Some(std::os::unix::process::parent_id()));
        let ticks = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
        let field_22: u64 = ticks.rsplit_once(") ").unwrap().1.split(' ').nth(19).unwrap().parse().unwrap();
        assert_eq!(started_at(me), Some(field_22));
    }
}
