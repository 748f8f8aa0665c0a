mod cli;
mod executor;
mod faults;
mod get;
mod process_pool;
mod server;
mod styles;
pub mod util;
