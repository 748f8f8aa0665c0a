//! `flags get`'s arguments, and the validated [`GetConfig`] they become:
//! the codes chosen, the server named, the job capped.

use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::Args;

use super::parse::{invalid, parse_timeout};
use super::work::WorkArgs;
use crate::countries::{CodeArg, Selection};
use crate::download::{Job, Mode};
use crate::get::{default_concurrency, GetConfig, MAX_CONCURRENCY};
use crate::http::{BaseUrl, Protocol, Trust};
use crate::save;
use crate::server::Label;

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Country codes (BR), or single letters meaning all 26 codes that start
    /// with it (b = BA..BZ). Case-insensitive. Default: the 20 most populous.
    #[arg(value_name = "CC", value_parser = parse_code_arg)]
    pub codes: Vec<CodeArg>,
    /// All 194 flags the book's server holds.
    #[arg(short, long)]
    pub all: bool,
    /// Every two-letter code, AA..ZZ (676; most are 404).
    #[arg(short, long)]
    pub every: bool,
    /// Only the first N codes, after sorting.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// Most concurrent requests, 1 to 1000 [default: sequential 1, threadpool
    /// 30, async 100, processpool 4 x cores; at most 5 for REMOTE]. More than
    /// the codes is capped at the codes.
    #[arg(short = 'm', long, value_name = "N", value_parser = parse_max_req, allow_negative_numbers = true)]
    pub max_req: Option<u32>,
    /// Server: LOCAL (localhost:8000), DELAY (8001), ERROR (8002), REMOTE (the
    /// book's public site), or a base URL (http://host:port/flags).
    #[arg(short, long, default_value = "LOCAL", value_parser = parse_server)]
    pub server: ServerArg,
    /// One line per code instead of the progress bar.
    #[arg(short, long)]
    pub verbose: bool,
    /// Download style.
    #[arg(long, default_value = "async", value_enum)]
    pub mode: Mode,
    /// Directory to save to (created if missing).
    #[arg(short, long, default_value = "downloads", value_name = "DIR")]
    pub dest: PathBuf,
    /// Give up on a request after this many seconds (bytes that arrived
    /// by then are still taken).
    #[arg(long, default_value = "10", value_name = "SECS", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: Duration,
    /// A request fails when no byte arrives for this long [default: the --timeout].
    #[arg(long, value_name = "SECS", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub stall: Option<Duration>,
    /// The largest body taken (a flag is at most 36 KB): 256K, 2M, 40000...
    #[arg(long, value_name = "BYTES", default_value = "256K", value_parser = parse_size)]
    pub max_size: u64,
    /// Extra tries for transient failures (timeouts, resets, truncated bodies,
    /// 429/500/502/503/504), with exponential backoff; Retry-After is honoured.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// Also fetch metadata.json and name files after the country (Brazil-BR.gif).
    #[arg(long)]
    pub names: bool,
    /// Print a JSON report on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Also trust the CA certificates in this PEM file (the system's are
    /// trusted too), e.g. the one `flags serve --tls` prints.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// Check no server certificate (traffic is still encrypted, but anyone
    /// on the path could pose as the server).
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Speak HTTP/1.1 only.
    #[arg(long = "http1.1", conflicts_with = "http2")]
    pub http1_1: bool,
    /// Write the run's timeline here, in the form FILE's name asks for:
    /// .html (a page), .trace.json (Trace Event, for Perfetto), .har (HAR,
    /// for a browser's network panel), .json (the JSON report), else SVG.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Speak HTTP/2 only: over https as agreed in the TLS handshake, over
    /// http with prior knowledge. Async style only. [default: HTTP/2 over
    /// https when the server offers it, else HTTP/1.1]
    #[arg(long)]
    pub http2: bool,
    #[command(flatten)]
    pub work: WorkArgs,
}

/// A server named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerArg {
    Label(Label),
    Url(BaseUrl),
}

impl TryFrom<GetArgs> for GetConfig {
    type Error = clap::Error;
    fn try_from(a: GetArgs) -> Result<Self, clap::Error> {
        let selection = Selection { args: a.codes, all: a.all, every: a.every, limit: a.limit.map(|n| n as usize) };
        let codes = selection.codes();
        let (label, base) = match a.server {
            ServerArg::Label(l) => (Some(l), l.base()),
            ServerArg::Url(u) => (None, u),
        };
        let wanted = a.max_req.map_or_else(|| default_concurrency(a.mode, label), |m| m as usize);
        let concurrency = match a.mode {
            Mode::Sequential => 1,
            _ => wanted.min(MAX_CONCURRENCY).min(codes.len()).max(1),
        };
        if a.http2 && a.mode != Mode::Async {
            let why = format!("the {} style speaks HTTP/1.1 only; use --mode async", a.mode);
            return Err(clap::Error::raw(ErrorKind::ArgumentConflict, format!("--http2 cannot be used here: {why}")));
        }
        if let Some(path) = &a.cacert {
            crate::http::tls::check_cacert(path).map_err(|why| invalid("--cacert <FILE>", path.display(), why))?;
        }
        let protocol = match (a.http1_1, a.http2) {
            (true, _) => Protocol::Http1,
            (_, true) => Protocol::Http2,
            _ => Protocol::Auto,
        };
        if let Some(path) = &a.timeline {
            save::check_output(path).map_err(|why| invalid("--timeline <FILE>", path.display(), why))?;
        }
        let work = a.work.work(a.mode)?;
        save::prepare_dest(&a.dest).map_err(|e| invalid("--dest <DIR>", a.dest.display(), e))?;
        let job = Job {
            base,
            dest: a.dest,
            timeout: a.timeout,
            stall: a.stall.unwrap_or(a.timeout),
            concurrency,
            names: a.names,
            retries: a.retries,
            max_size: a.max_size,
            trust: Trust { cacert: a.cacert, insecure: a.insecure },
            protocol,
            work,
        };
        Ok(GetConfig { codes, label, mode: a.mode, job, verbose: a.verbose, json: a.json, timeline: a.timeline })
    }
}

fn parse_code_arg(s: &str) -> Result<CodeArg, String> {
    s.parse().map_err(|_| "expected a two-letter country code (BR) or a single letter (b = BA..BZ)".to_string())
}

fn parse_max_req(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err("must be a positive number, from 1 to 1000".into()),
        Ok(0) => Err("must be from 1 to 1000".into()),
        Ok(n) => Ok(n.min(u32::MAX as i64) as u32),
        Err(_) => Err("expected a number of requests, from 1 to 1000".into()),
    }
}

fn parse_server(s: &str) -> Result<ServerArg, String> {
    if s.contains("://") {
        return s.parse::<BaseUrl>().map(ServerArg::Url).map_err(|e| e.why.to_string());
    }
    s.parse()
        .map(ServerArg::Label)
        .map_err(|_| "expected LOCAL, DELAY, ERROR, REMOTE or a base URL (http://host:port/flags)".to_string())
}

/// `256K`, `2M`, `1G` or a number of bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err("expected a size such as 256K, 2M or 40000".into()),
    };
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && n.checked_shl(shift).is_some_and(|v| v >> shift == n) => Ok(n << shift),
        _ => Err("expected a size such as 256K, 2M or 40000 (more than 0)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn max_req_messages_name_the_range() {
        assert_eq!(parse_max_req("-1").unwrap_err(), "must be a positive number, from 1 to 1000");
        assert_eq!(parse_max_req("0").unwrap_err(), "must be from 1 to 1000");
        assert_eq!(parse_max_req("5000"), Ok(5000), "capped later, at 1000 and the codes");
        assert_eq!(parse_size("256K"), Ok(256 << 10));
        assert!(parse_size("0").is_err() && parse_size("12Q").is_err());
    }

    /// The concurrency `flags get ARGS` would use.
    fn concurrency(args: &str) -> usize {
        let cli = Cli::try_parse_from(format!("flags get {args}").split_whitespace()).unwrap();
        let Some(Command::Get(get)) = cli.command else { unreachable!("a get command") };
        GetConfig::try_from(get).unwrap().job.concurrency
    }

    #[test]
    fn requests_in_flight_are_capped_and_remote_is_spared() {
        // At most 676 codes, so the cap of 1000 leaves the codes' to bind.
        assert_eq!(concurrency("-e -m 5000"), 676, "capped at 1000 and at the codes");
        assert_eq!(concurrency("-e -m 5000 --mode sequential"), 1);
        assert_eq!(concurrency("BR FR -m 50"), 2, "capped at the codes");
        assert_eq!(concurrency("-e -s REMOTE"), 5, "the book's public site gets at most 5");
        assert_eq!(concurrency("-e -s REMOTE --mode threadpool"), 5);
        assert_eq!(concurrency("-e -s REMOTE -m 50"), 50, "unless the user says so");
        assert_eq!(concurrency("-e -s LOCAL"), 100, "async's default elsewhere");
    }
}
