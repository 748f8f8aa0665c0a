//! The client at the other end of a connection, as a request's answer
//! sees it: whether it is still there ([`Peer::gone`]) and a way to end
//! the connection with a reset ([`Peer::reset`]). The answer never reads
//! or writes the connection itself; the protocol's driver does.

use std::os::fd::{AsRawFd, RawFd};

use crate::os;

/// The peer of one accepted connection, made where the connection is
/// served and handed to the answer of each of its requests.
///
/// It names the connection's socket, which is open for as long as the
/// connection is: an HTTP/1.1 answer and its body live inside the
/// connection's task, so they never outlast it. An HTTP/2 stream's answer
/// runs in a task of its own, which may outlast its connection: a look it
/// takes then reads a closed socket, or one opened since under the same
/// number, so a hold ends early or runs its full length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(RawFd);

impl Peer {
    /// The peer of the connection `socket`.
    pub(crate) fn of(socket: &impl AsRawFd) -> Self {
        Peer(socket.as_raw_fd())
    }

    /// True when the client has closed its end of the connection, or only
    /// its writing half (as `super::h1` and hyper's HTTP/2 count a client
    /// that half-closes), or reset it. Never waits.
    pub fn gone(self) -> bool {
        os::peer_closed(self.0)
    }

    /// Makes the connection end with a TCP reset (RST) rather than a FIN
    /// when it is dropped: the close that follows a body failed on purpose
    /// then aborts it.
    pub fn reset(self) {
        os::reset_on_close(self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    use super::Peer;

    /// A connected pair: the client's end and the server's.
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        (client, listener.accept().unwrap().0)
    }

    #[test]
    fn a_client_that_half_closes_is_gone() {
        let (client, server) = pair();
        let peer = Peer::of(&server);
        assert!(!peer.gone());
        client.shutdown(std::net::Shutdown::Write).unwrap();
        // The FIN is on its way over the loopback: give it a second.
        let by = Instant::now() + Duration::from_secs(1);
        while !peer.gone() && Instant::now() < by {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(peer.gone());
    }

    #[test]
    fn a_reset_connection_closes_with_rst() {
        let (mut client, server) = pair();
        Peer::of(&server).reset();
        drop(server);
        let mut byte = [0u8; 1];
        let read = client.read(&mut byte);
        assert_eq!(read.map_err(|e| e.kind()), Err(std::io::ErrorKind::ConnectionReset));
    }
}
