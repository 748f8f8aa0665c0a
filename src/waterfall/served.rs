//! The server's record of its requests as waterfall rows and files.

use super::draw::{html, served_svg_on, Row};
use super::exchange::{self, served_recording};
use super::format::Format;
use super::{har, trace};

/// The server's record ([`crate::served`]) as rows, grouped by
/// connection, in the order the requests came on each: grey from the
/// connection's accept to its first request, blue while the server held the
/// answer (its delay), green while the answer left.
pub fn served_rows(served: &[crate::served::Served]) -> Vec<Row> {
    let mut served: Vec<&crate::served::Served> = served.iter().collect();
    served.sort_by(|a, b| a.conn.cmp(&b.conn).then(a.head_ms.total_cmp(&b.head_ms)));
    let mut rows = Vec::with_capacity(served.len());
    let mut last_conn = 0;
    for s in served {
        let first_on_conn = s.conn != last_conn;
        last_conn = s.conn;
        let x = exchange::served(s, "", first_on_conn);
        rows.push(Row { label: x.label, timeline: x.timeline, ending: x.ending });
    }
    rows
}

/// The server's record as the bytes of `path`, in the form its name asks
/// for ([`Format`]): its own JSON, Trace Event, HAR, an HTML page or SVG.
/// `authority` (host and port) makes the requests' URLs whole.
pub fn served_file(doc: &crate::served::Document, path: &std::path::Path, authority: &str) -> Vec<u8> {
    let title = |what: &str| format!("flags serve at {authority}: {what}");
    let started = exchange::wall(std::time::SystemTime::now(), -doc.now_ms);
    let recording = || served_recording(title("the server's record"), &doc.requests, started, authority);
    let format = Format::of(path);
    match format {
        Format::Json => return serde_json::to_vec_pretty(doc).unwrap_or_default(),
        Format::Trace => return trace::document(&[recording()]),
        Format::Har => return har::document(&[recording()]),
        Format::Html | Format::Svg => {}
    }
    let rows = served_rows(&doc.requests);
    let conns = rows.iter().filter(|r| !r.timeline.reused).count();
    let title = format!("flags serve: {} requests on {conns} connections, as the server saw them", rows.len());
    let svg = served_svg_on(&title, &rows, None);
    match format {
        Format::Html => html(
            "flags serve: the server's waterfall",
            "One row per request, grouped by connection: grey from the connection's accept to its first request, \
             blue while the server held the answer (its delay), green while the answer left. Hover a row for its times.",
            &[("server".to_string(), svg)],
        )
        .into_bytes(),
        _ => svg.into_bytes(),
    }
}
