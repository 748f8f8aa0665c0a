//! The embedded server's flag images: one deterministic GIF89a per catalog
//! code, with the original's width, height and exact byte size.
//!
//! Each image is a few coloured bands (colours and orientation chosen by a
//! hash of the code) with the code drawn in block letters, so a person can
//! tell the flags apart. The palette has four colours, so LZW starts at the
//! smallest code size (2) and long runs compress well. The encoded image is
//! then padded to the original's byte size with GIF comment extension
//! blocks, which every decoder skips. When a drawing encodes larger than the
//! budget (Monaco's original is 453 x 302 in 1 193 bytes) a simpler drawing
//! is tried: smaller letters, then no letters, then a single colour.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::countries::{catalog, Country};

/// The image of the catalog's `index`-th flag, drawn once per process and
/// shared by every server in it.
pub fn catalog_image(index: usize) -> Bytes {
    static IMAGES: OnceLock<Vec<OnceLock<Bytes>>> = OnceLock::new();
    let images = IMAGES.get_or_init(|| catalog().iter().map(|_| OnceLock::new()).collect());
    images[index].get_or_init(|| Bytes::from(flag_gif(&catalog()[index]))).clone()
}

/// Where a drawn image's comment text starts, and how many bytes of it
/// can be overwritten without touching the GIF's structure (its first
/// sub-block): the room [`stamped`] writes in.
pub fn stamp_room(gif: &[u8]) -> Option<std::ops::Range<usize>> {
    let at = gif.windows(NOTE_START.len()).position(|w| w == NOTE_START)?;
    (at >= 3 && gif[at - 3..at - 1] == [0x21, 0xFE]).then(|| at..at + gif[at - 1] as usize)
}

/// `gif` (a drawn image) with `mark` written at the start of its comment:
/// the same size, still valid, with other bytes. The exam serves each run
/// flags stamped with a mark of its own, so that a file can be told to
/// hold this run's flag and no other copy. None when the comment has no
/// room for the mark.
pub fn stamped(gif: &[u8], mark: &[u8]) -> Option<Bytes> {
    let room = stamp_room(gif)?;
    if room.len() < mark.len() {
        return None;
    }
    let mut out = gif.to_vec();
    out[room.start..room.start + mark.len()].copy_from_slice(mark);
    Some(Bytes::from(out))
}

/// How a drawn image's comment text starts.
const NOTE_START: &[u8] = b"flags test image for ";

/// 5 x 7 block letters, one `u8` per row, the low 5 bits used (bit 4 = left).
const FONT: [[u8; 7]; 26] = [
    [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], // A
    [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E], // B
    [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], // C
    [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E], // D
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], // E
    [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10], // F
    [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], // G
    [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], // H
    [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], // I
    [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C], // J
    [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], // K
    [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F], // L
    [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], // M
    [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11], // N
    [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], // O
    [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10], // P
    [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], // Q
    [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11], // R
    [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], // S
    [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], // T
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], // U
    [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04], // V
    [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], // W
    [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11], // X
    [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04], // Y
    [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F], // Z
];

/// Colours that flags use; three are drawn per code.
const COLOURS: [[u8; 3]; 9] = [
    [0xCE, 0x11, 0x26], // red
    [0xFF, 0xFF, 0xFF], // white
    [0x00, 0x38, 0x93], // blue
    [0x00, 0x7A, 0x3D], // green
    [0xFC, 0xD1, 0x16], // yellow
    [0x00, 0x00, 0x00], // black
    [0xFF, 0x88, 0x00], // orange
    [0x6C, 0xAC, 0xE4], // light blue
    [0x8D, 0x1B, 0x3D], // maroon
];

/// Smallest padding a comment extension can add: `21 FE 00`.
const MIN_PAD: usize = 3;

/// Draws the GIF for `country`: same width, height and byte size as the original.
///
/// Panics only if no drawing fits the budget, which the catalog test rules out.
pub fn flag_gif(country: &Country) -> Vec<u8> {
    let (w, h) = (country.width as usize, country.height as usize);
    let palette = palette_for(&country.cc);
    let scales = [h / 16, h / 30, h / 60];
    let drawings = scales.iter().filter(|&&s| s >= 1 && 11 * s <= w).map(|&s| Some(s)).chain([None]);
    for letters in drawings {
        let pixels = draw(&country.cc, w, h, letters);
        if let Some(gif) = encode_padded(&country.cc, w, h, &palette, &pixels, country.gif_bytes) {
            return gif;
        }
    }
    let solid = vec![0u8; w * h];
    encode_padded(&country.cc, w, h, &palette, &solid, country.gif_bytes)
        .unwrap_or_else(|| panic!("no drawing of {} fits {} bytes", country.cc, country.gif_bytes))
}

/// A 64-bit hash of the code, so colours and layout are stable across runs.
fn code_hash(cc: &str) -> u64 {
    cc.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Four palette entries: three band colours, then the ink for the letters.
fn palette_for(cc: &str) -> Vec<u8> {
    let h = code_hash(cc);
    let a = (h % 9) as usize;
    let b = (a + 1 + ((h >> 8) % 8) as usize) % 9;
    let mut c = (b + 1 + ((h >> 16) % 8) as usize) % 9;
    if c == a {
        c = (c + 1) % 9;
    }
    let middle = COLOURS[b];
    let luma = middle[0] as u32 * 3 + middle[1] as u32 * 6 + middle[2] as u32;
    let ink = if luma > 1_200 { [0, 0, 0] } else { [0xFF, 0xFF, 0xFF] };
    [COLOURS[a], middle, COLOURS[c], ink].concat()
}

/// Indexed pixels: three bands (horizontal or vertical by hash), then the
/// code in letters `scale` pixels per dot, centred, in palette entry 3, on
/// a plate of the middle band's colour (entry 1) that the ink was chosen
/// against: the letters are wider and taller than a band, and would
/// otherwise cross into bands of the ink's own colour.
fn draw(cc: &str, w: usize, h: usize, scale: Option<usize>) -> Vec<u8> {
    let vertical = code_hash(cc) >> 32 & 1 == 1;
    let mut px = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let band = if vertical { x * 3 / w } else { y * 3 / h };
            px[y * w + x] = band as u8;
        }
    }
    if let Some(s) = scale {
        let (tw, th) = (11 * s, 7 * s);
        let (x0, y0) = ((w - tw) / 2, (h.saturating_sub(th)) / 2);
        let (px0, py0) = (x0.saturating_sub(s), y0.saturating_sub(s));
        let (px1, py1) = ((x0 + tw + s).min(w), (y0 + th + s).min(h));
        for y in py0..py1 {
            px[y * w + px0..y * w + px1].fill(1);
        }
        for (i, letter) in cc.bytes().enumerate() {
            let glyph = &FONT[(letter - b'A') as usize];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..5 {
                    if bits >> (4 - col) & 1 == 1 {
                        let (gx, gy) = (x0 + (i * 6 + col) * s, y0 + row * s);
                        for y in gy..(gy + s).min(h) {
                            px[y * w + gx..y * w + gx + s].fill(3);
                        }
                    }
                }
            }
        }
    }
    px
}

/// Encodes the pixels and pads to exactly `target` bytes, or `None` if
/// the encoding does not leave room for the padding.
fn encode_padded(cc: &str, w: usize, h: usize, palette: &[u8], px: &[u8], target: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(target);
    {
        let mut enc = gif::Encoder::new(&mut out, w as u16, h as u16, palette).ok()?;
        let frame = gif::Frame::from_indexed_pixels(w as u16, h as u16, px.to_vec(), None);
        enc.write_frame(&frame).ok()?;
    }
    // The encoder ended the stream with the trailer (0x3B); the padding goes before it.
    debug_assert_eq!(out.last(), Some(&0x3B));
    out.pop();
    let pad = target.checked_sub(out.len() + 1)?;
    let note =
        format!("{}{cc}; drawn by the flags server, not the original flag. ", String::from_utf8_lossy(NOTE_START));
    out.extend(comment_blocks(pad, note.as_bytes())?);
    out.push(0x3B);
    debug_assert_eq!(out.len(), target);
    Some(out)
}

/// A comment extension of exactly `len` bytes whose text repeats `note`,
/// or `None` for the lengths no comment extension has (1, 2 and 4).
fn comment_blocks(len: usize, note: &[u8]) -> Option<Vec<u8>> {
    if len < MIN_PAD {
        return (len == 0).then(Vec::new);
    }
    // Layout: 21 FE, k sub-blocks of (1 length byte + 1..=255 data bytes), 00.
    // So len = 3 + k + data with k <= data <= 255 k.
    let m = len - MIN_PAD;
    let k = m.div_ceil(256);
    let data = m - k;
    if m > 0 && data < k {
        return None;
    }
    let mut text = note.iter().copied().cycle();
    let mut out = Vec::with_capacity(len);
    out.extend([0x21, 0xFE]);
    let mut left = data;
    for i in 0..k {
        let n = left.div_ceil(k - i).min(255);
        out.push(n as u8);
        out.extend(text.by_ref().take(n));
        left -= n;
    }
    out.push(0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::countries::catalog;

    #[test]
    fn comment_blocks_have_the_length_asked_for() {
        for len in [0, 3, 5, 100, 258, 259, 260, 515, 5000] {
            let b = comment_blocks(len, b"xyz").unwrap();
            assert_eq!(b.len(), len, "len {len}");
        }
        assert!(comment_blocks(1, b"x").is_none());
        assert!(comment_blocks(4, b"x").is_none());
    }

    #[test]
    fn every_catalog_image_fits_its_budget_exactly_and_decodes() {
        for c in catalog() {
            let bytes = flag_gif(c);
            assert_eq!(bytes.len(), c.gif_bytes, "{}", c.cc);
            assert_eq!(&bytes[..6], b"GIF89a", "{}", c.cc);
            let mut opts = gif::DecodeOptions::new();
            opts.set_color_output(gif::ColorOutput::Indexed);
            let mut dec = opts.read_info(&bytes[..]).unwrap();
            assert_eq!((dec.width(), dec.height()), (c.width, c.height), "{}", c.cc);
            let frame = dec.read_next_frame().unwrap().expect("one frame");
            assert_eq!(frame.buffer.len(), c.width as usize * c.height as usize);
            assert!(dec.read_next_frame().unwrap().is_none());
        }
    }

    #[test]
    fn letters_stand_on_a_plate_they_contrast_with() {
        let luma = |c: &[u8]| c[0] as i32 * 3 + c[1] as i32 * 6 + c[2] as i32;
        let mut lettered = 0;
        for c in catalog() {
            let bytes = flag_gif(c);
            let mut opts = gif::DecodeOptions::new();
            opts.set_color_output(gif::ColorOutput::Indexed);
            let mut dec = opts.read_info(&bytes[..]).unwrap();
            let palette = dec.global_palette().unwrap().to_vec();
            let frame = dec.read_next_frame().unwrap().unwrap();
            let (w, px) = (c.width as usize, &frame.buffer);
            if !px.contains(&3) {
                continue;
            }
            lettered += 1;
            let (ink, plate) = (&palette[9..12], &palette[3..6]);
            assert!((luma(ink) - luma(plate)).abs() >= 700, "{}: ink {ink:?} on {plate:?}", c.cc);
            // Whatever touches a letter is letter or plate, never a band.
            for (i, _) in px.iter().enumerate().filter(|(_, p)| **p == 3) {
                let (x, y) = (i % w, i / w);
                let around = [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)];
                for (nx, ny) in around {
                    if nx < w && ny < c.height as usize {
                        let n = px[ny * w + nx];
                        assert!(n == 3 || n == 1, "{}: a letter touches band {n} at {nx},{ny}", c.cc);
                    }
                }
            }
        }
        assert!(lettered > 150, "only {lettered} flags show their code");
    }

    #[test]
    fn images_are_deterministic_and_differ_per_code() {
        use crate::countries::{lookup, CountryCode};
        let br = lookup(CountryCode::of("BR")).unwrap();
        let ar = lookup(CountryCode::of("AR")).unwrap();
        assert_eq!(flag_gif(br), flag_gif(br));
        assert_ne!(palette_for(&br.cc), palette_for(&ar.cc));
    }
}
