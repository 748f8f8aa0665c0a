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

/// A response delay: fixed, or uniform between `min` and `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay {
    pub min: Duration,
    pub max: Duration,
}

impl Delay {
    /// No delay.
    pub const NONE: Delay = Delay { min: Duration::ZERO, max: Duration::ZERO };

    /// Always `secs` seconds.
    pub fn fixed(secs: f64) -> Self {
        let d = Duration::from_secs_f64(secs);
        Delay { min: d, max: d }
    }

    /// Uniform between `min` and `max` seconds.
    pub fn range(min: f64, max: f64) -> Self {
        Delay { min: Duration::from_secs_f64(min), max: Duration::from_secs_f64(max) }
    }

    /// The delay for a uniform draw `u` in [0, 1).
    pub fn at(&self, u: f64) -> Duration {
        self.min + (self.max - self.min).mul_f64(u)
    }

    /// How `--delay` spells it: `0.35`, `0.5..5`.
    pub fn as_arg(&self) -> String {
        match self.min == self.max {
            true => format!("{}", self.min.as_secs_f64()),
            false => format!("{}..{}", self.min.as_secs_f64(), self.max.as_secs_f64()),
        }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{:.2} s", self.min.as_secs_f64())
        } else {
            write!(f, "{:.2}..{:.2} s", self.min.as_secs_f64(), self.max.as_secs_f64())
        }
    }
}

impl FromStr for Delay {
    type Err = String;
    /// `0.35` or `0.5..5` (seconds).
    fn from_str(s: &str) -> Result<Self, String> {
        let secs = |t: &str| -> Result<f64, String> {
            match t.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(v),
                _ => Err(format!("invalid delay {t:?}: expected seconds between 0 and 3600, e.g. 0.35 or 0.5..5")),
            }
        };
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
