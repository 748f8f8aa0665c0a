//! Commands run for the commands above: words quoted for `sh`
//! ([`quote`]), a command a user names with placeholders
//! ([`CommandPeer`]), and one process run and measured ([`measure`]). The
//! bench, the demo, the book and the exam share these; they live here,
//! below all four, so that no command reaches into another for them.

mod command;
pub mod measure;
mod quote;

pub use command::{CommandPeer, PeerSpecError};
pub use quote::quote;
