//! The computation itself: a chain of FNV-1a hashes over the flag's bytes.
//!
//! Unit `i` hashes a window of [`WINDOW`] bytes of the flag, starting at
//! byte `i * WINDOW` (wrapping round the file), seeded with the hash unit
//! `i - 1` gave; unit 0 starts from FNV's offset basis. The digest after
//! `n` units depends on every unit before it, so it cannot be had without
//! doing them all, and anyone can check it: the bench's Python reference
//! (`bench/python/flags_work.py`) computes the same chain in pure Python,
//! and a test holds the two to the same digests.
//!
//! The work is over the file's bytes rather than its decoded pixels so
//! that the Python reference, which has no GIF decoder in its standard
//! library, does exactly the same thing.

/// Bytes one unit hashes.
pub const WINDOW: usize = 1024;

/// FNV-1a's 32-bit offset basis: the seed of unit 0.
pub const BASIS: u32 = 0x811c_9dc5;

const PRIME: u32 = 0x0100_0193;

/// A flag made ready for the chain: its bytes, repeated until any window
/// of [`WINDOW`] bytes from any start in the flag can be read in one
/// slice.
#[derive(Debug, Clone)]
pub struct Chain {
    bytes: Vec<u8>,
    len: usize,
    /// Units done, and the last unit's hash.
    pub units: u64,
    pub digest: u32,
}

impl Chain {
    /// A chain over `flag`, no unit done yet. An empty flag is hashed as
    /// one zero byte, so that a unit is never empty.
    pub fn new(flag: &[u8]) -> Self {
        let flag = if flag.is_empty() { &[0u8][..] } else { flag };
        let copies = WINDOW.div_ceil(flag.len()) + 1;
        Chain { bytes: flag.repeat(copies), len: flag.len(), units: 0, digest: BASIS }
    }

    /// Does the next unit.
    pub fn step(&mut self) {
        let start = ((self.units % self.len as u64) as usize * (WINDOW % self.len)) % self.len;
        let mut h = self.digest;
        for &b in &self.bytes[start..start + WINDOW] {
            h = (h ^ u32::from(b)).wrapping_mul(PRIME);
        }
        (self.units, self.digest) = (self.units + 1, h);
    }
}

/// The digest after `units` units over `flag`: what a checker computes.
pub fn digest(flag: &[u8], units: u64) -> u32 {
    let mut chain = Chain::new(flag);
    for _ in 0..units {
        chain.step();
    }
    chain.digest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_wraps_round_the_flag() {
        // Unit i starts at byte i * WINDOW mod len.
        let flag: Vec<u8> = (0..=255u8).cycle().take(1500).collect();
        let mut chain = Chain::new(&flag);
        chain.step();
        chain.step();
        let mut h = digest(&flag, 1);
        for k in 0..WINDOW {
            h = (h ^ u32::from(flag[(WINDOW + k) % flag.len()])).wrapping_mul(PRIME);
        }
        assert_eq!(chain.digest, h);
        assert_eq!(chain.units, 2);
        // A flag shorter than a window is read round and round.
        let tiny = digest(b"GIF89a;", 3);
        assert_ne!(tiny, digest(b"GIF89a;", 2));
        assert_eq!(digest(b"", 1), digest(&[0], 1));
    }

    #[test]
    fn the_digest_is_fnv_1a_for_one_window() {
        // FNV-1a of 1024 bytes "a" from the offset basis.
        let flag = vec![b'a'; WINDOW];
        let mut h = BASIS;
        for _ in 0..WINDOW {
            h = (h ^ 0x61).wrapping_mul(PRIME);
        }
        assert_eq!(digest(&flag, 1), h);
        assert_eq!(digest(&flag, 0), BASIS);
    }
}
