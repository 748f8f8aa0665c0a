//! `GET /timeline` over HTTP: the record in pages of at most [`PAGE`]
//! requests, each rendered as the client takes it, a few KB at a time.
//!
//! A whole ring as one JSON document is about 3 MB, and a client that asks
//! for it and reads nothing held those 3 MB per request until the send
//! timeout: 32 HTTP/2 streams of it were 87 MB for one connection. A page
//! is a plan instead (which requests, and where the next page starts),
//! and its body renders the next [`CHUNK`] bytes' worth of requests only
//! when the connection has taken the previous ones, so a held answer holds
//! one piece.
//!
//! The query: `since=MS` (a finite number of milliseconds since the server
//! started: the requests that ended after it) and `after=SEQ` (the
//! requests recorded after the `SEQ`-th), either, both or neither. The
//! answer's `next` is the `after` to ask for the rest (with the same
//! `since`), or `null` when this page reaches the last request recorded
//! when it was asked for. A request that leaves the ring while its page is
//! being read (10 000 newer ones came meanwhile) is left out: the gap in
//! `seq` shows it.
//!
//! The same pages come in two more forms, chosen by the path
//! ([`Form`]): `/timeline.har` (HAR 1.2, the `next` as the log's `_next`)
//! and `/timeline.trace.json` (Trace Event, the `next` in `otherData`),
//! each rendered the same way, a piece at a time. A page cannot know
//! which of its requests was its connection's first, so neither form
//! gives a request its connection's opening (HAR `connect` is -1);
//! `flags serve --timeline FILE`, which has the whole record, does.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

use super::timeline::{Record, Served, KEEP};
use crate::waterfall::exchange::{self, iso8601, wall, Side};
use crate::waterfall::{har, trace};

/// The form of a `/timeline` answer, named by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `/timeline`: the record's own JSON.
    Json,
    /// `/timeline.har`.
    Har,
    /// `/timeline.trace.json`.
    Trace,
}

impl Form {
    /// The form a path asks for, if it is one of the timeline's.
    pub fn of_path(path: &str) -> Option<Form> {
        match path {
            "/timeline" => Some(Form::Json),
            "/timeline.har" => Some(Form::Har),
            "/timeline.trace.json" => Some(Form::Trace),
            _ => None,
        }
    }
}

/// How a page's requests are written, and what closes it.
enum Render {
    Json { first: bool },
    Har { authority: String, started: std::time::SystemTime, first: bool },
    Trace { authority: String, writer: trace::TraceWriter },
}

impl Render {
    /// `s` into `out`, after a comma unless it is the page's first.
    fn request(&mut self, s: &Served, out: &mut Vec<u8>) {
        match self {
            Render::Json { first } => {
                if !std::mem::take(first) {
                    out.push(b',');
                }
                serde_json::to_writer(out, s).expect("a record always serializes");
            }
            Render::Har { authority, started, first } => {
                let x = exchange::served(s, authority, false);
                if let Some(entry) = har::entry(&x, Side::Server, *started, "page_1") {
                    har::push(out, &entry, std::mem::take(first));
                }
            }
            Render::Trace { authority, writer } => {
                writer.exchange(out, 1, Side::Server, &exchange::served(s, authority, false), 0.0);
            }
        }
    }

    fn tail(&self) -> &'static [u8] {
        match self {
            Render::Json { .. } => b"]}\n",
            Render::Har { .. } => har::TAIL,
            Render::Trace { .. } => trace::TAIL,
        }
    }
}

/// The most requests one answer holds.
pub const PAGE: usize = 1_000;

/// About how many bytes of JSON one piece of a page is: a piece ends with
/// the request that reaches it (one request is about 300 bytes of JSON).
pub const CHUNK: usize = 4 << 10;

/// How many requests are copied out of the ring at a time to render.
const BATCH: usize = 16;

/// A `/timeline` query.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Query {
    /// Only the requests that ended after this, in ms since the server started.
    pub since: Option<f64>,
    /// Only the requests recorded after the `after`-th.
    pub after: u64,
}

/// Why a query is refused (`400 Bad Request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery(&'static str);

impl fmt::Display for BadQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Query {
    /// Reads `since` and `after` from a request's query string; other
    /// fields are ignored (a cache-busting `_=...`).
    pub fn parse(query: Option<&str>) -> Result<Query, BadQuery> {
        let mut q = Query::default();
        for field in query.unwrap_or("").split('&').filter(|f| !f.is_empty()) {
            let (name, value) = field.split_once('=').unwrap_or((field, ""));
            match name {
                "since" => match value.parse::<f64>() {
                    Ok(ms) if ms.is_finite() => q.since = Some(ms),
                    _ => return Err(BadQuery("since must be a finite number of milliseconds")),
                },
                "after" => match value.parse::<u64>() {
                    Ok(seq) => q.after = seq,
                    _ => return Err(BadQuery("after must be a request's number (0 or more)")),
                },
                _ => {}
            }
        }
        Ok(q)
    }

    fn wants(&self, s: &Served) -> bool {
        s.seq > self.after && self.since.is_none_or(|ms| s.done_ms.unwrap_or(s.head_ms) > ms)
    }
}

/// Where in the ring the record with number `seq` is, if it is there or
/// past its end (`ring.len()`); 0 for one that has left.
fn index_of(ring: &VecDeque<Served>, seq: u64) -> usize {
    let first = ring.front().map_or(seq, |s| s.seq);
    (seq.saturating_sub(first) as usize).min(ring.len())
}

impl Record {
    /// The page of `query` in `form`: its first line's fields and the
    /// body that renders its requests as they are taken. `authority`
    /// (the host the client named) makes the URLs of HAR and Trace Event whole.
    pub fn page(self: &Arc<Self>, query: Query, form: Form, authority: &str) -> PageBody {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let (mut count, mut last, mut more) = (0, query.after, false);
        for s in ring.range(index_of(&ring, query.after.saturating_add(1))..).filter(|s| query.wants(s)) {
            if count == PAGE {
                more = true;
                break;
            }
            count += 1;
            last = s.seq;
        }
        let total = self.total();
        drop(ring);
        let now_ms = self.ms(std::time::Instant::now());
        let next = more.then_some(last);
        let started = wall(std::time::SystemTime::now(), -now_ms);
        let title = format!("flags serve at {authority}: requests recorded after number {}", query.after);
        let about = [
            ("now_ms", serde_json::json!(now_ms)),
            ("total", serde_json::json!(total)),
            ("keep", serde_json::json!(KEEP)),
            ("next", serde_json::json!(next)),
        ];
        let (head, render) = match form {
            Form::Json => {
                let head = format!(
                    "{{\"now_ms\":{},\"total\":{total},\"keep\":{KEEP},\"next\":{},\"requests\":[",
                    serde_json::to_string(&now_ms).expect("a finite time"),
                    next.map_or("null".into(), |n| n.to_string()),
                );
                (head.into_bytes(), Render::Json { first: true })
            }
            Form::Har => {
                let page = har::Page {
                    started_date_time: iso8601(started),
                    id: "page_1".into(),
                    title,
                    page_timings: har::PageTimings { on_content_load: -1, on_load: -1 },
                };
                let extra: Vec<(String, serde_json::Value)> =
                    about.into_iter().map(|(k, v)| (format!("_{k}"), v)).collect();
                let extra: Vec<(&str, serde_json::Value)> =
                    extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                let head = har::head(&[page], &extra);
                (head, Render::Har { authority: authority.to_string(), started, first: true })
            }
            Form::Trace => {
                let mut other = serde_json::Map::from_iter(about.map(|(k, v)| (k.to_string(), v)));
                other.insert("creator".into(), crate::ident::PRODUCT.into());
                let mut head = trace::head(&other.into());
                let mut writer = trace::TraceWriter::default();
                writer.process(&mut head, 1, &title);
                (head, Render::Trace { authority: authority.to_string(), writer })
            }
        };
        PageBody { timeline: Arc::clone(self), query, last, head: Some(Bytes::from(head)), render, done: false }
    }

    /// Up to [`BATCH`] of the records `query` wants, numbered up to `last`.
    fn batch(&self, query: &Query, last: u64) -> Vec<Served> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let from = index_of(&ring, query.after.saturating_add(1));
        ring.range(from..).take_while(|s| s.seq <= last).filter(|s| query.wants(s)).take(BATCH).cloned().collect()
    }
}

/// The body of a `/timeline` page ([`Record::page`]).
pub struct PageBody {
    timeline: Arc<Record>,
    /// What is left to send: `after` moves on as requests are rendered.
    query: Query,
    /// The number of the page's last request.
    last: u64,
    head: Option<Bytes>,
    render: Render,
    done: bool,
}

impl PageBody {
    /// The next piece: the head, some requests, or the end of the document.
    fn piece(&mut self) -> Option<Bytes> {
        if let Some(head) = self.head.take() {
            return Some(head);
        }
        if self.done {
            return None;
        }
        let mut out = Vec::with_capacity(CHUNK + 512);
        while out.len() < CHUNK && self.query.after < self.last {
            let batch = self.timeline.batch(&self.query, self.last);
            if batch.is_empty() {
                break;
            }
            for s in &batch {
                self.render.request(s, &mut out);
                self.query.after = s.seq;
                if out.len() >= CHUNK {
                    break;
                }
            }
        }
        if out.is_empty() {
            self.done = true;
            out.extend_from_slice(self.render.tail());
        }
        Some(Bytes::from(out))
    }
}

impl hyper::body::Body for PageBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Poll::Ready(self.piece().map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.head.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::served::served;
    use http_body_util::BodyExt;

    #[test]
    fn queries() {
        assert_eq!(Query::parse(None), Ok(Query::default()));
        assert_eq!(Query::parse(Some("since=1.5&after=7&_=3")), Ok(Query { since: Some(1.5), after: 7 }));
        for bad in ["since=nan", "since=", "since=inf", "since", "after=-1", "after=", "after=1.5"] {
            assert!(Query::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    async fn read(t: &Arc<Record>, q: Query) -> (serde_json::Value, usize) {
        read_as(t, q, Form::Json).await
    }

    async fn read_as(t: &Arc<Record>, q: Query, form: Form) -> (serde_json::Value, usize) {
        let mut body = t.page(q, form, "localhost");
        let (mut all, mut most) = (Vec::new(), 0);
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            most = most.max(data.len());
            all.extend_from_slice(&data);
        }
        (serde_json::from_slice(&all).unwrap(), most)
    }

    #[tokio::test]
    async fn pages_are_bounded_in_pieces_and_miss_nothing() {
        let t = Arc::new(Record::default());
        for i in 0..KEEP + 2_500 {
            t.push(served(i as f64));
        }
        let (mut seen, mut q) = (Vec::new(), Query::default());
        loop {
            let (doc, most) = read(&t, q).await;
            assert!(most < CHUNK + 1024, "a piece of {most} bytes");
            let page = doc["requests"].as_array().unwrap();
            assert!(page.len() <= PAGE);
            seen.extend(page.iter().map(|r| r["seq"].as_u64().unwrap()));
            match doc["next"].as_u64() {
                Some(next) => q.after = next,
                None => break,
            }
        }
        assert_eq!(seen, (2_501..=KEEP as u64 + 2_500).collect::<Vec<_>>(), "the ring, once each");
        // `since` filters, and pages the same way.
        let (doc, _) = read(&t, Query { since: Some((KEEP + 2_000) as f64), after: 0 }).await;
        assert_eq!(doc["requests"].as_array().unwrap().len(), 499);
        assert!(doc["next"].is_null());
    }

    #[tokio::test]
    async fn har_and_trace_pages_are_bounded_in_pieces_too() {
        let t = Arc::new(Record::default());
        for i in 0..2_500 {
            t.push(served(i as f64));
        }
        let (har, most) = read_as(&t, Query::default(), Form::Har).await;
        assert!(most < CHUNK + 2048, "a piece of {most} bytes");
        assert_eq!(har["log"]["entries"].as_array().unwrap().len(), PAGE);
        assert_eq!(har["log"]["_next"], PAGE as u64);
        let (trace, most) = read_as(&t, Query { since: None, after: 2_000 }, Form::Trace).await;
        assert!(most < CHUNK + 4096, "a piece of {most} bytes");
        assert!(trace["otherData"]["next"].is_null());
        let begun = trace["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "b" && e["cat"] == "request");
        assert_eq!(begun.filter(|e| e["args"]["url"] == "http://localhost/flags/br/br.gif").count(), 500);
    }
}
