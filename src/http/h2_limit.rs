//! How many streams a server takes at once on an HTTP/2 connection
//! (`SETTINGS_MAX_CONCURRENT_STREAMS`), read from the frames it sends as
//! they pass to hyper: hyper keeps to the limit, queueing the streams past
//! it, but does not tell it. Knowing it, the async client opens another
//! connection when its streams would pass the limit, as curl does, rather
//! than wait for a place on the one it has.
//!
//! [`FrameWatch`] is the state machine, with no I/O: bytes in, the limit
//! out. [`Watched`] is the reader that feeds it.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// The frame type of SETTINGS, its ACK flag, and the setting's id (RFC
/// 9113 §6.5, §6.5.2).
const SETTINGS: u8 = 0x4;
const ACK: u8 = 0x1;
const MAX_CONCURRENT_STREAMS: u16 = 0x3;

/// Follows the frames a server sends, from the first byte of the
/// connection (a server's preface is its SETTINGS frame), and reads the
/// limit from every SETTINGS frame that is not an acknowledgement.
#[derive(Debug, Default, Clone)]
pub struct FrameWatch {
    /// The frame header being read (9 bytes), and how much of it came.
    head: [u8; 9],
    have: usize,
    /// Payload bytes of the current frame still to come.
    left: usize,
    /// The current frame is a SETTINGS frame to read.
    settings: bool,
    /// The setting being read (6 bytes: id, value), and how much came.
    entry: [u8; 6],
    entry_have: usize,
}

/// What a piece of the server's bytes said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Said {
    /// A SETTINGS frame ended in it.
    pub settings: bool,
    /// The last `SETTINGS_MAX_CONCURRENT_STREAMS` in it.
    pub max_streams: Option<u32>,
}

impl FrameWatch {
    /// Reads `bytes`, the next the server sent.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Said {
        let mut said = Said::default();
        while !bytes.is_empty() {
            if self.have < self.head.len() {
                let n = (self.head.len() - self.have).min(bytes.len());
                self.head[self.have..self.have + n].copy_from_slice(&bytes[..n]);
                (self.have, bytes) = (self.have + n, &bytes[n..]);
                if self.have == self.head.len() {
                    self.left = u32::from_be_bytes([0, self.head[0], self.head[1], self.head[2]]) as usize;
                    self.settings = self.head[3] == SETTINGS && self.head[4] & ACK == 0;
                    self.entry_have = 0;
                    self.end_if_done(&mut said);
                }
                continue;
            }
            let n = self.left.min(bytes.len());
            if self.settings {
                for &b in &bytes[..n] {
                    self.entry[self.entry_have] = b;
                    self.entry_have += 1;
                    if self.entry_have == self.entry.len() {
                        self.entry_have = 0;
                        let id = u16::from_be_bytes([self.entry[0], self.entry[1]]);
                        if id == MAX_CONCURRENT_STREAMS {
                            said.max_streams = Some(u32::from_be_bytes(self.entry[2..].try_into().expect("4 bytes")));
                        }
                    }
                }
            }
            (self.left, bytes) = (self.left - n, &bytes[n..]);
            self.end_if_done(&mut said);
        }
        said
    }

    /// Starts the next frame when the current one has all its payload.
    fn end_if_done(&mut self, said: &mut Said) {
        if self.have == self.head.len() && self.left == 0 {
            said.settings |= self.settings;
            self.have = 0;
        }
    }
}

/// What the client knows of a connection's limit: `None` until the
/// server's first SETTINGS frame, then the limit it set (`u32::MAX` when it
/// set none: no limit).
pub type Limit = watch::Receiver<Option<u32>>;

/// True when a connection carrying `streams` streams can take one more
/// under `limit` (unknown: yes).
pub fn has_room(streams: usize, limit: Option<u32>) -> bool {
    streams < limit.unwrap_or(u32::MAX) as usize
}

/// A stream's place on its connection, given back when dropped (its answer
/// read, failed or abandoned).
#[derive(Debug)]
pub struct Place(Arc<AtomicUsize>);

impl Place {
    /// Takes a place among `streams`.
    pub fn take(streams: &Arc<AtomicUsize>) -> Self {
        streams.fetch_add(1, Ordering::SeqCst);
        Place(Arc::clone(streams))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A connection's stream whose incoming bytes go through a [`FrameWatch`]
/// on their way to hyper.
pub struct Watched<T> {
    io: T,
    watch: FrameWatch,
    limit: watch::Sender<Option<u32>>,
    max: Option<u32>,
}

impl<T> Watched<T> {
    /// `io`, watched; and what tells its limit.
    pub fn new(io: T) -> (Self, Limit) {
        let (limit, told) = watch::channel(None);
        (Watched { io, watch: FrameWatch::default(), limit, max: None }, told)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let said = {
                let this = &mut *self;
                this.watch.feed(&buf.filled()[before..])
            };
            if let Some(max) = said.max_streams {
                self.max = Some(max);
            }
            if said.settings {
                let limit = self.max.unwrap_or(u32::MAX);
                self.limit.send_replace(Some(limit));
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame: its type, flags and payload, on stream 0.
    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut f = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 0];
        f.extend_from_slice(payload);
        f
    }

    fn setting(id: u16, value: u32) -> Vec<u8> {
        [id.to_be_bytes().as_slice(), &value.to_be_bytes()].concat()
    }

    #[test]
    fn the_limit_is_read_however_the_bytes_are_cut() {
        let settings = [setting(0x4, 65_535), setting(MAX_CONCURRENT_STREAMS, 4), setting(0x5, 16_384)].concat();
        let bytes = [
            frame(SETTINGS, 0, &settings),
            frame(0x8, 0, &[0, 0, 0x10, 0]),
            frame(0x0, 0, &[7; 300]),
            frame(SETTINGS, ACK, &[]),
        ]
        .concat();
        for cut in [1, 2, 5, 9, 10, 13, 64, bytes.len()] {
            let mut watch = FrameWatch::default();
            let mut seen = Said::default();
            for piece in bytes.chunks(cut) {
                let said = watch.feed(piece);
                seen.settings |= said.settings;
                seen.max_streams = said.max_streams.or(seen.max_streams);
            }
            assert_eq!(seen, Said { settings: true, max_streams: Some(4) }, "cut every {cut} bytes");
        }
    }

    #[test]
    fn an_ack_and_other_frames_say_nothing_and_a_later_setting_wins() {
        let mut watch = FrameWatch::default();
        // A DATA frame whose payload looks like a setting of 3.
        let fake = frame(0x0, 0, &setting(MAX_CONCURRENT_STREAMS, 1));
        assert_eq!(watch.feed(&fake), Said::default());
        assert_eq!(watch.feed(&frame(SETTINGS, ACK, &[])), Said::default());
        let none = watch.feed(&frame(SETTINGS, 0, &setting(0x4, 1)));
        assert_eq!(none, Said { settings: true, max_streams: None });
        let later = watch.feed(&frame(SETTINGS, 0, &setting(MAX_CONCURRENT_STREAMS, 100)));
        assert_eq!(later.max_streams, Some(100));
    }

    #[test]
    fn room_is_kept_to_the_limit_and_places_are_given_back() {
        assert!(has_room(3, Some(4)) && !has_room(4, Some(4)) && has_room(1_000, None));
        let streams = Arc::new(AtomicUsize::new(0));
        let (a, b) = (Place::take(&streams), Place::take(&streams));
        assert_eq!(streams.load(Ordering::SeqCst), 2);
        drop(a);
        drop(b);
        assert_eq!(streams.load(Ordering::SeqCst), 0);
    }
}
