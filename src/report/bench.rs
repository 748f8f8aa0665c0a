//! `flags bench`'s output: a line per point as it is measured, a closing
//! line, and the Markdown report (BENCHMARKS.md) as text.

use std::fmt::Write as _;
use std::path::Path;

use super::out::say;
use crate::bench::peers::Peer;
use crate::bench::result::{BenchReport, Point};
use crate::bench::{BenchConfig, BenchObserver};

const HEAD: &str = "workload           tool                      codes     m  latency   ideal   median     min     max  x ideal  speedup   rss MiB   cpu s  saved  conns   reqs  peak";

fn opt(v: Option<f64>, suffix: &str) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.2}{suffix}"))
}

/// One point as a table row.
pub fn row(p: &Point) -> String {
    format!(
        "{:<18} {:<24} {:>6} {:>5} {:>7.3}s {:>7} {:>7.3}s {:>6.3}s {:>6.3}s {:>8} {:>8} {:>9.1} {:>7.2} {:>6} {:>6} {:>6} {:>5}",
        p.workload,
        p.tool,
        p.codes,
        p.concurrency,
        p.latency_s,
        // Under a random delay the bound is not known.
        if p.delay.is_some() { "-".to_string() } else { format!("{:.2}s", p.ideal_s) },
        p.median_s,
        p.min_s,
        p.max_s,
        opt(p.ratio_to_ideal, "x"),
        opt(p.speedup_vs_sequential, "x"),
        p.peak_rss_kib as f64 / 1024.0,
        p.cpu_s,
        p.saved,
        p.connections.map_or("-".to_string(), |c| c.to_string()),
        p.requests.map_or("-".to_string(), |c| c.to_string()),
        p.peak_in_flight.map_or("-".to_string(), |c| c.to_string()),
    )
}

/// The TLS handshake cost of a point over HTTPS: `100 x 2.1 ms = 210 ms`.
pub fn handshake_cost(p: &Point) -> Option<String> {
    let (n, ms) = (p.tls_handshakes?, p.tls_handshake_ms?);
    let each = if n > 0 { ms / n as f64 } else { 0.0 };
    Some(format!("{n} x {each:.1} ms = {ms:.0} ms"))
}

/// Prints the table as the benchmark runs.
pub struct Printer;

impl BenchObserver for Printer {
    fn started(&self, cfg: &BenchConfig, peers: &[Peer]) {
        header(cfg, peers);
    }

    fn measured(&self, point: &Point) {
        match (handshake_cost(point), point.self_timed_s, &point.workers) {
            (Some(cost), ..) => say!("{}  TLS handshakes {cost}", row(point)),
            (None, Some(own), _) => say!("{}  self-timed {own:.3}s", row(point)),
            (None, None, Some(w)) => say!("{}  {}", row(point), workers_note(w)),
            (None, None, None) => say!("{}", row(point)),
        }
    }

    fn interrupted(&self) {
        interrupted();
    }

    fn markdown(&self, report: &BenchReport, svg: &str) -> String {
        markdown(report, svg)
    }

    fn ended(&self, report: &BenchReport, out: &Path) {
        footer(report, out);
    }
}

/// A process pool's workers, in a few words.
fn workers_note(w: &crate::download::Workers) -> String {
    format!(
        "workers {} started, {} at once, start-up {:.1} ms median, {:.1} ms slowest",
        w.started, w.peak_live, w.start_up_median_ms, w.start_up_max_ms
    )
}

/// The process pools' workers in BENCHMARKS.md, beside the thread pool of
/// the same workload and setting.
fn workers_section(report: &BenchReport) -> String {
    let pools: Vec<&Point> = report.points.iter().filter(|p| p.workers.is_some()).collect();
    if pools.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "### The process pool's workers

How many worker processes each process-pool point started, the most alive at once, and how long one took from the pool asking for it to its first line (ready for jobs): the median of the runs' medians, and the slowest. *vs threadpool* is the process pool's median time over the thread pool's at the same workload and `-m`.

| workload | tool | m | started | at once | start-up median | slowest | median | vs threadpool |
|---|---|---|---|---|---|---|---|---|
",
    );
    for p in pools {
        let w = p.workers.as_ref().expect("filtered");
        let threads = report.points.iter().find(|t| {
            t.workload == p.workload
                && t.tool == "flags threadpool"
                && t.concurrency == p.concurrency
                && t.latency_s == p.latency_s
        });
        let vs = threads.map_or("-".to_string(), |t| format!("{:.2}x", p.median_s / t.median_s));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.1} ms | {:.1} ms | {:.3} s | {vs} |",
            p.workload,
            p.tool,
            p.concurrency,
            w.started,
            w.peak_live,
            w.start_up_median_ms,
            w.start_up_max_ms,
            p.median_s
        );
    }
    md.push('\n');
    md
}

/// What is about to run.
fn header(cfg: &BenchConfig, peers: &[Peer]) {
    // The installed tools (`--peers`) and the commands (`--peer`) alike.
    let mut peers: Vec<&str> = peers.iter().map(|p| p.name()).collect();
    peers.extend(cfg.commands.iter().map(|c| c.name.as_str()));
    say!(
        "flags bench: {} run(s) per point{}; styles {}; peers {}",
        cfg.runs,
        if cfg.quick { " (quick)" } else { "" },
        cfg.styles.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "),
        if peers.is_empty() { "none".to_string() } else { peers.join(", ") }
    );
    if let Some(delay) = cfg.delay {
        say!(
            "delay {} in place of each fixed latency (the latency column gives its median); every tool meets the \
             same delay for the same flag",
            delay.as_arg()
        );
    }
    say!("{HEAD}");
}

/// Where the results went.
pub fn footer(report: &BenchReport, out: &Path) {
    let dir = out.display();
    say!("\n{} points; wrote {dir}/bench.json and {dir}/bench.svg", report.points.len());
}

/// The bench's end after Ctrl-C: the points above are all it measured.
pub fn interrupted() {
    eprintln!("flags bench: interrupted; nothing was written, and its scratch files are removed");
}

/// The TLS handshakes of W5 in BENCHMARKS.md, beside curl's.
fn tls_section(report: &BenchReport) -> String {
    let tls: Vec<&Point> = report.points.iter().filter(|p| p.tls_handshakes.is_some()).collect();
    if tls.is_empty() {
        return String::new();
    }
    let mut md = "### TLS handshake cost (W5)\n\nConnections x time per handshake, measured by the server from \
accept to the handshake's end, in the median run:\n\n| tool | handshakes | median time | vs curl |\n|---|---|---|---|\n"
        .to_string();
    let curl = tls.iter().find(|p| p.tool == "curl").map(|p| p.median_s);
    for p in &tls {
        let vs = curl.map_or("-".to_string(), |c| format!("{:.2}x", p.median_s / c));
        let _ = writeln!(md, "| {} | {} | {:.3} s | {vs} |", p.tool, handshake_cost(p).unwrap_or_default(), p.median_s);
    }
    md += "\n";
    md
}

/// W6 in BENCHMARKS.md: each of `flags`'s ways of computing beside the
/// Python that it models, with the ratios the GIL model is held to.
fn w6_section(report: &BenchReport) -> String {
    let w6: Vec<&Point> = report.points.iter().filter(|p| p.workload == crate::bench::workload::Workload::W6).collect();
    if w6.is_empty() {
        return String::new();
    }
    let time = |tool: &str| w6.iter().find(|p| p.tool == tool).map(|p| p.self_timed_s.unwrap_or(p.median_s));
    let mut md = String::from(
        "### CPU-bound work and the GIL (W6)\n\nThe median time of each, and the Python reference it is held to. \
Python's times are what the script timed itself, from its first download to its last save: its interpreter and \
imports start first, which the whole-process times in the table above include.\n\n\
| flags | time | x ideal | Python | time | flags / Python |\n|---|---|---|---|---|---|\n",
    );
    let pairs = [
        ("flags sequential", "python3 sequential"),
        ("flags threadpool --gil", "python3 threads"),
        ("flags threadpool", "python3 threads"),
        ("flags processpool", "python3 processes"),
        ("flags async", ""),
        ("flags async --offload", ""),
    ];
    for (ours, theirs) in pairs {
        let Some(p) = w6.iter().find(|p| p.tool == ours) else { continue };
        let (py, ratio) = match (time(theirs), theirs.is_empty()) {
            (Some(t), false) => (format!("{t:.3} s"), format!("{:.2}x", p.median_s / t)),
            _ => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            md,
            "| {ours} | {:.3} s | {} | {} | {py} | {ratio} |",
            p.median_s,
            opt(p.ratio_to_ideal, "x"),
            if theirs.is_empty() { "-" } else { theirs }
        );
    }
    md.push('\n');
    md
}

/// BENCHMARKS.md: the method, the table, the chart.
pub fn markdown(report: &BenchReport, svg: &str) -> String {
    let mut md = String::from("# Benchmarks\n\n");
    md += &match &report.external_server {
        None => "Regenerate with `cargo run --release -- bench --peers --out bench --markdown BENCHMARKS.md` \
(about five minutes; `--quick` takes under one).\n\n"
            .to_string(),
        Some(url) => format!(
            "Measured against the server at {url}, not the embedded one. `scripts/bench-nginx.sh` \
regenerates this page (W2) against an nginx it starts.\n\n"
        ),
    };
    md += "## Method\n\n";
    md += "`flags bench` starts the embedded flag server on 127.0.0.1 with the latency and error rate of each \
workload, then runs every style as a separate `flags get --json` process, and each peer (curl \
`--parallel --parallel-immediate --fail`, aria2c, wget2, when installed) against the same server. \
Times are wall clock from spawn to exit, start-up included; CPU time comes from `wait4` (the \
children it waited for included) and peak RSS from `VmHWM`, sampled every 2 ms: that of the \
largest process of the tree (the process, a worker of the process pool, a shell's command). \
*reqs*, *peak* and *conns* are what the embedded server saw of the run: the requests it \
answered, the most in flight at once (from its own record), the connections. *ideal* is the \
latency bound `ceil(codes / m) x latency`. Each point \
is the median of the runs. The runs go round-robin (run 1 of every tool, then run 2, ...), so a \
slow phase of a shared machine lands on every tool alike, and every run downloads into a fresh \
directory that is kept until the bench ends: on ext4 without a journal, a new file skips the \
inodes deleted in the last minute or so, and deleting the previous run's files made the next \
tool's file creation 15 times slower. For the same reason, give the machine a minute or two \
after deleting many files (a previous bench's, say) before measuring.\n\n";
    md += "| workload | what |\n|---|---|\n";
    md += "| W1 | the seed: POP20, 0.35 s latency, all at once |\n";
    md += "| W2 | the 194 flags, no latency, `-m 100` |\n";
    md += "| W3 | all 676 codes against an ERROR-style server (0.5 s, 25% 418s), `-m 200` |\n";
    md += "| W4 | all 676 codes at once against a 1 s latency |\n";
    md += "| W5 | the 194 flags over HTTPS at 20 ms latency, `-m 100`: the async style on HTTP/1.1 connections \
(`h1`) and as HTTP/2 streams, up to the server's 32 per connection (`h2`); curl `--http2` and wget2 multiplex too |\n";
    md += "| W6 | POP20 at no latency, each flag given 50 ms of CPU work (`--work 50ms`), `-m 20` (the process \
pools: a worker per core), with and without `--gil`, beside the Python reference `bench/flags_work.py` \
(sequential, `ThreadPoolExecutor`, `ProcessPoolExecutor`) when python3 is installed; the ideal is the CPU over \
the cores that can compute at once |\n";
    md += "| sweep-concurrency | the 194 flags at 20 ms latency, `-m` from 1 to 500 |\n";
    md += "| sweep-latency | POP20 at `-m 20`, latency 0 to 1 s |\n\n";
    let _ = writeln!(
        md,
        "## Latest figures\n\n{} logical CPUs, {} run(s) per point{}.\n",
        report.cores,
        report.runs,
        if report.quick { ", quick mode" } else { "" }
    );
    md += "```\n";
    md += HEAD;
    md += "\n";
    for p in &report.points {
        md += &row(p);
        md += "\n";
    }
    md += "```\n\n";
    md += "*conns* is how many connections the embedded server accepted in the run.\n\n";
    md += &tls_section(report);
    md += &workers_section(report);
    md += &w6_section(report);
    let _ = writeln!(md, "![time and RSS against concurrency]({svg})");
    if report.external_server.is_none() {
        md += "\n## Against nginx\n\n`scripts/bench-nginx.sh` runs W2 with every style and peer against an \
nginx serving a copy of the 194 flags, and writes its table to [bench/nginx/BENCHMARKS.md]\
(bench/nginx/BENCHMARKS.md). `scripts/server-vs-nginx.sh` serves the flags with `flags serve`, \
`flags serve --dir` and nginx (2 workers, sendfile, access log off) side by side and measures each with \
`wrk -t1 -c64` (keep-alive), round-robin in one run; it prints the median request rates, the servers' \
CPU time per request and the ratios to nginx.\n";
    }
    md
}
