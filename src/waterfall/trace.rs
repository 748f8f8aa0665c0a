//! Recordings in the Trace Event format (the JSON that Perfetto's UI and
//! `chrome://tracing` open), as `{"traceEvents": [...], "displayTimeUnit": "ms"}`.
//!
//! Each recording is a process, named by a metadata event. Each request
//! is shown twice:
//!
//! - as an async slice (`ph` `b`/`e`, category `request`, an id of its
//!   own) holding its phases as nested async slices: requests that
//!   overlap (the async style's one thread, HTTP/2 streams) each get a
//!   row of their own instead of being stacked as if one called the other;
//! - on its connection's track (a thread named `connection N`), as a
//!   complete slice (`ph` `X`) of its time on the wire with its wire
//!   phases nested in it, only when it begins after the slice before it
//!   on that track ended: a connection's HTTP/1.1 requests follow each
//!   other, so complete slices nest strictly; an HTTP/2 stream that
//!   overlaps another is left to its async slice.
//!
//! Times are microseconds, as the format wants: `ts` from the earliest
//! recording's start, `dur` for complete slices.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::{json, Value};

use super::draw::Ending;
use super::exchange::{phases, span, Exchange, Recording, Side};

/// One event of the format.
#[derive(Debug, Serialize)]
struct Event<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    cat: &'a str,
    ph: &'static str,
    ts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<i64>,
    pid: u32,
    tid: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Value>,
}

/// `ms` in whole microseconds. Rounding keeps order, so phases that
/// follow each other still do.
fn us(ms: f64) -> i64 {
    (ms * 1000.0).round() as i64
}

/// Writes events as JSON, remembering which tracks it has named and where
/// each connection's last complete slice ended, for one document (a file,
/// or one page of the server's `/timeline.trace.json`).
#[derive(Debug, Default)]
pub struct TraceWriter {
    named: HashSet<(u32, u64)>,
    wire_end: HashMap<(u32, u64), i64>,
    /// An event was written: the next follows a comma.
    wrote: bool,
}

impl TraceWriter {
    /// The metadata event naming process `pid` `title`.
    pub fn process(&mut self, out: &mut Vec<u8>, pid: u32, title: &str) {
        let args = Some(json!({ "name": title }));
        let name = Event { name: "process_name", cat: "", ph: "M", ts: 0, dur: None, pid, tid: 0, id: None, args };
        self.emit(out, &name);
    }

    /// `event` into `out`, after a comma unless it is the document's first.
    fn emit(&mut self, out: &mut Vec<u8>, event: &Event<'_>) {
        if std::mem::replace(&mut self.wrote, true) {
            out.push(b',');
        }
        out.push(b'\n');
        serde_json::to_writer(out, event).expect("an event always serializes");
    }

    /// The events of `x`, a request of process `pid` seen from `side`,
    /// its times moved by `offset_ms`.
    pub fn exchange(&mut self, out: &mut Vec<u8>, pid: u32, side: Side, x: &Exchange, offset_ms: f64) {
        let phases = phases(x, side);
        let Some((from, to)) = span(x, &phases) else { return };
        let tid = x.timeline.conn.unwrap_or(0);
        if self.named.insert((pid, tid)) {
            let thread = match tid {
                0 => "no connection".to_string(),
                n => format!("connection {n}"),
            };
            let args = Some(json!({ "name": thread }));
            self.emit(
                out,
                &Event { name: "thread_name", cat: "", ph: "M", ts: 0, dur: None, pid, tid, id: None, args },
            );
        }
        let at = |ms: f64| us(ms + offset_ms);
        let id = format!("{pid}.{}", x.seq);
        let slice =
            |name, ph, ts, args| Event { name, cat: "request", ph, ts, dur: None, pid, tid, id: Some(&id), args };
        self.emit(out, &slice(&x.label, "b", at(from), Some(about(x))));
        for p in &phases {
            self.emit(out, &slice(p.name, "b", at(p.from), None));
            self.emit(out, &slice(p.name, "e", at(p.to), None));
        }
        self.emit(out, &slice(&x.label, "e", at(to), None));
        // Its time on the wire, on its connection's track.
        let wire: Vec<_> = phases.iter().filter(|p| p.on_wire).collect();
        let (Some(first), Some(last), true) = (wire.first(), wire.last(), tid != 0) else { return };
        let (start, end) = (at(first.from), at(last.to));
        let free = self.wire_end.get(&(pid, tid)).is_none_or(|e| start >= *e);
        if !free {
            return;
        }
        self.wire_end.insert((pid, tid), end);
        let complete = |name, ts, end: i64, args| Event {
            name,
            cat: "connection",
            ph: "X",
            ts,
            dur: Some(end - ts),
            pid,
            tid,
            id: None,
            args,
        };
        self.emit(out, &complete(&x.label, start, end, Some(json!({ "url": x.url }))));
        for p in wire {
            self.emit(out, &complete(p.name, at(p.from), at(p.to), None));
        }
    }
}

/// What a request's slice says when it is selected.
fn about(x: &Exchange) -> Value {
    let outcome = match x.ending {
        Ending::Ok => "ok",
        Ending::NotFound => "not found",
        Ending::Failed => "failed",
    };
    let mut args = json!({
        "url": x.url,
        "method": x.method,
        "status": x.status,
        "outcome": outcome,
        "connection": x.timeline.conn,
        "reused": x.timeline.reused,
    });
    for (key, value) in [("note", &x.note), ("redirect", &x.redirect)] {
        if let Some(v) = value {
            args[key] = json!(v);
        }
    }
    if let Some(bytes) = x.body_bytes {
        args["bytes"] = json!(bytes);
    }
    if !x.http_version.is_empty() {
        args["http_version"] = json!(x.http_version);
    }
    args
}

/// The document's opening, up to its first event; `other` goes in its
/// `otherData` (what made it, and for a page where the next one starts).
pub fn head(other: &Value) -> Vec<u8> {
    let mut out = br#"{"displayTimeUnit":"ms","otherData":"#.to_vec();
    serde_json::to_writer(&mut out, other).expect("a value always serializes");
    out.extend_from_slice(br#","traceEvents":["#);
    out
}

/// The document's end, after its last event.
pub const TAIL: &[u8] = b"\n]}\n";

/// `recordings` as one Trace Event document: a process each, from 1, on
/// one time axis (the earliest recording starts at 0).
pub fn document(recordings: &[Recording]) -> Vec<u8> {
    let zero = recordings.iter().map(|r| r.started).min();
    let mut out = head(&json!({ "creator": crate::ident::PRODUCT }));
    let mut writer = TraceWriter::default();
    for (i, rec) in recordings.iter().enumerate() {
        let pid = i as u32 + 1;
        writer.process(&mut out, pid, &rec.title);
        let offset = zero.and_then(|z| rec.started.duration_since(z).ok()).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        // In the order they began, so that each connection's requests
        // come in turn.
        let mut order: Vec<&Exchange> = rec.exchanges.iter().collect();
        order.sort_by(|a, b| {
            let start = |x: &Exchange| x.timeline.queued.or(x.timeline.started).unwrap_or(f64::MAX);
            start(a).total_cmp(&start(b)).then(a.seq.cmp(&b.seq))
        });
        for x in order {
            writer.exchange(&mut out, pid, rec.side, x, offset);
        }
    }
    out.extend_from_slice(TAIL);
    out
}

#[cfg(test)]
mod tests {
    use super::super::exchange::tests::client;
    use super::*;

    fn events(recs: &[Recording]) -> Vec<Value> {
        let doc: Value = serde_json::from_slice(&document(recs)).expect("valid JSON");
        assert_eq!(doc["displayTimeUnit"], "ms");
        doc["traceEvents"].as_array().unwrap().clone()
    }

    fn rec(exchanges: Vec<Exchange>) -> Recording {
        Recording {
            title: "run \"one\"\n".into(),
            side: Side::Client,
            started: std::time::SystemTime::now(),
            exchanges,
        }
    }

    #[test]
    fn a_connections_requests_in_turn_are_complete_slices_that_nest() {
        let all = events(&[rec(vec![client(1, 0.0, 1, false), client(2, 13.0, 1, true)])]);
        let x: Vec<&Value> = all.iter().filter(|e| e["ph"] == "X").collect();
        // Two requests, each with its wire phases: 4 + 1 for the first, 3 + 1 for the reused one.
        assert_eq!(
            x.iter().filter(|e| e["cat"] == "connection" && e["name"].as_str().unwrap().starts_with('C')).count(),
            2
        );
        assert_eq!(x.len(), 5 + 4);
        assert!(x.iter().all(|e| e["tid"] == 1 && e["dur"].as_i64().unwrap() >= 0));
        let names: Vec<&str> =
            all.iter().filter(|e| e["ph"] == "M").map(|e| e["args"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["run \"one\"\n", "connection 1"]);
        // Async slices come in pairs, each ending after it began.
        let b = all.iter().filter(|e| e["ph"] == "b").count();
        assert_eq!(b, all.iter().filter(|e| e["ph"] == "e").count());
        assert_eq!(b, 2 + 6 + 5);
    }

    #[test]
    fn overlapping_streams_on_one_connection_are_async_only() {
        let all = events(&[rec(vec![client(1, 0.0, 1, false), client(2, 3.0, 1, true)])]);
        let roots: Vec<&Value> =
            all.iter().filter(|e| e["ph"] == "X" && e["cat"] == "connection" && e["args"].is_object()).collect();
        assert_eq!(roots.len(), 1, "the second overlaps the first: {roots:?}");
        let ids: HashSet<&str> = all.iter().filter_map(|e| e["id"].as_str()).collect();
        assert_eq!(ids, HashSet::from(["1.1", "1.2"]));
    }

    #[test]
    fn times_are_microseconds_on_one_axis() {
        let first = rec(vec![client(1, 0.0, 1, false)]);
        let mut second = rec(vec![client(1, 0.0, 1, false)]);
        second.started = first.started + std::time::Duration::from_millis(100);
        let all = events(&[first, second]);
        let begin = |pid: u32| all.iter().find(|e| e["ph"] == "b" && e["pid"] == pid).unwrap()["ts"].as_i64().unwrap();
        assert_eq!((begin(1), begin(2)), (0, 100_000));
        let done = all.iter().filter(|e| e["ph"] == "e" && e["pid"] == 1).map(|e| e["ts"].as_i64().unwrap()).max();
        assert_eq!(done, Some(13_000));
    }
}
