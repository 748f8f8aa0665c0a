//! SIGINT (Ctrl-C) and SIGTERM for the long-running commands, with one
//! rule: the first signal asks the command to stop cleanly, the second
//! means "now".
//!
//! The signals arrive on a thread of their own (signal-hook's iterator), so
//! the callbacks are ordinary code: they may lock, write files and join
//! threads, which a signal handler may not.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// The exit status of a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM.
pub fn exit_status(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

/// Which signal arrived first, once one has.
#[derive(Debug, Clone, Default)]
pub struct FirstSignal(Arc<AtomicI32>);

impl FirstSignal {
    /// The first signal received, if any.
    pub fn get(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }
}

/// SIGINT and SIGTERM, caught from the moment [`Signals::catch`] runs
/// (so one that arrives while the program is still starting is not lost)
/// and handled once [`Signals::watch`] says how.
pub struct Signals(signal_hook::iterator::Signals);

impl Signals {
    /// Catches SIGINT and SIGTERM from now on; they wait for [`Signals::watch`].
    pub fn catch() -> std::io::Result<Self> {
        Ok(Signals(signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?))
    }

    /// Handles the signals on a thread of their own: `first` runs on the
    /// first one, `again` on the second (it is expected to end the
    /// process). Returns what tells which signal came first.
    pub fn watch(
        mut self,
        first: impl FnOnce(i32) + Send + 'static,
        again: impl FnOnce(i32) + Send + 'static,
    ) -> std::io::Result<FirstSignal> {
        let seen = FirstSignal::default();
        let record = seen.clone();
        std::thread::Builder::new().name("flags-signals".into()).spawn(move || {
            let mut signals = self.0.forever();
            if let Some(signal) = signals.next() {
                record.0.store(signal, Ordering::SeqCst);
                first(signal);
            }
            if let Some(signal) = signals.next() {
                again(signal);
            }
        })?;
        Ok(seen)
    }

    /// The usual meaning: the first signal ends the process at once, with
    /// 130 or 143.
    pub fn exit_on_first(self) -> std::io::Result<()> {
        self.watch(|signal| std::process::exit(exit_status(signal).into()), |_| {}).map(drop)
    }
}
