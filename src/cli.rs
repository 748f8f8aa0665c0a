//! Command-line arguments (clap derive) and the validated configurations
//! they turn into, so nothing downstream checks input again.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::demo::DemoConfig;
use crate::server::{Delay, Label, ServerConfig, Source};

/// Download country flags in several concurrency styles and measure what each costs.
///
/// With no command, runs the demo: the seed's experiment against the
/// embedded flag server, no network needed.
#[derive(Debug, Parser)]
#[command(name = "flags", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The seed's experiment: POP20 with each style against the embedded server, then a table.
    Demo(DemoArgs),
    /// Run the flag server (the book's site on your machine, with delays and errors).
    Serve(ServeArgs),
}

#[derive(Debug, Args, Default)]
pub struct DemoArgs {
    /// Latency of each response, in seconds: `0.35` or a range `0.2..0.5`.
    #[arg(long, default_value = "0.35", value_parser = parse_delay)]
    pub delay: Option<Delay>,
    /// Seed for the server's random delays.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How many times to run each style.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// Where to save the flags.
    #[arg(short, long, default_value = "downloads")]
    pub dest: PathBuf,
}

impl From<DemoArgs> for DemoConfig {
    fn from(a: DemoArgs) -> Self {
        DemoConfig { delay: a.delay.unwrap_or(Delay::fixed(0.35)), seed: a.seed, runs: a.runs as usize, dest: a.dest }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Behave like one of the book's servers: LOCAL (port 8000), DELAY (8001,
    /// 0.5..5 s delay), ERROR (8002, 0.5 s delay, 25% 418s).
    #[arg(long, value_parser = parse_label)]
    pub label: Option<Label>,
    /// Serve a directory laid out like the unpacked flags.zip (DIR/{cc}/{cc}.gif)
    /// instead of the embedded images.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one. Default: the label's port, else 8000.
    #[arg(long, value_parser = clap::value_parser!(u16))]
    pub port: Option<u16>,
    /// Delay before each flag response, seconds: `0.35` or `0.5..5` (uniform).
    #[arg(long, value_parser = parse_delay)]
    pub delay: Option<Delay>,
    /// Share of flag requests answered `418 I'm a Teapot`, 0 to 1.
    #[arg(long, value_parser = parse_rate)]
    pub error_rate: Option<f64>,
    /// Seed for delays and errors, so runs are reproducible.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// A validated `flags serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub server: ServerConfig,
}

impl TryFrom<ServeArgs> for ServeConfig {
    type Error = String;
    fn try_from(a: ServeArgs) -> Result<Self, String> {
        if a.label == Some(Label::Remote) {
            return Err("--label REMOTE is the book's public site; serve LOCAL, DELAY or ERROR".into());
        }
        let (label_delay, label_rate) = a.label.map_or((Delay::NONE, 0.0), Label::behaviour);
        let source = match a.dir {
            Some(dir) if !dir.is_dir() => return Err(format!("--dir {}: not a directory", dir.display())),
            Some(dir) => Source::Dir(dir),
            None => Source::Catalog,
        };
        let port = a.port.or(a.label.and_then(Label::port)).unwrap_or(8000);
        let seed = a.seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
        });
        Ok(ServeConfig {
            addr: SocketAddr::new(a.bind, port),
            server: ServerConfig {
                source,
                delay: a.delay.unwrap_or(label_delay),
                error_rate: a.error_rate.unwrap_or(label_rate),
                seed,
                label: a.label,
            },
        })
    }
}

fn parse_delay(s: &str) -> Result<Delay, String> {
    s.parse()
}

fn parse_label(s: &str) -> Result<Label, String> {
    s.parse()
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a share between 0 and 1 (e.g. 0.25)")),
    }
}
