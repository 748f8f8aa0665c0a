//! Runs the exam: every (case, client) pair once, in parallel, each with a
//! server of its own ([`Stage`]), a fresh folder as its working directory,
//! a process group of its own and a deadline. Past the deadline the whole
//! group is killed and the run is graded hung.
//!
//! Each run's folder lives in one scratch folder (with the CA file), which
//! is removed when the exam ends, even when it is interrupted.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::card::{self, ExamReport, Meta, Run};
use super::case::{Case, Serve, CREDENTIALS};
use super::certs::Certs;
use super::client::{Client, Vars};
use super::grade::{self, Grade, Observed, Verdict};
use super::script::flag;
use super::stage::Stage;
use crate::os;

/// What to run.
pub struct ExamConfig {
    pub cases: Vec<&'static Case>,
    pub clients: Vec<Client>,
    /// Per run: past it the client is killed and graded hung.
    pub deadline: Duration,
    /// Runs at once.
    pub jobs: usize,
    /// Set to stop: running clients are killed, no new run starts.
    pub cancel: Arc<AtomicBool>,
    /// What a second Ctrl-C cleans up at once.
    pub live: Arc<Live>,
}

/// The clients running and the scratch folder, for [`Live::abort`].
#[derive(Debug, Default)]
pub struct Live {
    groups: Mutex<std::collections::BTreeSet<u32>>,
    scratch: Mutex<Option<PathBuf>>,
}

impl Live {
    /// Kills every running client's group and removes the scratch folder,
    /// for a process about to exit without unwinding.
    pub fn abort(&self) {
        for pgid in self.groups.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            os::kill_group(*pgid);
        }
        if let Some(dir) = self.scratch.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn group(&self, pgid: u32, running: bool) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        match running {
            true => groups.insert(pgid),
            false => groups.remove(&pgid),
        };
    }
}

/// Why an exam could not run.
#[derive(Debug, thiserror::Error)]
pub enum ExamError {
    #[error("{0}")]
    Certs(String),
    #[error("cannot make the exam's scratch folder: {0}")]
    Scratch(std::io::Error),
    #[error("interrupted")]
    Interrupted,
}

struct Scratch {
    dir: tempfile::TempDir,
    certs: Certs,
    cacert: PathBuf,
}

/// Runs every case of `config` with every client; `done(run, finished,
/// total)` is told of each run as it ends.
pub fn run(config: &ExamConfig, done: &(dyn Fn(&Run, usize, usize) + Sync)) -> Result<ExamReport, ExamError> {
    let t0 = Instant::now();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let certs = Certs::make().map_err(ExamError::Certs)?;
    let dir = tempfile::Builder::new().prefix("flags-exam-").tempdir().map_err(ExamError::Scratch)?;
    let cacert = dir.path().join("exam-ca.pem");
    std::fs::write(&cacert, &certs.ca_pem).map_err(ExamError::Scratch)?;
    *config.live.scratch.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.path().to_path_buf());
    let scratch = Scratch { dir, certs, cacert };
    // Slow cases first, so that the long waits overlap.
    let mut pairs: Vec<(usize, &Case, &Client)> = Vec::new();
    for case in &config.cases {
        for client in &config.clients {
            pairs.push((pairs.len(), case, client));
        }
    }
    let total = pairs.len();
    let mut queue: Vec<_> = pairs.clone();
    queue.sort_by_cached_key(|(_, case, _)| !slow(case));
    let queue = Mutex::new(VecDeque::from(queue));
    let results: Mutex<Vec<(usize, Run)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..config.jobs.clamp(1, total.max(1)) {
            s.spawn(|| loop {
                if config.cancel.load(Ordering::SeqCst) {
                    return;
                }
                let Some((n, case, client)) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else {
                    return;
                };
                let run = one(case, client, n, &scratch, config);
                let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                results.push((n, run));
                done(&results.last().expect("just pushed").1, results.len(), total);
            });
        }
    });
    if config.cancel.load(Ordering::SeqCst) {
        return Err(ExamError::Interrupted);
    }
    let mut runs = results.into_inner().unwrap_or_else(|e| e.into_inner());
    runs.sort_by_key(|(n, _)| *n);
    let runs: Vec<Run> = runs.into_iter().map(|(_, r)| r).collect();
    let scores = config.clients.iter().map(|c| card::score(&c.name, &runs)).collect();
    let cases: Vec<_> = config.cases.iter().map(|c| c.info()).collect();
    let meta = Meta {
        flags_version: env!("CARGO_PKG_VERSION").into(),
        catalog: card::fingerprint(&cases),
        date,
        host: card::host(),
        deadline_s: config.deadline.as_secs_f64(),
        jobs: config.jobs,
        watch: "group".into(),
    };
    Ok(ExamReport {
        schema: card::SCHEMA,
        meta,
        wall_ms: t0.elapsed().as_millis() as u64,
        clients: config.clients.clone(),
        cases,
        runs,
        scores,
    })
}

/// True for a case whose server waits or sends for long.
fn slow(case: &Case) -> bool {
    let lines = super::cases::describe(case).join(" ");
    ["hold", "pieces", "without end", "listen queue"].iter().any(|w| lines.contains(w))
}

fn not_applicable(case: &'static Case, client: &Client, why: String) -> Run {
    let verdict = Verdict { grade: Grade::NotApplicable, reason: why };
    Run { case: case.id.into(), kind: case.kind, client: client.name.clone(), verdict, observed: None }
}

/// One run: the case served, the client run, the result graded.
fn one(case: &'static Case, client: &Client, n: usize, scratch: &Scratch, config: &ExamConfig) -> Run {
    if !case.needs.met_by(&client.can) {
        return not_applicable(case, client, format!("needs {}", case.needs.missing(&client.can).join(" and ")));
    }
    let root = scratch.dir.path().join(format!("{n:04}"));
    let dir = root.join("dir");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return not_applicable(case, client, format!("the exam could not make a folder: {e}"));
    }
    let stage = match Stage::start(case, &scratch.certs) {
        Ok(stage) => stage,
        Err(e) => return not_applicable(case, client, format!("the exam could not serve this case: {e}")),
    };
    let userinfo = if case.credentials { format!("{}:{}@", CREDENTIALS.0, CREDENTIALS.1) } else { String::new() };
    let base = format!("{}://{userinfo}127.0.0.1:{}/flags", case.scheme(), stage.addr.port());
    let vars = Vars { base: &base, codes: case.codes, dir: &dir, cacert: &scratch.cacert };
    let command = client.command(matches!(case.serve, Serve::H2(_)), &vars);
    let other_port = stage.other.port();
    let ran = spawn_and_wait(&command, &dir, &root, config);
    let server = stage.stop();
    let flags: Vec<(&str, bytes::Bytes)> = case.codes.iter().map(|cc| (*cc, flag(cc))).collect();
    let files = files_in(&dir, &flags);
    let tail = |name: &str| tail(&root.join(name));
    let observed = match ran {
        Ok(r) => Observed {
            command,
            exit: r.exit,
            signal: r.signal,
            hung: r.hung,
            wall_ms: r.wall.as_millis() as u64,
            peak_rss_kib: r.rss_kib,
            files,
            server,
            other_port,
            stdout_tail: tail("stdout"),
            stderr_tail: tail("stderr"),
        },
        Err(e) => return not_applicable(case, client, format!("the exam could not start the client: {e}")),
    };
    let _ = std::fs::remove_dir_all(&root);
    let verdict = grade::verdict(case, &observed);
    Run { case: case.id.into(), kind: case.kind, client: client.name.clone(), verdict, observed: Some(observed) }
}

struct Ended {
    exit: Option<i32>,
    signal: Option<i32>,
    hung: bool,
    wall: Duration,
    rss_kib: Option<u64>,
}

/// Runs `command` with `sh -c` in `dir`, in a process group of its own,
/// until it ends, the deadline passes or the exam is cancelled; then kills
/// whatever is left of its group.
fn spawn_and_wait(command: &str, dir: &Path, root: &Path, config: &ExamConfig) -> std::io::Result<Ended> {
    let t0 = Instant::now();
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(root.join("stdout"))?)
        .stderr(File::create(root.join("stderr"))?)
        .process_group(0)
        .spawn()?;
    let pid = child.id();
    config.live.group(pid, true);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(os::wait_with_usage(pid));
    });
    let mut killed_rss = None;
    let mut hung = false;
    let waited = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => break result,
            Err(RecvTimeoutError::Timeout) => {
                let late = t0.elapsed() >= config.deadline;
                if late || config.cancel.load(Ordering::SeqCst) {
                    hung = late;
                    killed_rss = os::group_rss_kib(pid);
                    os::kill_group(pid);
                    break rx.recv().unwrap_or_else(|_| Err(std::io::Error::other("the waiter left")));
                }
            }
            Err(RecvTimeoutError::Disconnected) => break Err(std::io::Error::other("the waiter left")),
        }
    };
    let wall = t0.elapsed();
    // Whatever the client left running in its group goes too.
    os::kill_group(pid);
    config.live.group(pid, false);
    let waited = waited?;
    let (exit, signal) = os::exit_of(waited.status);
    let max_rss = waited.max_rss_kib;
    let rss_kib = Some(max_rss.max(killed_rss.unwrap_or(0))).filter(|k| *k > 0);
    Ok(Ended { exit, signal, hung, wall, rss_kib })
}

/// Every file under `dir` (four levels deep at most), judged.
fn files_in(dir: &Path, flags: &[(&str, bytes::Bytes)]) -> Vec<grade::FileSeen> {
    fn walk(at: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(at) else { return };
        for e in entries.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < 4 => walk(&path, depth + 1, out),
                Ok(t) if t.is_dir() => {}
                _ => out.push(path),
            }
        }
    }
    let mut paths = Vec::new();
    walk(dir, 0, &mut paths);
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = p.strip_prefix(dir).unwrap_or(p).to_string_lossy().into_owned();
            let size = std::fs::symlink_metadata(p).map(|m| m.len()).unwrap_or(0);
            let mut head = Vec::new();
            if let Ok(f) = File::open(p) {
                use std::io::Read;
                let _ = f.take(64 << 10).read_to_end(&mut head);
            }
            let judged = grade::judge(&head, size, flags);
            grade::FileSeen { leftover: grade::is_leftover(&name), name, size, judged }
        })
        .collect()
}

/// The last 2 KB of a file, as text.
fn tail(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let from = bytes.len().saturating_sub(2048);
    String::from_utf8_lossy(&bytes[from..]).into_owned()
}
