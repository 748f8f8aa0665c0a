//! `FutureHandle<T>`: a handle to the result of a job submitted to an executor.
//!
//! A future is an `Arc` around one slot guarded by a `Mutex`, plus a
//! `Condvar` for threads blocked in [`FutureHandle::result`]. The executor moves
//! the slot through `Pending -> Running -> Finished`, or `Pending ->
//! Cancelled` when [`FutureHandle::cancel`] wins the race against a worker. Every
//! transition to a done state wakes the `Condvar` and then runs, once and
//! outside the lock, the callbacks registered so far; callbacks registered
//! later run at once. `as_completed` and `wait` use the same hook.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::FutureError;

/// Where a future is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FutureState {
    /// Queued, waiting for a worker.
    Pending,
    /// A worker is running the job.
    Running,
    /// The job returned, panicked or could not run; the result is stored.
    Finished,
    /// Cancelled before a worker picked it up.
    Cancelled,
}

impl FutureState {
    /// The name Python's `repr` uses (`pending`, `running`, `finished`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            FutureState::Pending => "pending",
            FutureState::Running => "running",
            FutureState::Finished => "finished",
            FutureState::Cancelled => "cancelled",
        }
    }

    fn is_done(self) -> bool {
        matches!(self, FutureState::Finished | FutureState::Cancelled)
    }
}

type Callback<T> = Box<dyn FnOnce(&FutureHandle<T>) + Send>;

struct Slot<T> {
    state: FutureState,
    result: Option<Result<T, FutureError>>,
    callbacks: Vec<Callback<T>>,
    /// Threads blocked in `wait_done`; the `Condvar` is only signalled when
    /// there are some, since signalling costs a syscall either way.
    sleepers: usize,
}

struct Inner<T> {
    slot: Mutex<Slot<T>>,
    done: Condvar,
}

/// A cheap, clonable handle to a job's eventual result (`Send + Sync` when `T: Send`).
pub struct FutureHandle<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for FutureHandle<T> {
    fn clone(&self) -> Self {
        FutureHandle { inner: Arc::clone(&self.inner) }
    }
}

impl<T> FutureHandle<T> {
    /// A new pending future. Only executors create futures.
    pub(crate) fn pending() -> Self {
        FutureHandle {
            inner: Arc::new(Inner {
                slot: Mutex::new(Slot {
                    state: FutureState::Pending,
                    result: None,
                    callbacks: Vec::new(),
                    sleepers: 0,
                }),
                done: Condvar::new(),
            }),
        }
    }

    /// A future that is already finished with `result`.
    pub(crate) fn ready(result: Result<T, FutureError>) -> Self {
        let f = Self::pending();
        f.finish(result);
        f
    }

    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        // A panic never happens while the lock is held (jobs and callbacks
        // run outside it), so poisoning can only come from a bug here.
        self.inner.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current state.
    pub fn state(&self) -> FutureState {
        self.lock().state
    }

    /// True once the job finished or was cancelled.
    pub fn done(&self) -> bool {
        self.state().is_done()
    }

    /// True while a worker runs the job.
    pub fn running(&self) -> bool {
        self.state() == FutureState::Running
    }

    /// True if the future was cancelled.
    pub fn cancelled(&self) -> bool {
        self.state() == FutureState::Cancelled
    }

    /// Cancels the job if no worker has started it. Returns true if the
    /// future is (now or already) cancelled, false if it is running or finished.
    pub fn cancel(&self) -> bool {
        let mut slot = self.lock();
        match slot.state {
            FutureState::Cancelled => true,
            FutureState::Running | FutureState::Finished => false,
            FutureState::Pending => {
                slot.state = FutureState::Cancelled;
                slot.result = Some(Err(FutureError::Cancelled));
                self.notify(slot);
                true
            }
        }
    }

    /// Marks the job as started (it may already be, when `submit` handed it
    /// to a new worker). False means the future was cancelled or is done,
    /// and the job must not run.
    pub(crate) fn set_running(&self) -> bool {
        let mut slot = self.lock();
        match slot.state {
            FutureState::Pending => {
                slot.state = FutureState::Running;
                true
            }
            FutureState::Running => true,
            FutureState::Finished | FutureState::Cancelled => false,
        }
    }

    /// Puts a future marked running back to pending (its worker could not
    /// be started after all).
    pub(crate) fn set_pending(&self) {
        let mut slot = self.lock();
        if slot.state == FutureState::Running {
            slot.state = FutureState::Pending;
        }
    }

    /// Stores the result and wakes everyone waiting. A cancelled future keeps
    /// its `Cancelled` result.
    pub(crate) fn finish(&self, result: Result<T, FutureError>) {
        let mut slot = self.lock();
        if slot.state.is_done() {
            return;
        }
        slot.state = FutureState::Finished;
        slot.result = Some(result);
        self.notify(slot);
    }

    fn notify(&self, mut slot: MutexGuard<'_, Slot<T>>) {
        let callbacks = std::mem::take(&mut slot.callbacks);
        let sleepers = slot.sleepers > 0;
        drop(slot);
        if sleepers {
            self.inner.done.notify_all();
        }
        for cb in callbacks {
            // A panicking callback must not stop the others nor the worker.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(self)));
        }
    }

    /// Runs `callback` once, with this future, when it is done: at once (in
    /// this thread) if it already is, otherwise in the thread that finishes it.
    /// A callback that panics is stopped there, as Python logs and goes on;
    /// the panic is not printed when it runs on a pool's thread.
    pub fn add_done_callback(&self, callback: impl FnOnce(&FutureHandle<T>) + Send + 'static) {
        let mut slot = self.lock();
        if slot.state.is_done() {
            drop(slot);
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(self)));
        } else {
            slot.callbacks.push(Box::new(callback));
        }
    }

    /// Blocks until the future is done or `timeout` passes; returns the
    /// guard over the finished slot, or `Timeout`.
    fn wait_done(&self, timeout: Option<Duration>) -> Result<MutexGuard<'_, Slot<T>>, FutureError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut slot = self.lock();
        while !slot.state.is_done() {
            let left = match deadline {
                None => None,
                Some(d) => Some(d.checked_duration_since(Instant::now()).ok_or(FutureError::Timeout)?),
            };
            slot.sleepers += 1;
            slot = match left {
                None => self.inner.done.wait(slot).unwrap_or_else(|e| e.into_inner()),
                Some(left) => self.inner.done.wait_timeout(slot, left).unwrap_or_else(|e| e.into_inner()).0,
            };
            slot.sleepers -= 1;
        }
        Ok(slot)
    }

    /// Moves the result out (for `map`, which owns its futures): later calls
    /// of `result` on a clone see `FutureError::Taken`.
    pub(crate) fn take_result(&self, timeout: Option<Duration>) -> Result<T, FutureError> {
        let mut slot = self.wait_done(timeout)?;
        slot.result.take().unwrap_or(Err(FutureError::Taken))
    }

    /// Waits until done (at most `timeout`, if given), then returns a copy of
    /// the job's value or its error. Can be called any number of times.
    pub fn result(&self, timeout: Option<Duration>) -> Result<T, FutureError>
    where
        T: Clone,
    {
        let slot = self.wait_done(timeout)?;
        slot.result.clone().unwrap_or(Err(FutureError::Taken))
    }

    /// Waits like [`FutureHandle::result`] and returns only the error, if any.
    pub fn exception(&self, timeout: Option<Duration>) -> Result<Option<FutureError>, FutureError> {
        let slot = self.wait_done(timeout)?;
        Ok(slot.result.as_ref().and_then(|r| r.as_ref().err().cloned()))
    }

    /// True if both handles point at the same future.
    pub fn ptr_eq(&self, other: &FutureHandle<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Python's `repr`: `<Future at 0x7f3a... state=running>`, and once finished
/// `state=finished returned String` or `state=finished raised Panicked`.
impl<T> fmt::Display for FutureHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.lock();
        write!(f, "<Future at {:p} state={}", Arc::as_ptr(&self.inner), slot.state.as_str())?;
        match (&slot.state, &slot.result) {
            (FutureState::Finished, Some(Ok(_))) => write!(f, " returned {}", short_type_name::<T>())?,
            (FutureState::Finished, Some(Err(e))) => write!(f, " raised {}", e.kind())?,
            _ => {}
        }
        write!(f, ">")
    }
}

impl<T> fmt::Debug for FutureHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `alloc::string::String` -> `String`, `core::option::Option<u32>` -> `Option<u32>`.
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    for ch in full.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == ':' {
            word.push(ch);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(ch);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_type_names() {
        assert_eq!(short_type_name::<String>(), "String");
        assert_eq!(short_type_name::<Option<Vec<u8>>>(), "Option<Vec<u8>>");
        assert_eq!(short_type_name::<(u8, std::path::PathBuf)>(), "(u8, PathBuf)");
    }
}
