//! The process-pool style: `ProcessPoolExecutor` with
//! `min(concurrency, codes)` worker processes, each running the blocking
//! pipeline for one code at a time. The job crosses to the worker as JSON
//! (the [`Job`] and a code) and the outcome comes back the same way: the
//! very [`Outcome`] a thread would have returned (its failure is made of
//! kinds and data, see [`Failure`]), with the retries the worker made,
//! which the parent's observer then hears of. Outcomes reach the observer in completion order
//! ([`as_completed`]).
//!
//! **Stopping.** The run's `Cancel` cancels the jobs not started and
//! interrupts the running ones: each worker cancels its own `Cancel`
//! (sockets shut, gate closed) and answers with the code's true outcome,
//! so the parent reports only once every worker has stopped writing. An
//! abort (a second Ctrl-C) terminates the workers, each removing its
//! temporary files, and sweeps those of any that had to be killed; so does
//! the end of every run, for workers that died.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cancel::Cancel;
use super::job::{Done, DownloadObserver, Downloaded, Failure, Job, Outcome, Run, Style, Workers};
use super::pipeline::fetch_one;
use super::timeline::Timeline;
use crate::countries::CountryCode;
use crate::http::trace::Stamp;
use crate::http::BlockingClient;
use concurrent_futures::{as_completed, process_pool, FutureError, FutureHandle, ProcessPoolExecutor, Registry};

/// The registered job's name.
pub const DOWNLOAD_JOB: &str = "download_flag";

/// What a worker needs to download one flag.
#[derive(Debug, Serialize, Deserialize)]
pub struct DownloadArg {
    pub job: Job,
    pub cc: CountryCode,
}

/// A retry a worker made, told to the parent's observer with the outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Retry {
    pub attempt: u32,
    pub error: Failure,
    pub wait: Duration,
}

/// What a worker sends back for one code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DownloadReply {
    pub outcome: Outcome,
    pub retries: Vec<Retry>,
    /// From started on (the worker's stamps are on the parent's clock).
    pub timeline: Timeline,
}

/// The jobs the `flags` executable offers its worker processes.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::with_diagnostics()
            .register(DOWNLOAD_JOB, download_in_worker)
            .on_interrupt(|| {
                if let Some((_, cancel)) = worker_state().lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    cancel.cancel();
                }
            })
            .on_terminate(|| {
                let state = worker_state().lock().unwrap_or_else(|e| e.into_inner()).clone();
                if let Some((_, cancel)) = state {
                    // Remove this worker's temporary files and exit holding the gate.
                    let _held = cancel.abort();
                    std::process::exit(143);
                }
            })
    })
}

/// The worker's client and its one [`Cancel`], made for the first job's
/// destination and limits (a worker serves one run).
type WorkerState = Option<((Job, BlockingClient), Arc<Cancel>)>;

fn worker_state() -> &'static Mutex<WorkerState> {
    static STATE: Mutex<WorkerState> = Mutex::new(None);
    &STATE
}

/// Collects the retries of one job in the worker.
#[derive(Default)]
struct Retries(Mutex<Vec<Retry>>);

impl DownloadObserver for Retries {
    fn outcome(&self, _: CountryCode, _: &Outcome) {}

    fn retrying(&self, _cc: CountryCode, attempt: u32, error: &Failure, wait: Duration) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(Retry { attempt, error: error.clone(), wait });
    }
}

/// Runs in the worker: one client per worker process, reused across jobs.
fn download_in_worker(arg: DownloadArg) -> DownloadReply {
    let (client, cancel) = {
        let mut state = worker_state().lock().unwrap_or_else(|e| e.into_inner());
        let fits =
            |job: &Job| job.dest == arg.job.dest && job.limits() == arg.job.limits() && job.trust == arg.job.trust;
        match &*state {
            Some(((job, client), cancel)) if fits(job) => (client.clone(), Arc::clone(cancel)),
            _ => {
                let cancel = Cancel::new(&arg.job.dest);
                let client = BlockingClient::new(arg.job.limits(), arg.job.trust.clone(), 1, cancel.sockets().clone());
                *state = Some(((arg.job.clone(), client.clone()), Arc::clone(&cancel)));
                (client, cancel)
            }
        }
    };
    let retries = Arc::new(Retries::default());
    let run = Run { job: Arc::new(arg.job), observer: retries.clone(), cancel };
    let mut timeline = Timeline::default();
    let outcome = fetch_one(&client, &run, arg.cc, &mut timeline);
    let retries = std::mem::take(&mut *retries.0.lock().unwrap_or_else(|e| e.into_inner()));
    DownloadReply { outcome, retries, timeline }
}

static WORKER_PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Makes `program` the executable the workers run, for a process that is
/// not itself `flags` (the test harness, another program using the
/// library). The first call wins.
pub fn use_worker_program(program: impl Into<PathBuf>) {
    let _ = WORKER_PROGRAM.set(program.into());
}

/// The executable the workers run: the one set by [`use_worker_program`],
/// else `FLAGS_WORKER_EXE`, else this one.
pub fn worker_program() -> PathBuf {
    WORKER_PROGRAM
        .get()
        .cloned()
        .or_else(|| std::env::var_os("FLAGS_WORKER_EXE").map(PathBuf::from))
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| PathBuf::from("flags"))
}

/// Downloads through worker processes.
pub struct ProcessPool;

impl Style for ProcessPool {
    fn download_many(&self, run: &Run, codes: Vec<CountryCode>) -> Downloaded {
        let workers = run.job.concurrency.min(codes.len()).max(1);
        let executor = ProcessPoolExecutor::with_program(workers, worker_program());
        let mut queued = Vec::with_capacity(codes.len());
        let futures: Vec<_> = codes
            .iter()
            .map(|cc| {
                queued.push(Stamp::now());
                executor.submit::<_, DownloadReply>(DOWNLOAD_JOB, DownloadArg { job: (*run.job).clone(), cc: *cc })
            })
            .collect();
        {
            let (pending, workers) = (futures.clone(), executor.interrupter());
            run.cancel.on_cancel(move || {
                pending.iter().for_each(|f| {
                    f.cancel();
                });
                workers.interrupt();
            });
            let gate = Arc::clone(run.cancel.gate());
            run.cancel.on_abort(move || {
                for pid in process_pool::terminate_all(Duration::from_millis(500)) {
                    gate.sweep(pid);
                }
            });
        }
        let index =
            |done: &FutureHandle<DownloadReply>| futures.iter().position(|f| f.ptr_eq(done)).expect("one of ours");
        let mut outcomes = Vec::with_capacity(codes.len());
        for done in as_completed(&futures, None).flatten() {
            let i = index(&done);
            let mut timeline = Timeline::default();
            let outcome = match done.result(None) {
                Ok(reply) => {
                    timeline = reply.timeline;
                    for r in reply.retries {
                        run.observer.retrying(codes[i], r.attempt, &r.error, r.wait);
                    }
                    reply.outcome
                }
                Err(FutureError::Cancelled) => Outcome::Cancelled,
                Err(_) if run.cancel.is_cancelled() => Outcome::Cancelled,
                Err(e) => Outcome::Failed(Failure::Worker(e.to_string())),
            };
            timeline.queued = Some(queued[i]);
            timeline.done = timeline.done.or_else(|| Some(Stamp::now()));
            run.observer.outcome(codes[i], &outcome);
            outcomes.push(Done { cc: codes[i], outcome, timeline });
        }
        // Let the workers go, then remove what any that died left behind.
        let started = executor.started_pids();
        let workers = Workers::of(&executor.worker_stats());
        drop(executor);
        for pid in started {
            run.cancel.gate().sweep(pid);
        }
        Downloaded { done: outcomes, workers: Some(workers) }
    }
}
