//! What more than one command's arguments share: the error for a value
//! that is not valid, and the parser of a timeout.

use std::time::Duration;

use clap::error::ErrorKind;

/// A clap error for `value` of `arg`, saying why it is not valid.
pub(super) fn invalid(arg: &str, value: impl std::fmt::Display, why: impl std::fmt::Display) -> clap::Error {
    clap::Error::raw(ErrorKind::ValueValidation, format!("invalid value '{value}' for '{arg}': {why}"))
}

pub(super) fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => Ok(Duration::from_secs_f64(t)),
        _ => Err("expected a number of seconds greater than 0 (e.g. 10 or 0.5)".into()),
    }
}
