//! What the server answers: `/flags/{cc}/{cc}.gif`, `/flags/{cc}/metadata.json`,
//! the gallery at `/` and listings at `/flags/` and `/flags/{cc}/`. Anything
//! else is 404; methods other than GET and HEAD are 405; an HTTP/1.1 request
//! without exactly one valid `Host` is 400 (RFC 9112 §3.2). Delays, 418s and
//! `--fault`s apply to the flag API only (faults to images only), never to
//! the pages.
//!
//! A HEAD answer carries the headers, `Content-Length` included, that the
//! same GET would, for every status.

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::body::Body as _;
use hyper::header::{
    HeaderValue, ACCEPT_RANGES, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HOST,
    LAST_MODIFIED, RETRY_AFTER, SERVER,
};
use hyper::{Method, Request, Response, StatusCode, Version};

use super::body::{self, Body, BodySource, Shape};
use super::conditional::{answer, Answer, Validators};
use super::config::{LogEntry, ServerConfig, Source};
use super::faults::FaultKind;
use super::files::{Content, DirSource};
use super::peer::Peer;
use super::stats::Stats;
use super::{image, pages, timeline, timeline_page};
use crate::countries::{self, catalog, CountryCode};
use crate::proto::text::peer_text;

type Resp = Response<Body>;

/// When the embedded flags "changed": the date of the book's flags.zip.
const CATALOG_DATE: u64 = 1_424_716_800; // 2015-02-23

/// The `Server` header of every answer.
const SERVER_NAME: &str = crate::ident::PRODUCT;

/// Everything the request handlers of one server thread share.
pub(crate) struct State {
    pub(crate) config: ServerConfig,
    pub(crate) stats: Arc<Stats>,
    /// `--dir`, when serving one.
    dir: Option<DirSource>,
    /// This thread's copies of the catalog's files, made on first use.
    catalog: Vec<(Made, Made)>,
    /// This thread's gallery and listing, made once for the codes held.
    pages: pages::Made,
}

/// A file ready to send.
struct Served {
    content: BodySource,
    mime: &'static str,
    validators: Validators,
}

/// A catalog file, made once: its bytes and validators.
type Made = OnceLock<(Bytes, Validators)>;

/// Draws every catalog image now rather than on first request.
pub(crate) fn warm_up() {
    (0..catalog().len()).for_each(|i| drop(image::catalog_image(i)));
}

impl State {
    /// The state of one of `threads` server threads.
    pub(crate) fn new(config: ServerConfig, stats: Arc<Stats>, threads: usize) -> io::Result<Self> {
        let dir = match &config.source {
            Source::Dir(d) => Some(DirSource::new(d, threads)?),
            Source::Catalog => None,
        };
        let catalog = catalog().iter().map(|_| (OnceLock::new(), OnceLock::new())).collect();
        Ok(State { config, stats, dir, catalog, pages: pages::Made::default() })
    }

    /// The codes the server holds, lower case, sorted.
    pub(crate) fn codes(&self) -> Vec<String> {
        match &self.dir {
            Some(dir) => dir.codes(),
            None => catalog().iter().map(|c| c.cc.to_ascii_lowercase()).collect(),
        }
    }

    /// A reproducible draw in [0, 1) for the `n`-th request of `path`; `salt`
    /// keeps the draws for delay, errors and faults independent.
    fn draw(&self, path: &str, n: u64, salt: u64) -> f64 {
        let mut h = self.config.seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in path.bytes().chain(n.to_le_bytes()) {
            h = splitmix(h ^ b as u64);
        }
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    fn flag_file(&self, cc: CountryCode, file: File) -> Option<Served> {
        let mime = match file {
            File::Image => "image/gif",
            File::Metadata => "application/json",
        };
        let Some(dir) = &self.dir else {
            let (bytes, validators) = self.catalog_file(countries::position(cc)?, file);
            return Some(Served { content: BodySource::Bytes(bytes.clone()), mime, validators: validators.clone() });
        };
        // `cc/cc.gif` or `cc/metadata.json`, built on the stack: this runs
        // for every request.
        let code = cc.as_str().as_bytes();
        let (a, b) = (code[0].to_ascii_lowercase(), code[1].to_ascii_lowercase());
        let mut buf = [0u8; 16];
        let name: &[u8] = match file {
            File::Image => {
                buf[..9].copy_from_slice(&[a, b, b'/', a, b, b'.', b'g', b'i', b'f']);
                &buf[..9]
            }
            File::Metadata => {
                buf[..3].copy_from_slice(&[a, b, b'/']);
                buf[3..].copy_from_slice(b"metadata.json");
                &buf
            }
        };
        let name = std::str::from_utf8(name).ok()?;
        Some(match dir.open(name)? {
            Content::Cached(c) => {
                Served { content: BodySource::Bytes(c.bytes.clone()), mime, validators: c.validators.clone() }
            }
            Content::Stream { file, len, validators } => {
                Served { content: BodySource::File { file: Arc::new(file), start: 0, len }, mime, validators }
            }
        })
    }

    /// The catalog's image or metadata of the `index`-th flag, with
    /// validators, in this thread's own copy.
    fn catalog_file(&self, index: usize, file: File) -> &(Bytes, Validators) {
        let (image, meta) = &self.catalog[index];
        catalog_file(index, file, image, meta)
    }
}

/// Makes the catalog's image or metadata of the `index`-th flag in `image`
/// or `meta`.
fn catalog_file<'a>(index: usize, file: File, image: &'a Made, meta: &'a Made) -> &'a (Bytes, Validators) {
    let country = &catalog()[index];
    let cc = country.cc.to_ascii_lowercase();
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(CATALOG_DATE);
    match file {
        File::Image => image.get_or_init(|| {
            let bytes = Bytes::copy_from_slice(&image::catalog_image(index));
            let id = format!("{cc}-v{}", env!("CARGO_PKG_VERSION"));
            let validators = Validators::new(Some(&id), bytes.len(), date);
            (bytes, validators)
        }),
        File::Metadata => meta.get_or_init(|| {
            let bytes = Bytes::from(country.metadata_json());
            let id = format!("{cc}-meta-v{}", env!("CARGO_PKG_VERSION"));
            let validators = Validators::new(Some(&id), bytes.len(), date);
            (bytes, validators)
        }),
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum File {
    Image,
    Metadata,
}

enum Route {
    Page(pages::Page),
    /// `/stats`: the counters, as JSON.
    Stats,
    /// `/timeline?since=MS&after=SEQ`: a page of the last requests, as
    /// JSON, HAR (`/timeline.har`) or Trace Event (`/timeline.trace.json`).
    Timeline(timeline_page::Form),
    Flag(CountryCode, File),
    Missing,
}

/// `/flags/br/br.gif` -> image of `br`; only lower-case two-letter codes,
/// as the book's site has them. Anything else (`..`, `%2e`, `//`, NUL,
/// upper case) is not a route.
fn route(path: &str) -> Route {
    if let Some(page) = pages::route(path) {
        return Route::Page(page);
    }
    if path == "/stats" {
        return Route::Stats;
    }
    if let Some(form) = timeline_page::Form::of_path(path) {
        return Route::Timeline(form);
    }
    let Some(rest) = path.strip_prefix("/flags/") else { return Route::Missing };
    let mut parts = rest.split('/');
    let (Some(cc), Some(file), None) = (parts.next(), parts.next(), parts.next()) else {
        return Route::Missing;
    };
    // The book's site has lower-case codes only.
    let code = match CountryCode::new(cc) {
        Ok(code) if cc.bytes().all(|b| b.is_ascii_lowercase()) => code,
        _ => return Route::Missing,
    };
    match file {
        "metadata.json" => Route::Flag(code, File::Metadata),
        f if f.strip_suffix(".gif") == Some(cc) => Route::Flag(code, File::Image),
        _ => Route::Missing,
    }
}

/// A response with `status`, `mime` and `body`, and `Content-Length` when
/// the body's size is known.
fn respond(status: StatusCode, mime: &'static str, body: Body) -> Resp {
    let len = body.size_hint().exact();
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(SERVER, HeaderValue::from_static(SERVER_NAME));
    if let Some(len) = len {
        h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    resp
}

fn text(status: StatusCode, msg: &str) -> Resp {
    respond(status, "text/plain; charset=utf-8", body::full(format!("{msg}\n")))
}

fn status_fault(status: u16, retry_after: u64) -> Resp {
    let code = StatusCode::from_u16(status).expect("fault statuses are valid");
    let reason = crate::http::reason_phrase(status);
    let mut resp = text(code, &format!("{status} {reason}"));
    if status == 429 || status == 503 {
        resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
    }
    resp
}

/// Logs the request when dropped: when it was answered, or when the client
/// went away first (a stalled request, a delay the client gave up on).
struct LogOnDrop<'a> {
    state: &'a State,
    entry: Option<LogEntry>,
    /// The fault injected, as soon as it is chosen.
    fault: Option<FaultKind>,
}

impl Drop for LogOnDrop<'_> {
    fn drop(&mut self) {
        if let (Some(log), Some(mut entry)) = (&self.state.config.log, self.entry.take()) {
            entry.fault = self.fault.map(|f| f.name().to_string());
            log.log(&entry);
        }
    }
}

/// A connection, as the server's timeline names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnSeen {
    pub(crate) id: u64,
    /// When it was accepted, in the timeline's milliseconds.
    pub(crate) at_ms: f64,
    pub(crate) tls: bool,
}

/// Answers one request of `peer`'s connection.
pub(crate) async fn handle(state: Arc<State>, peer: Peer, conn: ConnSeen, req: Request<()>) -> Result<Resp, io::Error> {
    let head_at = std::time::Instant::now();
    // Watching does not change what is watched: `/stats` and `/timeline`
    // count nothing.
    let counted = req.uri().path() != "/stats" && timeline_page::Form::of_path(req.uri().path()).is_none();
    let page_own = timeline::from_gallery(req.headers());
    let mut in_flight = counted.then(|| state.stats.enter(page_own));
    let record = state.stats.timeline();
    // Recorded even when the answer is dropped unfinished (the client left).
    let pending = counted.then(|| {
        record.pending(timeline::Served {
            seq: 0,
            conn: conn.id,
            conn_ms: conn.at_ms,
            protocol: if req.version() == Version::HTTP_2 { "HTTP/2" } else { "HTTP/1.1" },
            tls: conn.tls,
            request: peer_text(format!("{} {}", req.method(), req.uri().path()).as_bytes()),
            head_ms: record.ms(head_at),
            first_byte_ms: None,
            last_byte_ms: None,
            status: None,
            bytes: 0,
            fault: None,
            left_early: false,
            done_ms: None,
            page: page_own,
        })
    });
    // The entry is only built when someone reads it: this is the hot path.
    let mut log = LogOnDrop {
        state: &state,
        entry: state.config.log.as_ref().map(|_| LogEntry {
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            status: None,
            fault: None,
        }),
        fault: None,
    };
    let mut result = answer_request(&state, peer, &req, &mut log.fault).await;
    if let (Ok(resp), true) = (&mut result, req.method() == Method::HEAD) {
        // Keep the headers (Content-Length included), drop the body.
        *resp.body_mut() = body::empty();
    }
    if let (Ok(resp), Some(in_flight)) = (&result, in_flight.as_mut()) {
        state.stats.count_status(resp.status().as_u16());
        in_flight.answered();
    }
    let status = match &result {
        Ok(resp) => Some(resp.status().as_u16()),
        Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => None,
        Err(_) => Some(0),
    };
    if let Some(entry) = &mut log.entry {
        entry.status = status;
    }
    let Some(pending) = pending else { return result };
    let mut served = pending.take();
    served.status = status;
    served.fault = log.fault.map(FaultKind::name);
    served.left_early = status.is_none();
    match result {
        Ok(resp) => Ok(resp.map(|body| record.record(body, served))),
        Err(e) => {
            record.record_now(served);
            Err(e)
        }
    }
}

/// How often a request held on purpose looks whether its client is there.
/// Each look is a timer and a poll(2): at the 200 ms it was, 10 000
/// connections held 1 s each cost 50 000 of each a second, five times what
/// the delays themselves need.
const CLIENT_CHECK: Duration = Duration::from_secs(1);

/// Holds a request `how_long` (a delay, a stall), or until its client
/// leaves: then `ConnectionAborted`. The connection notices a client that
/// leaves only while it reads, and it stops reading while a request is
/// answered once a head's worth came pipelined behind it (hyper's HTTP/2
/// reads on); a held request would then outlive its client, counted in
/// flight and holding its connection's place under the cap, for as long
/// as the hold (a stall's is 60 s).
async fn hold(peer: Peer, how_long: Duration) -> Result<(), io::Error> {
    let end = tokio::time::Instant::now() + how_long;
    let mut left = how_long;
    while !left.is_zero() {
        tokio::time::sleep(left.min(CLIENT_CHECK)).await;
        left = end.saturating_duration_since(tokio::time::Instant::now());
        // Held to the end, it is answered now: a client gone meanwhile
        // finds out by the write (one system call fewer a delayed request).
        if !left.is_zero() && peer.gone() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "client went away"));
        }
    }
    Ok(())
}

/// The longest request target taken (RFC 9112 §3: a longer one is 414).
const MAX_TARGET: usize = 8 << 10;

/// The most header bytes a request may carry (431 past that), and the
/// most fields.
const MAX_HEADERS: usize = 16 << 10;
const MAX_FIELDS: usize = 100;

/// The answer to a request whose target or headers are over the limits:
/// 414 for the target (RFC 9112 §3), 431 for the headers (RFC 6585 §5).
/// Past twice these, the connection refuses the head itself, with 431.
fn too_large(req: &Request<()>) -> Option<Resp> {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_TARGET {
        return Some(text(StatusCode::URI_TOO_LONG, "414 URI Too Long"));
    }
    let headers = req.headers();
    let bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    (bytes > MAX_HEADERS || headers.len() > MAX_FIELDS)
        .then(|| text(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "431 Request Header Fields Too Large"))
}

/// `Some(reason)` when the request's `Host` breaks RFC 9112 §3.2: missing
/// from an HTTP/1.1 request, given twice, or not a valid host.
fn bad_host(req: &Request<()>) -> Option<&'static str> {
    let mut hosts = req.headers().get_all(HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if req.version() == Version::HTTP_11 => Some("an HTTP/1.1 request needs a Host header"),
        (None, _) => None,
        (Some(_), Some(_)) => Some("more than one Host header"),
        (Some(h), None) => (!valid_host(h.as_bytes())).then_some("the Host header is not a valid host"),
    }
}

/// `uri-host [ ":" port ]` (RFC 3986): a name or IPv4 address of
/// unreserved, percent and sub-delim characters, or an IP literal in
/// brackets; then an optional port of digits.
fn valid_host(h: &[u8]) -> bool {
    let (host, port) = match h.first() {
        Some(b'[') => match h.iter().position(|&b| b == b']') {
            Some(end) => {
                let literal = &h[1..end];
                let ok = !literal.is_empty() && literal.iter().all(|b| b.is_ascii_hexdigit() || b":.".contains(b));
                if !ok {
                    return false;
                }
                (&h[..=end], &h[end + 1..])
            }
            None => return false,
        },
        _ => match h.iter().position(|&b| b == b':') {
            Some(colon) => (&h[..colon], &h[colon..]),
            None => (h, &h[h.len()..]),
        },
    };
    let name_ok = host.first() == Some(&b'[')
        || (!host.is_empty() && host.iter().all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(b)));
    let port_ok = port.is_empty() || (port[0] == b':' && port[1..].iter().all(u8::is_ascii_digit));
    name_ok && port_ok
}

/// The host the client named: HTTP/2's `:authority` (the URI's), else
/// the `Host` header, else `localhost`.
fn authority(req: &Request<()>) -> &str {
    req.uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| req.headers().get(HOST).and_then(|h| h.to_str().ok()))
        .unwrap_or("localhost")
}

/// The answer to `req`, in four steps: the request is checked
/// ([`guard`]), routed (pages, `/stats` and `/timeline` answered at once by
/// [`direct`]), a flag's file planned ([`plan`](super::plan::plan): its
/// delay, a 418, its fault) and the plan carried out ([`carry_out`]). The
/// fault injected is noted in `injected`.
async fn answer_request(
    state: &State,
    peer: Peer,
    req: &Request<()>,
    injected: &mut Option<FaultKind>,
) -> Result<Resp, io::Error> {
    if let Some(refused) = guard(req) {
        return Ok(refused);
    }
    let (cc, file) = match route(req.uri().path()) {
        Route::Flag(cc, file) => (cc, file),
        other => return Ok(direct(state, req, other)),
    };
    let (path, n) = (req.uri().path(), state.stats.nth(cc, file == File::Image));
    let plan = super::plan::plan(&state.config, file == File::Image, |salt| state.draw(path, n, salt));
    carry_out(state, peer, req, (cc, file), plan, injected).await
}

/// The refusal of a request no route may see: too large, a bad `Host`, a
/// method other than GET and HEAD.
fn guard(req: &Request<()>) -> Option<Resp> {
    if let Some(refused) = too_large(req) {
        return Some(refused);
    }
    if let Some(why) = bad_host(req) {
        return Some(text(StatusCode::BAD_REQUEST, &format!("400 Bad Request: {why}")));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed: use GET or HEAD");
        resp.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(resp);
    }
    None
}

/// The answer of a route that is not a flag's file: a page, the counters,
/// the record, or a 404.
fn direct(state: &State, req: &Request<()>, route: Route) -> Resp {
    match route {
        Route::Page(page) => match pages::render(&page, &state.config, &state.codes(), authority(req), &state.pages) {
            Some(html) => respond(StatusCode::OK, "text/html; charset=utf-8", body::parts(html)),
            None => text(StatusCode::NOT_FOUND, "404 Not Found"),
        },
        Route::Stats => {
            let json = serde_json::to_vec(&state.stats.snapshot()).expect("counters always serialize");
            no_store(respond(StatusCode::OK, "application/json", body::full(json)))
        }
        Route::Timeline(form) => {
            // In pages, rendered as the client takes them: a whole ring is
            // 3 MB, which a client that reads nothing would hold.
            let query = match timeline_page::Query::parse(req.uri().query()) {
                Ok(query) => query,
                Err(why) => return text(StatusCode::BAD_REQUEST, &format!("400 Bad Request: {why}")),
            };
            let page = state.stats.timeline().page(query, form, authority(req));
            no_store(respond(StatusCode::OK, "application/json", http_body_util::BodyExt::boxed(page)))
        }
        Route::Missing | Route::Flag(..) => text(StatusCode::NOT_FOUND, "404 Not Found"),
    }
}

/// `resp`, marked not to be kept by a cache.
fn no_store(mut resp: Resp) -> Resp {
    resp.headers_mut().insert(hyper::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Carries out `plan` for `cc`'s `file`: its delay, its 418, its fault,
/// then the file itself. A hold ends early (`Err`) when the client leaves.
async fn carry_out(
    state: &State,
    peer: Peer,
    req: &Request<()>,
    (cc, file): (CountryCode, File),
    plan: super::plan::Plan,
    injected: &mut Option<FaultKind>,
) -> Result<Resp, io::Error> {
    if let Some(delay) = plan.delay {
        hold(peer, delay).await?;
    }
    if plan.teapot {
        state.stats.count_teapot();
        *injected = Some(FaultKind::Teapot);
        return Ok(status_fault(418, 0));
    }
    *injected = plan.fault;
    let settings = &state.config.fault_settings;
    match plan.fault {
        Some(FaultKind::Latency) => hold(peer, plan.jitter.unwrap_or_default()).await?,
        Some(FaultKind::Stall) => {
            hold(peer, settings.stall).await?;
            return Err(io::Error::other("stalled on purpose"));
        }
        Some(kind) => {
            if let Some(resp) = fault_answer(kind, cc, settings.retry_after) {
                return Ok(resp);
            }
        }
        None => {}
    }
    flag_answer(state, peer, req, (cc, file), plan.fault).await
}

/// The answer a fault puts in the place of the flag, if it does: an error
/// status, an HTML page, a 204, a redirect to the flag's folder.
fn fault_answer(kind: FaultKind, cc: CountryCode, retry_after: u64) -> Option<Resp> {
    if let Some(status) = kind.status() {
        return Some(status_fault(status, retry_after));
    }
    match kind {
        FaultKind::Html => {
            let page = "<!doctype html><title>Not a flag</title><p>A page where a flag should be.</p>";
            Some(respond(StatusCode::OK, "text/html; charset=utf-8", body::full(page)))
        }
        FaultKind::NoContent => Some(respond(StatusCode::NO_CONTENT, "image/gif", body::empty())),
        FaultKind::Redirect => {
            let mut resp = text(StatusCode::FOUND, "302 Found");
            let to = format!("/flags/{}/", cc.lower());
            resp.headers_mut().insert(hyper::header::LOCATION, HeaderValue::from_str(&to).expect("ascii"));
            Some(resp)
        }
        _ => None,
    }
}

/// The flag's file as the request asks for it (whole, a range, not
/// modified), shaped by `fault` (gzipped, dripped, cut, reset, a lying or
/// missing length, a slow close).
async fn flag_answer(
    state: &State,
    peer: Peer,
    req: &Request<()>,
    (cc, file): (CountryCode, File),
    fault: Option<FaultKind>,
) -> Result<Resp, io::Error> {
    let Some(served) = state.flag_file(cc, file) else {
        return Ok(text(StatusCode::NOT_FOUND, "404 Not Found"));
    };
    let len = served.content.len();
    let decision = answer(req.headers(), &served.validators, len);
    let (status, content) = match decision {
        Answer::NotModified => (StatusCode::NOT_MODIFIED, BodySource::Bytes(Bytes::new())),
        Answer::Whole => (StatusCode::OK, served.content),
        Answer::Part { start, end } => (StatusCode::PARTIAL_CONTENT, part(served.content, start, end)),
        Answer::Unsatisfiable => {
            let mut resp = text(StatusCode::RANGE_NOT_SATISFIABLE, "416 Range Not Satisfiable");
            resp.headers_mut().insert(CONTENT_RANGE, HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"));
            return Ok(resp);
        }
    };
    if fault == Some(FaultKind::Gzip) {
        // The flag gzipped, with `Content-Encoding: gzip` though the client
        // did not ask for it.
        let Ok(zipped) = body::gzipped(content).await else {
            return Ok(text(StatusCode::INTERNAL_SERVER_ERROR, "500 Internal Server Error"));
        };
        let mut resp = respond(StatusCode::OK, "image/gif", body::full(zipped));
        resp.headers_mut().insert(hyper::header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return Ok(resp);
    }
    let h2 = req.version() == Version::HTTP_2;
    let full_len = content.len();
    let mut resp = respond(status, served.mime, body::body(content, shape(fault, h2, peer, &state.config)));
    set_headers(&mut resp, &served.validators, (decision, len, full_len), fault, h2);
    Ok(resp)
}

/// How the body goes out under `fault`.
fn shape(fault: Option<FaultKind>, h2: bool, peer: Peer, config: &ServerConfig) -> Shape {
    let settings = &config.fault_settings;
    match fault {
        Some(FaultKind::Drip) => Shape::Drip(settings.drip_rate),
        Some(FaultKind::Truncate) => Shape::Truncate,
        // Over HTTP/2 a reset ends the stream (RST_STREAM), not the
        // connection the other streams share.
        Some(FaultKind::Reset) if h2 => Shape::ResetStream,
        Some(FaultKind::Reset) => Shape::Reset(peer),
        Some(FaultKind::SlowClose) => Shape::SlowClose(settings.slow_close),
        Some(FaultKind::LengthLie) => Shape::Lie,
        Some(FaultKind::Endless) => Shape::Endless(settings.drip_rate),
        _ => Shape::Whole,
    }
}

/// The flag answer's headers: its length (announced falsely or not at all
/// under some faults), validators, ranges, and `Connection: close` for a
/// slow close over HTTP/1.1.
fn set_headers(
    resp: &mut Resp,
    validators: &Validators,
    (decision, len, full_len): (Answer, u64, u64),
    fault: Option<FaultKind>,
    h2: bool,
) {
    let status = resp.status();
    let h = resp.headers_mut();
    let announced = match fault {
        _ if status == StatusCode::NOT_MODIFIED => None,
        Some(FaultKind::Endless) => None,
        Some(FaultKind::LengthLie) => Some(full_len + 1000),
        _ => Some(full_len),
    };
    match announced {
        Some(n) => h.insert(CONTENT_LENGTH, HeaderValue::from(n)),
        None => h.remove(CONTENT_LENGTH),
    };
    h.insert(ETAG, validators.etag_value.clone());
    h.insert(LAST_MODIFIED, validators.last_modified_value.clone());
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Answer::Part { start, end } = decision {
        h.insert(CONTENT_RANGE, HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")).expect("ascii"));
    }
    // HTTP/2 has no `Connection` header: there the slow close holds the stream.
    if fault == Some(FaultKind::SlowClose) && !h2 {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
}

/// Bytes `start..=end` of `content`.
fn part(content: BodySource, start: u64, end: u64) -> BodySource {
    match content {
        BodySource::Bytes(b) => BodySource::Bytes(b.slice(start as usize..=end as usize)),
        BodySource::File { file, start: s, .. } => BodySource::File { file, start: s + start, len: end - start + 1 },
    }
}

#[cfg(test)]
mod tests {
    use super::valid_host;

    #[test]
    fn hosts() {
        for good in ["x", "127.0.0.1:8000", "localhost", "[::1]:80", "[::1]", "a-b.example:1", "xn--bcher-kva.ch"] {
            assert!(valid_host(good.as_bytes()), "{good}");
        }
        for bad in ["", "a b", "u@x", "x:80a", "[::1", "[]", "x/y", ":80", "x:8:8", "[::1]x"] {
            assert!(!valid_host(bad.as_bytes()), "{bad}");
        }
    }
}
