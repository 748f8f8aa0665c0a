//! `book-timeline.html`: each script's waterfall beside its style's, both
//! from the server's record, on one time axis shared by the pair (a
//! checkbox gives each its own).

use std::path::Path;

use super::spec::{Book, Pair};
use crate::save;
use crate::waterfall::exchange::Recording;

/// `7.05 s`, or what stood in for a time.
fn time(times: &[std::time::Duration]) -> String {
    Pair::mean(times).map_or_else(|| "-".to_string(), |t| format!("{:.2} s", t.as_secs_f64()))
}

/// Writes the pairs' waterfalls at `path`, in the form its name asks for:
/// a Trace Event (`.trace.json`) or HAR (`.har`) file of every run, each
/// from the server's record, else the HTML page.
pub fn write_timeline(book: &Book, path: &Path) -> std::io::Result<()> {
    use crate::waterfall::{har, trace, Format};
    let python = &book.setting.python;
    let recordings = || {
        let mut all = Vec::new();
        for pair in &book.pairs {
            if let Some(r) = &pair.script_recording {
                all.push(Recording { title: format!("{python} {}", pair.script.file), ..r.clone() });
            }
            all.extend(pair.flags_recording.clone());
        }
        all
    };
    match Format::of(path) {
        Format::Trace => save::write_output(path, &trace::document(&recordings())),
        Format::Har => save::write_output(path, &har::document(&recordings())),
        _ => write_page(book, path),
    }
}

/// Writes the HTML page at `path`.
fn write_page(book: &Book, path: &Path) -> std::io::Result<()> {
    let python = &book.setting.python;
    let mut panels = Vec::new();
    for pair in book.pairs.iter().filter(|p| p.missing.is_empty()) {
        let script = format!("{python} {}: {}", pair.script.file, time(&pair.script_times));
        let style = format!("{}: {}", pair.leg.command(), time(&pair.flags_times));
        let shared = [&pair.script_rows, &pair.flags_rows]
            .iter()
            .flat_map(|rows| rows.iter().filter_map(|r| r.timeline.done))
            .fold(0.0, f64::max);
        for (title, rows, note) in [
            (&script, &pair.script_rows, pair.script_failure()),
            (&style, &pair.flags_rows, (pair.flags_failed > 0).then(|| format!("{} flags failed", pair.flags_failed))),
        ] {
            let content = crate::waterfall::panel(title, note.as_deref().unwrap_or(""), rows, shared, true);
            panels.push((title.clone(), content));
        }
    }
    let intro = format!(
        "The scripts of {} ({}) against the embedded server, each answer after {}, each beside the flags style \
         that does what it does. Both sides are drawn from the server's record: when it read each request and \
         when it sent the last byte, one row per request in the order they came.",
        book.setting.chapter.edition.title(),
        book.setting.chapter.dir.display(),
        book.setting.delay
    );
    let page = crate::waterfall::html_with(
        "flags book: the book's scripts beside flags",
        &intro,
        &panels,
        Some("each run on its own time scale"),
    );
    save::write_output(path, page.as_bytes())
}
