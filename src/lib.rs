//! `flags` downloads country-flag images over HTTP in several concurrency
//! styles and measures what each costs: a Rust port of the flag downloaders
//! in Fluent Python, with a flag server of its own.
//!
//! # Module map
//!
//! Data flows one way: codes -> a style's `download_many` -> one outcome
//! per code -> a value the caller gets back. The library never prints: its
//! commands ([`get`], [`demo`], [`bench`](mod@bench), [`server`]) return
//! values and tell their progress to an observer the caller passes in. The
//! binary (`src/main.rs`, the command layer) passes the printers of
//! [`report`], the one module that prints. No module imports a module that
//! imports it back, file by file and between the top-level modules below:
//! what two of them share lives in a third below both (`tests/it/layout.rs`
//! checks).
//!
//! | module | what it holds |
//! |---|---|
//! | [`cli`] | command-line arguments and the validated configurations they become |
//! | [`countries`] | [`CountryCode`](countries::CountryCode), POP20, the catalog of 194 flags, code expansion (`b`, `-a`, `-e`, `-l`) |
//! | [`get`] | `flags get`: the flags2/flags3 downloader, returning a [`GetReport`](get::GetReport) |
//! | [`demo`] | the chapter's experiment against the embedded server (`flags` alone), and part two: CPU work under the model GIL |
//! | [`bench`](mod@bench) | `flags bench`: workloads, process measurements, peers, JSON and SVG |
//! | [`book`] | `flags book`: the book's own scripts, from the reader's checkout, each beside the style that does the same |
//! | [`exam`] | `flags exam`: the catalog of misbehaving servers and the controls, their stages, each run watched (its cgroup or session), the grader, the report card as data, baselines and merges |
//! | [`download`] | the [`Style`](download::Style) trait, one module per style, the per-code pipeline, timelines, stopping a run |
//! | [`executor`] | the `concurrent-futures` crate (a workspace member): thread and process pools with Python's futures |
//! | [`http`] | the client: one policy, a blocking and an async driver, TLS, base URLs |
//! | [`save`] | file names, and files that are complete or absent |
//! | [`served`] | the server's record of its requests as plain data ([`Served`](served::Served), [`Document`](served::Document)): the server writes it, [`waterfall`] draws it |
//! | [`server`] | the flag server: listening, one connection by protocol, a running server and its stop handle; catalog images, `--dir`, routes, delays and faults, the gallery, its own HTTP/1.1 (HTTP/2 is hyper's) |
//! | [`report`] | everything that prints: the seed's lines, flags2 reports, JSON, tables, the server's log |
//! | [`shell`] | commands run for the commands above: words quoted for `sh`, a command a user names (`--peer`), one process run and measured |
//! | [`signals`] | Ctrl-C, SIGTERM and SIGHUP: the first stops cleanly, the second (or SIGQUIT) at once; SIGUSR1 and SIGALRM end nothing |
//! | [`waterfall`] | a run's timelines drawn (SVG, HTML, Unicode blocks for the terminal) and listed (Trace Event for Perfetto, HAR 1.2 for a browser's network panel), the form chosen by the file's name |
//! | [`work`] | CPU work per flag (`--work`) and the model GIL (`--gil`), called by every style at one point of the pipeline |
//! | [`ident`] | how `flags` names itself on the wire |
//! | [`capture`] | what a child process prints, kept bounded: its first and last bytes and their count |
//! | [`os`] | every call that is not the same on every Unix (clocks, a peer's hang-up, a process's memory), gated in one place |

pub mod bench;
pub mod book;
pub mod capture;
pub mod cli;
pub mod countries;
pub mod demo;
pub mod download;
pub mod exam;
pub use concurrent_futures as executor;
pub mod get;
pub mod http;
pub mod ident;
pub mod os;
pub mod report;
pub mod save;
pub mod served;
pub mod server;
pub mod shell;
pub mod signals;
pub mod waterfall;
pub mod work;

pub use countries::POP20;

/// The base URL the examples download from: `FLAGS_BASE_URL`, or the
/// book's `LOCAL` server (`http://localhost:8000/flags`).
pub fn examples_base_url() -> Result<http::BaseUrl, http::url::UrlError> {
    match std::env::var("FLAGS_BASE_URL") {
        Ok(url) => url.parse(),
        Err(_) => Ok(server::Label::Local.base()),
    }
}
