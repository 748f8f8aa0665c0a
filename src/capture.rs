//! What a child process prints, kept bounded: the first and the last bytes
//! of a stream and how many there were, read on a thread of its own as the
//! child writes them. A child that prints gigabytes costs a few KB here,
//! and neither the disk nor the memory grows with it.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What was kept of a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    /// The first bytes, up to the bound.
    pub head: Vec<u8>,
    /// The last bytes, up to the bound, after the head (none when the
    /// head holds the whole stream).
    pub tail: Vec<u8>,
    /// Every byte the stream carried.
    pub total: u64,
}

impl Captured {
    /// The bytes left out between the head and the tail.
    pub fn left_out(&self) -> u64 {
        self.total - self.head.len() as u64 - self.tail.len() as u64
    }

    /// The stream as text: the head, a line that says how much was left
    /// out (`[... 1 500 000 000 bytes left out ...]`), and the tail.
    pub fn text(&self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if self.left_out() > 0 {
            out.push_str(&format!("\n[... {} bytes left out ...]\n", self.left_out()));
        }
        out.push_str(&String::from_utf8_lossy(&self.tail));
        out
    }
}

/// A stream being read on its own thread.
pub struct Capture {
    kept: Arc<Mutex<Kept>>,
    ended: Receiver<()>,
}

impl Capture {
    /// Reads `from` to its end on a new thread, keeping at most `keep`
    /// bytes at its start and `keep` at its end.
    pub fn start(from: impl Read + Send + 'static, keep: usize) -> Capture {
        let kept = Arc::new(Mutex::new(Kept::new(keep)));
        let (tx, ended) = mpsc::channel();
        let shared = Arc::clone(&kept);
        std::thread::spawn(move || {
            read_into(from, &shared);
            let _ = tx.send(());
        });
        Capture { kept, ended }
    }

    /// What was kept once the stream ends, or after `within` if it has not
    /// (a process that outlived the child may hold the stream open): the
    /// reading thread then ends with the stream, unwaited.
    pub fn finish(self, within: Duration) -> Captured {
        let _ = self.ended.recv_timeout(within);
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).captured()
    }
}

/// The ends of a stream so far.
struct Kept {
    keep: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl Kept {
    fn new(keep: usize) -> Kept {
        Kept { keep, head: Vec::new(), tail: VecDeque::new(), total: 0 }
    }

    fn add(&mut self, mut piece: &[u8]) {
        self.total += piece.len() as u64;
        let room = self.keep - self.head.len();
        if room > 0 {
            let take = room.min(piece.len());
            self.head.extend_from_slice(&piece[..take]);
            piece = &piece[take..];
        }
        if piece.len() >= self.keep {
            self.tail.clear();
            self.tail.extend(&piece[piece.len() - self.keep..]);
        } else {
            let over = (self.tail.len() + piece.len()).saturating_sub(self.keep);
            self.tail.drain(..over);
            self.tail.extend(piece);
        }
    }

    fn captured(&self) -> Captured {
        Captured { head: self.head.clone(), tail: self.tail.iter().copied().collect(), total: self.total }
    }
}

fn read_into(mut from: impl Read, kept: &Mutex<Kept>) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => kept.lock().unwrap_or_else(|e| e.into_inner()).add(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Reads `from` to its end (or its first error), keeping `keep` bytes at
/// each end: what a pipe's reader thread does, in one call for the tests.
#[cfg(test)]
fn read_bounded(from: impl Read, keep: usize) -> Captured {
    let kept = Mutex::new(Kept::new(keep));
    read_into(from, &kept);
    let got = kept.lock().unwrap_or_else(|e| e.into_inner()).captured();
    got
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_stream_keeps_its_ends_and_its_count() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let got = read_bounded(&data[..], 1000);
        assert_eq!(got.total, 100_000);
        assert_eq!(got.head, &data[..1000]);
        assert_eq!(got.tail, &data[99_000..]);
        assert_eq!(got.left_out(), 98_000);
        assert!(got.text().contains("[... 98000 bytes left out ...]"));
        let short = read_bounded(&b"hello\n"[..], 1000);
        assert_eq!((short.head.as_slice(), short.tail.len(), short.total), (&b"hello\n"[..], 0, 6));
        assert_eq!(short.text(), "hello\n");
        let middling = read_bounded(&data[..1500], 1000);
        assert_eq!((middling.head.len(), &middling.tail, middling.left_out()), (1000, &data[1000..1500].to_vec(), 0));
    }

    #[test]
    fn memory_stays_flat_whatever_the_stream_carries() {
        // 64 MB of zeros, produced as read: only the ends are kept.
        let endless = std::io::repeat(0).take(64 << 20);
        let got = Capture::start(endless, 2048).finish(Duration::from_secs(60));
        assert_eq!((got.total, got.head.len(), got.tail.len()), (64 << 20, 2048, 2048));
    }
}
