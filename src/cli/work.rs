//! The arguments of CPU work per flag (`--work`, `--gil`,
//! `--switch-interval`, `--offload`), shared by `flags get` and turned
//! into a [`Work`].

use std::time::Duration;

use clap::error::ErrorKind;
use clap::Args;

use super::parse::parse_duration;
use crate::download::Mode;
use crate::work::{Work, DEFAULT_SWITCH_INTERVAL};

/// CPU-bound work per flag.
#[derive(Args, Debug, Clone, Default)]
pub struct WorkArgs {
    /// Give each flag this much CPU work once it has arrived (50ms, 0.2s):
    /// a chain of hashes over its bytes, run until it has cost that much
    /// CPU time on the computing thread's clock.
    #[arg(long, value_name = "DURATION", value_parser = parse_work)]
    pub work: Option<Duration>,
    /// Compute under a model of CPython's GIL: one lock per process, held
    /// while computing, released while waiting on the network.
    #[arg(long, requires = "work")]
    pub gil: bool,
    /// How long a thread waits for the GIL before the holder must hand it
    /// over (sys.setswitchinterval) [default: 5ms].
    #[arg(long, value_name = "DURATION", requires = "gil", value_parser = parse_interval)]
    pub switch_interval: Option<Duration>,
    /// Async style: compute on tokio's blocking pool (asyncio's
    /// run_in_executor) instead of on the event loop.
    #[arg(long, requires = "work")]
    pub offload: bool,
}

impl WorkArgs {
    /// The work asked for `mode`, if any.
    pub fn work(&self, mode: Mode) -> Result<Option<Work>, clap::Error> {
        let Some(cpu) = self.work else { return Ok(None) };
        if self.offload && mode != Mode::Async {
            let why = format!(
                "the {mode} style has no event loop to keep free; --offload is for --mode async, where the work \
                 otherwise blocks the loop"
            );
            return Err(clap::Error::raw(ErrorKind::ArgumentConflict, format!("--offload cannot be used here: {why}")));
        }
        Ok(Some(Work {
            cpu,
            gil: self.gil,
            switch_interval: self.switch_interval.unwrap_or(DEFAULT_SWITCH_INTERVAL),
            offload: self.offload,
        }))
    }
}

pub(super) fn parse_work(s: &str) -> Result<Duration, String> {
    parse_duration(s, 60.0)
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    parse_duration(s, 10.0)
}
