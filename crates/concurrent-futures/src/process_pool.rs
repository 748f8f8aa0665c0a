//! `ProcessPoolExecutor`: the same futures, with jobs run in worker
//! processes.
//!
//! Closures can't cross a process boundary, so jobs are named functions
//! registered in a [`Registry`]; arguments and results cross as JSON. The
//! workers are the same executable started with the hidden argument
//! [`WORKER_ARG`]: a program that uses a process pool calls
//! [`run_worker_if_requested`] first thing in `main`, with the same registry
//! the parent uses.
//!
//! The pool is a [`ThreadPoolExecutor`] whose threads each own one worker
//! process, started lazily on the thread's first job. The worker's first
//! line on its stdout says it is ready (how long that took is in
//! [`ProcessPoolExecutor::worker_stats`]); then a job is one line of JSON
//! down its stdin and one line back on its stdout (so jobs must not print
//! to stdout). If the worker dies mid-job, that job's future
//! fails with [`FutureError::WorkerDied`] and the thread starts a fresh
//! worker for its next job; no other future is touched. Dropping the pool
//! closes the workers' stdin, and they exit.
//!
//! **Stopping.** Workers run in a process group of their own, so a
//! terminal's Ctrl-C reaches only the parent, which decides:
//! [`ProcessPoolExecutor::interrupt`] sends each worker an `interrupt`
//! line, which a thread of the worker hands at once to the registry's
//! [`Registry::on_interrupt`] hook while the job goes on (Python has no
//! such thing; its workers get the terminal's SIGINT as
//! `KeyboardInterrupt`). [`terminate_all`] sends SIGTERM, which runs
//! [`Registry::on_terminate`] and ends the worker, and kills what is left
//! after a grace period. On Linux a worker also gets SIGTERM when its
//! parent dies (`PR_SET_PDEATHSIG`), so none outlives it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::forkserver::{self, FORKSERVER_ARG, ForkServer};
use super::thread_pool::in_order;
use super::{FutureError, FutureHandle, ThreadPoolExecutor};

/// The hidden first argument that makes the executable a worker.
pub const WORKER_ARG: &str = "__concurrent-futures-worker";

/// The environment variable that tells a worker its parent's pid.
pub const PARENT_ENV: &str = "CONCURRENT_FUTURES_PARENT";

/// The line that interrupts a worker's job.
const INTERRUPT: &str = "\"interrupt\"";

/// The line a worker writes first, when it is ready for jobs: how long it
/// took to start is measured up to this line.
const READY: &str = "\"ready\"";

type JobFn = Box<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;
type Hook = Arc<dyn Fn() + Send + Sync>;

/// The named functions a worker process can run, and what it does when
/// interrupted or terminated.
#[derive(Default)]
pub struct Registry {
    jobs: HashMap<String, JobFn>,
    interrupt: Option<Hook>,
    terminate: Option<Hook>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with small jobs for trying a pool out and testing it:
    /// `echo` (returns its argument), `sleep_ms` (sleeps, returns the
    /// argument), `pid` (the worker's process id), `panic` (panics with the
    /// argument as message).
    pub fn with_diagnostics() -> Self {
        Self::new()
            .register("echo", |v: Value| v)
            .register("sleep_ms", |ms: u64| {
                std::thread::sleep(Duration::from_millis(ms));
                ms
            })
            .register("pid", |_: Value| std::process::id())
            .register("panic", |msg: String| -> Value { panic!("{msg}") })
    }

    /// Adds `f` under `name`: its argument and result cross as JSON.
    pub fn register<A, R, F>(mut self, name: &str, f: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let job: JobFn = Box::new(move |arg| {
            let arg = serde_json::from_value(arg).map_err(|e| format!("bad argument: {e}"))?;
            serde_json::to_value(f(arg)).map_err(|e| format!("result can't be encoded: {e}"))
        });
        self.jobs.insert(name.to_string(), job);
        self
    }

    /// Runs `hook` in the worker when the parent interrupts it, while the
    /// current job (if any) goes on; the job should then end soon.
    pub fn on_interrupt(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.interrupt = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` in the worker on SIGTERM, before it exits with 143
    /// (the hook may exit itself).
    pub fn on_terminate(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.terminate = Some(Arc::new(hook));
        self
    }
}

#[derive(Serialize, Deserialize)]
struct Request {
    job: String,
    arg: Value,
}

#[derive(Serialize, Deserialize)]
enum Reply {
    Ok(Value),
    Panicked(String),
    Failed(String),
}

/// If this process was started as a worker, serves jobs from stdin until
/// it closes and exits; as a fork server (see [`crate::forkserver`]), forks
/// workers that do; otherwise returns at once.
pub fn run_worker_if_requested(registry: &'static Registry) {
    let arg = std::env::args_os().nth(1);
    if arg.as_deref() == Some(std::ffi::OsStr::new(FORKSERVER_ARG)) {
        die_with_parent(expected_parent());
        forkserver::serve(|server| worker_main(registry, Some(server)));
    }
    if arg.is_none_or(|a| a != WORKER_ARG) {
        return;
    }
    std::process::exit(worker_main(registry, expected_parent()));
}

/// The parent a worker or fork server was started by, from [`PARENT_ENV`].
fn expected_parent() -> Option<i32> {
    std::env::var(PARENT_ENV).ok().and_then(|p| p.parse::<i32>().ok())
}

/// A worker's life, started afresh or forked: dies with `parent`, runs the
/// terminate hook on SIGTERM, serves jobs from stdin until it closes; the
/// exit status.
fn worker_main(registry: &'static Registry, parent: Option<i32>) -> i32 {
    // The panic message goes back to the parent; don't print it here too.
    std::panic::set_hook(Box::new(|_| {}));
    die_with_parent(parent);
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM]) {
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                if let Some(hook) = &registry.terminate {
                    hook();
                }
                std::process::exit(143);
            }
        });
    }
    match serve(registry, BufReader::new(io::stdin()), io::stdout().lock()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Asks the kernel for SIGTERM when the parent dies, and leaves at once if
/// it already has, or is not `expected` (Linux; elsewhere, closing stdin
/// ends a worker).
fn die_with_parent(expected: Option<i32>) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_PDEATHSIG and a valid signal number.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) };
        // SAFETY: getppid has no preconditions.
        if expected.is_some_and(|p| p != unsafe { libc::getppid() }) {
            std::process::exit(143);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = expected;
}

/// The worker loop: one JSON request per line in, one reply per line out.
/// A thread reads the input, so an `interrupt` line reaches the registry's
/// hook while a job runs.
pub fn serve<R>(registry: &'static Registry, input: R, mut output: impl Write) -> io::Result<()>
where
    R: BufRead + Send + 'static,
{
    output.write_all(READY.as_bytes())?;
    output.write_all(b"\n")?;
    output.flush()?;
    let (tx, rx) = std::sync::mpsc::channel::<io::Result<String>>();
    let interrupt = registry.interrupt.clone();
    std::thread::spawn(move || {
        for line in input.lines() {
            match line {
                Ok(l) if l.trim() == INTERRUPT => {
                    if let Some(hook) = &interrupt {
                        hook();
                    }
                }
                other => {
                    if tx.send(other).is_err() {
                        break;
                    }
                }
            }
        }
    });
    for line in rx {
        let reply = answer(registry, &line?);
        serde_json::to_writer(&mut output, &reply)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

/// Runs the job a request line names.
fn answer(registry: &Registry, line: &str) -> Reply {
    match serde_json::from_str::<Request>(line) {
        Err(e) => Reply::Failed(format!("bad request: {e}")),
        Ok(req) => match registry.jobs.get(&req.job) {
            None => Reply::Failed(format!("no job named {:?} is registered in the worker", req.job)),
            Some(job) => match catch_unwind(AssertUnwindSafe(|| job(req.arg))) {
                Ok(Ok(v)) => Reply::Ok(v),
                Ok(Err(e)) => Reply::Failed(e),
                Err(p) => match FutureError::from_panic(p) {
                    FutureError::Panicked(msg) => Reply::Panicked(msg),
                    other => Reply::Panicked(other.to_string()),
                },
            },
        },
    }
}

/// Every worker process alive in this process, for [`terminate_all`].
fn live_workers() -> &'static Mutex<Vec<u32>> {
    static LIVE: OnceLock<Mutex<Vec<u32>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

/// Ends every worker process of every pool in this process: SIGTERM (their
/// terminate hook runs), then SIGKILL for those still there after `grace`.
/// Returns their pids. For a process about to exit.
pub fn terminate_all(grace: Duration) -> Vec<u32> {
    let pids = live_workers().lock().unwrap_or_else(|e| e.into_inner()).clone();
    for &pid in &pids {
        // SAFETY: kill(2) on a child of ours.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && pids.iter().any(|&p| running(p)) {
        std::thread::sleep(Duration::from_millis(5));
    }
    for &pid in pids.iter().filter(|&&p| running(p)) {
        // SAFETY: as above.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
    pids
}

/// True while `pid` runs; an exited worker not yet reaped (a zombie)
/// counts as gone where the system tells them apart (Linux's `/proc`).
fn running(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    return match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    };
    #[cfg(not(target_os = "linux"))]
    // SAFETY: signal 0 only asks whether the process exists.
    return unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
}

/// A worker's stdin, shared by its pool thread (jobs) and [`Interrupter`].
type SharedStdin = Arc<Mutex<Option<Box<dyn Write + Send>>>>;

/// How to start a worker, and the workers of one pool.
struct Program {
    path: PathBuf,
    args: Vec<OsString>,
    /// The stdin of each live worker, by pid, for [`ProcessPoolExecutor::interrupt`].
    stdins: Mutex<Vec<(u32, SharedStdin)>>,
    /// Every worker pid this pool started.
    started: Mutex<Vec<u32>>,
    /// How long each started worker took to be ready, in start order.
    start_ups: Mutex<Vec<Duration>>,
    /// Workers alive now, and the most there were at once.
    live: Mutex<(usize, usize)>,
    /// How workers start: from the fork server, once it runs.
    start: Mutex<Start>,
}

/// How a pool starts its workers.
#[derive(Debug)]
enum Start {
    /// Each from the executable, as `spawn` does.
    Spawn,
    /// Forked by a fork server, started with the first worker.
    Fork(Option<ForkServer>),
}

/// A worker process: a child of this process, or of the fork server.
#[derive(Debug)]
enum Process {
    Child(Child),
    Forked(u32),
}

impl Process {
    fn id(&self) -> u32 {
        match self {
            Process::Child(c) => c.id(),
            Process::Forked(pid) => *pid,
        }
    }

    /// Waits for it to end: its status, when this process is its parent.
    fn wait(&mut self) -> Option<std::process::ExitStatus> {
        match self {
            Process::Child(c) => c.wait().ok(),
            Process::Forked(pid) => {
                // The fork server's child: its end is seen (a zombie counts
                // as ended), and the fork server collects it.
                while running(*pid) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                None
            }
        }
    }

    fn kill(&mut self) {
        match self {
            Process::Child(c) => {
                let _ = c.kill();
            }
            // SAFETY: kill(2) on a worker of this pool, not yet seen gone.
            Process::Forked(pid) => unsafe {
                libc::kill(*pid as libc::pid_t, libc::SIGKILL);
            },
        }
    }
}

/// A running worker process, owned by one pool thread.
struct Worker {
    process: Process,
    stdin: SharedStdin,
    stdout: BufReader<Box<dyn Read + Send>>,
    program: Arc<Program>,
}

impl Worker {
    /// Starts a worker and waits for it to say it is ready.
    fn start(program: &Arc<Program>) -> io::Result<Worker> {
        let asked = Instant::now();
        let (process, stdin, stdout) = match program.fork()? {
            Some(forked) => forked,
            None => {
                let mut child = Command::new(&program.path)
                    .args(&program.args)
                    .env(PARENT_ENV, std::process::id().to_string())
                    // Out of the terminal's process group: the parent handles Ctrl-C.
                    .process_group(0)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()?;
                let stdin: Box<dyn Write + Send> = Box::new(child.stdin.take().expect("stdin is piped"));
                let stdout: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout is piped"));
                (Process::Child(child), stdin, stdout)
            }
        };
        let pid = process.id();
        let stdin = Arc::new(Mutex::new(Some(stdin)));
        let stdout = BufReader::new(stdout);
        live_workers().lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        program.started.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        program.stdins.lock().unwrap_or_else(|e| e.into_inner()).push((pid, Arc::clone(&stdin)));
        {
            let mut live = program.live.lock().unwrap_or_else(|e| e.into_inner());
            live.0 += 1;
            live.1 = live.1.max(live.0);
        }
        // From here on, dropping it ends and collects the process.
        let mut worker = Worker { process, stdin, stdout, program: Arc::clone(program) };
        let mut line = String::new();
        match worker.stdout.read_line(&mut line)? {
            _ if line.trim() == READY => {}
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("not ready: {line:?}"))),
        }
        program.start_ups.lock().unwrap_or_else(|e| e.into_inner()).push(asked.elapsed());
        Ok(worker)
    }

    fn call(&mut self, request: &str) -> io::Result<Reply> {
        {
            let mut stdin = self.stdin.lock().unwrap_or_else(|e| e.into_inner());
            let stdin = stdin.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
            stdin.write_all(request.as_bytes())?;
            stdin.write_all(b"\n")?;
            stdin.flush()?;
        }
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        serde_json::from_str(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Ends a worker that failed and says how it ended.
    fn reap(mut self) -> String {
        let pid = self.process.id();
        self.close_stdin();
        self.process.kill();
        match self.process.wait() {
            Some(status) => format!("worker process {pid} ended ({status})"),
            None => format!("worker process {pid} ended"),
        }
    }

    fn close_stdin(&self) {
        self.stdin.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin ends the worker's loop; then collect it.
        self.close_stdin();
        let _ = self.process.wait();
        let pid = self.process.id();
        live_workers().lock().unwrap_or_else(|e| e.into_inner()).retain(|&p| p != pid);
        self.program.stdins.lock().unwrap_or_else(|e| e.into_inner()).retain(|(p, _)| *p != pid);
        self.program.live.lock().unwrap_or_else(|e| e.into_inner()).0 -= 1;
    }
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// Runs one job in this thread's worker, starting or replacing it as needed.
fn run_in_worker(program: &Arc<Program>, request: &str) -> Result<Value, FutureError> {
    WORKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let worker = Worker::start(program)
                .map_err(|e| FutureError::WorkerDied(format!("cannot start {}: {e}", program.path.display())))?;
            *slot = Some(worker);
        }
        let worker = slot.as_mut().expect("just started");
        match worker.call(request) {
            Ok(Reply::Ok(v)) => Ok(v),
            Ok(Reply::Panicked(msg)) => Err(FutureError::Panicked(msg)),
            Ok(Reply::Failed(msg)) => Err(FutureError::Remote(msg)),
            Err(_) => Err(FutureError::WorkerDied(slot.take().expect("present").reap())),
        }
    })
}

/// How pools start workers by default: each from the executable, unless
/// [`START_ENV`] is `forkserver` (see [`crate::forkserver`] for why).
fn default_start() -> StartMethod {
    match std::env::var(START_ENV).is_ok_and(|v| v == "forkserver") {
        true => StartMethod::ForkServer,
        false => StartMethod::Spawn,
    }
}

impl From<StartMethod> for Start {
    fn from(method: StartMethod) -> Start {
        match (method, cfg!(target_os = "linux")) {
            (StartMethod::ForkServer, true) => Start::Fork(None),
            _ => Start::Spawn,
        }
    }
}

/// The environment variable that, set to `forkserver`, has every pool fork
/// its workers from a fork server instead of starting the executable.
pub const START_ENV: &str = "CONCURRENT_FUTURES_START";

impl Program {
    /// A worker forked by this pool's fork server (started on first use,
    /// and once more if it has died): its process, stdin and stdout;
    /// `None` to spawn one instead (the start method is spawn, or no fork
    /// server can start).
    #[allow(clippy::type_complexity)]
    fn fork(&self) -> io::Result<Option<(Process, Box<dyn Write + Send>, Box<dyn Read + Send>)>> {
        let mut start = self.start.lock().unwrap_or_else(|e| e.into_inner());
        let mut tries = 0;
        loop {
            let server = match &mut *start {
                Start::Spawn => return Ok(None),
                Start::Fork(server) => server,
            };
            if server.is_none() {
                match ForkServer::start(&self.path, PARENT_ENV) {
                    Ok(started) => *server = Some(started),
                    Err(_) => {
                        *start = Start::Spawn;
                        return Ok(None);
                    }
                }
            }
            let (their_stdin, our_stdin) = io::pipe()?;
            let (our_stdout, their_stdout) = io::pipe()?;
            match server.as_mut().expect("started").fork(&their_stdin.into(), &their_stdout.into()) {
                Ok(pid) => return Ok(Some((Process::Forked(pid), Box::new(our_stdin), Box::new(our_stdout)))),
                // A fork server that died is started again, once.
                Err(_) if tries == 0 => {
                    *server = None;
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// How a [`ProcessPoolExecutor`] starts its workers, as Python's
/// `multiprocessing` start methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMethod {
    /// Each worker runs the executable afresh.
    Spawn,
    /// A fork server, started once from the executable, forks each worker
    /// (Linux; elsewhere [`StartMethod::Spawn`]). See [`crate::forkserver`].
    ForkServer,
}

/// The workers a [`ProcessPoolExecutor`] started
/// ([`ProcessPoolExecutor::worker_stats`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerStats {
    /// Workers that started and said they were ready.
    pub started: usize,
    /// The most worker processes alive at once.
    pub peak_live: usize,
    /// How long each took to start, from the pool asking for it (a spawn,
    /// or a fork server's fork) to its first line, in start order.
    pub start_ups: Vec<Duration>,
}

/// A pool of worker processes running registered jobs; see the module doc.
pub struct ProcessPoolExecutor {
    threads: ThreadPoolExecutor,
    program: Arc<Program>,
}

/// Interrupts the workers of a pool from elsewhere (a signal handler's thread).
#[derive(Clone)]
pub struct Interrupter(Arc<Program>);

impl Interrupter {
    /// See [`ProcessPoolExecutor::interrupt`].
    pub fn interrupt(&self) {
        let stdins = self.0.stdins.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for (_, stdin) in stdins {
            if let Some(stdin) = stdin.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                // A worker that is gone is no one to interrupt.
                let _ = stdin.write_all(format!("{INTERRUPT}\n").as_bytes()).and_then(|()| stdin.flush());
            }
        }
    }
}

impl ProcessPoolExecutor {
    /// Up to `max_workers` workers running this executable.
    pub fn new(max_workers: usize) -> io::Result<Self> {
        Ok(Self::with_program(max_workers, std::env::current_exe()?))
    }

    /// Up to `max_workers` workers running `program` (which must call
    /// [`run_worker_if_requested`] with a registry holding the jobs).
    pub fn with_program(max_workers: usize, program: impl Into<PathBuf>) -> Self {
        ProcessPoolExecutor {
            threads: ThreadPoolExecutor::new(max_workers),
            program: Arc::new(Program {
                path: program.into(),
                args: vec![WORKER_ARG.into()],
                stdins: Mutex::default(),
                started: Mutex::default(),
                start_ups: Mutex::default(),
                live: Mutex::default(),
                start: Mutex::new(default_start().into()),
            }),
        }
    }

    /// Starts this pool's workers with `method` (before its first job; the
    /// default is [`StartMethod::Spawn`], or the fork server when
    /// [`START_ENV`] says so).
    pub fn with_start_method(self, method: StartMethod) -> Self {
        *self.program.start.lock().unwrap_or_else(|e| e.into_inner()) = method.into();
        self
    }

    /// The most worker processes this pool runs.
    pub fn max_workers(&self) -> usize {
        self.threads.max_workers()
    }

    /// The pids of every worker this pool started so far.
    pub fn started_pids(&self) -> Vec<u32> {
        self.program.started.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The workers this pool started so far: how many, the most alive at
    /// once, and how long each took from being asked for to being ready.
    pub fn worker_stats(&self) -> WorkerStats {
        let start_ups = self.program.start_ups.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let peak_live = self.program.live.lock().unwrap_or_else(|e| e.into_inner()).1;
        WorkerStats { started: start_ups.len(), peak_live, start_ups }
    }

    /// Interrupts the job every worker is running: its registry's
    /// `on_interrupt` hook runs at once in the worker. Jobs not started are
    /// not touched (cancel their futures for that).
    pub fn interrupt(&self) {
        self.interrupter().interrupt();
    }

    /// What interrupts this pool's workers from another thread.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(Arc::clone(&self.program))
    }

    /// Schedules the job named `job` with `arg`; the future holds its result.
    pub fn submit<A, R>(&self, job: &str, arg: A) -> FutureHandle<R>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let request = match serde_json::to_value(arg) {
            Ok(arg) => serde_json::to_string(&Request { job: job.to_string(), arg }).expect("JSON values encode"),
            Err(e) => return FutureHandle::ready(Err(FutureError::Remote(format!("argument can't be encoded: {e}")))),
        };
        let program = Arc::clone(&self.program);
        let run = move || {
            let value = run_in_worker(&program, &request)?;
            serde_json::from_value(value).map_err(|e| FutureError::Remote(format!("unexpected result: {e}")))
        };
        self.threads.try_submit_fallible(run).unwrap_or_else(|e| FutureHandle::ready(Err(e)))
    }

    /// Runs `job` on every item; results in input order, as [`ThreadPoolExecutor::map`].
    pub fn map<A, R>(
        &self,
        job: &str,
        items: impl IntoIterator<Item = A>,
    ) -> impl Iterator<Item = Result<R, FutureError>>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let futures: Vec<FutureHandle<R>> = items.into_iter().map(|item| self.submit(job, item)).collect();
        in_order(futures)
    }

    /// Stops accepting jobs; with `wait`, waits for queued jobs and for the
    /// workers to exit.
    pub fn shutdown(&self, wait: bool) {
        self.threads.shutdown(wait);
    }
}

impl Drop for ProcessPoolExecutor {
    /// Waits for the jobs and the workers, then ends the fork server, if
    /// any, which collects its workers first: their CPU time and memory then
    /// reach this process's own `wait4` accounting, as spawned workers' do.
    fn drop(&mut self) {
        self.threads.shutdown(true);
        let server = match &mut *self.program.start.lock().unwrap_or_else(|e| e.into_inner()) {
            Start::Fork(server) => server.take(),
            Start::Spawn => None,
        };
        drop(server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_loop_answers_each_line() {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        let registry = REGISTRY.get_or_init(Registry::with_diagnostics);
        let input = concat!(
            r#"{"job":"echo","arg":[1,"two"]}"#,
            "\n",
            r#"{"job":"panic","arg":"boom"}"#,
            "\n",
            r#"{"job":"nope","arg":null}"#,
            "\n",
            r#"{"job":"sleep_ms","arg":"x"}"#,
            "\n"
        );
        let mut out = Vec::new();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        serve(registry, input.as_bytes(), &mut out).unwrap();
        std::panic::set_hook(hook);
        let lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
        assert_eq!(lines[0], READY, "ready before the first job");
        assert_eq!(lines[1], r#"{"Ok":[1,"two"]}"#);
        assert_eq!(lines[2], r#"{"Panicked":"boom"}"#);
        assert!(lines[3].contains("no job named"), "{}", lines[3]);
        assert!(lines[4].contains("bad argument"), "{}", lines[4]);
    }

    #[test]
    fn an_interrupt_line_reaches_the_hook_while_a_job_runs() {
        use std::sync::atomic::{AtomicBool, Ordering};
        static INTERRUPTED: AtomicBool = AtomicBool::new(false);
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        let registry = REGISTRY.get_or_init(|| {
            Registry::new()
                .register("wait_for_interrupt", |_: Value| {
                    let t0 = Instant::now();
                    while !INTERRUPTED.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(5) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    INTERRUPTED.load(Ordering::SeqCst)
                })
                .on_interrupt(|| INTERRUPTED.store(true, Ordering::SeqCst))
        });
        let input = format!("{}\n{INTERRUPT}\n", r#"{"job":"wait_for_interrupt","arg":null}"#);
        let mut out = Vec::new();
        serve(registry, io::Cursor::new(input.into_bytes()), &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{READY}\n{{\"Ok\":true}}\n"));
    }
}
