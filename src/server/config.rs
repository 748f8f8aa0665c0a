//! How a flag server behaves: the book's labels, delays, what it serves,
//! and where it logs requests.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::faults::{FaultPlan, FaultSettings};

/// The book's servers, by the names `-s/--server` and `--label` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Label {
    /// Port 8000, no delay.
    Local,
    /// Port 8001, delay uniform 0.5..5 s (the book's slow_server.py).
    Delay,
    /// Port 8002, 0.5 s delay, 25% answered 418.
    Error,
    /// The book's public site, `https://www.fluentpython.com/data/flags`.
    #[value(skip)]
    Remote,
}

impl Label {
    /// The base URL a client uses for this label.
    pub fn base_url(self) -> &'static str {
        match self {
            Label::Local => "http://localhost:8000/flags",
            Label::Delay => "http://localhost:8001/flags",
            Label::Error => "http://localhost:8002/flags",
            Label::Remote => "https://www.fluentpython.com/data/flags",
        }
    }

    /// [`Label::base_url`], parsed.
    pub fn base(self) -> crate::http::BaseUrl {
        self.base_url().parse().expect("the labels' URLs are valid")
    }

    /// The port `flags serve --label` listens on (none for `REMOTE`).
    pub fn port(self) -> Option<u16> {
        match self {
            Label::Local => Some(8000),
            Label::Delay => Some(8001),
            Label::Error => Some(8002),
            Label::Remote => None,
        }
    }

    /// Delay and error rate of the book's server for this label.
    pub fn behaviour(self) -> (Delay, f64) {
        match self {
            Label::Local | Label::Remote => (Delay::NONE, 0.0),
            Label::Delay => (Delay::range(0.5, 5.0), 0.0),
            Label::Error => (Delay::fixed(0.5), 0.25),
        }
    }

    /// The label's name in upper case, as the book prints it.
    pub fn name(self) -> &'static str {
        match self {
            Label::Local => "LOCAL",
            Label::Delay => "DELAY",
            Label::Error => "ERROR",
            Label::Remote => "REMOTE",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "LOCAL" => Ok(Label::Local),
            "DELAY" => Ok(Label::Delay),
            "ERROR" => Ok(Label::Error),
            "REMOTE" => Ok(Label::Remote),
            _ => Err(format!("unknown server label {s:?} (expected LOCAL, DELAY, ERROR, REMOTE or an http(s):// URL)")),
        }
    }
}

/// A response delay: fixed, uniform between `min` and `max`, or drawn from
/// a log-normal distribution (capped at `max`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay {
    pub min: Duration,
    pub max: Duration,
    /// Log-normal: median and sigma (of the log), in seconds.
    pub lognormal: Option<(f64, f64)>,
}

impl Delay {
    /// No delay.
    pub const NONE: Delay = Delay { min: Duration::ZERO, max: Duration::ZERO, lognormal: None };

    /// Always `secs` seconds.
    pub fn fixed(secs: f64) -> Self {
        let d = Duration::from_secs_f64(secs);
        Delay { min: d, max: d, lognormal: None }
    }

    /// The delay half the answers wait less than, in seconds.
    pub fn median(&self) -> f64 {
        match self.lognormal {
            Some((median, _)) => median,
            None => (self.min + self.max).as_secs_f64() / 2.0,
        }
    }

    /// Uniform between `min` and `max` seconds.
    pub fn range(min: f64, max: f64) -> Self {
        Delay { min: Duration::from_secs_f64(min), max: Duration::from_secs_f64(max), lognormal: None }
    }

    /// Log-normal with this median (seconds) and sigma: most answers come
    /// near the median and a few much later, as on the internet. Capped at
    /// four sigmas above the median (one draw in 30 000 goes past) and at
    /// an hour.
    pub fn lognormal(median: f64, sigma: f64) -> Self {
        let cap = (median * (4.0 * sigma).exp()).min(3600.0);
        Delay { min: Duration::ZERO, max: Duration::from_secs_f64(cap), lognormal: Some((median, sigma)) }
    }

    /// The delay for a uniform draw `u` in [0, 1).
    pub fn at(&self, u: f64) -> Duration {
        match self.lognormal {
            Some((median, sigma)) => {
                let secs = median * (sigma * probit(u.clamp(1e-12, 1.0 - 1e-12))).exp();
                Duration::from_secs_f64(secs.clamp(0.0, self.max.as_secs_f64()))
            }
            None => self.min + (self.max - self.min).mul_f64(u),
        }
    }

    /// How `--delay` spells it: `0.35`, `0.5..5`, `lognormal:0.2,1`.
    pub fn as_arg(&self) -> String {
        match (self.lognormal, self.min == self.max) {
            (Some((m, s)), _) => format!("lognormal:{m},{s}"),
            (None, true) => format!("{}", self.min.as_secs_f64()),
            (None, false) => format!("{}..{}", self.min.as_secs_f64(), self.max.as_secs_f64()),
        }
    }
}

/// The standard normal distribution's quantile function: the `x` with
/// P(Z < x) = `p`, by Acklam's rational approximation (relative error
/// under 1.2e-9), for `p` in (0, 1).
fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lognormal {
            Some((m, s)) => write!(f, "log-normal, median {m:.2} s, sigma {s}"),
            None if self.min == self.max => write!(f, "{:.2} s", self.min.as_secs_f64()),
            None => write!(f, "{:.2}..{:.2} s", self.min.as_secs_f64(), self.max.as_secs_f64()),
        }
    }
}

impl FromStr for Delay {
    type Err = String;
    /// `0.35`, `0.5..5` (seconds), or `lognormal:MEDIAN,SIGMA`.
    fn from_str(s: &str) -> Result<Self, String> {
        let secs = |t: &str| -> Result<f64, String> {
            match t.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(v),
                _ => Err(format!(
                    "invalid delay {t:?}: expected seconds between 0 and 3600, e.g. 0.35, 0.5..5 or lognormal:0.2,1"
                )),
            }
        };
        if let Some(rest) = s.strip_prefix("lognormal:") {
            let Some((median, sigma)) = rest.split_once(',') else {
                return Err(format!("invalid delay {s:?}: expected lognormal:MEDIAN,SIGMA, e.g. lognormal:0.2,1"));
            };
            let median = secs(median)?;
            return match sigma.trim().parse::<f64>() {
                Ok(sigma) if sigma.is_finite() && (0.0..=3.0).contains(&sigma) && median > 0.0 => {
                    Ok(Delay::lognormal(median, sigma))
                }
                _ => Err(format!("invalid delay {s:?}: the median must be over 0 and sigma between 0 and 3")),
            };
        }
        match s.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (secs(a)?, secs(b)?);
                if a > b {
                    return Err(format!("invalid delay {s:?}: the minimum is larger than the maximum"));
                }
                Ok(Delay::range(a, b))
            }
            None => secs(s).map(Delay::fixed),
        }
    }
}

#[cfg(test)]
mod delay_tests {
    use super::*;

    #[test]
    fn probit_is_the_normal_quantile() {
        assert!(probit(0.5).abs() < 1e-9);
        assert!((probit(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((probit(0.841_344_746) - 1.0).abs() < 1e-6);
        assert!((probit(0.001) + 3.090_232_306).abs() < 1e-6);
        assert!((probit(0.999) - 3.090_232_306).abs() < 1e-6);
    }

    #[test]
    fn a_lognormal_delay_has_its_median_and_a_long_tail() {
        let d: Delay = "lognormal:0.2,1".parse().unwrap();
        assert_eq!(d.as_arg(), "lognormal:0.2,1");
        assert!((d.at(0.5).as_secs_f64() - 0.2).abs() < 1e-9, "the median");
        // One draw in 20 is over 0.2 x e^1.645 = 1.04 s.
        assert!((d.at(0.95).as_secs_f64() - 1.036).abs() < 0.01);
        assert!(d.at(0.999_999_9) <= d.max && d.max.as_secs_f64() > 10.0);
        for bad in ["lognormal:0.2", "lognormal:0,1", "lognormal:0.2,9", "lognormal:x,1"] {
            assert!(bad.parse::<Delay>().is_err(), "{bad}");
        }
        assert_eq!("0.35".parse::<Delay>().unwrap().as_arg(), "0.35");
    }
}

/// What the server serves.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The 194 catalog flags, drawn by [`super::image`].
    Catalog,
    /// A directory laid out like the unpacked `flags.zip`: `DIR/{cc}/{cc}.gif`.
    Dir(PathBuf),
}

/// One answered request, for the request log (`flags serve -v`).
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    /// The status sent: 0 if the server dropped the connection without an
    /// answer (a stall), `None` if the client went away before the answer.
    pub status: Option<u16>,
    /// The fault injected, if any (`418`, `reset`, ...).
    pub fault: Option<String>,
}

/// Where the server reports each request; the binary passes a printer.
#[derive(Clone)]
pub struct RequestLog(pub Arc<dyn Fn(&LogEntry) + Send + Sync>);

impl RequestLog {
    pub(crate) fn log(&self, entry: &LogEntry) {
        (self.0)(entry)
    }
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestLog")
    }
}

/// How a server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub source: Source,
    /// Delay before each flag API response.
    pub delay: Delay,
    /// Share of flag API requests answered `418 I'm a Teapot`.
    pub error_rate: f64,
    /// Faults injected into image requests.
    pub faults: FaultPlan,
    /// Sizes of the faults that have one.
    pub fault_settings: FaultSettings,
    /// Seed for the delay, error and fault draws.
    pub seed: u64,
    /// The label this server plays, if any (shown on the index page).
    pub label: Option<Label>,
    /// Most connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Time a client has, from accept, to send its first request head, and
    /// to send each request's headers once it starts (slowloris guard).
    pub header_timeout: Duration,
    /// How long a connection with no request being answered is kept.
    pub idle_timeout: Duration,
    /// How long answers may wait for a client that takes none of them.
    pub send_timeout: Duration,
    /// Called for every request, if set.
    pub log: Option<RequestLog>,
    /// Worker threads of the server's runtime; 0 means one per core.
    pub threads: usize,
    /// After the shutdown signal, how long requests in flight may take to finish.
    pub grace: Duration,
    /// HTTPS, when set (`--tls`).
    pub tls: Option<super::tls::ServerTls>,
}

impl ServerConfig {
    /// What each connection is given to make progress.
    pub fn timeouts(&self) -> super::lifetime::Timeouts {
        super::lifetime::Timeouts { header: self.header_timeout, idle: self.idle_timeout, send: self.send_timeout }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            source: Source::Catalog,
            delay: Delay::NONE,
            error_rate: 0.0,
            faults: FaultPlan::default(),
            fault_settings: FaultSettings::default(),
            seed: 0,
            label: None,
            max_connections: 10_000,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(10),
            log: None,
            threads: 0,
            grace: Duration::from_secs(5),
            tls: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_parse() {
        assert_eq!("0.35".parse::<Delay>().unwrap(), Delay::fixed(0.35));
        assert_eq!("0.5..5".parse::<Delay>().unwrap(), Delay::range(0.5, 5.0));
        assert!("-1".parse::<Delay>().is_err());
        assert!("5..1".parse::<Delay>().is_err());
        assert!("x".parse::<Delay>().is_err());
    }

    #[test]
    fn labels_parse_case_insensitively() {
        assert_eq!("delay".parse::<Label>().unwrap(), Label::Delay);
        assert_eq!(Label::Error.behaviour(), (Delay::fixed(0.5), 0.25));
        assert_eq!(Label::Local.port(), Some(8000));
        assert!("NOWHERE".parse::<Label>().is_err());
    }
}
