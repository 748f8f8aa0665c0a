//! Doing a flag's work: the chain ([`crate::work::chain`]) step after
//! step until it has cost the asked CPU time on this thread's own CPU
//! clock, under the model GIL with `--gil`.
//!
//! The budget is CPU time, read from the clock every [`CHECK_EVERY`]
//! units, never a count of units calibrated once: on a shared machine the
//! same unit's cost changes from one tenth of a second to the next. A
//! thread that waits for the GIL, or that the OS has set aside for another
//! process, uses no CPU, so it does not eat into its budget.

use std::time::Duration;

use super::chain::Chain;
use super::gil::{Gil, Held};
use super::spec::{Phase, PhaseKind, Work, Worked};
use crate::http::trace::Stamp;
use crate::os::{clock_ns, Clock};

/// Units between two readings of the CPU clock (and checks of the GIL
/// and of a stop): about 40 us of work.
pub const CHECK_EVERY: u64 = 32;

/// Does `work` for `flag` on this thread, taking `gil` when the work asks
/// for it; `None` if `stopped` said so first (the run was cancelled).
pub fn compute(work: &Work, flag: &[u8], gil: &Gil, stopped: &dyn Fn() -> bool) -> Option<Worked> {
    let mut chain = Chain::new(flag);
    let mut phases = Vec::new();
    let mut held = work.gil.then(|| take(gil, work.switch_interval, &mut phases));
    let mut from = Stamp::now();
    let budget = work.cpu.as_nanos() as u64;
    let (mut used, mut cpu_from) = (0u64, clock_ns(Clock::ThreadCpu));
    loop {
        for _ in 0..CHECK_EVERY {
            chain.step();
        }
        let cpu = clock_ns(Clock::ThreadCpu);
        if used + (cpu - cpu_from) >= budget {
            used += cpu - cpu_from;
            break;
        }
        if stopped() {
            return None;
        }
        if let Some(h) = held.as_mut().filter(|h| h.should_switch()) {
            used += cpu - cpu_from;
            let paused = Stamp::now();
            if h.switch() {
                let back = Stamp::now();
                phases.push(Phase { kind: PhaseKind::Computing, from, to: paused });
                phases.push(Phase { kind: PhaseKind::GilWait, from: paused, to: back });
                from = back;
            }
            cpu_from = clock_ns(Clock::ThreadCpu);
        }
    }
    // The phase ends before the lock goes to the next thread.
    phases.push(Phase { kind: PhaseKind::Computing, from, to: Stamp::now() });
    drop(held);
    Some(Worked { units: chain.units, digest: chain.digest, cpu: Duration::from_nanos(used), phases })
}

/// Takes the GIL, noting the wait if there was one.
fn take<'g>(gil: &'g Gil, interval: Duration, phases: &mut Vec<Phase>) -> Held<'g> {
    let asked = Stamp::now();
    let held = gil.acquire(interval);
    if held.queued {
        phases.push(Phase { kind: PhaseKind::GilWait, from: asked, to: Stamp::now() });
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::chain::digest;
    use std::sync::Arc;

    fn work(ms: u64, gil: bool) -> Work {
        Work { gil, ..Work::new(Duration::from_millis(ms)) }
    }

    #[test]
    fn it_costs_the_cpu_asked_and_its_digest_checks() {
        let flag = b"GIF89a a flag of sorts;".repeat(100);
        let done = compute(&work(20, false), &flag, &Gil::new(), &|| false).unwrap();
        assert!(done.cpu >= Duration::from_millis(20), "{:?}", done.cpu);
        assert!(done.units > 0 && done.units.is_multiple_of(CHECK_EVERY));
        assert_eq!(done.digest, digest(&flag, done.units), "the digest is the chain's");
        assert_eq!(done.phases.len(), 1);
        assert_eq!(done.phases[0].kind, PhaseKind::Computing);
    }

    #[test]
    fn a_stop_ends_it() {
        assert!(compute(&work(10_000, true), b"x", &Gil::new(), &|| true).is_none());
    }

    #[test]
    fn under_the_gil_threads_compute_in_turn() {
        let gil = Arc::new(Gil::new());
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let gil = Arc::clone(&gil);
                std::thread::spawn(move || {
                    let w = Work { switch_interval: Duration::from_millis(1), ..work(15, true) };
                    compute(&w, b"GIF89a;", &gil, &|| false).unwrap()
                })
            })
            .collect();
        let done: Vec<Worked> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let mut computing: Vec<(Stamp, Stamp)> = done
            .iter()
            .flat_map(|w| w.phases.iter().filter(|p| p.kind == PhaseKind::Computing).map(|p| (p.from, p.to)))
            .collect();
        computing.sort();
        assert!(computing.windows(2).all(|w| w[0].1 <= w[1].0), "computing phases overlap: {computing:?}");
        assert!(done.iter().any(|w| w.phases.iter().any(|p| p.kind == PhaseKind::GilWait)));
        assert!(done.iter().all(|w| w.cpu >= Duration::from_millis(15)));
    }
}
