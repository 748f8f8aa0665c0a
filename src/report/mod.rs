//! Everything a person (or a script) sees. Styles, the executor and the
//! server never print; they hand outcomes and results here.
//!
//! - [`seed`]: the seed's output (codes as they are saved, then
//!   `20 flags downloaded in 7.26s`), the demo's table, `flags serve`'s banner.
//! - [`bench`](mod@bench): `flags bench`'s table and BENCHMARKS.md.
//! - [`get`]: `flags get`'s flags2-style report: initial report, progress
//!   bar or one line per code, final counts, or the same as JSON.

pub mod bench;
pub mod get;
pub mod out;
pub mod seed;

pub use seed::{
    demo_end, demo_intro, demo_run_header, demo_table, seed_line, seed_summary, server_log, serving, show, stopped,
    Quiet, SeedSink, StyleTimes,
};
