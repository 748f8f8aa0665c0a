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
//! The signals arrive on a thread of their own (signal-hook's iterator), so
//! the callbacks are ordinary code: they may lock, write files and join
//! threads, which a signal handler may not.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use signal_hook::consts::{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1};

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

    /// Handles the signals on a thread of their own: `first` runs on the
    /// first stop signal (SIGINT, SIGTERM, SIGHUP), `again` on a second
    /// one or on SIGQUIT (it is expected to end the process); SIGUSR1 and
    /// SIGALRM are let go. Returns what tells which signal came first.
    pub fn watch(
        mut self,
        first: impl FnOnce(i32) + Send + 'static,
        again: impl FnOnce(i32) + Send + 'static,
    ) -> std::io::Result<FirstSignal> {
        let seen = FirstSignal::default();
        let record = seen.clone();
        std::thread::Builder::new().name("flags-signals".into()).spawn(move || {
            // The one thread that takes them (see `catch`).
            let _ = mask(false);
            let mut signals = self.0.forever().filter(|s| !IGNORED.contains(s));
            let Some(signal) = signals.next() else { return };
            record.0.store(signal, Ordering::SeqCst);
            let signal = match signal {
                NOW => signal,
                _ => {
                    first(signal);
                    let Some(signal) = signals.next() else { return };
                    signal
                }
            };
            again(signal);
        })?;
        Ok(seen)
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

type Hook = Box<dyn Fn() + Send>;

/// How a command that works in steps is stopped (the demo's runs, the
/// bench's processes): [`Stop::stop`] ends the step in progress the gentle
/// way its hooks say and no other starts; [`Stop::abort`] ends it now. The
/// command checks [`Stop::is_stopped`] between steps and returns what it
/// has, so its destructors run (temporary files and folders removed). An
/// abort, for a process about to exit without unwinding, removes the
/// scratch it was told of ([`Stop::scratch`]) itself.
#[derive(Default)]
pub struct Stop {
    stopped: AtomicBool,
    step: Mutex<Option<(Hook, Hook)>>,
    scratch: Mutex<Vec<PathBuf>>,
}

impl Stop {
    /// True once stopped or aborted.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Stops: the step in progress is ended by its `stop` hook.
    pub fn stop(&self) {
        let step = self.step.lock().unwrap_or_else(|e| e.into_inner());
        self.stopped.store(true, Ordering::SeqCst);
        if let Some((stop, _)) = step.as_ref() {
            stop();
        }
    }

    /// Stops now: the step in progress is ended by its `abort` hook, and
    /// the scratch is removed, for a process about to exit.
    pub fn abort(&self) {
        let step = self.step.lock().unwrap_or_else(|e| e.into_inner());
        self.stopped.store(true, Ordering::SeqCst);
        if let Some((_, abort)) = step.as_ref() {
            abort();
        }
        for path in self.scratch.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }

    /// A file or folder of the command's own that an abort removes (its
    /// destructor would, but an abort exits without running it).
    pub fn scratch(&self, path: &Path) {
        self.scratch.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_path_buf());
    }

    /// `path` is no longer scratch: what the command made of it stays.
    pub fn keep(&self, path: &Path) {
        self.scratch.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| p != path);
    }

    /// Runs `work` as the step in progress, ended by `stop` or `abort`
    /// when the command is (by `stop` at once if it already was).
    pub fn step<T>(
        &self,
        stop: impl Fn() + Send + 'static,
        abort: impl Fn() + Send + 'static,
        work: impl FnOnce() -> T,
    ) -> T {
        {
            let mut step = self.step.lock().unwrap_or_else(|e| e.into_inner());
            if self.is_stopped() {
                stop();
            }
            *step = Some((Box::new(stop), Box::new(abort)));
        }
        let done = work();
        *self.step.lock().unwrap_or_else(|e| e.into_inner()) = None;
        done
    }
}

impl Signals {
    /// Handles the signals for a command that works in steps: the first
    /// stops it ([`Stop::stop`]); the second, or SIGQUIT, aborts it and
    /// ends the process with 128 + the signal's number. Returns what tells
    /// which signal came first.
    pub fn stop_steps(self, stop: &Arc<Stop>) -> std::io::Result<FirstSignal> {
        let (first, again) = (Arc::clone(stop), Arc::clone(stop));
        self.watch(
            move |_| first.stop(),
            move |signal| {
                again.abort();
                std::process::exit(exit_status(signal).into());
            },
        )
    }
}
