//! Stopping a run from inside: one [`Cancel`] per run ties together
//! everything a stop must reach. It is the download's own view of the
//! caller's [`Shutdown`]: [`download::run`](super::run) makes it and runs
//! the download as a step of the Shutdown, whose stop cancels it and whose
//! abort aborts it. Nothing outside the download makes one.
//!
//! `Cancel::cancel` (the Shutdown's stop) stops every style the same way:
//! no code starts; the async style drops its requests in flight; the
//! blocking styles' sockets are shut, so a read blocked in the kernel
//! returns at once; sleeps between retries end; worker processes are told
//! to stop (a hook the process-pool style adds); and the destination's
//! [`Gate`] closes, so no file is renamed into place after `cancel`
//! returns. Each code still ends in exactly one outcome.
//!
//! `Cancel::abort` (the Shutdown's abort) does all that, removes every
//! temporary file, ends the worker processes, and holds the gate shut while
//! the process exits.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::http::Sockets;
use crate::save::{Gate, GateState};
#[cfg(doc)]
use crate::shutdown::Shutdown;

type Hook = Box<dyn Fn() + Send + Sync>;

/// A run's stop switch, driven by the Shutdown; see the module doc.
pub struct Cancel {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
    /// For blocking sleeps that must end on cancel.
    sleepers: (Mutex<()>, Condvar),
    sockets: Arc<Sockets>,
    gate: Arc<Gate>,
    on_cancel: Mutex<Vec<Hook>>,
    on_abort: Mutex<Vec<Hook>>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel").field("cancelled", &self.is_cancelled()).finish_non_exhaustive()
    }
}

impl Cancel {
    /// The switch of a run that saves into `dest`.
    pub(crate) fn new(dest: &Path) -> Arc<Self> {
        Arc::new(Cancel {
            flag: AtomicBool::new(false),
            notify: tokio::sync::Notify::new(),
            sleepers: (Mutex::new(()), Condvar::new()),
            sockets: Arc::default(),
            gate: Gate::new(dest),
            on_cancel: Mutex::default(),
            on_abort: Mutex::default(),
        })
    }

    /// The sockets a blocking client registers its connections in.
    pub fn sockets(&self) -> &Arc<Sockets> {
        &self.sockets
    }

    /// The destination's gate, where files are made and committed.
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// Runs `hook` on cancel (at once if already cancelled).
    pub(crate) fn on_cancel(&self, hook: impl Fn() + Send + Sync + 'static) {
        let mut hooks = self.on_cancel.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_cancelled() {
            drop(hooks);
            hook();
        } else {
            hooks.push(Box::new(hook));
        }
    }

    /// Runs `hook` on abort, before the temporary files are removed.
    pub(crate) fn on_abort(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.on_abort.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(hook));
    }

    /// Stops the run (see the module doc). Idempotent.
    pub(crate) fn cancel(&self) {
        let hooks = {
            let mut hooks = self.on_cancel.lock().unwrap_or_else(|e| e.into_inner());
            if self.flag.swap(true, Ordering::SeqCst) {
                return;
            }
            std::mem::take(&mut *hooks)
        };
        self.gate.close();
        self.sockets.halt();
        self.notify.notify_waiters();
        let _guard = self.sleepers.0.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.1.notify_all();
        drop(_guard);
        hooks.iter().for_each(|h| h());
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Completes when cancelled.
    pub async fn cancelled(&self) {
        let notified = self.notify.notified();
        if self.is_cancelled() {
            return;
        }
        notified.await
    }

    /// Sleeps `d`, or less if cancelled meanwhile; false if cancelled.
    pub fn sleep(&self, d: Duration) -> bool {
        let deadline = std::time::Instant::now() + d;
        let mut guard = self.sleepers.0.lock().unwrap_or_else(|e| e.into_inner());
        while !self.is_cancelled() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            guard = self.sleepers.1.wait_timeout(guard, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        false
    }

    /// Stops everything now, for a process about to exit: cancels, runs
    /// the abort hooks (ending worker processes), removes every temporary
    /// file, and returns a lock to hold until the process is gone.
    pub(crate) fn abort(&self) -> MutexGuard<'_, GateState> {
        self.cancel();
        for hook in self.on_abort.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            hook();
        }
        self.gate.abandon()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_wakes_sleepers_runs_hooks_once_and_closes_the_gate() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::new(dir.path());
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        cancel.on_cancel(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        let sleeper = {
            let cancel = Arc::clone(&cancel);
            std::thread::spawn(move || cancel.sleep(Duration::from_secs(30)))
        };
        std::thread::sleep(Duration::from_millis(50));
        let t0 = std::time::Instant::now();
        cancel.cancel();
        cancel.cancel();
        assert!(!sleeper.join().unwrap());
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(cancel.gate().create().is_err());
        assert!(cancel.sockets().halted());
    }
}
