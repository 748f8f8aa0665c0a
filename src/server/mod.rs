//! The flag server (`flags serve`): the book's flag site on your own machine,
//! with injectable delays and errors, because a load test belongs on your
//! own server, never a public one.
//!
//! - `config`: labels, delays, sources, [`ServerConfig`]; `stats`: the
//!   counters tests read ([`Stats`]).
//! - [`image`] draws the catalog's images; `files` serves `--dir`;
//!   `routes` answers requests; `pages` renders the gallery and
//!   listings; `faults` says which fault a request gets and `body`
//!   produces the faulty bodies; `conditional` handles ETag,
//!   Last-Modified and Range.
//! - Listening (`listen`): [`bind`] and the accept loop; [`run`] is one
//!   such loop on the caller's runtime, given a bound listener and a
//!   shutdown future.
//! - One connection (`connection`): TLS, then HTTP/1.1 or HTTP/2, each
//!   request answered with the connection's [`Peer`] (is the client still
//!   there; end with a reset), the only part of the socket an answer sees.
//! - A running server (`running`): [`spawn`] starts one on threads of its
//!   own, one per core, each with its own event loop and listening socket
//!   (see [`RunningServer`]); `flags serve`, the demo, the benchmarks and
//!   the tests all use it. [`RunningServer::shutdown`] stops accepting,
//!   lets the requests in flight finish for up to [`ServerConfig::grace`],
//!   and returns; [`RunningServer::serve_until`] does the same when a
//!   [`Shutdown`](crate::shutdown::Shutdown) is stopped (the one way a
//!   command stops; `handle` holds the server's side of it).
//! - `h1`: the server's own HTTP/1.1 (HTTP/2 is hyper's), so that a
//!   request held for a delay costs a few KB, not hyper's buffers.
//! - `lifetime`: every connection makes progress or is closed (header,
//!   idle and send timeouts, in every protocol).
//! - Nothing a client does ends the server: a connection that fails, is
//!   reset, or goes away is that connection's end only (SIGPIPE stays
//!   ignored, as Rust sets it, so a write to a closed socket is an error).
//!
//! Delays are `tokio::time::sleep`, so they hold no thread: thousands of
//! delayed responses can be in flight. Which requests are delayed how long
//! and which get a 418 is drawn from a hash of (seed, path, how many times
//! that path was asked for), so a given seed reproduces the same run
//! whatever order the requests arrive in.

pub(crate) mod body;
pub(crate) mod conditional;
pub(crate) mod config;
mod connection;
pub(crate) mod faults;
pub(crate) mod files;
pub(crate) mod h1;
mod handle;
pub mod image;
pub(crate) mod lifetime;
mod listen;
pub(crate) mod pages;
mod peer;
pub(crate) mod plan;
pub(crate) mod routes;
mod running;
pub(crate) mod stats;
pub(crate) mod timeline;
pub(crate) mod timeline_page;
pub(crate) mod tls;

pub use config::{Delay, Label, LogEntry, RequestLog, ServerConfig, Source};
pub use faults::{FaultKind, FaultPlan, FaultSettings};
pub use listen::{bind, run};
pub use peer::Peer;
pub use running::{spawn, RunningServer};
pub use stats::Stats;
pub use tls::{CertSource, ServerTls};
