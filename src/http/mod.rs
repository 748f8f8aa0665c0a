//! The HTTP client every style uses: one protocol core, two drivers.
//!
//! The rules (the wire, the policy, the exchange, the tries) are the
//! protocol core's, `crate::proto`, which does no I/O and reads no clock.
//! This module holds what does: sockets, TLS, the pool, the clock, and the
//! two drivers that move bytes between a socket and the core.
//!
//! | module | what it holds |
//! |---|---|
//! | `url` | [`BaseUrl`]: a base URL checked where it enters, credentials taken apart |
//! | `conn` | one connection of either client, and the look at its socket between answers |
//! | `pool` | idle keep-alive connections, shared by the clones of a client |
//! | `sockets` | [`Sockets`]: the registry Ctrl-C uses to end blocked reads |
//! | `clock` | the drivers' time: stamps, deadlines, and waits that look once more |
//! | `protocol` | [`Protocol`]: which HTTP version the async client speaks |
//! | `connect` | opening connections without overflowing a slow server's listen queue |
//! | `blocking` | [`BlockingClient`]: std sockets, for the sequential, thread and process styles |
//! | `nonblocking` | [`AsyncClient`]: tokio sockets, for the async style |
//! | `h2` | HTTP/2 for the async client: streams on a connection per server, more past its stream limit (hyper's framing) |
//! | `h2_limit` | the server's limit of streams at once, read from its SETTINGS frames as they pass to hyper |
//! | [`tls`] | the one rustls configuration both use for `https://`, and [`tls::Trust`] |
//!
//! The core's public modules are here under their old names too
//! ([`wire`], [`policy`], [`error`], [`gif`], [`trace`]), as most of the
//! crate reaches them through the client.
//!
//! **Why by hand.** The styles must give the same outcome for the same
//! server behaviour, and the libraries each decide some of it inside,
//! differently: ureq cuts a body longer than its `Content-Length` at that
//! length and drops the rest unseen (so it saved such a body as a flag),
//! follows redirects to any host, and resends on a reused connection only
//! if a probe saw it closed; hyper's client hides whether a failure came
//! before any byte of the answer. Here both drivers run the same exchange
//! and the same tries, and ask the same policy every question, so each
//! rule is written once. TLS is rustls's.
//!
//! **Streaming.** A body is handed to the caller piece by piece as it
//! arrives (into a file, see `save`), never gathered in memory, and a
//! connection keeps one 16 KiB buffer. Memory does not grow with what a
//! server sends.

pub(crate) mod blocking;
pub(crate) mod clock;
pub(crate) mod conn;
pub(crate) mod connect;
pub(crate) mod h2;
pub(crate) mod h2_limit;
pub(crate) mod nonblocking;
pub(crate) mod pool;
pub(crate) mod protocol;
pub(crate) mod sockets;
pub mod tls;
pub(crate) mod url;

pub use crate::proto::{error, gif, policy, trace, wire};

pub use crate::proto::syntax::reason_phrase;
pub use blocking::BlockingClient;
pub use error::{ConnectError, ContentError, FetchError};
pub use nonblocking::AsyncClient;
pub use policy::Limits;
pub use protocol::Protocol;
pub use sockets::Sockets;
pub use tls::Trust;
pub use url::BaseUrl;
