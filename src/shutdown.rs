//! The one way a command is stopped: a [`Shutdown`], passed to every
//! command as `&Shutdown`.
//!
//! Its first step, [`Shutdown::stop`], asks the command to end cleanly: no
//! new work starts, the work in progress is ended the gentle way its hooks
//! say (a download's requests dropped, a process group sent SIGINT, a
//! server let finish its answers), and the command returns what it has,
//! so its destructors run. The second, [`Shutdown::abort`], is for a
//! process about to exit without unwinding: the work in progress is ended
//! now, and the files and folders the command registered as scratch are
//! removed.
//!
//! What drives it is the caller's: the binary hands it to the
//! [`Signals`] (below), a test calls [`Shutdown::stop`] itself. Inside a
//! download, the per-run `Cancel` (sockets to shut, the destination's
//! gate) is made by `download::run` and driven by the Shutdown.
//!
//! # Signals
//!
//! The signals that would end a long-running command are each given a
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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use signal_hook::consts::{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1};

type Hook = Box<dyn Fn() + Send>;

/// How a command is stopped; see the module doc.
#[derive(Default)]
pub struct Shutdown {
    stopped: AtomicBool,
    /// The signal that stopped it first (0: none).
    signal: AtomicI32,
    /// The steps in progress, each with its `stop` and `abort` hooks.
    steps: Mutex<Steps>,
    /// Woken once stopped, for [`Shutdown::wait`].
    stopping: Condvar,
    scratch: Mutex<Vec<PathBuf>>,
    /// Held by [`Shutdown::holding`]: an abort waits for it.
    hold: Mutex<()>,
}

#[derive(Default)]
struct Steps {
    next: u64,
    running: Vec<(u64, Hook, Hook)>,
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown").field("stopped", &self.is_stopped()).field("signal", &self.signal()).finish()
    }
}

impl Shutdown {
    /// True once stopped or aborted.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// The signal that stopped it, if a signal did (see [`Signals`]).
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }

    /// Stops: every step in progress is ended by its `stop` hook, and none
    /// starts that is not stopped at once. Idempotent.
    pub fn stop(&self) {
        let steps = self.steps();
        self.stopped.store(true, Ordering::SeqCst);
        for (_, stop, _) in &steps.running {
            stop();
        }
        self.stopping.notify_all();
    }

    /// [`Shutdown::stop`], because `signal` came (the first signal is
    /// kept, for the exit status).
    pub fn stop_by(&self, signal: i32) {
        self.came(signal);
        self.stop();
    }

    /// Keeps `signal` as the one that stopped it, unless one came before.
    fn came(&self, signal: i32) {
        let _ = self.signal.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Stops now, for a process about to exit: every step in progress is
    /// ended by its `abort` hook, then the scratch is removed. Waits for a
    /// [`Shutdown::holding`] in progress first.
    pub fn abort(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _held = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        let steps = self.steps();
        for (_, _, abort) in &steps.running {
            abort();
        }
        self.stopping.notify_all();
        for path in self.scratch.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }

    /// Blocks until stopped (a command with nothing to do but wait: a
    /// server serving one exam case).
    pub fn wait(&self) {
        let mut steps = self.steps();
        while !self.is_stopped() {
            steps = self.stopping.wait(steps).unwrap_or_else(|e| e.into_inner());
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

    /// Runs `make` with aborts held off, so that a file it makes and
    /// registers as scratch is removed by an abort that comes meanwhile,
    /// never left behind.
    pub fn holding<T>(&self, make: impl FnOnce() -> T) -> T {
        let _held = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        make()
    }

    /// Runs `work` as a step in progress, ended by `stop` or `abort` when
    /// the command is (by `stop` at once if it already was). Steps may
    /// nest and run side by side; each is ended by its own hooks.
    pub fn step<T>(
        &self,
        stop: impl Fn() + Send + 'static,
        abort: impl Fn() + Send + 'static,
        work: impl FnOnce() -> T,
    ) -> T {
        let id = {
            let mut steps = self.steps();
            if self.is_stopped() {
                stop();
            }
            let id = steps.next;
            steps.next += 1;
            steps.running.push((id, Box::new(stop), Box::new(abort)));
            id
        };
        // The step ends with `work`, even when `work` panics.
        struct Ends<'a>(&'a Shutdown, u64);
        impl Drop for Ends<'_> {
            fn drop(&mut self) {
                self.0.steps().running.retain(|(i, ..)| *i != self.1);
            }
        }
        let _ends = Ends(self, id);
        work()
    }

    fn steps(&self) -> MutexGuard<'_, Steps> {
        self.steps.lock().unwrap_or_else(|e| e.into_inner())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn a_stop_reaches_every_step_in_progress_and_one_that_starts_later() {
        let shutdown = Shutdown::default();
        let stops = Arc::new(AtomicUsize::new(0));
        let count = || {
            let stops = Arc::clone(&stops);
            move || {
                stops.fetch_add(1, Ordering::SeqCst);
            }
        };
        shutdown.step(
            count(),
            || {},
            || {
                shutdown.step(count(), || {}, || shutdown.stop_by(15));
            },
        );
        assert_eq!(stops.load(Ordering::SeqCst), 2, "the outer step and the one nested in it");
        shutdown.step(count(), || {}, || {});
        assert_eq!(stops.load(Ordering::SeqCst), 3, "a step after the stop is stopped at once");
        shutdown.stop_by(2);
        assert_eq!(shutdown.signal(), Some(15), "the first signal is kept");
        shutdown.wait();
    }

    #[test]
    fn an_abort_waits_for_what_is_being_made_and_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let shutdown = Arc::new(Shutdown::default());
        let (made, aborting) = std::sync::mpsc::channel();
        let aborter = {
            let shutdown = Arc::clone(&shutdown);
            std::thread::spawn(move || {
                aborting.recv().unwrap();
                shutdown.abort();
            })
        };
        shutdown.holding(|| {
            std::fs::write(&ca, b"a key").unwrap();
            // The abort comes now, while the file is not yet scratch.
            made.send(()).unwrap();
            while !shutdown.is_stopped() {
                std::thread::yield_now();
            }
            shutdown.scratch(&ca);
        });
        aborter.join().unwrap();
        assert!(!ca.exists(), "the abort waited, then removed it");
        shutdown.wait();
    }

    #[test]
    fn an_abort_removes_the_scratch_but_what_was_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (gone, kept) = (dir.path().join("gone"), dir.path().join("kept"));
        std::fs::create_dir(&gone).unwrap();
        std::fs::write(&kept, b"results").unwrap();
        let shutdown = Shutdown::default();
        shutdown.holding(|| {
            shutdown.scratch(&gone);
            shutdown.scratch(&kept);
        });
        shutdown.keep(&kept);
        shutdown.abort();
        assert!(shutdown.is_stopped() && !gone.exists() && kept.exists());
    }
}
