//! Recordings as HAR 1.2 (the HTTP Archive a browser's network panel
//! imports and exports): a page per recording, an entry per request.
//!
//! What is kept is what the timelines know: the method and URL, the
//! status and body size when known, and the timings. No bodies, and no
//! headers or cookies (empty lists, sizes -1: the format's "unknown").
//! The timings come from the same phases the waterfall draws:
//!
//! | HAR | a client's | the server's |
//! |---|---|---|
//! | `blocked` | waiting for a place among `-m` | -1 |
//! | `dns` | -1 (inside `connect`) | -1 |
//! | `connect` | a new connection: name, TCP and TLS; -1 on a kept one | its connection's opening to its first request; -1 for the next ones |
//! | `ssl` | -1: TLS is not timed apart from `connect` | -1 |
//! | `send` | writing the request (and, on a kept connection, getting it) | 0: a head arrives at once |
//! | `wait` | until the first byte of the answer | holding the answer (its delay) |
//! | `receive` | the body | the answer leaving |
//!
//! `time` is their sum, -1s left out. A request that never got an answer
//! has status 0, as a browser writes it. The CPU work and the save that
//! follow a client's body are not HTTP: `comment` tells them.

use serde::Serialize;

use super::exchange::{iso8601, phases, span, wall, Exchange, Phase, Recording, Side};

/// A name and a value (query fields).
#[derive(Debug, Serialize, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    pub url: String,
    pub http_version: String,
    pub cookies: [(); 0],
    pub headers: [(); 0],
    pub query_string: Vec<Field>,
    pub headers_size: i64,
    pub body_size: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    pub size: i64,
    pub mime_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub status: u16,
    pub status_text: String,
    pub http_version: String,
    pub cookies: [(); 0],
    pub headers: [(); 0],
    pub content: Content,
    #[serde(rename = "redirectURL")]
    pub redirect_url: String,
    pub headers_size: i64,
    pub body_size: i64,
}

/// Milliseconds per phase; -1 where a phase does not apply.
#[derive(Debug, Serialize, PartialEq)]
pub struct Timings {
    pub blocked: f64,
    pub dns: f64,
    pub connect: f64,
    pub send: f64,
    pub wait: f64,
    pub receive: f64,
    pub ssl: f64,
}

impl Timings {
    /// The entry's `time`: every phase that applies but `ssl`, which
    /// `connect` already holds.
    pub fn total(&self) -> f64 {
        [self.blocked, self.dns, self.connect, self.send, self.wait, self.receive].iter().filter(|t| **t >= 0.0).sum()
    }
}

/// The cache is not described: an empty object.
#[derive(Debug, Serialize)]
pub struct Cache {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub pageref: String,
    pub started_date_time: String,
    pub time: f64,
    pub request: Request,
    pub response: Response,
    pub cache: Cache,
    pub timings: Timings,
    /// The connection that carried it, numbered within its recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageTimings {
    pub on_content_load: i64,
    pub on_load: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub started_date_time: String,
    pub id: String,
    pub title: String,
    pub page_timings: PageTimings,
}

/// A page for `rec`, named `id`.
pub fn page(rec: &Recording, id: &str) -> Page {
    let first = rec.exchanges.iter().filter_map(|x| span(x, &phases(x, rec.side))).map(|s| s.0).fold(0.0, f64::min);
    Page {
        started_date_time: iso8601(wall(rec.started, first)),
        id: id.to_string(),
        title: rec.title.clone(),
        page_timings: PageTimings { on_content_load: -1, on_load: -1 },
    }
}

/// `ms` to the microsecond.
fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// The HAR timings of `phases` (from [`phases`]), seen from `side`.
pub fn timings(phases: &[Phase], side: Side) -> Timings {
    let took = |name: &str| phases.iter().find(|p| p.name == name).map(|p| round(p.to - p.from));
    let (blocked, connect, send, wait, receive) = match side {
        Side::Client => (
            took("waiting for a place"),
            took("connecting"),
            took("sending"),
            took("waiting for the server"),
            took("receiving"),
        ),
        Side::Server => {
            (None, took("waiting for its first request"), None, took("holding the answer"), took("sending the answer"))
        }
    };
    Timings {
        blocked: blocked.unwrap_or(-1.0),
        dns: -1.0,
        connect: connect.unwrap_or(-1.0),
        send: send.unwrap_or(0.0),
        wait: wait.unwrap_or(0.0),
        receive: receive.unwrap_or(0.0),
        ssl: -1.0,
    }
}

/// The query fields of `url`, as they are written.
fn query(url: &str) -> Vec<Field> {
    let Some((_, q)) = url.split_once('?') else { return Vec::new() };
    q.split('&')
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (name, value) = f.split_once('=').unwrap_or((f, ""));
            Field { name: name.to_string(), value: value.to_string() }
        })
        .collect()
}

/// `x`, a request of the recording that started at `started` seen from
/// `side`, as an entry of page `pageref`; none for a request never made.
pub fn entry(x: &Exchange, side: Side, started: std::time::SystemTime, pageref: &str) -> Option<Entry> {
    let phases = phases(x, side);
    let (from, _) = span(x, &phases)?;
    let timings = timings(&phases, side);
    let size = x.body_bytes.map_or(-1, |b| b as i64);
    let reason = match x.status {
        0 => "",
        s => crate::http::reason_phrase(s),
    };
    let mut comment: Vec<String> = x.note.iter().cloned().collect();
    let after: Vec<String> = phases
        .iter()
        .filter(|p| !p.on_wire && p.name != "waiting for a place")
        .map(|p| format!("{} {:.3} ms", p.name, p.to - p.from))
        .collect();
    if !after.is_empty() {
        comment.push(format!("after the answer: {}", after.join(", ")));
    }
    Some(Entry {
        pageref: pageref.to_string(),
        started_date_time: iso8601(wall(started, from)),
        time: round(timings.total()),
        request: Request {
            method: x.method.clone(),
            url: x.url.clone(),
            http_version: x.http_version.clone(),
            cookies: [],
            headers: [],
            query_string: query(&x.url),
            headers_size: -1,
            body_size: 0,
        },
        response: Response {
            status: x.status,
            status_text: reason.to_string(),
            http_version: x.http_version.clone(),
            cookies: [],
            headers: [],
            content: Content { size, mime_type: x.mime.clone().unwrap_or_else(|| "x-unknown".into()) },
            redirect_url: x.redirect.clone().unwrap_or_default(),
            headers_size: -1,
            body_size: size,
        },
        cache: Cache {},
        timings,
        connection: x.timeline.conn.map(|c| c.to_string()),
        comment: (!comment.is_empty()).then(|| comment.join("; ")),
    })
}

/// The document's opening, up to its first entry: `pages`, and `extra`
/// fields of `log` (custom ones, their names starting with `_`).
pub fn head(pages: &[Page], extra: &[(&str, serde_json::Value)]) -> Vec<u8> {
    let creator = serde_json::json!({ "name": "flags", "version": env!("CARGO_PKG_VERSION") });
    let mut out = br#"{"log":{"version":"1.2","creator":"#.to_vec();
    serde_json::to_writer(&mut out, &creator).expect("a value always serializes");
    out.extend_from_slice(br#","pages":"#);
    serde_json::to_writer(&mut out, pages).expect("pages always serialize");
    for (name, value) in extra {
        out.push(b',');
        serde_json::to_writer(&mut out, name).expect("a name always serializes");
        out.push(b':');
        serde_json::to_writer(&mut out, value).expect("a value always serializes");
    }
    out.extend_from_slice(br#","entries":["#);
    out
}

/// Appends `entry`, after a comma unless it is the `first` of its document.
pub fn push(out: &mut Vec<u8>, entry: &Entry, first: bool) {
    if !first {
        out.push(b',');
    }
    out.push(b'\n');
    serde_json::to_writer(out, entry).expect("an entry always serializes");
}

/// The document's end, after its last entry.
pub const TAIL: &[u8] = b"\n]}}\n";

/// `recordings` as one HAR document, a page each (`page_1`, ...), the
/// entries in the order they started.
pub fn document(recordings: &[Recording]) -> Vec<u8> {
    let ids: Vec<String> = (1..=recordings.len()).map(|i| format!("page_{i}")).collect();
    let pages: Vec<Page> = recordings.iter().zip(&ids).map(|(r, id)| page(r, id)).collect();
    let mut out = head(&pages, &[]);
    let mut entries: Vec<(std::time::SystemTime, Entry)> = Vec::new();
    for (rec, id) in recordings.iter().zip(&ids) {
        for x in &rec.exchanges {
            let Some(e) = entry(x, rec.side, rec.started, id) else { continue };
            let phases = phases(x, rec.side);
            let from = span(x, &phases).map_or(0.0, |s| s.0);
            entries.push((wall(rec.started, from), e));
        }
    }
    entries.sort_by_key(|e| e.0);
    for (i, (_, e)) in entries.iter().enumerate() {
        push(&mut out, e, i == 0);
    }
    out.extend_from_slice(TAIL);
    out
}

#[cfg(test)]
mod tests {
    use super::super::exchange::tests::client;
    use super::*;
    use serde_json::Value;

    #[test]
    fn timings_come_from_the_phases_and_add_up() {
        let x = client(1, 5.0, 3, false);
        let e = entry(&x, Side::Client, std::time::SystemTime::UNIX_EPOCH, "page_1").unwrap();
        assert_eq!(
            e.timings,
            Timings { blocked: 5.0, dns: -1.0, connect: 1.0, send: 1.0, wait: 8.0, receive: 2.0, ssl: -1.0 }
        );
        assert_eq!(e.time, 17.0);
        assert_eq!(e.started_date_time, "1970-01-01T00:00:00.000Z");
        assert_eq!(e.connection.as_deref(), Some("3"));
        assert_eq!(e.comment.as_deref(), Some("after the answer: saving 1.000 ms"));
        let reused = entry(&client(2, 5.0, 3, true), Side::Client, std::time::SystemTime::UNIX_EPOCH, "p").unwrap();
        assert_eq!((reused.timings.connect, reused.timings.send), (-1.0, 2.0));
    }

    #[test]
    fn the_document_is_har_1_2_with_peer_text_escaped() {
        let mut x = client(1, 0.0, 1, false);
        x.url = "http://127.0.0.1:1/flags/\"q\\\u{1}/x.gif?a=1&b".into();
        (x.status, x.note, x.redirect) = (302, Some("said \"no\"\t\\".into()), Some("/\"there\"".into()));
        let rec = Recording {
            title: "get \u{7}".into(),
            side: Side::Client,
            started: std::time::SystemTime::now(),
            exchanges: vec![x],
        };
        let doc: Value = serde_json::from_slice(&document(&[rec])).expect("valid JSON");
        let log = &doc["log"];
        assert_eq!(log["version"], "1.2");
        assert_eq!(log["pages"][0]["title"], "get \u{7}");
        let e = &log["entries"][0];
        assert_eq!(e["request"]["url"], "http://127.0.0.1:1/flags/\"q\\\u{1}/x.gif?a=1&b");
        assert_eq!(e["request"]["queryString"][1], serde_json::json!({"name": "b", "value": ""}));
        assert_eq!(e["response"]["redirectURL"], "/\"there\"");
        assert_eq!(e["response"]["statusText"], "Found");
        assert!(e["comment"].as_str().unwrap().starts_with("said \"no\"\t\\"));
        assert_eq!(e["cache"], serde_json::json!({}));
        assert_eq!(e["request"]["headers"], serde_json::json!([]));
    }
}
