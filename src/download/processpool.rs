//! The process-pool style: `ProcessPoolExecutor` with
//! `min(concurrency, codes)` worker processes, each running the blocking
//! pipeline for one code at a time. The job crosses to the worker as JSON
//! (the [`Job`] and a code) and the [`Outcome`] comes back the same way.
//! Outcomes reach the sink in completion order.

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{fetch_one, Job, Outcome, Sink, Style};
use crate::executor::{FutureError, ProcessPoolExecutor, Registry};
use crate::http::{BlockingClient, FetchError};
use crate::report::Quiet;

/// The registered job's name.
pub const DOWNLOAD_JOB: &str = "download_flag";

/// What a worker needs to download one flag.
#[derive(Debug, Serialize, Deserialize)]
pub struct DownloadArg {
    pub job: Job,
    pub cc: String,
}

/// The jobs the `flags` executable offers its worker processes.
pub fn registry() -> Registry {
    Registry::with_diagnostics().register(DOWNLOAD_JOB, download_in_worker)
}

/// Runs in the worker: one client per worker process, reused across jobs.
fn download_in_worker(arg: DownloadArg) -> Outcome {
    static CLIENT: Mutex<Option<((Duration, Duration), BlockingClient)>> = Mutex::new(None);
    let limits = (arg.job.timeout, arg.job.stall);
    let client = {
        let mut slot = CLIENT.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some((l, c)) if *l == limits => c.clone(),
            _ => {
                let c = BlockingClient::with_stall(limits.0, limits.1, 1);
                *slot = Some((limits, c.clone()));
                c
            }
        }
    };
    // Retry notices stay in the worker: only the outcome crosses back.
    fetch_one(&client, &arg.job, &arg.cc, &Quiet)
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
    fn download_many(&self, job: Arc<Job>, codes: Vec<String>, sink: Arc<dyn Sink>) -> Vec<(String, Outcome)> {
        let workers = job.concurrency.min(codes.len()).max(1);
        let executor = ProcessPoolExecutor::with_program(workers, worker_program());
        let futures: Vec<_> = codes
            .iter()
            .map(|cc| executor.submit::<_, Outcome>(DOWNLOAD_JOB, DownloadArg { job: (*job).clone(), cc: cc.clone() }))
            .collect();
        // Each future sends its index when done; the loop wakes at least
        // every 100 ms to see whether the run was cancelled.
        let (tx, rx) = mpsc::channel();
        for (i, f) in futures.iter().enumerate() {
            let tx = tx.clone();
            f.add_done_callback(move |_| {
                let _ = tx.send(i);
            });
        }
        let mut outcomes = Vec::with_capacity(codes.len());
        while outcomes.len() < codes.len() {
            if job.cancel.is_cancelled() {
                // Jobs not started yet are cancelled; running ones finish.
                futures.iter().for_each(|f| {
                    f.cancel();
                });
            }
            let Ok(i) = rx.recv_timeout(Duration::from_millis(100)) else { continue };
            let outcome = match futures[i].result(None) {
                Ok(outcome) => outcome,
                Err(FutureError::Cancelled) => Outcome::Cancelled,
                Err(e) => Outcome::Failed(worker_failure(e)),
            };
            sink.outcome(&codes[i], &outcome);
            outcomes.push((codes[i].clone(), outcome));
        }
        outcomes
    }
}

fn worker_failure(e: FutureError) -> FetchError {
    FetchError::Io(e.to_string())
}
