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
//! process, started lazily on the thread's first job. A job is one line of
//! JSON down the worker's stdin and one line back on its stdout (so jobs
//! must not print to stdout). If the worker dies mid-job, that job's future
//! fails with [`FutureError::WorkerDied`] and the thread starts a fresh
//! worker for its next job; no other future is touched. Dropping the pool
//! closes the workers' stdin, and they exit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::thread_pool::in_order;
use super::{Future, FutureError, ThreadPoolExecutor};

/// The hidden first argument that makes the executable a worker.
pub const WORKER_ARG: &str = "__flags-worker";

type JobFn = Box<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// The named functions a worker process can run.
#[derive(Default)]
pub struct Registry {
    jobs: HashMap<String, JobFn>,
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
/// it closes and exits; otherwise returns at once.
pub fn run_worker_if_requested(registry: &Registry) {
    if std::env::args_os().nth(1).is_some_and(|a| a == WORKER_ARG) {
        // The panic message goes back to the parent; don't print it here too.
        std::panic::set_hook(Box::new(|_| {}));
        // Ctrl-C reaches the whole process group; the parent decides what
        // to cancel and ends the workers by closing their stdin.
        let _ = ctrlc::set_handler(|| {});
        let code = match serve(registry, io::stdin().lock(), io::stdout().lock()) {
            Ok(()) => 0,
            Err(_) => 1,
        };
        std::process::exit(code);
    }
}

/// The worker loop: one JSON request per line in, one reply per line out.
pub fn serve(registry: &Registry, input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    for line in input.lines() {
        let line = line?;
        let reply = match serde_json::from_str::<Request>(&line) {
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
        };
        serde_json::to_writer(&mut output, &reply)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

/// How to start a worker.
#[derive(Debug, Clone)]
struct Program {
    path: PathBuf,
    args: Vec<OsString>,
}

/// A running worker process, owned by one pool thread.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(program: &Program) -> io::Result<Worker> {
        let mut child = Command::new(&program.path)
            .args(&program.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(Worker { child, stdin, stdout })
    }

    fn call(&mut self, request: &str) -> io::Result<Reply> {
        let stdin = self.stdin.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        stdin.write_all(request.as_bytes())?;
        stdin.write_all(b"\n")?;
        stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        serde_json::from_str(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Ends a worker that failed and says how it ended.
    fn reap(mut self) -> String {
        let pid = self.child.id();
        self.stdin.take();
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => format!("worker process {pid} ended ({status})"),
            Err(e) => format!("worker process {pid} is lost: {e}"),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin ends the worker's loop; then collect it.
        self.stdin.take();
        let _ = self.child.wait();
    }
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// Runs one job in this thread's worker, starting or replacing it as needed.
fn run_in_worker(program: &Program, request: &str) -> Result<Value, FutureError> {
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

/// A pool of worker processes running registered jobs; see the module doc.
pub struct ProcessPoolExecutor {
    threads: ThreadPoolExecutor,
    program: Arc<Program>,
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
            program: Arc::new(Program { path: program.into(), args: vec![WORKER_ARG.into()] }),
        }
    }

    /// The most worker processes this pool runs.
    pub fn max_workers(&self) -> usize {
        self.threads.max_workers()
    }

    /// Schedules the job named `job` with `arg`; the future holds its result.
    pub fn submit<A, R>(&self, job: &str, arg: A) -> Future<R>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let request = match serde_json::to_value(arg) {
            Ok(arg) => serde_json::to_string(&Request { job: job.to_string(), arg }).expect("JSON values encode"),
            Err(e) => return Future::ready(Err(FutureError::Remote(format!("argument can't be encoded: {e}")))),
        };
        let program = Arc::clone(&self.program);
        let run = move || {
            let value = run_in_worker(&program, &request)?;
            serde_json::from_value(value).map_err(|e| FutureError::Remote(format!("unexpected result: {e}")))
        };
        self.threads.try_submit_fallible(run).unwrap_or_else(|e| Future::ready(Err(e)))
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
        let futures: Vec<Future<R>> = items.into_iter().map(|item| self.submit(job, item)).collect();
        in_order(futures)
    }

    /// Stops accepting jobs; with `wait`, waits for queued jobs and for the
    /// workers to exit.
    pub fn shutdown(&self, wait: bool) {
        self.threads.shutdown(wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_loop_answers_each_line() {
        let registry = Registry::with_diagnostics();
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
        serve(&registry, input.as_bytes(), &mut out).unwrap();
        std::panic::set_hook(hook);
        let lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
        assert_eq!(lines[0], r#"{"Ok":[1,"two"]}"#);
        assert_eq!(lines[1], r#"{"Panicked":"boom"}"#);
        assert!(lines[2].contains("no job named"), "{}", lines[2]);
        assert!(lines[3].contains("bad argument"), "{}", lines[3]);
    }
}
