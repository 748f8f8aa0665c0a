//! `flags` downloads country-flag images over HTTP in several concurrency
//! styles and measures what each costs: a Rust port of the flag downloaders
//! in Fluent Python, with a flag server of its own.
//!
//! # Module map
//!
//! Data flows one way: codes -> a style's `download_many` -> one outcome
//! per code -> a value the caller gets back. The library never prints: its
//! commands ([`get`], [`demo`], [`bench`](mod@bench), [`book`], [`exam`],
//! and `flags serve` in [`cli::serve`]) are run the same way, `run(&config,
//! &observer, &shutdown)`: a configuration with no runtime handle in it, an
//! observer told of the progress and the end, and the one
//! [`Shutdown`](shutdown::Shutdown) that stops them. They return values,
//! and how they ended ([`cli::Exit`]). The binary (`src/main.rs`, under a
//! hundred lines) parses, hands the signals to the Shutdown, passes the
//! printers of [`report`], the one module that prints, and maps the end to
//! an exit status. No module imports a module that imports it back, file
//! by file and between the top-level modules below: what two of them share
//! lives in a third below both (`tests/it/layout.rs` checks).
//!
//! The library's API is the linked modules; a module named in plain text
//! is the library's own (`pub(crate)`), shown by
//! `cargo doc --document-private-items`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`cli`] | command-line arguments, the validated configuration of each command they become (a file a command), how a command ended ([`Exit`](cli::Exit)); `flags serve` and the exam's outputs run as the binary runs them |
//! | [`countries`] | [`CountryCode`](countries::CountryCode), POP20, the catalog of 194 flags, code expansion (`b`, `-a`, `-e`, `-l`) |
//! | [`get`] | `flags get`: the flags2/flags3 downloader, returning a [`GetReport`](get::GetReport) |
//! | [`demo`] | the chapter's experiment against the embedded server (`flags` alone), and part two: CPU work under the model GIL |
//! | [`bench`](mod@bench) | `flags bench`: workloads, process measurements, peers, JSON and SVG |
//! | [`book`] | `flags book`: the book's own scripts, from the reader's checkout, each beside the style that does the same |
//! | [`exam`] | `flags exam`: the catalog of misbehaving servers and the controls, their stages, each run watched (its cgroup or session), the grader, the report card as data, baselines and merges |
//! | [`download`] | the [`Style`](download::Style) trait, one module per style, the per-code pipeline, timelines, a run's `Cancel` (sockets and destination gate, driven by the Shutdown) |
//! | [`executor`] | the `concurrent-futures` crate (a workspace member): thread and process pools with Python's futures |
//! | `proto` | HTTP as rules and states, with no I/O and no clock: the syntax the client, the server and the exam share, the client's wire and policy, its exchange and tries, fed bytes and `now` |
//! | [`http`] | the client's I/O: sockets, TLS, the pool, the clock, and the blocking and async drivers that run `proto` |
//! | [`save`] | file names, and files that are complete or absent |
//! | `served` | the server's record of its requests as plain data (`Served`, `Document`): the server writes it, `waterfall` draws it |
//! | [`server`] | the flag server: listening, one connection by protocol, a running server and its stop handle; catalog images, `--dir`, routes, delays and faults, the gallery, its own HTTP/1.1 (HTTP/2 is hyper's) |
//! | [`report`] | everything that prints: the seed's lines, flags2 reports, JSON, tables, the server's log |
//! | [`shell`] | commands run for the commands above: words quoted for `sh`, a command a user names (`--peer`), one process run and measured |
//! | [`shutdown`] | the one way a command is stopped, a [`Shutdown`](shutdown::Shutdown) every command takes: its first step stops cleanly, its second aborts; the signals that drive it (Ctrl-C, SIGTERM and SIGHUP stop, a second one or SIGQUIT aborts; SIGUSR1 and SIGALRM end nothing) |
//! | `waterfall` | a run's timelines drawn (SVG, HTML, Unicode blocks for the terminal) and listed (Trace Event for Perfetto, HAR 1.2 for a browser's network panel), the form chosen by the file's name |
//! | [`work`] | CPU work per flag (`--work`) and the model GIL (`--gil`), called by every style at one point of the pipeline |
//! | `ident` | how `flags` names itself on the wire |
//! | `capture` | what a child process prints, kept bounded: its first and last bytes and their count |
//! | [`os`] | every call that is not the same on every Unix (clocks, a peer's hang-up, a process's memory), gated in one place |

pub mod bench;
pub mod book;
pub(crate) mod capture;
pub mod cli;
pub mod countries;
pub mod demo;
pub mod download;
pub mod exam;
pub use concurrent_futures as executor;
pub mod get;
pub mod http;
pub(crate) mod ident;
pub mod os;
pub(crate) mod proto;
pub mod report;
pub mod save;
pub(crate) mod served;
pub mod server;
pub mod shell;
pub mod shutdown;
pub(crate) mod waterfall;
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
