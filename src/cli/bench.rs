//! `flags bench`'s arguments, the validated [`BenchConfig`] they become,
//! and how its run ends.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::Args;

use super::exit::Exit;
use super::parse::{invalid, parse_delay};
use crate::bench::result::BenchReport;
use crate::bench::workload::Workload;
use crate::bench::{BenchConfig, BenchError};
use crate::download::Mode;
use crate::http::BaseUrl;
use crate::server::Delay;
use crate::shutdown::Shutdown;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Fewer points, one run each: done within a minute.
    #[arg(long)]
    pub quick: bool,
    /// Directory for bench.json and bench.svg [default: a new folder in the
    /// system's temporary directory, named at the end].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs per point [default: 3, or 1 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: Option<u32>,
    /// Styles to measure, comma-separated [default: all].
    #[arg(long, value_delimiter = ',', value_enum)]
    pub styles: Vec<Mode>,
    /// Use this server (e.g. an nginx you run) instead of the embedded one; only
    /// the no-latency workloads run then.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub server: Option<BaseUrl>,
    /// Also run curl, aria2c and wget2 where installed.
    #[arg(long)]
    pub peers: bool,
    /// Also measure a command: NAME='COMMAND', with {base} (the server's base
    /// URL), {dir} (a fresh folder, its working directory), {cc} (the codes),
    /// {m} (requests at once) and {cacert} (an HTTPS server's CA file).
    /// Without {cc} it runs the workloads of the 20 flags only; without
    /// {cacert}, the plain-HTTP ones only. Repeatable.
    #[arg(long, value_name = "NAME=COMMAND")]
    pub peer: Vec<String>,
    /// The server's delay in place of the fixed latency of every workload
    /// that has one (W1, W3, W4, W5, the concurrency sweep): `0.5`, a range
    /// `0.2..0.5`, or `lognormal:MEDIAN,SIGMA`, a long tail as on the
    /// internet. Each tool meets the same delay for the same flag. The
    /// latency sweep keeps its levels.
    #[arg(long, value_name = "DELAY", value_parser = parse_delay)]
    pub delay: Option<Delay>,
    /// Only these workloads, comma-separated [default: all].
    #[arg(long, value_delimiter = ',', value_enum, ignore_case = true, value_name = "ID")]
    pub workloads: Vec<Workload>,
    /// Also write a Markdown report to this file (BENCHMARKS.md).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Another build of flags to measure beside this one, style for style,
    /// in the same run (e.g. the previous commit's target/release/flags).
    #[arg(long, value_name = "EXE")]
    pub baseline: Option<PathBuf>,
    /// Keep measuring when a run fails (exits as a failure, or saves fewer
    /// flags than the workload has) instead of stopping; the point counts
    /// its failed runs.
    #[arg(long)]
    pub ignore_failure: bool,
}

impl TryFrom<BenchArgs> for BenchConfig {
    type Error = clap::Error;
    fn try_from(a: BenchArgs) -> Result<Self, clap::Error> {
        let config = BenchConfig {
            quick: a.quick,
            out: a.out,
            ignore_failure: a.ignore_failure,
            runs: a.runs.map_or(if a.quick { 1 } else { 3 }, |r| r as usize),
            styles: if a.styles.is_empty() { Mode::ALL.to_vec() } else { a.styles },
            server: a.server,
            peers: a.peers,
            commands: a
                .peer
                .iter()
                .map(|p| crate::shell::CommandPeer::parse(p).map_err(|why| invalid("--peer <NAME=COMMAND>", p, why)))
                .collect::<Result<_, _>>()?,
            only: a.workloads,
            delay: a.delay,
            markdown: a.markdown,
            baseline: a.baseline,
        };
        crate::bench::check(&config).map_err(|msg| clap::Error::raw(ErrorKind::ValueValidation, msg))?;
        Ok(config)
    }
}

fn parse_url(s: &str) -> Result<BaseUrl, String> {
    s.parse::<BaseUrl>().map_err(|e| format!("{}; e.g. http://127.0.0.1:8080/flags", e.why))
}

impl Exit {
    /// How `flags bench` ended: stopped when a signal interrupted it.
    pub fn of_bench(result: Result<BenchReport, BenchError>, shutdown: &Shutdown) -> Result<Exit, BenchError> {
        match result {
            Ok(_) => Ok(Exit::Success),
            Err(BenchError::Interrupted) if shutdown.signal().is_some() => Ok(Exit::Stopped),
            Err(e) => Err(e),
        }
    }
}
