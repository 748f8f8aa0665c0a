//! A peer's bytes as text that is safe to show: every reason that quotes a
//! server (or a client, for the server's log) goes through [`peer_text`].

/// The most characters of a peer's text shown.
const SHOWN_MAX: usize = 200;

/// Text a peer sent (a header's value), made safe to show anywhere: a
/// terminal, JSON, a log. Control characters (C0, DEL, and C1 such as
/// U+009B, the 8-bit CSI that starts a terminal escape) and the invisible
/// characters that format or reorder text (bidi overrides and isolates,
/// zero-width marks) are written as `\u{..}`, bytes that are not UTF-8 as
/// `\x..`, and it is cut at 200 characters with `…`. Every reason that
/// quotes a server goes through here, so every output shows it alike;
/// HTML and SVG escape markup on top.
pub fn peer_text(bytes: &[u8]) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    let mut shown = String::new();
    let mut count = 0;
    for piece in bytes.utf8_chunks() {
        for c in piece.valid().chars() {
            if count == SHOWN_MAX {
                shown.push('…');
                return shown;
            }
            count += 1;
            match hidden(c) {
                true => shown.push_str(&format!("\\u{{{:x}}}", c as u32)),
                false => shown.push(c),
            }
        }
        for b in piece.invalid() {
            count += 1;
            shown.push_str(&format!("\\x{b:02x}"));
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_text_is_shown_escaped_and_bounded() {
        assert_eq!(peer_text(b"image/gif"), "image/gif");
        assert_eq!(peer_text("a\u{9b}31mb".as_bytes()), "a\\u{9b}31mb", "the 8-bit CSI");
        assert_eq!(peer_text("\u{202e}fig.exe".as_bytes()), "\\u{202e}fig.exe", "right-to-left override");
        assert_eq!(peer_text(b"\x1b[2J\r\n"), "\\u{1b}[2J\\u{d}\\u{a}");
        assert_eq!(peer_text(b"caf\xe9"), "caf\\xe9");
        assert_eq!(peer_text("<script>".as_bytes()), "<script>", "markup is for HTML to escape");
        let long = peer_text(&[b'a'; 1000]);
        assert_eq!(long.chars().count(), 201);
        assert!(long.ends_with('…'));
    }
}
