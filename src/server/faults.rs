//! Faults the server injects on demand (`--fault KIND[:RATE],...`), each
//! on that share of image requests, drawn reproducibly from the seed:
//!
//! | kind | what the client sees |
//! |---|---|
//! | `latency` | an extra delay, uniform 0..`--jitter` s, on top of `--delay` |
//! | `drip` | the body trickles at `--drip-rate` bytes/s |
//! | `418` | `418 I'm a Teapot` |
//! | `429` | `429 Too Many Requests` with `Retry-After: 1` (`--retry-after`) |
//! | `500` | `500 Internal Server Error` |
//! | `503` | `503 Service Unavailable` with `Retry-After: 1` (`--retry-after`) |
//! | `truncate` | the full `Content-Length`, half the body, then the connection closes |
//! | `reset` | some body bytes, then a TCP reset (SO_LINGER 0) |
//! | `stall` | the request is read and never answered (the connection is held 60 s) |
//! | `slow-close` | a full answer, then the connection stays open 2 s before closing |
//! | `html` | `200 OK` with an HTML page instead of the flag |
//! | `204` | `204 No Content` |
//! | `redirect` | `302 Found` to the code's folder page (HTML) |
//! | `gzip` | the flag gzipped, with `Content-Encoding: gzip` (unasked) |
//! | `length-lie` | `Content-Length` 1000 more than the flag, the whole flag, then the connection drops |
//! | `endless` | no `Content-Length`, and the flag over and over without end, at `--drip-rate` |
//!
//! The last six are `flags exam` cases (`content/html-page`,
//! `status/no-content`, `redirect/to-html`, `content/gzip`,
//! `framing/length-longer-close`, `size/endless-body`) as rates for a load test.
//!
//! `RATE` defaults to 1 (every image request). Rates add up: with
//! `--fault 500:0.1,reset:0.1`, 10% of requests get a 500 and another 10% a
//! reset; the total may not pass 1.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultKind {
    Latency,
    Drip,
    #[value(name = "418")]
    Teapot,
    #[value(name = "429")]
    TooManyRequests,
    #[value(name = "500")]
    ServerError,
    #[value(name = "503")]
    Unavailable,
    Truncate,
    Reset,
    Stall,
    SlowClose,
    Html,
    #[value(name = "204")]
    NoContent,
    Redirect,
    Gzip,
    LengthLie,
    Endless,
}

impl FaultKind {
    /// The name `--fault` takes and the server log shows.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::Drip => "drip",
            FaultKind::Teapot => "418",
            FaultKind::TooManyRequests => "429",
            FaultKind::ServerError => "500",
            FaultKind::Unavailable => "503",
            FaultKind::Truncate => "truncate",
            FaultKind::Reset => "reset",
            FaultKind::Stall => "stall",
            FaultKind::SlowClose => "slow-close",
            FaultKind::Html => "html",
            FaultKind::NoContent => "204",
            FaultKind::Redirect => "redirect",
            FaultKind::Gzip => "gzip",
            FaultKind::LengthLie => "length-lie",
            FaultKind::Endless => "endless",
        }
    }

    /// The status this fault answers with, for the status faults.
    pub fn status(self) -> Option<u16> {
        match self {
            FaultKind::Teapot => Some(418),
            FaultKind::TooManyRequests => Some(429),
            FaultKind::ServerError => Some(500),
            FaultKind::Unavailable => Some(503),
            _ => None,
        }
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use clap::ValueEnum;
        <FaultKind as ValueEnum>::from_str(s, true).map_err(|_| {
            let names: Vec<&str> = FaultKind::value_variants().iter().map(|k| k.name()).collect();
            format!("unknown fault {s:?} (expected one of: {})", names.join(", "))
        })
    }
}

/// The faults to inject, with their shares of image requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    pub faults: Vec<(FaultKind, f64)>,
}

impl FaultPlan {
    /// Which fault (if any) a request with uniform draw `u` in [0, 1) gets.
    pub fn pick(&self, u: f64) -> Option<FaultKind> {
        let mut edge = 0.0;
        for &(kind, rate) in &self.faults {
            edge += rate;
            if u < edge {
                return Some(kind);
            }
        }
        None
    }

    /// True if no fault is configured.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }
}

impl FromStr for FaultPlan {
    type Err = String;
    /// `reset:0.1,503:0.05,stall`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut faults = Vec::new();
        if s.split(',').all(|p| p.trim().is_empty()) {
            return Err("no fault given: name at least one, e.g. reset or 503:0.1".into());
        }
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = match part.split_once(':') {
                Some((n, r)) => {
                    let rate = r.parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r));
                    (n, rate.ok_or_else(|| format!("fault {n:?}: rate {r:?} is not between 0 and 1"))?)
                }
                None => (part, 1.0),
            };
            faults.push((name.parse::<FaultKind>()?, rate));
        }
        let total: f64 = faults.iter().map(|(_, r)| r).sum();
        if total > 1.0 + 1e-9 {
            return Err(format!("fault rates add up to {total:.2}, more than 1"));
        }
        Ok(FaultPlan { faults })
    }
}

impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.faults.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self.faults.iter().map(|(k, r)| format!("{}:{:.0}%", k.name(), r * 100.0)).collect();
        f.write_str(&parts.join(","))
    }
}

/// Settings of the faults that take a size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultSettings {
    /// `latency`: the extra delay is uniform in 0..jitter.
    pub jitter: Duration,
    /// `drip`: bytes per second.
    pub drip_rate: u64,
    /// `stall`: how long the connection is held.
    pub stall: Duration,
    /// `slow-close`: how long the connection stays open after the body.
    pub slow_close: Duration,
    /// `429` and `503`: the `Retry-After` sent, in seconds.
    pub retry_after: u64,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            jitter: Duration::from_secs(1),
            drip_rate: 16 * 1024,
            stall: Duration::from_secs(60),
            slow_close: Duration::from_secs(2),
            retry_after: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_and_pick_by_share() {
        assert!("reset:0.1,503:0.2,stall".parse::<FaultPlan>().unwrap_err().contains("more than 1"));
        let plan: FaultPlan = "reset:0.1, 503:0.2".parse().unwrap();
        assert_eq!(plan.pick(0.05), Some(FaultKind::Reset));
        assert_eq!(plan.pick(0.25), Some(FaultKind::Unavailable));
        assert_eq!(plan.pick(0.5), None);
        assert_eq!("truncate".parse::<FaultPlan>().unwrap().pick(0.99), Some(FaultKind::Truncate));
        assert!("explode".parse::<FaultPlan>().unwrap_err().contains("unknown fault"));
        assert!("reset:2".parse::<FaultPlan>().is_err());
        assert_eq!(plan.to_string(), "reset:10%,503:20%");
        assert!("".parse::<FaultPlan>().unwrap_err().contains("no fault"));
        assert!(" , ".parse::<FaultPlan>().is_err());
    }
}
