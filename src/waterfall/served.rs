//! The server's record of its requests as waterfall rows and files.

use super::draw::{html, svg, Ending, Row};
use crate::download::TimelineMs;

/// The server's record ([`crate::server::timeline`]) as rows, grouped by
/// connection, in the order the requests came on each: grey from the
/// connection's accept to its first request, blue while the server held the
/// answer (its delay), green while the answer left.
pub fn served_rows(served: &[crate::server::timeline::Served]) -> Vec<Row> {
    let mut served: Vec<&crate::server::timeline::Served> = served.iter().collect();
    served.sort_by(|a, b| a.conn.cmp(&b.conn).then(a.head_ms.total_cmp(&b.head_ms)));
    let mut rows = Vec::with_capacity(served.len());
    let mut last_conn = 0;
    for s in served {
        let first_on_conn = s.conn != last_conn;
        last_conn = s.conn;
        let name = s.request.rsplit('/').next().unwrap_or("").trim_end_matches(".gif");
        let short: String = name.chars().take(8).collect();
        let timeline = TimelineMs {
            queued: first_on_conn.then_some(s.conn_ms),
            started: Some(s.head_ms),
            sent: Some(s.head_ms),
            first_byte: s.first_byte_ms,
            body_done: s.last_byte_ms,
            done: s.done_ms.or(s.last_byte_ms),
            conn: Some(s.conn),
            reused: !first_on_conn,
            attempts: 1,
            ..TimelineMs::default()
        };
        let ending = match s.status {
            Some(404) => Ending::NotFound,
            Some(200..=399) if !s.left_early => Ending::Ok,
            _ => Ending::Failed,
        };
        rows.push(Row { label: format!("#{} {short}", s.conn), timeline, ending });
    }
    rows
}

/// The server's record as the bytes of `path`: JSON when it ends in
/// `.json`, an HTML page when `.html`, else SVG.
pub fn served_file(doc: &crate::server::timeline::Document, path: &std::path::Path) -> Vec<u8> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext == "json" {
        return serde_json::to_vec_pretty(doc).unwrap_or_default();
    }
    let rows = served_rows(&doc.requests);
    let conns = rows.iter().filter(|r| !r.timeline.reused).count();
    let title = format!("flags serve: {} requests on {conns} connections, as the server saw them", rows.len());
    let svg = svg(&title, &rows);
    match ext.as_str() {
        "html" => html(
            "flags serve: the server's waterfall",
            "One row per request, grouped by connection: grey from the connection's accept to its first request, \
             blue while the server held the answer (its delay), green while the answer left. Hover a row for its times.",
            &[("server".to_string(), svg)],
        )
        .into_bytes(),
        _ => svg.into_bytes(),
    }
}
