//! What `--work` asks for, and what doing it left: the record a code's
//! timeline carries.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::http::trace::Stamp;

/// CPU work per flag (`--work`, `--gil`, `--switch-interval`, `--offload`).
/// Crosses to a worker process inside the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    /// CPU time each flag costs, on the computing thread's CPU clock.
    pub cpu: Duration,
    /// Compute under the process's model GIL.
    pub gil: bool,
    /// How long a waiter waits before the holder must hand the GIL over.
    pub switch_interval: Duration,
    /// Async style: compute on the blocking pool, not on the event loop.
    pub offload: bool,
}

impl Work {
    /// `cpu` of work per flag, without the GIL, inline.
    pub fn new(cpu: Duration) -> Self {
        Work { cpu, gil: false, switch_interval: DEFAULT_SWITCH_INTERVAL, offload: false }
    }
}

impl Work {
    /// The `flags get` arguments that ask for this work: `--work 50ms --gil`.
    pub fn args(&self) -> String {
        let us = self.cpu.as_micros();
        let mut s = match (us % 1_000_000, us % 1000) {
            (0, _) => format!("--work {}s", us / 1_000_000),
            (_, 0) => format!("--work {}ms", us / 1000),
            _ => format!("--work {us}us"),
        };
        if self.gil {
            s += " --gil";
            if self.switch_interval != DEFAULT_SWITCH_INTERVAL {
                s += &format!(" --switch-interval {}us", self.switch_interval.as_micros());
            }
        }
        if self.offload {
            s += " --offload";
        }
        s
    }
}

/// `sys.getswitchinterval()`'s default.
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// What a stretch of a flag's work was spent doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// Queued for the GIL, held by another thread.
    GilWait,
    /// Computing.
    Computing,
}

/// One stretch of a flag's work.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub kind: PhaseKind,
    pub from: Stamp,
    pub to: Stamp,
}

/// The work done for one flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worked {
    /// Units of the chain done ([`crate::work::chain`]), and its digest.
    pub units: u64,
    pub digest: u32,
    /// CPU time they took, on the computing thread's clock.
    pub cpu: Duration,
    /// Computing and waiting for the GIL, in order.
    pub phases: Vec<Phase>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arguments_that_ask_for_it() {
        let gil = Work { gil: true, ..Work::new(Duration::from_millis(50)) };
        assert_eq!(gil.args(), "--work 50ms --gil");
        let odd = Work { offload: true, switch_interval: Duration::from_millis(1), ..gil };
        assert_eq!(odd.args(), "--work 50ms --gil --switch-interval 1000us --offload");
        assert_eq!(Work::new(Duration::from_micros(1500)).args(), "--work 1500us");
        assert_eq!(Work::new(Duration::from_secs(2)).args(), "--work 2s");
    }
}
