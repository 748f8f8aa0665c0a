//! The server's own HTTP/1.1, written by hand so that a connection holds
//! only what it needs: hyper's server connection keeps an 8 KB read buffer
//! (two while a request is answered) and an 8 KB write buffer for its whole
//! life, and accepts none smaller, so 10 000 delayed requests took 230 MB.
//! HTTP/2 stays hyper's.
//!
//! - [`wire`]: the rules, without I/O: request heads in, answer heads out.
//! - [`conn`]: the driver that moves the bytes ([`serve`]).

pub(crate) mod conn;
pub(crate) mod wire;

pub use conn::{serve, Closing};
