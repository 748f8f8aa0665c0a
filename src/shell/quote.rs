//! Words for `sh -c`: each value a command line takes, quoted so that the
//! shell neither splits nor expands it.

/// `s` quoted for `sh`.
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c)) {
        return s.into();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}
