//! A connection's receive buffer: plain bytes, no socket. A driver receives
//! into [`Buf::spare`] and says how many came ([`Buf::filled_by`]); the
//! exchange reads [`Buf::filled`] and consumes what it has used.

/// The largest response head either client takes.
pub const MAX_HEAD: usize = 32 << 10;

/// The bytes a connection reads at a time.
const BUF_SIZE: usize = 16 << 10;

/// A connection's receive buffer: bytes `start..end` are received and not
/// yet consumed.
#[derive(Debug)]
pub(crate) struct Buf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buf {
    pub(crate) fn new() -> Self {
        Buf { data: vec![0; BUF_SIZE], start: 0, end: 0 }
    }

    /// The bytes received and not consumed.
    pub(crate) fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to receive into, after moving what is left to the front; grows
    /// (up to a head's limit) when full.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.end == self.data.len() {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.data.len() < MAX_HEAD + BUF_SIZE {
                self.data.resize(MAX_HEAD + BUF_SIZE, 0);
            }
        }
        &mut self.data[self.end..]
    }

    /// `n` bytes were received into [`Buf::spare`].
    pub(crate) fn filled_by(&mut self, n: usize) {
        self.end += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_compacts_and_grows() {
        let mut b = Buf::new();
        let n = b.spare().len();
        b.filled_by(n);
        b.consume(10);
        assert_eq!(b.spare().len(), 10, "moved to the front");
        b.filled_by(10);
        assert_eq!(b.spare().len(), MAX_HEAD, "grown for a large head");
    }
}
