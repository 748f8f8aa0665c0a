//! A model of CPython's global interpreter lock, for `--gil`.
//!
//! One lock per process ([`Gil::process`]): a thread holds it while it
//! computes and not while it waits on the network, as CPython's blocking
//! socket calls release the real one. While a thread holds it, others that
//! want it queue. The holder checks [`Held::should_switch`] between units
//! of work, as CPython's eval loop checks its "drop request" between
//! bytecodes: once a waiter has waited a whole switch interval with no
//! switch meanwhile (`sys.getswitchinterval()`, 5 ms by default), the
//! holder hands the lock over and queues behind the others.
//!
//! Where it differs from the real lock: CPython's waiters race for the
//! lock when it is dropped and the OS picks one; here it goes to the
//! longest waiter, so a run is the same every time. And only the work
//! takes it: the real one is also held while Python code parses an HTTP
//! answer or writes a file, which the model leaves out, as `flags` does
//! that part in Rust.
//!
//! Each worker process has a lock of its own, as each Python process has
//! its own interpreter.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// The lock, shared by every thread of the process. A thread handed the
/// lock is woken alone (unparked), not with every waiter: with 20 threads
/// waking at each switch, the herd cost more CPU than the switches.
pub struct Gil {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The ticket of the thread holding it.
    holder: Option<u64>,
    /// When it last changed hands.
    since: Option<Instant>,
    /// Waiters in the order they came, with when each began to wait, and
    /// the thread to wake when its turn comes.
    queue: VecDeque<(u64, Instant, Thread)>,
    next: u64,
    /// Times the lock passed from a holder straight to a waiter.
    switches: u64,
}

impl Gil {
    /// The process's lock.
    pub fn process() -> &'static Gil {
        static GIL: OnceLock<Gil> = OnceLock::new();
        GIL.get_or_init(Gil::new)
    }

    /// A lock of its own, for tests.
    pub fn new() -> Self {
        Gil { state: Mutex::new(State::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the lock, behind whoever came first, and holds it until
    /// the `Held` is dropped.
    pub fn acquire(&self, interval: Duration) -> Held<'_> {
        let mut state = self.lock();
        let ticket = state.next;
        state.next += 1;
        let queued = state.holder.is_some() || !state.queue.is_empty();
        if queued {
            state.queue.push_back((ticket, Instant::now(), std::thread::current()));
            state = self.wait_turn(state, ticket);
        } else {
            state.holder = Some(ticket);
            state.since = Some(Instant::now());
        }
        drop(state);
        Held { gil: self, ticket, interval, queued }
    }

    /// Sleeps until the lock is `ticket`'s. An unpark that comes before
    /// the park is kept, so no hand-over is missed.
    fn wait_turn<'a>(&'a self, mut state: MutexGuard<'a, State>, ticket: u64) -> MutexGuard<'a, State> {
        while state.holder != Some(ticket) {
            drop(state);
            std::thread::park();
            state = self.lock();
        }
        state
    }

    /// Gives the lock to the longest waiter, waking it, or to nobody;
    /// `true` if a waiter took it.
    fn pass_on(&self, state: &mut State) -> bool {
        let next = state.queue.pop_front();
        let passed = next.is_some();
        state.holder = next.map(|(ticket, _, thread)| {
            thread.unpark();
            ticket
        });
        state.since = Some(Instant::now());
        state.switches += u64::from(passed);
        passed
    }

    /// Times the lock has passed from a holder to a waiter.
    pub fn switches(&self) -> u64 {
        self.lock().switches
    }
}

impl Default for Gil {
    fn default() -> Self {
        Gil::new()
    }
}

/// The lock, held by this thread.
pub struct Held<'g> {
    gil: &'g Gil,
    ticket: u64,
    interval: Duration,
    /// It had to wait behind another thread to get it.
    pub queued: bool,
}

impl Held<'_> {
    /// True when a waiter has waited the switch interval since the lock
    /// last changed hands: time to let it run.
    pub fn should_switch(&self) -> bool {
        let state = self.gil.lock();
        match (state.queue.front(), state.since) {
            (Some(&(_, waiting, _)), Some(since)) => since.max(waiting).elapsed() >= self.interval,
            _ => false,
        }
    }

    /// Hands the lock to the longest waiter, queues behind the others and
    /// waits for it to come back; `false` if nobody was waiting.
    pub fn switch(&mut self) -> bool {
        let mut state = self.gil.lock();
        if !self.gil.pass_on(&mut state) {
            state.holder = Some(self.ticket);
            return false;
        }
        state.queue.push_back((self.ticket, Instant::now(), std::thread::current()));
        drop(self.gil.wait_turn(state, self.ticket));
        true
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut state = self.gil.lock();
        if state.holder == Some(self.ticket) {
            self.gil.pass_on(&mut state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn one_holder_at_a_time_and_waiters_take_turns() {
        let gil = Arc::new(Gil::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (gil, inside) = (Arc::clone(&gil), Arc::clone(&inside));
                std::thread::spawn(move || {
                    let mut held = gil.acquire(Duration::from_micros(200));
                    let mut most = 0;
                    let end = Instant::now() + Duration::from_millis(20);
                    while Instant::now() < end {
                        most = most.max(inside.fetch_add(1, Ordering::SeqCst) + 1);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        if held.should_switch() {
                            held.switch();
                        }
                    }
                    most
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), 1, "two threads held the lock at once");
        }
        assert!(gil.switches() > 0, "the holders handed over between units");
        assert!(gil.lock().holder.is_none() && gil.lock().queue.is_empty());
    }

    #[test]
    fn alone_it_never_switches() {
        let gil = Gil::new();
        let mut held = gil.acquire(Duration::ZERO);
        assert!(!held.should_switch() && !held.queued);
        assert!(!held.switch());
        drop(held);
        assert_eq!(gil.switches(), 0);
        drop(gil.acquire(Duration::ZERO));
    }
}
