//! The signals that would end a long-running command, each given a
//! meaning that keeps the command's promises (no temporary file, no
//! process left, nothing half-written):
//!
//! | signal | what it does | exit status |
//! |---|---|---|
//! | SIGINT (Ctrl-C) | stops cleanly; a second stop signal means "now" | 130 |
//! | SIGTERM | the same | 143 |
//! | SIGHUP (a closed terminal, a dropped ssh session) | the same | 129 |
//! | SIGQUIT (Ctrl-\\) | "now" at once, like a second Ctrl-C: no core, no file left | 131 |
//! | SIGUSR1, SIGALRM | nothing: caught and ignored, so a stray one cannot end a run half-written | - |
//!
//! Ignored signals are caught rather than set to `SIG_IGN`, which the
//! programs a command starts (a bench's peers) would inherit.
//!
//! The signals arrive on a thread of their own (signal-hook's iterator),
//! which drives a [`Shutdown`]: so the hooks of its steps are ordinary
//! code that may lock, write files and join threads, which a signal
//! handler may not.

use std::sync::Arc;

use signal_hook::consts::{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1};

use super::Shutdown;

/// The signals that stop a command cleanly; a second one means "now".
pub const STOPPING: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];
/// The signal that means "now" at once.
pub const NOW: i32 = SIGQUIT;
/// The signals caught only so that they end nothing.
pub const IGNORED: [i32; 2] = [SIGUSR1, SIGALRM];

/// The exit status of a process ended by `signal` (128 + its number): 129
/// for SIGHUP, 130 for SIGINT, 131 for SIGQUIT, 143 for SIGTERM.
pub fn exit_status(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

/// The signals of the module's table, caught from the moment
/// [`Signals::catch`] runs (so one that arrives while the program is still
/// starting is not lost) and handled once [`Signals::watch`] says how.
pub struct Signals(signal_hook::iterator::Signals);

impl Signals {
    /// Catches the signals of the module's table from now on; they wait
    /// for [`Signals::watch`].
    ///
    /// They are also blocked in the calling thread, and so in every thread
    /// it starts from now on: only the thread of [`Signals::watch`] takes
    /// them. A signal taken by another thread would end a blocking read on
    /// a socket with a timeout (`EINTR`, which `SA_RESTART` does not
    /// restart), and an ignored SIGUSR1 would fail a download. Should
    /// `catch` run before any other thread starts, as in `main`, the
    /// processes started later get an empty mask from the standard
    /// library's spawn.
    pub fn catch() -> std::io::Result<Self> {
        let signals = signal_hook::iterator::Signals::new(caught())?;
        mask(true)?;
        Ok(Signals(signals))
    }

    /// Hands the signals to `shutdown`, on a thread of their own: the
    /// first stop signal (SIGINT, SIGTERM, SIGHUP) stops it
    /// ([`Shutdown::stop_by`]); a second one, or SIGQUIT, aborts it
    /// ([`Shutdown::abort`]) and ends the process with 128 + the signal's
    /// number. SIGUSR1 and SIGALRM are let go.
    pub fn watch(mut self, shutdown: Arc<Shutdown>) -> std::io::Result<()> {
        std::thread::Builder::new().name("flags-signals".into()).spawn(move || {
            // The one thread that takes them (see `catch`).
            let _ = mask(false);
            let mut signals = self.0.forever().filter(|s| !IGNORED.contains(s));
            let Some(signal) = signals.next() else { return };
            let signal = match signal {
                NOW => signal,
                _ => {
                    shutdown.stop_by(signal);
                    let Some(signal) = signals.next() else { return };
                    signal
                }
            };
            shutdown.came(signal);
            shutdown.abort();
            std::process::exit(exit_status(signal).into());
        })?;
        Ok(())
    }
}

/// Every signal [`Signals`] catches.
fn caught() -> impl Iterator<Item = i32> {
    STOPPING.into_iter().chain([NOW]).chain(IGNORED)
}

/// Blocks (`block`) or unblocks the caught signals in
/// the calling thread.
fn mask(block: bool) -> std::io::Result<()> {
    crate::os::mask_signals(block, caught())
}
