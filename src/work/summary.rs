//! What a run's work came to, for its report: the CPU it cost, and what
//! one unit of the chain cost on this machine during the run.

use serde::Serialize;

use super::chain::WINDOW;
use super::spec::{Work, Worked};

/// The work of a run, summed over its flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// CPU time asked per flag.
    pub per_flag_ms: f64,
    /// Under the model GIL, and its switch interval.
    pub gil: bool,
    pub switch_interval_ms: f64,
    /// Async style: computed on the blocking pool.
    pub offload: bool,
    /// Flags whose work was done.
    pub flags: usize,
    /// Units done, and the CPU time they took, over every flag.
    pub units: u64,
    pub cpu_ms: f64,
    /// What one unit (FNV-1a over [`WINDOW`] bytes of a flag) cost: the CPU
    /// time over the units.
    pub unit_ns: f64,
    /// Bytes one unit hashes.
    pub unit_bytes: usize,
    /// The most flags computing at the same moment.
    pub peak_computing: usize,
}

impl Summary {
    /// The summary of `done`, the work of each flag that had some, with
    /// `peak` flags computing at once at most.
    pub fn of<'a>(work: &Work, done: impl IntoIterator<Item = &'a Worked>, peak: usize) -> Self {
        let (mut flags, mut units, mut cpu) = (0, 0, 0.0);
        for w in done {
            flags += 1;
            units += w.units;
            cpu += w.cpu.as_secs_f64();
        }
        Summary {
            per_flag_ms: work.cpu.as_secs_f64() * 1000.0,
            gil: work.gil,
            switch_interval_ms: work.switch_interval.as_secs_f64() * 1000.0,
            offload: work.offload,
            flags,
            units,
            cpu_ms: cpu * 1000.0,
            unit_ns: if units > 0 { cpu * 1e9 / units as f64 } else { 0.0 },
            unit_bytes: WINDOW,
            peak_computing: peak,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_unit_costs_the_cpu_over_the_units() {
        let worked = |units, ms| Worked { units, digest: 0, cpu: Duration::from_millis(ms), phases: Vec::new() };
        let done = [worked(1000, 2), worked(3000, 6)];
        let s = Summary::of(&Work::new(Duration::from_millis(2)), &done, 1);
        assert_eq!((s.flags, s.units), (2, 4000));
        assert!((s.unit_ns - 2000.0).abs() < 1e-6, "{}", s.unit_ns);
        assert!((s.cpu_ms - 8.0).abs() < 1e-9);
        assert_eq!(Summary::of(&Work::new(Duration::from_millis(2)), &[], 0).unit_ns, 0.0);
    }
}
