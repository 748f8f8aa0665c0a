//! What stops a server: where it is in its life ([`Stop`]), and the
//! handle that moves it on from another thread ([`StopHandle`]). Every
//! accept loop and connection of a server watches the same value.

use std::sync::Arc;

use tokio::sync::watch;

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    Running,
    /// Stop accepting; let requests in flight finish within the grace period.
    Graceful,
    /// Stop now.
    Now,
}

/// Completes once `stop` leaves [`Stop::Running`] (or its sender is gone).
pub(super) async fn stopping(stop: &mut watch::Receiver<Stop>) -> Stop {
    match stop.wait_for(|s| *s != Stop::Running).await {
        Ok(s) => *s,
        Err(_) => Stop::Now,
    }
}

/// Stops a [`RunningServer`](super::RunningServer) from another thread
/// (a [`Shutdown`](crate::shutdown::Shutdown)'s step).
#[derive(Clone)]
pub(crate) struct StopHandle(Arc<watch::Sender<Stop>>);

impl StopHandle {
    /// The handle that moves `sender` on.
    pub(super) fn new(sender: watch::Sender<Stop>) -> Self {
        StopHandle(Arc::new(sender))
    }

    /// Stop accepting; let the requests in flight finish within the grace period.
    pub(crate) fn graceful(&self) {
        self.0.send_if_modified(|s| {
            let was = *s;
            if was == Stop::Running {
                *s = Stop::Graceful;
            }
            was == Stop::Running
        });
    }

    /// Stop now, dropping whatever is in flight.
    pub(crate) fn now(&self) {
        let _ = self.0.send(Stop::Now);
    }
}
