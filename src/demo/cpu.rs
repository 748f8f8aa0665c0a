//! Part two of the demo, the chapter's closing questions: the same 20
//! flags from a server with no delay, each given CPU work (`--work 50ms
//! --gil`), in every style and once more in the async style with
//! `--offload`. Then the answer, in numbers just measured.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::legs::run_leg;
use super::spec::{DemoConfig, DemoError, DemoObserver, Leg, Runner, StyleTimes};
use crate::countries::pop20_sorted;
use crate::download::Mode;
use crate::server::{self, Delay, ServerConfig};
use crate::shutdown::Shutdown;
use crate::work::Work;

/// The legs of part two: each style with `work`, the async style twice
/// (on its loop, then offloaded), the process pool with a worker per
/// core as `ProcessPoolExecutor()` has.
pub fn legs(work: Work, codes: usize) -> Vec<Leg> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let leg = |mode, concurrency, work| Leg { mode, concurrency, work: Some(work), names: false };
    vec![
        leg(Mode::Sequential, 1, work),
        leg(Mode::ThreadPool, codes, work),
        leg(Mode::Async, codes, work),
        leg(Mode::Async, codes, Work { offload: true, ..work }),
        leg(Mode::ProcessPool, cores.min(codes), work),
    ]
}

/// Runs part two with `work`; the styles that ran to their end.
pub fn run(
    config: &DemoConfig,
    work: Work,
    observer: &dyn DemoObserver,
    shutdown: &Shutdown,
) -> Result<Vec<StyleTimes>, DemoError> {
    let server_config = ServerConfig { delay: Delay::NONE, seed: config.seed, ..ServerConfig::default() };
    let server = server::spawn(server_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(DemoError::Server)?;
    server.warm();
    let codes = pop20_sorted();
    observer.cpu_started(&server.base(), &work, codes.len());
    let mut rows = Vec::new();
    for leg in legs(work, codes.len()) {
        server.stats().start_leg();
        match run_leg(&leg, (&server.base(), Duration::ZERO), &codes, config, observer, shutdown) {
            Some(times) => rows.push(times),
            None => break,
        }
    }
    Ok(rows)
}

/// The chapter's two questions answered with the runs of both parts: the
/// I/O-bound `io` at `delay`, the CPU-bound `cpu` with `work`.
pub fn answers(io: &[StyleTimes], cpu: &[StyleTimes], delay: Delay, work: &Work) -> Option<String> {
    let secs = |rows: &[StyleTimes], who: Runner| {
        rows.iter().find(|r| r.mode == who).map(|r| r.last().as_secs_f64()).filter(|s| *s > 0.0)
    };
    let style = Runner::Style;
    let (seq, threads, aio) =
        (secs(io, style(Mode::Sequential))?, secs(io, style(Mode::ThreadPool))?, secs(io, style(Mode::Async))?);
    let cpu_seq = secs(cpu, style(Mode::Sequential))?;
    let cpu_threads = secs(cpu, style(Mode::ThreadPool))?;
    let cpu_async = secs(cpu, style(Mode::Async))?;
    let offloaded = secs(cpu, Runner::Offloaded)?;
    let processes = secs(cpu, style(Mode::ProcessPool))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ms = work.cpu.as_secs_f64() * 1000.0;
    let gil = if work.gil { "under the GIL" } else { "without the GIL" };
    // What the processes' time says: faster than one thread, or, on a
    // machine busy with other work (or with one core), no faster.
    let processes_said = match processes < 0.8 * cpu_seq {
        true => format!(
            "The processes, each with a GIL of its own, computed side by side: {processes:.2} s on {cores} cores."
        ),
        false => format!(
            "The processes, each with a GIL of its own, should compute side by side, but took {processes:.2} s, \
             no faster than one thread: this machine had no core to spare for them ({cores} cores, busy with other \
             work, or starting the processes cost more than it saved)."
        ),
    };
    Some(format!(
        "The chapter's two questions, answered by these runs. \
         Why are twenty threads {:.0}x faster than the sequential loop, when the GIL lets one thread run at a time? Because a thread \
         waiting for the network does not hold the GIL: in part one the twenty threads waited out their {delay} \
         together ({threads:.2} s against sequential's {seq:.2} s). Give each flag {ms:.0} ms of CPU {gil} and the \
         same threads take {cpu_threads:.2} s, no faster than one thread's {cpu_seq:.2} s: only one of them can \
         compute at a time. {processes_said} \
         And why is the event loop {:.0}x faster, though it is one thread too? Because it waits for all twenty answers at once \
         ({aio:.2} s), not for one after another. But a coroutine that computes holds the loop: async took \
         {cpu_async:.2} s, every other request stalled while one flag computed. Handed to the blocking pool \
         (--offload, asyncio's run_in_executor), the loop stays free and the downloads end at once; the work took \
         {offloaded:.2} s{}.",
        seq / threads,
        seq / aio,
        match work.gil {
            true => ", still one flag at a time, because the pool's threads share the GIL: in Python, CPU-bound \
                     work goes to a ProcessPoolExecutor",
            false => "",
        }
    ))
}
