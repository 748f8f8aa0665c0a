//! The main job (`flags` with no arguments): the chapter's experiment, and
//! the chapter's closing questions. Part one starts the embedded server on
//! a free loopback port with a CDN-like latency and downloads POP20 with
//! every style; part two downloads them from a server with no delay, each
//! flag given CPU work under the model GIL. It returns each style's times;
//! what a person sees along the way comes from the caller's
//! [`DemoObserver`].
//!
//! | module | what it holds |
//! |---|---|
//! | `spec` | the configuration, the observer, what a run returns |
//! | `legs` | one style's runs, as a step Ctrl-C cancels, and its waterfall |
//! | `io` | part one: the styles at the demo's delay, then the `--peer` commands |
//! | `cpu` | part two: the styles with `--work`, and the answers to the chapter's questions |
//! | `page` | `demo-timeline.html` |
//! | `peer` | a command run against the server (`--peer`, the book's scripts), and the server's record of it |

pub(crate) mod cpu;
pub(crate) mod io;
pub(crate) mod legs;
pub(crate) mod page;
pub(crate) mod peer;
pub(crate) mod spec;

pub use legs::waterfall_rows;
pub use page::{timeline_path, where_the_cpu_goes, where_the_time_goes, write_timeline};
pub use spec::{
    default_work, Demo, DemoConfig, DemoError, DemoObserver, Leg, LegObserver, PeerRun, Runner, StyleTimes,
};

use crate::save;
use crate::shutdown::Shutdown;

/// Runs the demo: part one, then part two unless the config has no work
/// or `shutdown` was stopped, then its timeline page, telling `observer`
/// all along. When `shutdown` is stopped, the run in progress is cancelled
/// as `flags get` cancels one and no other starts; the observer is told of
/// the styles that ran to their end.
pub fn run(config: &DemoConfig, observer: &dyn DemoObserver, shutdown: &Shutdown) -> Result<Demo, DemoError> {
    let demo = run_parts(config, observer, shutdown)?;
    if shutdown.signal().is_some() {
        observer.interrupted(&demo);
        return Ok(demo);
    }
    let path = timeline_path(config);
    let written = write_timeline(&demo, config.delay, &path).map(|()| path.as_path());
    observer.ended(&demo, config, written);
    Ok(demo)
}

/// Part one, then part two unless the config has no work or `shutdown`
/// was stopped.
fn run_parts(config: &DemoConfig, observer: &dyn DemoObserver, shutdown: &Shutdown) -> Result<Demo, DemoError> {
    save::prepare_dest(&config.dest).map_err(|source| DemoError::Dest { dir: config.dest.clone(), source })?;
    // Each part whole, its runs then its table and pictures, before the next.
    let io = io::run(config, observer, shutdown)?;
    if !shutdown.is_stopped() {
        observer.part_ended(&io, None);
    }
    let cpu = match config.work {
        Some(work) if !shutdown.is_stopped() => cpu::run(config, work, observer, shutdown)?,
        _ => Vec::new(),
    };
    if let (false, false, Some(work)) = (cpu.is_empty(), shutdown.is_stopped(), config.work.as_ref()) {
        observer.part_ended(&cpu, Some(work));
    }
    Ok(Demo { io, cpu, work: config.work })
}
