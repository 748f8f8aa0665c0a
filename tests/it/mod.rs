mod cli;
mod executor;
mod process_pool;
mod server;
mod styles;
pub mod util;
