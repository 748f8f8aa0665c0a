//! What makes a body a whole GIF: its blocks walked as they arrive, without
//! decoding a pixel (GIF89a specification, sections 17 to 27).
//!
//! A GIF is a header and a logical screen descriptor (13 bytes), a global
//! colour table if the descriptor says so, then blocks: extensions (`0x21`,
//! a label, sub-blocks) and images (`0x2C`, a 9-byte descriptor, a local
//! colour table if it says so, the LZW code size, sub-blocks), until the
//! trailer `0x3B`. Sub-blocks are a size byte and that many bytes, ended by
//! a size of 0. A body is a whole GIF when the walk reaches the trailer
//! exactly at its last byte: a trailer byte that happens to end a cut body
//! inside a sub-block is not one.
//!
//! Written by hand because a decoder (the `gif` crate) needs the whole
//! image in memory and decodes it, where this check runs on every piece of
//! every body, in constant memory.

/// Where the walk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// The first 13 bytes, `n` of them seen.
    Head(usize),
    /// A block's first byte.
    Block,
    /// An extension's label.
    Label,
    /// An image descriptor's 9 bytes, `n` seen.
    Descriptor(usize),
    /// An image's LZW minimum code size.
    CodeSize,
    /// A sub-block's size byte.
    Size,
    /// `n` bytes to skip, then the next position.
    Skip(usize, Then),
    /// The trailer was read.
    Done,
}

/// Where a skip ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Block,
    CodeSize,
    Size,
}

impl Then {
    fn at(self) -> At {
        match self {
            Then::Block => At::Block,
            Then::CodeSize => At::CodeSize,
            Then::Size => At::Size,
        }
    }
}

/// A GIF's blocks, walked piece by piece.
#[derive(Debug, Clone)]
pub struct GifWalk {
    at: At,
    /// The global colour table's size, read from the screen descriptor.
    global: usize,
}

/// Why the bytes are not a GIF's blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GifFault {
    /// A block starts with a byte that starts no block.
    UnknownBlock(u8),
    /// Bytes follow the trailer.
    AfterTrailer,
}

impl Default for GifWalk {
    fn default() -> Self {
        GifWalk { at: At::Head(0), global: 0 }
    }
}

/// The size of a colour table whose flags byte is `packed`, if it has one.
fn table(packed: u8) -> usize {
    match packed & 0x80 {
        0 => 0,
        _ => 3 << ((packed & 7) + 1),
    }
}

/// `then`, after skipping `n` bytes.
fn skip(n: usize, then: Then) -> At {
    match n {
        0 => then.at(),
        n => At::Skip(n, then),
    }
}

impl GifWalk {
    /// Takes the next bytes of the body.
    pub fn take(&mut self, mut bytes: &[u8]) -> Result<(), GifFault> {
        while let Some((&b, rest)) = bytes.split_first() {
            if let At::Skip(n, then) = self.at {
                let skipped = n.min(bytes.len());
                bytes = &bytes[skipped..];
                self.at = skip(n - skipped, then);
                continue;
            }
            self.at = match self.at {
                At::Done => return Err(GifFault::AfterTrailer),
                // Byte 10 of the screen descriptor holds its table's flags.
                At::Head(10) => {
                    self.global = table(b);
                    At::Head(11)
                }
                At::Head(12) => skip(self.global, Then::Block),
                At::Head(n) => At::Head(n + 1),
                At::Block => match b {
                    0x21 => At::Label,
                    0x2C => At::Descriptor(0),
                    0x3B => At::Done,
                    other => return Err(GifFault::UnknownBlock(other)),
                },
                At::Label | At::CodeSize => At::Size,
                // Byte 8 of an image descriptor holds its local table's flags.
                At::Descriptor(8) => skip(table(b), Then::CodeSize),
                At::Descriptor(n) => At::Descriptor(n + 1),
                At::Size if b == 0 => At::Block,
                At::Size => At::Skip(b as usize, Then::Size),
                At::Skip(..) => unreachable!("handled above"),
            };
            bytes = rest;
        }
        Ok(())
    }

    /// True once the trailer was read.
    pub fn complete(&self) -> bool {
        self.at == At::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8], piece: usize) -> Result<bool, GifFault> {
        let mut w = GifWalk::default();
        for p in bytes.chunks(piece) {
            w.take(p)?;
        }
        Ok(w.complete())
    }

    #[test]
    fn every_embedded_flag_walks_to_its_trailer_and_a_cut_one_does_not() {
        for (i, _) in crate::countries::catalog().iter().enumerate() {
            let gif = crate::server::image::catalog_image(i);
            for piece in [1, 7, 4096, gif.len()] {
                assert_eq!(walk(&gif, piece), Ok(true), "flag {i}, pieces of {piece}");
            }
            for cut in [1, 3, gif.len() / 2] {
                assert_eq!(walk(&gif[..gif.len() - cut], 512), Ok(false), "flag {i} cut by {cut}");
            }
        }
    }

    #[test]
    fn tables_are_skipped_and_faults_named() {
        // A 2-colour global table (6 bytes), one 1x1 image, the trailer.
        let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        gif.extend_from_slice(&[0, 0, 0, 0xff, 0xff, 0xff]);
        gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
        assert_eq!(walk(&gif, 1), Ok(true));
        // A 0x3B inside the table is not the trailer.
        assert_eq!(walk(&gif[..16], 1), Ok(false));
        let mut after = gif.clone();
        after.push(0);
        assert_eq!(walk(&after, 3), Err(GifFault::AfterTrailer));
        let mut unknown = gif[..gif.len() - 1].to_vec();
        unknown.push(0x99);
        assert_eq!(walk(&unknown, 3), Err(GifFault::UnknownBlock(0x99)));
    }
}
