//! The sockets of a blocking client's connections, kept so that another
//! thread can end them: how Ctrl-C stops downloads blocked in `read`.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The sockets of a blocking client's connections, so that another thread
/// can end them: after [`Sockets::halt`] every read or write in progress
/// returns at once, and every new connection is shut as it is made. This is
/// how Ctrl-C stops downloads blocked in `read`.
#[derive(Debug, Default)]
pub struct Sockets {
    halted: AtomicBool,
    live: Mutex<Vec<(u64, TcpStream)>>,
    next: AtomicU64,
}

/// Keeps a socket in [`Sockets`] while the connection lives.
#[derive(Debug)]
pub(crate) struct Registered {
    sockets: Arc<Sockets>,
    id: u64,
}

impl Sockets {
    /// Adds `socket` (a clone of its descriptor is kept).
    pub(crate) fn register(self: &Arc<Self>, socket: &TcpStream) -> std::io::Result<Registered> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let clone = socket.try_clone()?;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if self.halted.load(Ordering::SeqCst) {
            let _ = clone.shutdown(std::net::Shutdown::Both);
        }
        live.push((id, clone));
        Ok(Registered { sockets: Arc::clone(self), id })
    }

    /// Shuts every registered socket, and every one registered from now on.
    pub fn halt(&self) {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        self.halted.store(true, Ordering::SeqCst);
        for (_, s) in live.iter() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// True once halted.
    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut live = self.sockets.live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = live.iter().position(|(id, _)| *id == self.id) {
            live.swap_remove(i);
        }
    }
}
