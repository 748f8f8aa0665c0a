//! A waterfall drawn: SVG bars coloured by phase under the curve of
//! requests in flight, an HTML page of several, Unicode blocks for the
//! terminal, and the colour key they share.

use std::fmt::Write as _;

use crate::download::timeline::{in_flight_curve, peak_in_flight};
use crate::download::TimelineMs;
use crate::work::PhaseKind;

/// How a row's request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Ok,
    /// A 404: no such flag, which is not an error.
    NotFound,
    Failed,
}

/// One row: what it is called, its timeline, and how it ended.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub timeline: TimelineMs,
    /// A failed row is drawn red whole, a 404 brown, each on a band as
    /// wide as the chart, so that even a row a pixel high shows.
    pub ending: Ending,
}

/// The phases a bar is made of, in order: name, colour, and the events
/// that start and end it.
const PHASES: [(&str, &str); 7] = [
    ("waiting for a place", "#d9d9d9"),
    ("connecting", "#f2a541"),
    ("waiting for the server", "#7aa6d8"),
    ("receiving", "#2e9e44"),
    ("saving", "#9467bd"),
    ("waiting for the GIL", "#fbb4d9"),
    ("computing", "#e7298a"),
];

/// The phases of `--work`, drawn only by runs that have some.
const WORK_PHASES: usize = 5;

const FAILED: &str = "#d62728";
const FAILED_BAND: &str = "#fbd5d2";
const NOT_FOUND: &str = "#8c6d31";
const NOT_FOUND_BAND: &str = "#efe6d2";

/// The colour key every waterfall uses (the gallery's live one too), as a
/// JavaScript object: the phases by name, then `failed` and `notFound`.
pub fn key_js() -> String {
    let names = ["wait", "connect", "server", "receive", "save", "gil", "compute"];
    let mut js: Vec<String> = names.iter().zip(PHASES).map(|(n, (_, c))| format!("{n}:'{c}'")).collect();
    js.push(format!(
        "failed:'{FAILED}',failedBand:'{FAILED_BAND}',notFound:'{NOT_FOUND}',notFoundBand:'{NOT_FOUND_BAND}'"
    ));
    format!("{{{}}}", js.join(","))
}

/// The phases of `t` as (phase index, from ms, to ms), those that happened.
fn phases(t: &TimelineMs) -> Vec<(usize, f64, f64)> {
    let mut out = Vec::new();
    let mut push = |phase: usize, from: Option<f64>, to: Option<f64>| {
        if let (Some(from), Some(to)) = (from, to) {
            if to >= from {
                out.push((phase, from, to));
            }
        }
    };
    let end = t.done;
    let work = t.work.as_ref();
    push(0, t.queued, t.started);
    push(1, t.started, t.sent.or(end));
    push(2, t.sent, t.first_byte.or(if t.sent.is_some() { end } else { None }));
    push(3, t.first_byte, t.body_done.or(if t.first_byte.is_some() { end } else { None }));
    // The work comes between the body and the save.
    push(4, work.and_then(|w| w.span()).map(|(_, to)| to).or(t.body_done), end);
    for p in work.map_or(&[][..], |w| &w.phases[..]) {
        let phase = match p.phase {
            PhaseKind::GilWait => WORK_PHASES,
            PhaseKind::Computing => WORK_PHASES + 1,
        };
        push(phase, Some(p.from), Some(p.to));
    }
    out
}

/// The last moment of any row, in ms.
fn span_ms(rows: &[Row]) -> f64 {
    rows.iter().flat_map(|r| r.timeline.events()).map(|(_, t)| t).fold(0.0, f64::max).max(1.0)
}

/// Tick positions for an axis from 0 to `max`: steps of 1, 2 or 5 x 10^n,
/// about `count` of them.
pub fn ticks(max: f64, count: usize) -> Vec<f64> {
    let raw = max / count.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power);
    (0..).map(|i| i as f64 * step).take_while(|t| *t <= max * 1.0001).collect()
}

/// `1500` -> `1.5 s`, `20` -> `20 ms`.
pub fn format_ms(ms: f64) -> String {
    if ms == 0.0 {
        "0".to_string()
    } else if ms >= 1000.0 {
        let s = ms / 1000.0;
        if (s - s.round()).abs() < 1e-9 {
            format!("{s:.0} s")
        } else {
            format!("{s:.1} s")
        }
    } else if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// `text` made safe inside HTML, SVG or an attribute value.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A row's tooltip: its label, events and outcome.
fn tooltip(row: &Row) -> String {
    let t = &row.timeline;
    let mut text = row.label.clone();
    for (name, at) in t.events() {
        let _ = write!(text, "\n{name}: {at:.1} ms");
    }
    if let Some(conn) = t.conn {
        let _ = write!(text, "\nconnection {conn}{}", if t.reused { " (reused)" } else { " (new)" });
    }
    if t.attempts > 1 {
        let _ = write!(text, "\n{} tries", t.attempts);
    }
    if let Some(w) = &t.work {
        let total = |kind| w.phases.iter().filter(|p| p.phase == kind).map(|p| p.to - p.from).sum::<f64>();
        let _ = write!(
            text,
            "\nwork: {:.1} ms of CPU, {} units, digest {}\ncomputing {:.1} ms, waiting for the GIL {:.1} ms",
            w.cpu_ms,
            w.units,
            w.digest,
            total(PhaseKind::Computing),
            total(PhaseKind::GilWait)
        );
    }
    match row.ending {
        Ending::Ok => {}
        Ending::NotFound => text.push_str("\nnot found (404)"),
        Ending::Failed => text.push_str("\nfailed"),
    }
    text
}

/// The waterfall of `rows` as an SVG document, `title` above it, on a time
/// axis as long as its own run.
pub fn svg(title: &str, rows: &[Row]) -> String {
    svg_on(title, rows, None)
}

/// [`svg`] on a time axis of `span_ms` (at least its own run's), so that
/// several runs drawn side by side share one scale.
pub fn svg_on(title: &str, rows: &[Row], span_ms: Option<f64>) -> String {
    draw(title, rows, span_ms, Seen::Client)
}

/// [`svg_on`] for rows of the server's record
/// ([`served_rows`](super::served_rows)), with the server's legend: from
/// the accept to the first request, the answer held, the answer leaving.
pub fn served_svg_on(title: &str, rows: &[Row], span_ms: Option<f64>) -> String {
    draw(title, rows, span_ms, Seen::Server)
}

/// A panel of [`html_with`]'s page: `note`, then `rows` drawn on a time
/// axis of `span_ms` shared with the other panels and on their own (the
/// page's checkbox shows one or the other); `served` draws them with the
/// server's legend ([`served_svg_on`]).
pub fn panel(title: &str, note: &str, rows: &[Row], span_ms: f64, served: bool) -> String {
    let seen = if served { Seen::Server } else { Seen::Client };
    format!(
        "<p>{}</p><div class=\"shared\">{}</div><div class=\"own\">{}</div>",
        escape(note),
        draw(title, rows, Some(span_ms), seen),
        draw(title, rows, None, seen)
    )
}

/// Whose record a waterfall draws, which its legend names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Client,
    Server,
}

/// The server's names for the phases its rows use (of [`PHASES`]: the
/// wait, the server's time, the answer's bytes).
const SERVED: [(usize, &str); 3] =
    [(0, "from the accept to its first request"), (2, "held (the delay)"), (3, "the answer leaving")];

fn draw(title: &str, rows: &[Row], span_ms: Option<f64>, seen: Seen) -> String {
    let frame = Frame::new(rows, span_ms);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{:.0}" viewBox="0 0 {} {:.0}" font-family="sans-serif" font-size="11" data-rows="{}">"#,
        Frame::WIDTH,
        frame.height,
        Frame::WIDTH,
        frame.height,
        rows.len()
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ =
        writeln!(s, r#"<text x="{}" y="18" font-size="15" font-weight="bold">{}</text>"#, Frame::LEFT, escape(title));
    legend(&mut s, rows, seen);
    in_flight(&mut s, rows, &frame);
    time_axis(&mut s, &frame);
    for (i, row) in rows.iter().enumerate() {
        row_svg(&mut s, row, frame.rows_top + i as f64 * frame.row_h, &frame);
    }
    s.push_str("</svg>\n");
    s
}

/// Where a waterfall's parts go: its time axis, its curve and its rows.
struct Frame {
    plot: f64,
    row_h: f64,
    span: f64,
    rows_top: f64,
    bottom: f64,
    height: f64,
}

impl Frame {
    const WIDTH: f64 = 960.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 24.0;
    const CURVE: f64 = 90.0;
    const CURVE_TOP: f64 = 58.0;

    fn new(rows: &[Row], span_ms: Option<f64>) -> Self {
        let row_h = (640.0 / rows.len().max(1) as f64).clamp(1.0, 16.0);
        let span = span_ms.map_or(self::span_ms(rows), |s| s.max(self::span_ms(rows)));
        let rows_top = Self::CURVE_TOP + Self::CURVE + 28.0;
        let bottom = rows_top + row_h * rows.len() as f64;
        let plot = Self::WIDTH - Self::LEFT - Self::RIGHT;
        Frame { plot, row_h, span, rows_top, bottom, height: bottom + 40.0 }
    }

    /// The x of `ms` after the run's start.
    fn x(&self, ms: f64) -> f64 {
        Self::LEFT + ms / self.span * self.plot
    }
}

/// The legend: the phases the rows use (the client's or the server's
/// names), then the failures and the 404s, counted.
fn legend(s: &mut String, rows: &[Row], seen: Seen) {
    let count = |e: Ending| rows.iter().filter(|r| r.ending == e).count();
    let failed = format!("failed ({})", count(Ending::Failed));
    let not_found = format!("not found ({})", count(Ending::NotFound));
    let worked = rows.iter().any(|r| r.timeline.work.is_some());
    let shown = if worked { PHASES.len() } else { WORK_PHASES };
    let names: Vec<(&str, &str)> = match seen {
        Seen::Client => PHASES[..shown].to_vec(),
        Seen::Server => SERVED.iter().map(|&(i, name)| (name, PHASES[i].1)).collect(),
    };
    let mut lx = Frame::LEFT;
    for (name, colour) in names.into_iter().chain([(failed.as_str(), FAILED), (not_found.as_str(), NOT_FOUND)]) {
        let _ = writeln!(s, r#"<rect x="{lx}" y="30" width="10" height="10" fill="{colour}"/>"#);
        let _ = writeln!(s, r#"<text x="{}" y="39">{name}</text>"#, lx + 14.0);
        lx += 20.0 + name.len() as f64 * 5.6;
    }
}

/// The requests in flight, as a step line over the rows' time axis.
fn in_flight(s: &mut String, rows: &[Row], f: &Frame) {
    let (top, left) = (Frame::CURVE_TOP, Frame::LEFT);
    let timelines: Vec<TimelineMs> = rows.iter().map(|r| r.timeline.clone()).collect();
    let curve = in_flight_curve(&timelines);
    let peak = peak_in_flight(&timelines).max(1);
    let y = |n: usize| top + Frame::CURVE - n as f64 / peak as f64 * Frame::CURVE;
    let _ = writeln!(s, r##"<text x="{left}" y="{}" fill="#444">requests in flight (peak {peak})</text>"##, top - 4.0);
    let _ = writeln!(s, r##"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="#999"/>"##, y(0), left + f.plot);
    let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="end">{peak}</text>"#, left - 6.0, y(peak) + 4.0);
    let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="end">0</text>"#, left - 6.0, y(0) + 4.0);
    let mut path = format!("M{:.1},{:.1}", f.x(0.0), y(0));
    for &(t, n) in &curve {
        let _ = write!(path, " H{:.1} V{:.1}", f.x(t), y(n));
    }
    let _ = write!(path, " H{:.1} V{:.1} Z", f.x(f.span), y(0));
    let _ = writeln!(s, r##"<path class="in-flight" d="{path}" fill="#c6dbef" stroke="#3173b5" stroke-width="1"/>"##);
}

/// The time axis, with its grid through the rows.
fn time_axis(s: &mut String, f: &Frame) {
    let (top, bottom) = (Frame::CURVE_TOP, f.bottom);
    for t in ticks(f.span, 8) {
        let x = f.x(t);
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom:.1}" stroke="#eee"/>"##);
        let _ =
            writeln!(s, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, bottom + 16.0, format_ms(t));
    }
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#444">time since the run started</text>"##,
        Frame::LEFT + f.plot,
        bottom + 32.0
    );
}

/// One row at `top`: its label, its band when it failed or was not
/// found, its phases, and its times on hover.
fn row_svg(s: &mut String, row: &Row, top: f64, f: &Frame) {
    let (left, row_h) = (Frame::LEFT, f.row_h);
    let _ = write!(s, r#"<g class="row" data-label="{}"><title>{}</title>"#, escape(&row.label), escape(&tooltip(row)));
    if row_h >= 9.0 {
        let label = escape(&row.label);
        let _ = write!(s, r#"<text x="{}" y="{:.1}" text-anchor="end">{label}</text>"#, left - 6.0, top + row_h - 3.0);
    }
    let bar_h = if row_h >= 4.0 { row_h - 2.0 } else { row_h };
    let (band, whole) = match row.ending {
        Ending::Ok => (None, None),
        Ending::NotFound => (Some(NOT_FOUND_BAND), Some(NOT_FOUND)),
        Ending::Failed => (Some(FAILED_BAND), Some(FAILED)),
    };
    if let Some(band) = band {
        let plot = f.plot;
        let _ = write!(
            s,
            r#"<rect class="band" x="{left}" y="{top:.2}" width="{plot:.2}" height="{row_h:.2}" fill="{band}"/>"#
        );
    }
    for (phase, from, to) in phases(&row.timeline) {
        // A row that waited for a place keeps its grey; the rest of it
        // takes the colour of how it ended.
        let colour = match whole {
            Some(c) if phase > 0 => c,
            _ => PHASES[phase].1,
        };
        let (x, width) = (f.x(from), (f.x(to) - f.x(from)).max(0.5));
        let _ = write!(s, r#"<rect x="{x:.2}" y="{top:.2}" width="{width:.2}" height="{bar_h:.2}" fill="{colour}"/>"#);
    }
    s.push_str("</g>\n");
}

/// An HTML page showing `panels` (title and SVG each) side by side,
/// wrapping onto new lines on narrow screens.
pub fn html(title: &str, intro: &str, panels: &[(String, String)]) -> String {
    html_with(title, intro, panels, None)
}

/// [`html`], and with `toggle` a checkbox of that label that shows each
/// panel's `.own` drawing in place of its `.shared` one.
pub fn html_with(title: &str, intro: &str, panels: &[(String, String)], toggle: Option<&str>) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
         body{{font-family:sans-serif;margin:1.5em;color:#222}}\
         .panels{{display:flex;flex-wrap:wrap;gap:1.5em}}\
         .panel{{flex:1 1 560px;min-width:0;max-width:960px}}\
         .panel svg{{width:100%;height:auto;border:1px solid #ddd}}\
         .panel h2{{font-size:1.05em;margin:.3em 0}}.own{{display:none}}body.own .own{{display:block}}\
         body.own .shared{{display:none}}</style></head><body>\n<h1>{}</h1>\n<p>{}</p>\n",
        escape(title),
        escape(title),
        escape(intro)
    );
    if let Some(label) = toggle {
        let _ = writeln!(
            page,
            "<p><label><input type=checkbox id=own onchange=\"document.body.classList.toggle('own', this.checked)\"> {}</label></p>",
            escape(label)
        );
    }
    page.push_str("<div class=\"panels\">\n");
    for (name, svg) in panels {
        let _ = write!(page, "<section class=\"panel\"><h2>{}</h2>\n{svg}</section>\n", escape(name));
    }
    // The rows the browser drew, for a reader or a test to check.
    page.push_str(
        "</div>\n<p id=\"drawn\"></p>\n<script>\nconst rows = [...document.querySelectorAll('g.row')].filter(r => r.getClientRects().length > 0);\n\
         const drawn = rows.filter(r => r.getBBox().width > 0).length;\n\
         document.body.dataset.drawn = drawn;\n\
         document.getElementById('drawn').textContent = drawn + ' of ' + rows.length + ' rows drawn';\n\
         </script>\n</body></html>\n",
    );
    page
}

/// The waterfall of `rows` in Unicode blocks, `width` columns wide at
/// most: `░` while a code waits for a place, `█` while its request is in
/// flight, `▒` while its file is saved; a last row sketches the requests
/// in flight. Each row scales to the run's own length.
pub fn terminal(rows: &[Row], width: usize) -> Vec<String> {
    let label_w = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(2).max(2);
    let cells = width.saturating_sub(label_w + 3).max(10);
    let span = span_ms(rows);
    let cell = |ms: f64| ((ms / span * cells as f64) as usize).min(cells - 1);
    let mut lines = Vec::new();
    for row in rows {
        let mut bar = vec![' '; cells];
        let t = &row.timeline;
        let mut paint = |from: Option<f64>, to: Option<f64>, c: char| {
            if let (Some(from), Some(to)) = (from, to) {
                for slot in bar.iter_mut().take(cell(to) + 1).skip(cell(from)) {
                    *slot = c;
                }
            }
        };
        paint(t.queued, t.started, '░');
        let busy_end = t.released.or(t.body_done).or(t.done);
        paint(busy_end, t.done, '▒');
        let busy = match row.ending {
            Ending::Ok => '█',
            Ending::NotFound => '-',
            Ending::Failed => '×',
        };
        paint(t.started, busy_end, busy);
        // Between the body and the work: waiting for a thread to compute on.
        if let Some((from, _)) = t.work.as_ref().and_then(|w| w.span()) {
            paint(busy_end.filter(|end| *end < from), Some(from), '░');
        }
        for p in t.work.as_ref().map_or(&[][..], |w| &w.phases[..]) {
            let c = match p.phase {
                PhaseKind::GilWait => '·',
                PhaseKind::Computing => '▓',
            };
            paint(Some(p.from), Some(p.to), c);
        }
        let bar: String = bar.into_iter().collect();
        lines.push(format!("{:>label_w$} │{bar}│", row.label));
    }
    // The requests in flight, one cell per slice of time, in eighths.
    let timelines: Vec<TimelineMs> = rows.iter().map(|r| r.timeline.clone()).collect();
    let curve = in_flight_curve(&timelines);
    let peak = peak_in_flight(&timelines).max(1);
    let levels = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let spark: String = (0..cells)
        .map(|i| {
            let (from, to) = (i as f64 * span / cells as f64, (i + 1) as f64 * span / cells as f64);
            // The most in flight at any moment of this slice.
            let mut most = curve.iter().rfind(|(t, _)| *t <= from).map_or(0, |p| p.1);
            most = curve.iter().filter(|(t, _)| *t > from && *t < to).map(|p| p.1).fold(most, usize::max);
            levels[(most * 8).div_ceil(peak).min(8)]
        })
        .collect();
    lines.push(format!("{:>label_w$} │{spark}│", ""));
    let end = format_ms(span);
    let axis_gap = cells.saturating_sub(3 + end.len());
    lines.push(format!("{:>label_w$}  0 s{}{end}", "", " ".repeat(axis_gap)));
    let work = match rows.iter().any(|r| r.timeline.work.is_some()) {
        true => "  · waiting for the GIL  ▓ computing",
        false => "",
    };
    lines.push(format!(
        "{:>label_w$}  ░ waiting  █ in flight  ▒ saving{work}  - not found  × failed; last row: in flight (peak {peak})",
        ""
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, started: f64, done: f64) -> Row {
        let timeline = TimelineMs {
            queued: Some(0.0),
            started: Some(started),
            sent: Some(started + 1.0),
            first_byte: Some(done - 2.0),
            body_done: Some(done - 1.0),
            released: Some(done - 1.0),
            done: Some(done),
            ..TimelineMs::default()
        };
        Row { label: label.into(), timeline, ending: Ending::Ok }
    }

    #[test]
    fn ticks_are_one_two_five() {
        assert_eq!(ticks(1000.0, 5), [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]);
        assert_eq!(ticks(7.3, 4), [0.0, 2.0, 4.0, 6.0]);
        assert_eq!(ticks(50.0, 8), [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!(format_ms(1500.0), "1.5 s");
        assert_eq!(format_ms(2000.0), "2 s");
        assert_eq!(format_ms(20.0), "20 ms");
        assert_eq!(format_ms(0.0), "0");
    }

    #[test]
    fn sequential_rows_make_a_staircase_in_the_terminal() {
        let rows: Vec<Row> =
            (0..4).map(|i| row(&format!("C{i}"), i as f64 * 100.0, i as f64 * 100.0 + 100.0)).collect();
        let lines = terminal(&rows, 40);
        assert!(lines[..6].iter().all(|l| l.chars().count() <= 40), "{lines:#?}");
        // Each row's block starts where the one above ended.
        let starts: Vec<usize> =
            lines[..4].iter().map(|l| l.chars().position(|c| c == '█').expect("a block")).collect();
        assert!(starts.windows(2).all(|w| w[1] > w[0]), "{lines:#?}");
        assert!(lines[3].contains('░'), "the last one waited: {lines:#?}");
        assert!(lines[4].chars().filter(|c| *c == '█').count() > 30, "one in flight all along: {lines:#?}");
        assert!(lines[6].contains("in flight (peak 1)"), "{lines:#?}");
    }

    #[test]
    fn the_servers_record_is_drawn_with_the_servers_legend() {
        let rows = [row("BR", 0.0, 350.0)];
        let client = svg_on("run", &rows, None);
        let served = served_svg_on("served", &rows, None);
        assert!(client.contains(">waiting for a place<") && client.contains(">saving<"));
        for name in ["from the accept to its first request", "held (the delay)", "the answer leaving"] {
            assert!(served.contains(&format!(">{name}<")) && !client.contains(name), "{name}");
        }
        assert!(!served.contains("waiting for a place") && !served.contains(">saving<"));
    }

    #[test]
    fn the_svg_has_a_row_per_code_and_parses() {
        let rows: Vec<Row> = (0..676).map(|i| row(&format!("C{i}"), 0.0, 1000.0 + i as f64)).collect();
        let many = svg("676 codes", &rows);
        assert_eq!(many.matches("<g class=\"row\"").count(), 676);
        assert!(many.contains("peak 676"));
        // No labels when rows are a pixel high.
        assert!(!many.contains(">C5</text>"));
        let few = svg("20 codes", &rows[..20]);
        assert!(few.contains(">C5</text>"));
        assert!(few.starts_with("<svg") && few.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn failures_are_coloured_whole_counted_and_404s_kept_apart() {
        let mut rows: Vec<Row> = (0..676).map(|i| row(&format!("C{i}"), 0.0, 500.0)).collect();
        for r in rows.iter_mut().take(157) {
            r.ending = Ending::Failed;
        }
        for r in rows.iter_mut().skip(157).take(300) {
            r.ending = Ending::NotFound;
        }
        let svg = svg("676 codes", &rows);
        assert!(svg.contains(">failed (157)</text>") && svg.contains(">not found (300)</text>"));
        assert_eq!(svg.matches(&format!("fill=\"{FAILED_BAND}\"")).count(), 157, "a band per failed row");
        assert_eq!(svg.matches(&format!("fill=\"{NOT_FOUND_BAND}\"")).count(), 300);
        // Every phase after the wait is red: connecting, waiting, receiving, saving.
        assert!(svg.matches(&format!("fill=\"{FAILED}\"")).count() >= 157 * 4);
        let lines = terminal(&rows[150..160], 60);
        assert!(lines[0].contains('×') && lines[9].contains('-'), "{lines:#?}");
    }
}
