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
//!
//! `RATE` defaults to 1 (every image request). Rates add up: with
//! `--fault 500:0.1,reset:0.1`, 10% of requests get a 500 and another 10% a
//! reset; the total may not pass 1.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Latency,
    Drip,
    Status(u16),
    Truncate,
    Reset,
    Stall,
    SlowClose,
}

impl FaultKind {
    const NAMES: &'static str = "latency, drip, 418, 429, 500, 503, truncate, reset, stall, slow-close";

    /// The name `--fault` takes and the server log shows.
    pub fn name(self) -> String {
        match self {
            FaultKind::Latency => "latency".into(),
            FaultKind::Drip => "drip".into(),
            FaultKind::Status(s) => s.to_string(),
            FaultKind::Truncate => "truncate".into(),
            FaultKind::Reset => "reset".into(),
            FaultKind::Stall => "stall".into(),
            FaultKind::SlowClose => "slow-close".into(),
        }
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "latency" => FaultKind::Latency,
            "drip" => FaultKind::Drip,
            "418" => FaultKind::Status(418),
            "429" => FaultKind::Status(429),
            "500" => FaultKind::Status(500),
            "503" => FaultKind::Status(503),
            "truncate" => FaultKind::Truncate,
            "reset" => FaultKind::Reset,
            "stall" => FaultKind::Stall,
            "slow-close" => FaultKind::SlowClose,
            _ => return Err(format!("unknown fault {s:?} (expected one of: {})", FaultKind::NAMES)),
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
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = match part.split_once(':') {
                Some((n, r)) => {
                    let rate = r.parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r));
                    (n, rate.ok_or_else(|| format!("fault {n:?}: rate {r:?} is not between 0 and 1"))?)
                }
                None => (part, 1.0),
            };
            faults.push((name.parse()?, rate));
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
        assert_eq!(plan.pick(0.25), Some(FaultKind::Status(503)));
        assert_eq!(plan.pick(0.5), None);
        assert_eq!("truncate".parse::<FaultPlan>().unwrap().pick(0.99), Some(FaultKind::Truncate));
        assert!("explode".parse::<FaultPlan>().unwrap_err().contains("unknown fault"));
        assert!("reset:2".parse::<FaultPlan>().is_err());
        assert_eq!(plan.to_string(), "reset:10%,503:20%");
    }
}
