//! The styles a user can pick, and the one `match` that turns a choice
//! into its [`Style`].

use std::fmt;

use super::job::Style;
use super::{asyncio, processpool, sequential, threadpool};

/// The styles a user can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Mode {
    /// One after another (the book's flags.py).
    Sequential,
    /// A pool of threads (flags_threadpool.py).
    #[value(name = "threadpool")]
    ThreadPool,
    /// Tasks on tokio (flags_asyncio.py).
    Async,
    /// A pool of worker processes.
    #[value(name = "processpool")]
    ProcessPool,
}

impl Mode {
    /// Every mode, in the order the demo runs them.
    pub const ALL: [Mode; 4] = [Mode::Sequential, Mode::ThreadPool, Mode::Async, Mode::ProcessPool];

    /// The style that implements this mode.
    pub fn style(self) -> Box<dyn Style> {
        match self {
            Mode::Sequential => Box::new(sequential::Sequential),
            Mode::ThreadPool => Box::new(threadpool::ThreadPool),
            Mode::Async => Box::new(asyncio::Asyncio),
            Mode::ProcessPool => Box::new(processpool::ProcessPool),
        }
    }

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sequential => "sequential",
            Mode::ThreadPool => "threadpool",
            Mode::Async => "async",
            Mode::ProcessPool => "processpool",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
