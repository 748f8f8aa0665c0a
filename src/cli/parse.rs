//! What more than one command's arguments share: the error for a value
//! that is not valid, and the parsers of a timeout and a delay.

use std::time::Duration;

use clap::error::ErrorKind;

/// A clap error for `value` of `arg`, saying why it is not valid.
pub(super) fn invalid(arg: &str, value: impl std::fmt::Display, why: impl std::fmt::Display) -> clap::Error {
    clap::Error::raw(ErrorKind::ValueValidation, format!("invalid value '{value}' for '{arg}': {why}"))
}

/// A server delay: `0.35`, `0.2..0.5`, `lognormal:0.22,1`.
pub(super) fn parse_delay(s: &str) -> Result<crate::server::Delay, String> {
    s.parse()
}

pub(super) fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => Ok(Duration::from_secs_f64(t)),
        _ => Err("expected a number of seconds greater than 0 (e.g. 10 or 0.5)".into()),
    }
}

/// A duration with its unit, `50ms`, `0.2s`, `500us`, or a bare number of
/// seconds; from 1 us to `max_s` seconds.
pub(super) fn parse_duration(s: &str, max_s: f64) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        _ => return Err(format!("unknown unit '{unit}': use s, ms or us (e.g. 50ms)")),
    };
    match number.parse::<f64>().map(|n| n * scale) {
        Ok(secs) if secs.is_finite() && secs >= 1e-6 && secs <= max_s => Ok(Duration::from_secs_f64(secs)),
        Ok(_) => Err(format!("expected from 1us to {max_s} s (e.g. 50ms)")),
        Err(_) => Err("expected a duration such as 50ms, 0.2s or 500us".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("50ms", 60.0), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("0.2s", 60.0), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("500us", 60.0), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("2", 60.0), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0ms", 60.0).is_err());
        assert!(parse_duration("-5ms", 60.0).is_err());
        assert!(parse_duration("2min", 60.0).unwrap_err().contains("unknown unit"));
        assert!(parse_duration("61s", 60.0).is_err());
        assert!(parse_duration("ms", 60.0).is_err());
    }
}
