//! The main job (`flags` with no arguments): the seed's experiment. Starts
//! the embedded server on a free loopback port with a CDN-like latency,
//! downloads POP20 with every style, prints each run in the seed's format,
//! then a table comparing them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::countries::pop20_sorted;
use crate::download::{self, Cancel, Job, Mode};
use crate::report::{self, SeedSink, StyleTimes};
use crate::save;
use crate::server::{self, Delay, ServerConfig};

/// Settings of the demo.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Latency of each response (the book's CDN answered in about 0.35 s).
    pub delay: Delay,
    /// Seed for the server's delay draws.
    pub seed: u64,
    /// Runs of each style.
    pub runs: usize,
    /// Where the files go.
    pub dest: PathBuf,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig { delay: Delay::fixed(0.35), seed: 0, runs: 1, dest: PathBuf::from("downloads") }
    }
}

/// The seed script each mode stands for.
fn script(mode: Mode) -> &'static str {
    match mode {
        Mode::Sequential => "python3 flags.py",
        Mode::ThreadPool => "python3 flags_threadpool.py",
        Mode::Async => "python3 flags_asyncio.py",
        Mode::ProcessPool => "flags get --mode processpool",
    }
}

/// Runs the demo; returns the times of each style.
pub fn run(config: &DemoConfig) -> anyhow::Result<Vec<StyleTimes>> {
    use anyhow::Context as _;
    save::prepare_dest(&config.dest).with_context(|| format!("cannot write to {}", config.dest.display()))?;
    let server_config = ServerConfig { delay: config.delay, seed: config.seed, ..ServerConfig::default() };
    let server = server::spawn(server_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .context("cannot start the embedded flag server")?;
    let codes = pop20_sorted();
    report::demo_intro(&server.base_url(), &config.delay.to_string(), codes.len());
    let mut rows = Vec::new();
    for mode in Mode::ALL {
        let mut times = Vec::new();
        for i in 1..=config.runs {
            report::demo_run_header(mode, script(mode), i, config.runs);
            let mut job = Job::new(server.base(), config.dest.clone(), codes.len());
            job.timeout = Duration::from_secs(10) + config.delay.max;
            job.stall = job.timeout;
            let result = download::run(mode, job, codes.clone(), Arc::new(SeedSink), Cancel::new(&config.dest));
            report::seed_summary(&result);
            times.push(result.elapsed);
        }
        rows.push(StyleTimes { mode, times });
    }
    report::demo_end(&rows, &config.dest.display().to_string());
    Ok(rows)
}
