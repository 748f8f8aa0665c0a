//! Why a benchmark could not run, or its results could not be written.

use std::path::PathBuf;

use super::chart;
use crate::server;

/// Why a benchmark could not be run or its results written.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot start the embedded server")]
    Server(#[source] std::io::Error),
    #[error("cannot find the flags executable")]
    Exe(#[source] std::io::Error),
    #[error("cannot run {tool}")]
    Run {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot draw the chart")]
    Chart(#[source] chart::ChartError),
    /// A run failed, and `--ignore-failure` was not given.
    #[error("{tool} failed on {workload} (run {run}): {why}. The command was: {command}. With --ignore-failure, failed runs are measured too")]
    FailedRun { tool: String, workload: String, run: usize, why: String, command: String },
    /// A report the bench reads was larger than any report can be.
    #[error("{tool} printed {bytes} bytes on stdout, more than the {limit} bytes a report may hold")]
    Report { tool: String, bytes: u64, limit: usize },
    /// A stop signal (Ctrl-C, SIGTERM, SIGHUP) stopped the benchmark.
    #[error("interrupted")]
    Interrupted,
    #[error("cannot set up the server's TLS")]
    Tls(#[source] server::tls::TlsSetupError),
}
