mod cli;
mod executor;
mod server;
mod styles;
pub mod util;
