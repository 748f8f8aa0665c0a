//! The HTTP client every style uses: one policy, two drivers.
//!
//! | module | what it holds |
//! |---|---|
//! | [`url`] | [`BaseUrl`]: a base URL checked where it enters, credentials taken apart |
//! | [`wire`] | HTTP/1.1 without I/O: the GET's bytes and a response [`wire::Reader`] |
//! | [`policy`] | what the client accepts: statuses, redirects, sizes, what a flag is, when to resend |
//! | [`error`] | [`FetchError`]: why a request gave no flag, with its cause |
//! | `exchange` | one HTTP/1.1 request and its answer as a state machine without I/O, which both drivers run |
//! | [`conn`] | what connections share: limits, buffer, the pool, the registry Ctrl-C uses, reuse |
//! | [`connect`] | opening connections without overflowing a slow server's listen queue |
//! | [`blocking`] | [`BlockingClient`]: std sockets, for the sequential, thread and process styles |
//! | [`nonblocking`] | [`AsyncClient`]: tokio sockets, for the async style |
//! | [`h2`] | HTTP/2 for the async client: streams on a connection per server, more past its stream limit (hyper's framing) |
//! | [`h2_limit`] | the server's limit of streams at once, read from its SETTINGS frames as they pass to hyper |
//! | [`tls`] | the one rustls configuration both use for `https://`, and [`tls::Trust`] |
//! | [`trace`] | when a request's steps happened: [`trace::Trace`], for the timelines |
//!
//! **Why by hand.** The styles must give the same outcome for the same
//! server behaviour, and the libraries each decide some of it inside,
//! differently: ureq cuts a body longer than its `Content-Length` at that
//! length and drops the rest unseen (so it saved such a body as a flag),
//! follows redirects to any host, and resends on a reused connection only
//! if a probe saw it closed; hyper's client hides whether a failure came
//! before any byte of the answer. Here both drivers run the same
//! [`wire::Reader`] (heads parsed by `httparse`) and ask [`policy`] every
//! question, so each rule is written once. TLS is rustls's.
//!
//! **Streaming.** A body is handed to the caller piece by piece as it
//! arrives (into a file, see `save`), never gathered in memory, and a
//! connection keeps one 16 KiB buffer. Memory does not grow with what a
//! server sends.

pub mod blocking;
pub mod conn;
pub mod connect;
pub mod error;
pub(crate) mod exchange;
pub mod gif;
pub mod h2;
pub mod h2_limit;
pub mod nonblocking;
pub mod policy;
pub mod tls;
pub mod trace;
pub mod url;
pub mod wire;

pub use blocking::BlockingClient;
pub use conn::{Limits, Protocol, Sockets};
pub use error::{reason_phrase, ConnectError, ContentError, FetchError};
pub use nonblocking::AsyncClient;
pub use tls::Trust;
pub use url::BaseUrl;
