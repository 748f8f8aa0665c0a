//! Everything a person (or a script) sees. Styles, the executor and the
//! server never print; they hand outcomes and results here. Each command
//! has its printer, an observer the binary passes to the command's `run`
//! (`get::Printer`, [`DemoPrinter`], `book::BookPrinter`,
//! `bench::Printer`, `serve::Printer`, `exam::Printer`), which calls the
//! functions below.
//!
//! - [`seed`]: the seed's output (codes as they are saved, then
//!   `20 flags downloaded in 7.26s`), the demo's runs and table.
//! - [`book`](mod@book): `flags book`'s runs, and the chapter's table with both columns.
//! - [`get`]: `flags get`'s flags2-style report: initial report, progress
//!   bar or one line per code, final counts, or the same as JSON.
//! - [`serve`]: `flags serve`'s banner and request log.
//! - [`bench`](mod@bench): `flags bench`'s table and BENCHMARKS.md.
//! - [`exam`]: `flags exam`'s listing, progress, grid, JSON and baseline
//!   differences; [`exam_html`] its report card, [`exam_junit`] its JUnit
//!   XML, [`exam_markdown`] its summary for a CI job's page.
//! - [`out`]: stdout that may be closed under us.

pub mod bench;
pub mod book;
pub mod exam;
pub mod exam_html;
pub mod exam_junit;
pub mod exam_markdown;
pub mod get;
pub mod out;
pub mod seed;
pub mod serve;

pub use seed::{seed_line, show, DemoPrinter, SeedSink};
