//! SIGINT (Ctrl-C) and SIGTERM for the long-running commands, with one
//! rule: the first signal asks the command to stop cleanly, the second
//! means "now".
//!
//! The signals arrive on a thread of their own (signal-hook's iterator), so
//! the callbacks are ordinary code: they may lock, write files and join
//! threads, which a signal handler may not.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

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
}

type Hook = Box<dyn Fn() + Send>;

/// How a command that works in steps is stopped (the demo's runs, the
/// bench's processes): [`Stop::stop`] ends the step in progress the gentle
/// way its hooks say and no other starts; [`Stop::abort`] ends it now. The
/// command checks [`Stop::is_stopped`] between steps and returns what it
/// has, so its destructors run (temporary files and folders removed).
#[derive(Default)]
pub struct Stop {
    stopped: AtomicBool,
    step: Mutex<Option<(Hook, Hook)>>,
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

    /// Stops now: the step in progress is ended by its `abort` hook, for a
    /// process about to exit.
    pub fn abort(&self) {
        let step = self.step.lock().unwrap_or_else(|e| e.into_inner());
        self.stopped.store(true, Ordering::SeqCst);
        if let Some((_, abort)) = step.as_ref() {
            abort();
        }
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
    /// stops it ([`Stop::stop`]); the second aborts it and ends the process
    /// with 130 or 143. Returns what tells which signal came first.
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
