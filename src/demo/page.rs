//! The demo's page (`demo-timeline.html`): every style's waterfall of
//! both parts, each part on a time axis of its own shared by its styles,
//! with the speedups and a sentence on where each style's time goes.

use std::path::{Path, PathBuf};

use super::cpu::answers;
use super::spec::{Demo, DemoConfig, Runner, StyleTimes};
use crate::download::Mode;
use crate::save;
use crate::server::Delay;
use crate::waterfall::exchange::Recording;
use crate::work::Work;

/// Where the demo's timeline goes: `--timeline`, else
/// `demo-timeline.html` beside the destination folder.
pub fn timeline_path(config: &DemoConfig) -> PathBuf {
    if let Some(path) = &config.timeline {
        return path.clone();
    }
    let dir = config.dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    dir.join("demo-timeline.html")
}

/// Where each style's time goes in part one, in one sentence.
pub fn where_the_time_goes(who: &StyleTimes, delay: Delay) -> String {
    let mode = match &who.mode {
        Runner::Style(mode) => *mode,
        Runner::Offloaded => return where_the_cpu_goes(who),
        Runner::Peer(name) => return format!("{name}: {}.", who.note.as_deref().unwrap_or("")),
    };
    match mode {
        Mode::Sequential => format!(
            "One request at a time: the one thread waits out each {delay} delay in turn, so the run is twenty \
             delays end to end, and nearly all of it is waiting."
        ),
        Mode::ThreadPool => "Twenty threads each block in recv on a request of their own, and the waits overlap. \
            In Python a thread blocked in recv releases the GIL, so the GIL does not slow this down."
            .into(),
        Mode::Async => "One thread and its event loop send all twenty requests at once, then sit idle while all \
            twenty wait, and wake for each answer as it comes."
            .into(),
        Mode::ProcessPool => "Twenty worker processes each wait on one request, so the waits overlap as the \
            threads' do, plus the time to start the processes."
            .into(),
    }
}

/// Where each style's time goes in part two, in one sentence.
pub fn where_the_cpu_goes(who: &StyleTimes) -> String {
    match &who.mode {
        Runner::Style(Mode::Sequential) => "One thread downloads and computes each flag in turn: twenty times the \
            work, end to end."
            .into(),
        Runner::Style(Mode::ThreadPool) => "The downloads overlap, then the threads queue for the GIL: one computes \
            while the rest wait (pink), and every switch interval the lock passes on, so the computing phases make \
            a staircase, one row at a time."
            .into(),
        Runner::Style(Mode::Async) => "The one event loop computes each flag as its body arrives, and nothing else \
            moves meanwhile: every other request waits for the loop, so they end one after another."
            .into(),
        Runner::Offloaded => "The loop hands each flag's work to the blocking pool and goes on: the downloads end \
            at once. Under the GIL the pool's threads still compute one at a time."
            .into(),
        Runner::Style(Mode::ProcessPool) => "A worker per core, each with a GIL of its own: the processes compute \
            side by side, two flags at a time on two cores."
            .into(),
        Runner::Peer(name) => format!("{name}: {}.", who.note.as_deref().unwrap_or("")),
    }
}

/// Writes the demo's timeline at `path`, in the form its name asks for
/// (`Format`): Trace Event or HAR, a process
/// or page per style and part, or else (`.html`: the command line takes
/// no other) the HTML page (`write_page`).
pub fn write_timeline(demo: &Demo, delay: Delay, path: &Path) -> std::io::Result<()> {
    use crate::waterfall::{har, trace, Format};
    let recordings = || {
        let part = |rows: &[StyleTimes], name: &str| {
            rows.iter()
                .filter_map(|r| r.recording.clone())
                .map(|rec| Recording { title: format!("flags demo, {name}: {}", rec.title), ..rec })
                .collect::<Vec<_>>()
        };
        let mut all = part(&demo.io, &format!("part one, {delay} delay"));
        all.extend(part(&demo.cpu, "part two, CPU work"));
        all
    };
    match Format::of(path) {
        Format::Trace => save::write_output(path, &trace::document(&recordings())),
        Format::Har => save::write_output(path, &har::document(&recordings())),
        _ => write_page(demo, delay, path),
    }
}

/// Writes both parts' waterfalls into an HTML page at `path`: each part
/// on one time axis shared by its styles (a checkbox gives each its own),
/// with the speedups, where each style's time goes, and the answers.
pub fn write_page(demo: &Demo, delay: Delay, path: &Path) -> std::io::Result<()> {
    let mut panels = part_panels(&demo.io, "", &|r| where_the_time_goes(r, delay));
    // The times and the answers first, in a few lines; each panel says the
    // rest in a sentence of its own.
    let mut intro = format!("Each answer after {delay}: {}.", summary(&demo.io));
    if let Some(work) = &demo.work.filter(|_| !demo.cpu.is_empty()) {
        panels.extend(part_panels(&demo.cpu, &format!("part two, {}: ", work.args()), &where_the_cpu_goes));
        intro += &format!(
            " Part two, no delay and {} ms of CPU per flag ({}): {}. {}",
            work.cpu.as_millis(),
            work.args(),
            summary(&demo.cpu),
            answers_or_none(demo, delay, work)
        );
    }
    intro += " One row per flag, in the order they started; hover a row for its times.";
    let page = crate::waterfall::html_with(
        "flags demo: the same 20 flags, four ways",
        &intro,
        &panels,
        Some("each style on its own time scale"),
    );
    save::write_output(path, page.as_bytes())
}

fn answers_or_none(demo: &Demo, delay: Delay, work: &Work) -> String {
    answers(&demo.io, &demo.cpu, delay, work).unwrap_or_default()
}

/// `sequential 7.04 s; threadpool 0.36 s, 19.6x sequential's speed; ...`
fn summary(rows: &[StyleTimes]) -> String {
    rows.iter()
        .map(|r| format!("{} {:.2} s{}", r.mode, r.last().as_secs_f64(), speedup(rows, r)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `, 19.6x sequential's speed` against the sequential run of `rows`.
fn speedup(rows: &[StyleTimes], r: &StyleTimes) -> String {
    let sequential = rows.iter().find(|r| r.mode == Runner::Style(Mode::Sequential)).map(|r| r.last().as_secs_f64());
    match sequential {
        Some(s) if r.last().as_secs_f64() > 0.0 => format!(", {:.1}x sequential's speed", s / r.last().as_secs_f64()),
        _ => String::new(),
    }
}

/// A panel per style of one part, on the part's shared axis and on its own.
fn part_panels(rows: &[StyleTimes], prefix: &str, why: &dyn Fn(&StyleTimes) -> String) -> Vec<(String, String)> {
    let shared = rows.iter().map(|r| r.last().as_secs_f64() * 1000.0).fold(0.0, f64::max);
    rows.iter()
        .map(|r| {
            let title = format!("{prefix}{}: {:.2} s{}", r.mode, r.last().as_secs_f64(), speedup(rows, r));
            // A peer is drawn from the server's record, with its legend.
            let served = matches!(r.mode, Runner::Peer(_));
            let content = crate::waterfall::panel(&title, &why(r), &r.waterfall, shared, served);
            (title, content)
        })
        .collect()
}
