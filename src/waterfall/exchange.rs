//! A timeline as a list of requests, for the file formats that name each
//! request and its phases ([`trace`](super::trace), [`har`](super::har)):
//! what was asked, what came back, and when each phase began and ended.
//! The client's runs and the server's record both become [`Recording`]s,
//! so each format is written once for both.

use std::time::{Duration, SystemTime};

use super::draw::Ending;
use crate::download::pipeline::gif_path;
use crate::download::{Failure, Outcome, RunResult, TimelineMs};
use crate::http::BaseUrl;
use crate::served::Served;
use crate::work::PhaseKind;

/// Whose view a recording is: a client's (it waited for a place,
/// connected, sent, waited, received, saved) or the server's (it took a
/// connection, held the answer, sent it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// One request, as a timeline file tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Unique within its recording: the server's record number, or the
    /// client's row number from 1.
    pub seq: u64,
    /// What the waterfall calls it: the code, or `#conn name` for the server.
    pub label: String,
    pub method: String,
    /// The whole URL, scheme and host included.
    pub url: String,
    /// `HTTP/1.1`, `HTTP/2`, or empty when not known.
    pub http_version: String,
    /// The status of the answer; 0 when none came (a browser's HAR says
    /// 0 too).
    pub status: u16,
    /// Body bytes of the answer, when known.
    pub body_bytes: Option<u64>,
    /// The answer's type, when known.
    pub mime: Option<String>,
    /// Where a redirect pointed (never followed).
    pub redirect: Option<String>,
    /// Why it failed, or the fault the server injected.
    pub note: Option<String>,
    /// Its moments, in ms since the recording started.
    pub timeline: TimelineMs,
    pub ending: Ending,
}

/// A run's requests, and when (on the wall clock) its milliseconds start.
#[derive(Debug, Clone)]
pub struct Recording {
    /// Names the run: a process in Trace Event, a page in HAR.
    pub title: String,
    pub side: Side,
    /// The moment `0.0` of its timelines.
    pub started: SystemTime,
    pub exchanges: Vec<Exchange>,
}

/// One phase of a request: its name, from and to (ms), and whether it
/// happened on the connection (connecting, sending, waiting, receiving)
/// rather than before or after (waiting for a place, computing, saving).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase {
    pub name: &'static str,
    pub from: f64,
    pub to: f64,
    pub on_wire: bool,
}

/// The phases of `x` in order, those that happened, each starting where
/// the one before ended at the earliest (so they never overlap, whatever
/// the clocks said).
pub fn phases(x: &Exchange, side: Side) -> Vec<Phase> {
    let t = &x.timeline;
    let end = t.done;
    let mut out: Vec<Phase> = Vec::new();
    let mut push = |name, from: Option<f64>, to: Option<f64>, on_wire| {
        if let (Some(from), Some(to)) = (from, to) {
            out.push(Phase { name, from, to, on_wire });
        }
    };
    match side {
        Side::Client => {
            push("waiting for a place", t.queued, t.started, false);
            match (t.connected, t.reused) {
                (Some(connected), _) => {
                    push("connecting", t.started, Some(connected), true);
                    push("sending", Some(connected), t.sent.or(end), true);
                }
                (None, true) => push("sending", t.started, t.sent.or(end), true),
                (None, false) => push("connecting", t.started, t.sent.or(end), true),
            }
            push("waiting for the server", t.sent, t.first_byte.or(t.sent.and(end)), true);
            push("receiving", t.first_byte, t.body_done.or(t.first_byte.and(end)), true);
            let work = t.work.as_ref();
            for p in work.map_or(&[][..], |w| &w.phases[..]) {
                let name = match p.phase {
                    PhaseKind::GilWait => "waiting for the GIL",
                    PhaseKind::Computing => "computing",
                };
                push(name, Some(p.from), Some(p.to), false);
            }
            let worked = work.and_then(|w| w.span()).map(|(_, to)| to);
            push("saving", worked.or(t.body_done), t.body_done.and(end), false);
        }
        Side::Server => {
            push("waiting for its first request", t.queued, t.started, true);
            push("holding the answer", t.started, t.first_byte.or(end), true);
            push("sending the answer", t.first_byte, t.body_done.or(t.first_byte.and(end)), true);
        }
    }
    let mut at = f64::NEG_INFINITY;
    for p in &mut out {
        p.from = p.from.max(at);
        p.to = p.to.max(p.from);
        at = p.to;
    }
    out
}

/// When `x` began and ended, in ms: its first phase (or first moment) to
/// its last; none for a request never made.
pub fn span(x: &Exchange, phases: &[Phase]) -> Option<(f64, f64)> {
    let t = &x.timeline;
    let from = phases.first().map(|p| p.from).or(t.queued).or(t.started)?;
    let to = phases.iter().map(|p| p.to).chain(t.done).fold(from, f64::max);
    Some((from, to))
}

/// `start` plus `ms` milliseconds (which may be negative).
pub fn wall(start: SystemTime, ms: f64) -> SystemTime {
    let d = Duration::from_secs_f64((ms.abs() / 1000.0).min(1e9));
    if ms >= 0.0 {
        start + d
    } else {
        start.checked_sub(d).unwrap_or(start)
    }
}

/// `at` as ISO 8601 in UTC with milliseconds: `2024-05-01T09:03:07.250Z`.
pub fn iso8601(at: SystemTime) -> String {
    let ms = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis()) as i64;
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil(days);
    let (h, min, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// The Gregorian date `days` after 1970-01-01: years of 400 make 146 097
/// days exactly, and counting from March puts the leap day last.
fn civil(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let of_era = shifted.rem_euclid(146_097);
    let year_of_era = (of_era - of_era / 1460 + of_era / 36_524 - of_era / 146_096) / 365;
    let of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * of_year + 2) / 153;
    let day = (of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The type of what `path` names, guessed from its end, as the server serves it.
pub fn mime_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or("");
    match path.rsplit('.').next() {
        Some("gif") => Some("image/gif"),
        Some("json") => Some("application/json"),
        _ if path.ends_with('/') => Some("text/html"),
        _ => None,
    }
}

/// The server's record of one request as an exchange; `authority` is the
/// host and port it answered on, `first_on_conn` whether it was its
/// connection's first request (its connection's opening is then part of it).
pub fn served(s: &Served, authority: &str, first_on_conn: bool) -> Exchange {
    let (method, path) = s.request.split_once(' ').unwrap_or(("GET", s.request.as_str()));
    let name = path.rsplit('/').next().unwrap_or("").trim_end_matches(".gif");
    let short: String = name.chars().take(8).collect();
    let ending = match s.status {
        Some(404) => Ending::NotFound,
        Some(200..=399) if !s.left_early => Ending::Ok,
        _ => Ending::Failed,
    };
    let note = match (s.fault, s.left_early) {
        (Some(fault), _) => Some(format!("fault: {fault}")),
        (None, true) => Some("the client left before the answer ended".to_string()),
        _ => None,
    };
    let status = s.status.unwrap_or(0);
    Exchange {
        seq: s.seq,
        label: format!("#{} {short}", s.conn),
        method: method.to_string(),
        url: format!("{}://{authority}{path}", if s.tls { "https" } else { "http" }),
        http_version: s.protocol.to_string(),
        status,
        body_bytes: (status != 0).then_some(s.bytes),
        mime: mime_of(path).filter(|_| status == 200).map(str::to_string),
        redirect: None,
        note,
        timeline: TimelineMs {
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
        },
        ending,
    }
}

/// The server's record as a recording whose 0 ms is `started`.
pub fn served_recording(title: String, requests: &[Served], started: SystemTime, authority: &str) -> Recording {
    // A connection's first request is the earliest whose head came on it.
    let mut first: std::collections::HashMap<u64, (f64, u64)> = std::collections::HashMap::new();
    for s in requests {
        let e = first.entry(s.conn).or_insert((s.head_ms, s.seq));
        if s.head_ms < e.0 {
            *e = (s.head_ms, s.seq);
        }
    }
    let exchanges = requests.iter().map(|s| served(s, authority, first.get(&s.conn).map(|f| f.1) == Some(s.seq)));
    Recording { title, side: Side::Server, started, exchanges: exchanges.collect() }
}

/// What answer a client's `outcome` had: its status (0 for none) and,
/// for a redirect, where to.
pub fn answer_of(outcome: &Outcome) -> (u16, Option<String>) {
    use crate::http::FetchError as F;
    match outcome {
        Outcome::Saved { .. } | Outcome::Failed(Failure::Save { .. }) => (200, None),
        Outcome::NotFound | Outcome::Failed(Failure::Fetch(F::NotFound)) => (404, None),
        Outcome::Failed(Failure::Fetch(F::Http { status, .. } | F::Unexpected { status })) => (*status, None),
        Outcome::Failed(Failure::Fetch(F::Redirect { status, location })) => (*status, location.clone()),
        // A body that is not a flag came with a 200.
        Outcome::Failed(Failure::Fetch(F::Content(_))) => (200, None),
        Outcome::Failed(_) | Outcome::Cancelled => (0, None),
    }
}

/// How a client's `outcome` is drawn.
pub fn ending_of(outcome: &Outcome) -> Ending {
    match outcome {
        Outcome::Failed(_) => Ending::Failed,
        Outcome::NotFound => Ending::NotFound,
        Outcome::Saved { .. } | Outcome::Cancelled => Ending::Ok,
    }
}

/// A client's run as a recording called `title`: a request per code,
/// each for its image under `base`.
pub fn of_run(title: String, result: &RunResult, base: &BaseUrl) -> Recording {
    let exchanges = result.done.iter().zip(result.timelines()).enumerate().map(|(i, (d, timeline))| {
        let (status, redirect) = answer_of(&d.outcome);
        let (body_bytes, note) = match &d.outcome {
            Outcome::Saved { bytes, .. } => (Some(*bytes as u64), None),
            Outcome::NotFound => (None, None),
            Outcome::Failed(why) => (None, Some(why.to_string())),
            Outcome::Cancelled => (None, Some("cancelled: the run was stopped".to_string())),
        };
        Exchange {
            seq: i as u64 + 1,
            label: d.cc.to_string(),
            method: "GET".into(),
            url: base.url_of(&gif_path(d.cc)),
            http_version: d.timeline.trace.http_version().to_string(),
            status,
            body_bytes,
            mime: d.outcome.saved().then(|| "image/gif".to_string()),
            redirect,
            note,
            timeline,
            ending: ending_of(&d.outcome),
        }
    });
    Recording { title, side: Side::Client, started: result.start.wall(), exchanges: exchanges.collect() }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A client's request with every moment, `at` ms apart from `from`.
    pub(crate) fn client(seq: u64, from: f64, conn: u64, reused: bool) -> Exchange {
        let at = |n: f64| Some(from + n);
        Exchange {
            seq,
            label: format!("C{seq}"),
            method: "GET".into(),
            url: format!("http://127.0.0.1:1/flags/c{seq}.gif"),
            http_version: "HTTP/1.1".into(),
            status: 200,
            body_bytes: Some(100),
            mime: Some("image/gif".into()),
            redirect: None,
            note: None,
            timeline: TimelineMs {
                queued: Some(0.0),
                started: at(0.0),
                connected: (!reused).then_some(from + 1.0),
                sent: at(2.0),
                first_byte: at(10.0),
                body_done: at(12.0),
                released: at(12.0),
                saved: at(13.0),
                done: at(13.0),
                conn: Some(conn),
                reused,
                attempts: 1,
                work: None,
            },
            ending: Ending::Ok,
        }
    }

    #[test]
    fn dates_are_iso_8601_in_utc_with_milliseconds() {
        assert_eq!(iso8601(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_millis(951_782_400_000 + 3_723_456);
        assert_eq!(iso8601(leap), "2000-02-29T01:02:03.456Z");
        let later = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(iso8601(later), "2025-12-31T23:59:59.000Z");
        assert_eq!(iso8601(wall(later, 1001.0)), "2026-01-01T00:00:00.001Z");
        assert_eq!(iso8601(wall(later, -59_000.0)), "2025-12-31T23:59:00.000Z");
    }

    #[test]
    fn client_phases_follow_each_other() {
        let names = |x: &Exchange| phases(x, Side::Client).iter().map(|p| p.name).collect::<Vec<_>>();
        let new = client(1, 5.0, 1, false);
        assert_eq!(
            names(&new),
            ["waiting for a place", "connecting", "sending", "waiting for the server", "receiving", "saving"]
        );
        let reused = client(2, 5.0, 1, true);
        assert_eq!(names(&reused)[1], "sending");
        let all = phases(&new, Side::Client);
        assert!(all.windows(2).all(|w| w[0].to <= w[1].from));
        assert_eq!(span(&new, &all), Some((0.0, 18.0)));
        // Clocks that disagree never make phases overlap.
        let mut odd = client(3, 5.0, 1, false);
        odd.timeline.sent = Some(4.0);
        let got = phases(&odd, Side::Client);
        assert!(got.windows(2).all(|w| w[0].to <= w[1].from && w[0].from <= w[0].to), "{got:?}");
        // A request that timed out waiting for the server waited until its end.
        let mut late = client(4, 0.0, 1, true);
        (late.timeline.first_byte, late.timeline.body_done) = (None, None);
        let got = phases(&late, Side::Client);
        assert_eq!(got.last().map(|p| (p.name, p.to)), Some(("waiting for the server", 13.0)));
    }

    #[test]
    fn the_servers_record_names_its_url_and_first_requests() {
        let mut a = crate::served::served(10.0);
        (a.seq, a.conn_ms, a.first_byte_ms, a.last_byte_ms, a.done_ms) = (1, 2.0, Some(50.0), Some(51.0), Some(51.0));
        let mut b = a.clone();
        (b.seq, b.head_ms, b.request) = (2, 60.0, "HEAD /flags/\"x\\/x.gif".into());
        let rec = served_recording("s".into(), &[b, a], SystemTime::now(), "127.0.0.1:9");
        assert_eq!(rec.exchanges[1].url, "http://127.0.0.1:9/flags/br/br.gif");
        assert_eq!(rec.exchanges[1].timeline.queued, Some(2.0), "the first request carries the accept");
        assert_eq!(rec.exchanges[0].timeline.queued, None);
        assert_eq!(rec.exchanges[0].method, "HEAD");
        let names: Vec<_> = phases(&rec.exchanges[1], Side::Server).iter().map(|p| p.name).collect();
        assert_eq!(names, ["waiting for its first request", "holding the answer", "sending the answer"]);
        assert_eq!(mime_of("/flags/br/br.gif"), Some("image/gif"));
        assert_eq!(mime_of("/x"), None);
    }
}
