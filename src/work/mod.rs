//! CPU work per flag (`flags get --work`), and the model GIL (`--gil`).
//!
//! Every style calls [`compute()`] at the same point of its pipeline: once a
//! flag has arrived whole and checked, before it is saved. So the styles
//! still differ only in where that call runs: inline for the sequential
//! style, on the worker thread for the thread pool, in the worker process
//! for the process pool, and for the async style on the event loop itself
//! (blocking it, as a coroutine that computes does) or with `--offload` on
//! tokio's blocking pool (`run_in_executor`'s counterpart).
//!
//! | module | what it holds |
//! |---|---|
//! | `spec` | [`Work`] (what is asked) and [`Worked`] (what was done: units, digest, CPU time, phases) |
//! | [`chain`] | the computation: a chain of FNV-1a hashes over the flag's bytes, checkable by anyone |
//! | `gil` | the model of CPython's global interpreter lock, one per process |
//! | `compute` | the loop: units until the CPU budget is spent, under the GIL if asked |
//! | `summary` | a run's work summed: CPU time, units, what one unit cost |

pub mod chain;
pub(crate) mod compute;
pub(crate) mod gil;
pub(crate) mod spec;
pub(crate) mod summary;

pub use compute::compute;
pub use gil::Gil;
pub use spec::{Phase, PhaseKind, Work, Worked, DEFAULT_SWITCH_INTERVAL};
pub use summary::Summary;
