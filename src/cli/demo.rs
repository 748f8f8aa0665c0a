//! `flags demo`'s arguments (and `flags` alone's), and the validated
//! [`DemoConfig`] they become.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::parse::{invalid, parse_delay};
use super::work;
use crate::demo::DemoConfig;
use crate::save;
use crate::server::Delay;

#[derive(Debug, Args, Default)]
pub struct DemoArgs {
    /// Latency of each response, in seconds: `0.35`, a range `0.2..0.5`, or
    /// `lognormal:MEDIAN,SIGMA` (a long tail, as on the internet).
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
    /// Also run a command after the styles, against the same server:
    /// NAME='COMMAND' with {base} (the server's base URL), {dir} (a fresh
    /// folder, its working directory), {cc} (the 20 codes) and {m} (20).
    /// Repeatable.
    #[arg(long, value_name = "NAME=COMMAND")]
    pub peer: Vec<String>,
    /// The CPU work per flag of part two, under the model GIL (50ms, 0.1s).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = work::parse_work)]
    pub work: Duration,
    /// Leave out part two, the CPU-bound run.
    #[arg(long)]
    pub no_work: bool,
    /// Write the timeline here: an HTML page of every style's waterfall,
    /// or Trace Event (.trace.json) or HAR (.har) [default:
    /// demo-timeline.html beside DEST].
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
}

impl DemoArgs {
    /// What `flags` alone runs: the demo with its defaults.
    pub fn default_run() -> Self {
        DemoArgs {
            delay: None,
            seed: 0,
            runs: 1,
            dest: "downloads".into(),
            peer: Vec::new(),
            work: crate::demo::default_work().cpu,
            no_work: false,
            timeline: None,
        }
    }
}

impl TryFrom<DemoArgs> for DemoConfig {
    type Error = clap::Error;
    fn try_from(a: DemoArgs) -> Result<Self, clap::Error> {
        if let Some(path) = &a.timeline {
            use crate::waterfall::Format;
            if !matches!(Format::of(path), Format::Html | Format::Trace | Format::Har) {
                let why = "the demo writes an HTML page (.html), Trace Event (.trace.json) or HAR (.har)";
                return Err(invalid("--timeline <FILE>", path.display(), why));
            }
        }
        save::prepare_dest(&a.dest).map_err(|e| invalid("--dest <DEST>", a.dest.display(), e))?;
        let delay = a.delay.unwrap_or(Delay::fixed(0.35));
        let peers = a
            .peer
            .iter()
            .map(|p| crate::shell::CommandPeer::parse(p).map_err(|why| invalid("--peer <NAME=COMMAND>", p, why)))
            .collect::<Result<_, _>>()?;
        let work = (!a.no_work).then(|| crate::work::Work { cpu: a.work, ..crate::demo::default_work() });
        let timeline = a.timeline;
        let config = DemoConfig { delay, seed: a.seed, runs: a.runs as usize, dest: a.dest, peers, work, timeline };
        // A place its timeline cannot go is known now, before any request.
        let page = crate::demo::timeline_path(&config);
        save::check_output(&page).map_err(|why| match &config.timeline {
            Some(path) => invalid("--timeline <FILE>", path.display(), why),
            None => invalid("--dest <DEST>", config.dest.display(), format!("{}: {why}", page.display())),
        })?;
        Ok(config)
    }
}
