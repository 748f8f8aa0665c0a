//! One run: a case served on a stage of its own, the client run in a fresh
//! folder under a [`Watch`], with a `TMPDIR` and a `HOME` of its own inside
//! the run's folder and a deadline; then everything it left is gathered
//! for the grader.
//!
//! A run's folder holds `dir/` (the client's working directory, where its
//! flags go), `tmp/` (its `TMPDIR`, `TMP` and `TEMP`), `home/` (its
//! `HOME`). What the client prints is read as it prints it, and only its
//! first and last 2 KB are kept, with the count of bytes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::case::{Case, Serve, CREDENTIALS};
use super::certs::Certs;
use super::client::{Client, Vars};
use super::grade::{self, FileSeen, Judged, Observed, Place};
use super::script::Stamp;
use super::stage::Stage;
use super::watch::{self, Watch};
use crate::capture::{Capture, Captured};
use crate::os;

/// What a run needs from the exam: the certificates, the CA file, and the
/// scratch folder the run's folder goes in.
pub(super) struct Scratch {
    pub(super) dir: tempfile::TempDir,
    pub(super) certs: Certs,
    pub(super) cacert: PathBuf,
}

/// The clients running, for [`Live::abort`].
#[derive(Debug, Default)]
pub(super) struct Live {
    /// Each running client's session (its pid) and cgroup, if it has one.
    runs: Mutex<std::collections::BTreeMap<u32, Option<PathBuf>>>,
}

impl Live {
    /// Kills every running client's processes, for a process about to
    /// exit without unwinding (the exam's abort; the Shutdown removes the
    /// scratch folder after).
    pub(super) fn abort(&self) {
        for (pid, cgroup) in self.runs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            os::kill_group(*pid);
            if let Some(dir) = cgroup {
                watch::kill_cgroup(dir);
            }
        }
    }

    pub(super) fn started(&self, pid: u32, watch: &Watch) {
        let cgroup = watch.cgroup().map(PathBuf::from);
        self.runs.lock().unwrap_or_else(|e| e.into_inner()).insert(pid, cgroup);
    }

    pub(super) fn ended(&self, pid: u32) {
        self.runs.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
    }
}

/// What bounds a run: its deadline, the exam's shutdown, and the record of
/// what an abort kills.
pub(super) struct Bounds<'a> {
    pub(super) deadline: Duration,
    pub(super) shutdown: &'a crate::shutdown::Shutdown,
    pub(super) live: &'a Live,
}

/// How long a run's memory and processes go unwatched at most.
const POLL: Duration = Duration::from_millis(50);

/// Runs `case` with `client`; `Err` says why the exam itself could not (a
/// folder, a port, a process it could not make).
pub(super) fn trial(
    case: &'static Case,
    client: &Client,
    scratch: &Scratch,
    bounds: &Bounds<'_>,
) -> Result<Observed, String> {
    // A name nothing can be read from (a number would tell the run's place).
    let root = scratch.dir.path().join(format!("{:016x}", super::script::unpredictable()));
    let (dir, tmp, home) = (root.join("dir"), root.join("tmp"), root.join("home"));
    for d in [&dir, &tmp, &home] {
        std::fs::create_dir_all(d).map_err(|e| format!("the exam could not make a folder: {e}"))?;
    }
    let stamp = Stamp::new();
    let stage = Stage::start(case, &scratch.certs, stamp.clone())
        .map_err(|e| format!("the exam could not serve this case: {e}"))?;
    let userinfo = if case.credentials { format!("{}:{}@", CREDENTIALS.0, CREDENTIALS.1) } else { String::new() };
    let base = format!("{}://{userinfo}127.0.0.1:{}/flags", case.scheme(), stage.addr.port());
    let vars = Vars { base: &base, codes: case.codes, dir: &dir, cacert: &scratch.cacert };
    let command = client.command(matches!(case.serve, Serve::H2(_)), &vars);
    let other_port = stage.other.port();
    let mut watch = Watch::make();
    let ran = spawn_and_wait(&command, &root, &mut watch, bounds);
    let server = stage.stop();
    let ran = ran.map_err(|e| format!("the exam could not start the client: {e}"))?;
    let flags = flags_of(case, &stamp);
    let mut files = files_in(&dir, Place::Dir, &flags);
    // Whatever has bytes in TMPDIR is left over (an empty file is a tool's
    // lock, as wget2's); a tool may keep state in HOME (wget its HSTS
    // list), so there only what holds a download's bytes counts.
    files.extend(files_in(&tmp, Place::Tmp, &flags).into_iter().filter(|f| f.size > 0 || unwalked(f)));
    files.extend(
        files_in(&home, Place::Home, &flags)
            .into_iter()
            .filter(|f| f.judged.is_download() || f.size == 0 && f.judged == Judged::Other && f.name.ends_with(')')),
    );
    let observed = Observed {
        command,
        exit: ran.exit,
        signal: ran.signal,
        hung: ran.hung,
        wall_ms: ran.wall.as_millis() as u64,
        peak_rss_kib: Some(ran.rss_kib).filter(|k| *k > 0),
        files,
        left_running: ran.left_running,
        server,
        other_port,
        stdout_tail: ran.stdout.text(),
        stderr_tail: ran.stderr.text(),
        stdout_bytes: ran.stdout.total,
        stderr_bytes: ran.stderr.total,
    };
    let _ = std::fs::remove_dir_all(&root);
    Ok(observed)
}

struct Ended {
    exit: Option<i32>,
    signal: Option<i32>,
    hung: bool,
    wall: Duration,
    rss_kib: u64,
    left_running: Vec<String>,
    stdout: Captured,
    stderr: Captured,
}

/// What is kept of each of a client's streams: its first and its last 2 KB.
const KEPT: usize = 2048;

/// Runs `command` with `sh -c` in `root/dir`, in a session (and, where it
/// can, a cgroup) of its own, until it ends, the deadline passes or the
/// exam is cancelled; then kills every process of the run, noting those
/// still running after the client ended.
fn spawn_and_wait(command: &str, root: &Path, watch: &mut Watch, bounds: &Bounds<'_>) -> std::io::Result<Ended> {
    let t0 = Instant::now();
    let (tmp, home) = (root.join("tmp"), root.join("home"));
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(root.join("dir"))
        .env("TMPDIR", &tmp)
        .env("TMP", &tmp)
        .env("TEMP", &tmp)
        .env("HOME", &home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    watch.prepare(&mut cmd);
    // Started and registered with aborts held off: an abort that comes
    // as the client starts finds it registered and kills it.
    let mut child = bounds.shutdown.holding(|| {
        let child = cmd.spawn()?;
        bounds.live.started(child.id(), watch);
        std::io::Result::Ok(child)
    })?;
    let pid = child.id();
    let stdout = child.stdout.take().map(|s| Capture::start(s, KEPT));
    let stderr = child.stderr.take().map(|s| Capture::start(s, KEPT));
    watch.started(pid);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(os::wait_with_usage(pid));
    });
    let mut hung = false;
    let waited = loop {
        match rx.recv_timeout(POLL) {
            Ok(result) => break result,
            Err(RecvTimeoutError::Timeout) => {
                watch.poll();
                let late = t0.elapsed() >= bounds.deadline;
                if late || bounds.shutdown.is_stopped() {
                    hung = late;
                    watch.kill_all();
                    break rx.recv().unwrap_or_else(|_| Err(std::io::Error::other("the waiter left")));
                }
            }
            Err(RecvTimeoutError::Disconnected) => break Err(std::io::Error::other("the waiter left")),
        }
    };
    let wall = t0.elapsed();
    // What still runs once the client ended was left behind by it.
    let left_running = if hung { Vec::new() } else { watch.alive() };
    watch.kill_all();
    bounds.live.ended(pid);
    let waited = waited?;
    let (exit, signal) = os::exit_of(waited.status);
    let rss_kib = waited.max_rss_kib.max(watch.peak_kib());
    // Every process of the run is gone, so the streams have ended; a
    // process that escaped the watch may still hold one open.
    let kept = |c: Option<Capture>| c.map(|c| c.finish(Duration::from_secs(1))).unwrap_or_default();
    let (stdout, stderr) = (kept(stdout), kept(stderr));
    Ok(Ended { exit, signal, hung, wall, rss_kib, left_running, stdout, stderr })
}

/// The flags a run's files are judged against: each of the case's codes,
/// with the mark its server put on them.
pub(super) fn flags_of(case: &Case, stamp: &Stamp) -> Vec<(&'static str, bytes::Bytes)> {
    case.codes.iter().map(|cc| (*cc, stamp.flag(cc))).collect()
}

/// What a folder that was not walked is called in the report.
const TOO_DEEP: &str = "a folder too deep to walk";
const UNREADABLE: &str = "a folder that could not be read";

/// True for the entry of a folder the walk did not go into.
fn unwalked(f: &FileSeen) -> bool {
    f.name.ends_with(&format!("({TOO_DEEP})")) || f.name.ends_with(&format!("({UNREADABLE})"))
}

/// How deep the walk of a run's folders goes: a folder deeper than this
/// is itself reported as a leftover, not skipped.
const DEPTH: usize = 16;

/// Every file under `dir`, judged; a folder too deep to walk or that
/// cannot be read is reported as a leftover, so that nothing can be hidden
/// from the walk. Only regular files are opened (a FIFO named `br.gif`
/// would block the exam); anything else is judged as other bytes.
pub(super) fn files_in(dir: &Path, place: Place, flags: &[(&str, bytes::Bytes)]) -> Vec<FileSeen> {
    fn walk(at: &Path, depth: usize, out: &mut Vec<(PathBuf, Option<&'static str>)>) {
        let Ok(entries) = std::fs::read_dir(at) else {
            out.push((at.to_path_buf(), Some(UNREADABLE)));
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < DEPTH => walk(&path, depth + 1, out),
                Ok(t) if t.is_dir() => out.push((path, Some(TOO_DEEP))),
                _ => out.push((path, None)),
            }
        }
    }
    let mut paths = Vec::new();
    walk(dir, 0, &mut paths);
    paths.sort();
    paths
        .iter()
        .map(|(p, hidden)| {
            let name = p.strip_prefix(dir).unwrap_or(p).to_string_lossy().into_owned();
            if let Some(why) = hidden {
                let name = place.shown(&format!("{name}/ ({why})"));
                return FileSeen { name, size: 0, judged: Judged::Other, leftover: true, place };
            }
            let meta = std::fs::symlink_metadata(p).ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            let mut head = Vec::new();
            if meta.as_ref().is_some_and(|m| m.is_file()) {
                if let Ok(f) = File::open(p) {
                    use std::io::Read;
                    let _ = f.take(64 << 10).read_to_end(&mut head);
                }
            }
            let judged = match meta.is_some_and(|m| m.is_file()) {
                true => grade::judge(&head, size, flags),
                false => Judged::Other,
            };
            let leftover = place != Place::Dir || grade::is_leftover(&name);
            FileSeen { name: place.shown(&name), size, judged, leftover, place }
        })
        .collect()
}
