//! `flags` downloads country-flag images over HTTP in several concurrency
//! styles and measures what each costs: a Rust port of the flag downloaders
//! in Fluent Python, with a flag server of its own.
//!
//! # Module map
//! Data flows one way: codes -> a style's `download_many` -> one outcome per
//! code -> a sink that reports.
//!
//! | module | what it holds |
//! |---|---|
//! | [`countries`] | POP20, the catalog of 194 flags, code expansion (`b`, `-a`, `-e`, `-l`) |
//! | [`executor`] | `ThreadPoolExecutor`, `ProcessPoolExecutor`, `Future`, `as_completed`, `wait`: concurrent.futures for Rust |
//! | [`download`] | the `Style` trait and one module per style: sequential, threadpool, asyncio, processpool |
//! | [`http`] | the blocking client (ureq), the async one (hyper for http, reqwest for https), their one error type |
//! | [`save`] | file names and atomic writes |
//! | [`report`] | everything that prints: seed lines, tables, flags2 reports, JSON |
//! | [`server`] | the flag server: catalog images, routes, delays and errors |
//! | [`demo`] | the seed's experiment against the embedded server (`flags` alone) |
//! | [`get`] | `flags get`: the flags2/flags3 downloader and its report |
//! | [`bench`](mod@bench) | `flags bench`: workloads, process measurements, peers, JSON and SVG |
//! | [`cli`] | command-line arguments and the validated configuration they become |
//! | [`signals`] | Ctrl-C and SIGTERM: the first stops cleanly, the second at once |

pub mod bench;
pub mod cli;
pub mod countries;
pub mod demo;
pub mod download;
pub use concurrent_futures as executor;
pub mod get;
pub mod http;
pub mod report;
pub mod save;
pub mod server;
pub mod signals;

pub use countries::POP20;

/// The base URL the examples download from: `FLAGS_BASE_URL`, or the
/// book's `LOCAL` server (`http://localhost:8000/flags`).
pub fn examples_base_url() -> Result<http::BaseUrl, http::url::UrlError> {
    match std::env::var("FLAGS_BASE_URL") {
        Ok(url) => url.parse(),
        Err(_) => Ok(server::Label::Local.base()),
    }
}
