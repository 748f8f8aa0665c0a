//! One run of one tool in a benchmark: the command that runs it (a
//! `flags get` style, or a peer), run as a step that a stop ends, and
//! whether the run failed, which stops the benchmark unless
//! `--ignore-failure`.

use std::path::Path;
use std::process::Command;

use super::error::BenchError;
use super::peers::Peer;
use super::workload::Spec;
use crate::download::pipeline::gif_path;
use crate::download::Mode;
use crate::http::{BaseUrl, Protocol};
use crate::shell::{measure, CommandPeer};
use crate::shutdown::Shutdown;

/// A tool to measure on a spec.
pub(super) enum Tool {
    Flags(Mode, Protocol),
    /// A style with its work under the model GIL (W6).
    Gil(Mode),
    /// The async style with its work on the blocking pool (W6).
    Offload,
    /// The bench's Python reference (W6): the script, and its executor.
    Python(std::path::PathBuf, PyExecutor),
    /// The same style, run by the `--baseline` build.
    Baseline(Mode),
    Peer(Peer),
    /// A `--peer NAME='COMMAND'`.
    Command(CommandPeer),
}

impl Tool {
    pub(super) fn name(&self) -> String {
        match self {
            Tool::Flags(m, Protocol::Auto) => format!("flags {m}"),
            Tool::Flags(m, Protocol::Http1) => format!("flags {m} h1"),
            Tool::Flags(m, Protocol::Http2) => format!("flags {m} h2"),
            Tool::Gil(m) => format!("flags {m} --gil"),
            Tool::Offload => "flags async --offload".to_string(),
            Tool::Python(_, e) => format!("python3 {}", e.name()),
            Tool::Baseline(m) => format!("baseline {m}"),
            Tool::Peer(p) => p.name().to_string(),
            Tool::Command(c) => c.name.clone(),
        }
    }
}

/// How the Python reference schedules its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PyExecutor {
    Sequential,
    Threads,
    Processes,
}

impl PyExecutor {
    pub(super) const ALL: [PyExecutor; 3] = [PyExecutor::Sequential, PyExecutor::Threads, PyExecutor::Processes];

    fn name(self) -> &'static str {
        match self {
            PyExecutor::Sequential => "sequential",
            PyExecutor::Threads => "threads",
            PyExecutor::Processes => "processes",
        }
    }

    /// The script's `--executor`.
    fn arg(self) -> &'static str {
        match self {
            PyExecutor::Sequential => "sequential",
            PyExecutor::Threads => "thread",
            PyExecutor::Processes => "process",
        }
    }
}

/// The Python reference of W6, `bench/flags_work.py`, carried in the binary.
pub(super) const PYTHON_REFERENCE: &str = include_str!("../../bench/flags_work.py");

/// How many requests at once `tool` gets for `spec`. With CPU work (W6)
/// the process pools get a worker per core, as `ProcessPoolExecutor`
/// does by default: more processes than cores only take turns on them.
pub(super) fn concurrency(spec: &Spec, tool: &Tool) -> usize {
    let codes = spec.codes.count();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match tool {
        Tool::Flags(Mode::ProcessPool, _) | Tool::Gil(Mode::ProcessPool) | Tool::Python(_, PyExecutor::Processes)
            if spec.work.is_some() =>
        {
            cores.min(codes)
        }
        Tool::Flags(Mode::Sequential, _) | Tool::Baseline(Mode::Sequential) | Tool::Gil(Mode::Sequential) => 1,
        Tool::Python(_, PyExecutor::Sequential) => 1,
        _ => spec.concurrency.unwrap_or(codes).min(codes).min(crate::get::MAX_CONCURRENCY),
    }
}

/// The command that runs `tool` once over `spec`'s codes into `dir`.
/// `ca`: the CA file of an HTTPS server.
pub(super) fn command(
    exe: &Path,
    spec: &Spec,
    base: &BaseUrl,
    ca: Option<&Path>,
    tool: &Tool,
    dir: &Path,
) -> Result<Command, BenchError> {
    let m = concurrency(spec, tool);
    Ok(match tool {
        Tool::Flags(mode, protocol) => flags_command(exe, spec, base, ca, (*mode, *protocol), m, dir),
        Tool::Gil(mode) => {
            let mut cmd = flags_command(exe, spec, base, ca, (*mode, Protocol::Auto), m, dir);
            cmd.arg("--gil");
            cmd
        }
        Tool::Offload => {
            let mut cmd = flags_command(exe, spec, base, ca, (Mode::Async, Protocol::Auto), m, dir);
            cmd.arg("--offload");
            cmd
        }
        Tool::Python(script, executor) => {
            let mut cmd = Command::new("python3");
            cmd.arg(script).arg(base.to_string()).arg(dir);
            cmd.args(["--json", "--executor", executor.arg(), "-m", &m.to_string()]);
            cmd.arg("--work").arg(spec.work.unwrap_or(0.0).to_string());
            cmd.args(spec.codes.list().iter().map(|cc| cc.lower()));
            cmd
        }
        Tool::Baseline(mode) => flags_command(exe, spec, base, ca, (*mode, Protocol::Auto), m, dir),
        Tool::Peer(peer) => {
            let urls: Vec<(String, String)> = spec
                .codes
                .list()
                .iter()
                .map(|cc| (base.url_of(&gif_path(*cc)), format!("{}.gif", cc.lower())))
                .collect();
            peer.command(&urls, dir, m, ca).map_err(|source| BenchError::Write { path: dir.to_path_buf(), source })?
        }
        Tool::Command(peer) => {
            let codes: Vec<String> = spec.codes.list().iter().map(|cc| cc.lower()).collect();
            peer.command(&base.to_string(), dir, &codes, m, ca)
        }
    })
}

/// What the bench keeps of what `tool` prints: our own styles' reports
/// and the Python reference's line whole (they are read), up to
/// [`REPORT_LIMIT`]; of anything else, the ends.
fn keep(tool: &Tool) -> measure::Keep {
    let stdout = match ours(tool) {
        true => REPORT_LIMIT,
        false => 4096,
    };
    measure::Keep { stdout, stderr: None }
}

/// The most a report the bench reads may hold: `flags get --json` over the
/// 676 codes of the largest workload prints a few hundred KB.
pub(super) const REPORT_LIMIT: usize = 8 << 20;

/// True for the tools whose stdout is a report the bench reads.
fn ours(tool: &Tool) -> bool {
    matches!(tool, Tool::Flags(..) | Tool::Gil(_) | Tool::Offload | Tool::Baseline(_) | Tool::Python(..))
}

/// Runs `cmd` of `tool` once as a step of `shutdown` (which reaches every
/// process it starts): what it cost, and how many flags it saved (from its
/// report, or counted in its folder).
pub(super) fn measure_stoppable(
    cmd: Command,
    tool: &Tool,
    dir: &Path,
    shutdown: &Shutdown,
) -> Result<(measure::Sample, usize), BenchError> {
    let sample = measure::run(cmd, keep(tool), shutdown);
    if shutdown.is_stopped() {
        return Err(BenchError::Interrupted);
    }
    let sample = sample.map_err(|source| BenchError::Run { tool: tool.name(), source })?;
    if ours(tool) && sample.whole_stdout().is_none() {
        return Err(BenchError::Report { tool: tool.name(), bytes: sample.stdout.total, limit: REPORT_LIMIT });
    }
    let saved = match tool {
        Tool::Flags(..) | Tool::Gil(_) | Tool::Offload | Tool::Baseline(_) => sample
            .whole_stdout()
            .and_then(|out| serde_json::from_slice::<serde_json::Value>(out).ok())
            .and_then(|v| v["ok"].as_u64())
            .unwrap_or(0) as usize,
        Tool::Peer(_) => std::fs::read_dir(dir)
            .map_err(|source| BenchError::Run { tool: tool.name(), source })?
            .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".gif")))
            .count(),
        // A script may save into a folder of its own (the book's: downloaded/).
        Tool::Command(_) | Tool::Python(..) => crate::save::gifs_under(dir, 3),
    };
    Ok((sample, saved))
}

/// Why a run of `tool` on `spec` that saved `saved` flags failed, if it
/// did. Without injected errors every flag must be saved, and `flags`
/// must exit 0; with them (W3) `flags` may exit 1, the errors being the
/// point. The peers exit non-zero for the 404s of codes without a flag, so
/// only what they saved counts.
pub(super) fn failure(spec: &Spec, tool: &Tool, sample: &measure::Sample, saved: usize) -> Option<String> {
    let expected = spec.codes.flags();
    let ours = !matches!(tool, Tool::Peer(_));
    let exit = match sample.status {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_string(),
    };
    let status_ok = match (ours, spec.error_rate > 0.0) {
        (false, _) => sample.status.is_some(),
        (true, false) => sample.status == Some(0),
        (true, true) => matches!(sample.status, Some(0 | 1)),
    };
    if !status_ok {
        return Some(format!("it ended with {exit}, having saved {saved} of {expected} flags"));
    }
    let enough = match spec.error_rate > 0.0 {
        false => saved == expected,
        true => saved > 0 && saved <= expected,
    };
    (!enough).then(|| format!("it saved {saved} of the {expected} flags ({exit})"))
}

/// `exe get` over `spec`'s codes in a style, as the bench runs it.
fn flags_command(
    exe: &Path,
    spec: &Spec,
    base: &BaseUrl,
    ca: Option<&Path>,
    (mode, protocol): (Mode, Protocol),
    m: usize,
    dir: &Path,
) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("get").args(spec.codes.args()).args(["--json", "-s", &base.to_string(), "--mode", mode.as_str()]);
    cmd.args(["-m", &m.to_string(), "--timeout"]);
    // Past the longest delay the server may draw (`--delay`'s cap, not its median).
    let slowest = spec.delay.map_or(spec.latency, |d| d.max.as_secs_f64());
    cmd.arg((10.0 + slowest).to_string()).arg("-d").arg(dir);
    if let Some(ca) = ca {
        cmd.arg("--cacert").arg(ca);
    }
    if let Some(work) = spec.work {
        cmd.arg("--work").arg(format!("{work}s"));
    }
    match protocol {
        Protocol::Auto => {}
        Protocol::Http1 => {
            cmd.arg("--http1.1");
        }
        Protocol::Http2 => {
            cmd.arg("--http2");
        }
    }
    cmd
}
