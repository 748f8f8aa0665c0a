//! The server of one exam run: a case's script played to whatever client
//! connects, on a port of its own, with a record of what it saw.
//!
//! Written by hand on std's sockets (a thread per connection), because the
//! point of most cases is bytes a correct HTTP library would refuse to
//! send. A script answers each request with [`Step`](super::script::Step)s; the stage only moves
//! bytes and keeps time. Every wait ends when the stage stops, and stopping
//! shuts every socket, so no thread outlives the run.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::case::{Case, Serve};
use super::certs::Certs;
use super::h2;
use super::play::{http1, Wire};
pub use super::record::Saw;
use super::record::Shared;
use super::script::Stamp;
use crate::proto::text::peer_text;
/// How long a connection may send or take nothing.
const IDLE: Duration = Duration::from_secs(30);

/// A case being served. [`Stage::stop`] ends it and gives what it saw.
pub struct Stage {
    /// Where the case is served.
    pub addr: SocketAddr,
    /// The other port (the "other host" a redirect points to).
    pub other: SocketAddr,
    shared: Arc<Shared>,
    listeners: Vec<JoinHandle<()>>,
}

impl Stage {
    /// Serves `case` on two new ports of 127.0.0.1, its flags marked with `stamp`.
    pub fn start(case: &Case, certs: &Certs, stamp: Stamp) -> io::Result<Stage> {
        Stage::start_on(case, certs, SocketAddr::from(([127, 0, 0, 1], 0)), stamp)
    }

    /// Serves `case` on `addr` (port 0: any free one), and on another port.
    pub fn start_on(case: &Case, certs: &Certs, addr: SocketAddr, stamp: Stamp) -> io::Result<Stage> {
        let shared = Arc::new(Shared {
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            saw: Mutex::default(),
            sockets: Mutex::default(),
            threads: Mutex::default(),
            started: Instant::now(),
            first: OnceLock::new(),
            answered: AtomicUsize::new(0),
            addrs: OnceLock::new(),
            stamp,
        });
        let other_listener = TcpListener::bind(SocketAddr::new(addr.ip(), 0))?;
        let other = other_listener.local_addr()?;
        let (main, tls, script) = match case.serve {
            Serve::Plain(s) => (Some(TcpListener::bind(addr)?), None, Some(s)),
            Serve::Tls(cert, s) => (Some(TcpListener::bind(addr)?), Some(certs.config(cert)), Some(s)),
            Serve::H2(_) => (Some(TcpListener::bind(addr)?), None, None),
            Serve::Backlog(s) => (Some(full_queue(addr, &shared)?), None, Some(s)),
            Serve::Refused => (None, None, None),
        };
        let addr = match &main {
            Some(l) => l.local_addr()?,
            // Bind, read the port, let it go: nothing listens there now.
            None => TcpListener::bind(addr)?.local_addr()?,
        };
        let _ = shared.addrs.set((addr.port(), other.port()));
        let mut listeners = Vec::new();
        if let Some(listener) = main {
            let serve = case.serve;
            let (sh, tls) = (Arc::clone(&shared), tls.clone());
            listeners.push(std::thread::spawn(move || {
                if let Serve::Backlog(_) = serve {
                    if !sh.sleep(Duration::from_millis(500)) {
                        return;
                    }
                }
                accept_loop(&listener, &sh, false, serve, tls)
            }));
        }
        if let Some(script) = script {
            let sh = Arc::clone(&shared);
            listeners
                .push(std::thread::spawn(move || accept_loop(&other_listener, &sh, true, Serve::Plain(script), None)));
        }
        Ok(Stage { addr, other, shared, listeners })
    }

    /// Ends the run: every wait ends, every socket is shut, every thread
    /// joined. Returns what the server saw.
    pub fn stop(self) -> Saw {
        *self.shared.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.shared.wake.notify_all();
        for addr in [self.addr, self.other] {
            // Wakes a listener blocked in accept; it then sees the stop.
            let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
        }
        for h in self.listeners {
            let _ = h.join();
        }
        for s in self.shared.sockets.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = self.shared.threads.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        for h in threads {
            let _ = h.join();
        }
        std::mem::take(&mut *self.shared.saw.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A listener with a listen queue of 1, filled by connections of its own,
/// so that a client's SYN is dropped until the stage starts accepting.
fn full_queue(addr: SocketAddr, shared: &Arc<Shared>) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1)?;
    let listener: TcpListener = socket.into();
    let at = listener.local_addr()?;
    for _ in 0..3 {
        let filler = Socket::new(Domain::for_address(at), Type::STREAM, None)?;
        filler.set_nonblocking(true)?;
        let _ = filler.connect(&at.into());
        shared.sockets.lock().unwrap_or_else(|e| e.into_inner()).push(filler.into());
    }
    Ok(listener)
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    other: bool,
    serve: Serve,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let fillers: Vec<SocketAddr> = match serve {
        Serve::Backlog(_) => {
            let sockets = shared.sockets.lock().unwrap_or_else(|e| e.into_inner());
            sockets.iter().filter_map(|s| s.local_addr().ok()).collect()
        }
        _ => Vec::new(),
    };
    for stream in listener.incoming() {
        if shared.is_stopped() {
            return;
        }
        let Ok(stream) = stream else { continue };
        if stream.peer_addr().is_ok_and(|p| fillers.contains(&p)) {
            continue;
        }
        // Every connection has a deadline, whatever the client does: one
        // that sends or takes nothing for IDLE is closed (a step that holds
        // on purpose only sleeps).
        let _ = stream.set_read_timeout(Some(IDLE));
        let _ = stream.set_write_timeout(Some(IDLE));
        let conn = shared.accepted(&stream, other);
        let (sh, tls) = (Arc::clone(shared), tls.clone());
        let handle = std::thread::spawn(move || {
            let ended = match serve {
                Serve::H2(flaw) => {
                    let body = sh.stamp.flag("br");
                    h2::serve(stream, flaw, conn, &body, &|what| sh.log(conn, what), &|n| sh.h2_request(conn, n))
                }
                Serve::Plain(script) | Serve::Backlog(script) => http1(Wire::Plain(stream), script, conn, other, &sh),
                Serve::Tls(..) if !sh.spoke(&stream, conn) => Ok(()),
                Serve::Tls(_, script) => match tls {
                    Some(config) => match rustls::ServerConnection::new(config) {
                        Ok(tls) => {
                            http1(Wire::Tls(Box::new(rustls::StreamOwned::new(tls, stream))), script, conn, other, &sh)
                        }
                        Err(e) => Err(io::Error::other(e)),
                    },
                    None => Ok(()),
                },
                Serve::Refused => Ok(()),
            };
            if let Err(e) = ended {
                sh.log(conn, format!("ended: {}", peer_text(e.to_string().as_bytes())));
            }
        });
        shared.threads.lock().unwrap_or_else(|e| e.into_inner()).push(handle);
    }
}
