//! What the server answers: `/flags/{cc}/{cc}.gif`, `/flags/{cc}/metadata.json`
//! and a small index at `/`. Anything else is 404; methods other than GET
//! and HEAD are 405. Delays, 418s and `--fault`s apply to the flag API only
//! (faults to images only), never to the index.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ACCEPT_RANGES, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED,
    RETRY_AFTER, SERVER,
};
use hyper::{Method, Request, Response, StatusCode};

use super::body::{self, Body};
use super::conditional::{answer, Answer, Validators};
use super::faults::FaultKind;
use super::{image, pages, LogEntry, ServerConfig, Source, Stats};
use crate::countries::{self, catalog};

type Resp = Response<Body>;

/// When the embedded flags "changed": the date of the book's flags.zip.
const CATALOG_DATE: u64 = 1_424_716_800; // 2015-02-23

/// Everything the request handler shares.
pub(crate) struct State {
    pub(crate) config: ServerConfig,
    pub(crate) stats: Arc<Stats>,
    /// `--dir`, canonicalized once.
    root: Option<std::path::PathBuf>,
}

/// A file ready to send.
struct Served {
    bytes: Bytes,
    mime: &'static str,
    validators: Validators,
}

impl State {
    pub(crate) fn new(config: ServerConfig, stats: Arc<Stats>) -> Self {
        let root = match &config.source {
            Source::Dir(d) => d.canonicalize().ok(),
            Source::Catalog => None,
        };
        State { config, stats, root }
    }

    /// Draws every catalog image now rather than on first request.
    pub(crate) fn warm_up(&self) {
        (0..catalog().len()).for_each(|i| drop(image::catalog_image(i)));
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

    async fn flag_file(&self, cc: &str, file: File) -> Option<Served> {
        let catalog_time = SystemTime::UNIX_EPOCH + Duration::from_secs(CATALOG_DATE);
        let served = match (&self.config.source, file) {
            (Source::Catalog, File::Image) => {
                let i = countries::position(cc)?;
                let bytes = image::catalog_image(i);
                let id = format!("{cc}-v{}", env!("CARGO_PKG_VERSION"));
                let validators = Validators::new(Some(&id), bytes.len(), catalog_time);
                Served { bytes, mime: "image/gif", validators }
            }
            (Source::Catalog, File::Metadata) => {
                let bytes = Bytes::from(countries::lookup(cc)?.metadata_json());
                let id = format!("{cc}-meta-v{}", env!("CARGO_PKG_VERSION"));
                let validators = Validators::new(Some(&id), bytes.len(), catalog_time);
                Served { bytes, mime: "application/json", validators }
            }
            (Source::Dir(_), file) => {
                let (name, mime) = match file {
                    File::Image => (format!("{cc}.gif"), "image/gif"),
                    File::Metadata => ("metadata.json".to_string(), "application/json"),
                };
                let path = self.inside_root(&Path::new(cc).join(name))?;
                let modified = tokio::fs::metadata(&path).await.ok()?.modified().unwrap_or(catalog_time);
                let bytes = Bytes::from(tokio::fs::read(&path).await.ok()?);
                let validators = Validators::new(None, bytes.len(), modified);
                Served { bytes, mime, validators }
            }
        };
        Some(served)
    }

    /// `relative` under the `--dir` root, if it exists and (symlinks
    /// resolved) does not lead outside the root.
    fn inside_root(&self, relative: &Path) -> Option<std::path::PathBuf> {
        let root = self.root.as_ref()?;
        let real = root.join(relative).canonicalize().ok()?;
        real.starts_with(root).then_some(real)
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
    Flag(String, File),
    Missing,
}

/// `/flags/br/br.gif` -> image of `br`; only lower-case two-letter codes,
/// as the book's site has them. Anything else (`..`, `%2e`, `//`, NUL,
/// upper case) is not a route.
fn route(path: &str) -> Route {
    if let Some(page) = pages::route(path) {
        return Route::Page(page);
    }
    let Some(rest) = path.strip_prefix("/flags/") else { return Route::Missing };
    let mut parts = rest.split('/');
    let (Some(cc), Some(file), None) = (parts.next(), parts.next(), parts.next()) else {
        return Route::Missing;
    };
    if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_lowercase()) {
        return Route::Missing;
    }
    match file {
        "metadata.json" => Route::Flag(cc.to_string(), File::Metadata),
        f if f.strip_suffix(".gif") == Some(cc) => Route::Flag(cc.to_string(), File::Image),
        _ => Route::Missing,
    }
}

pub(crate) fn respond(status: StatusCode, mime: &'static str, body: Body) -> Resp {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    resp.headers_mut().insert(SERVER, HeaderValue::from_static(concat!("flags/", env!("CARGO_PKG_VERSION"))));
    resp
}

pub(crate) fn text(status: StatusCode, msg: &str) -> Resp {
    respond(status, "text/plain; charset=utf-8", body::full(format!("{msg}\n")))
}

fn status_fault(status: u16, retry_after: u64) -> Resp {
    let code = StatusCode::from_u16(status).expect("fault statuses are valid");
    let reason = crate::http::reason_phrase(status);
    let mut resp = text(code, &format!("{status} {reason}"));
    resp.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
    if status == 429 || status == 503 {
        resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
    }
    resp
}

/// Answers one request on the connection whose socket is `fd`.
pub(crate) async fn handle(state: Arc<State>, fd: RawFd, req: Request<Incoming>) -> Result<Resp, io::Error> {
    let _in_flight = state.stats.enter();
    let mut fault = None;
    let mut result = answer_request(&state, fd, &req, &mut fault).await;
    if let (Ok(resp), true) = (&mut result, req.method() == Method::HEAD) {
        // Keep the headers (Content-Length included), drop the body.
        *resp.body_mut() = body::empty();
    }
    // The entry is only built when someone reads it: this is the hot path.
    if let Some(log) = &state.config.log {
        log.log(&LogEntry {
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            status: result.as_ref().map_or(0, |r| r.status().as_u16()),
            fault: fault.map(FaultKind::name),
        });
    }
    result
}

async fn answer_request(
    state: &State,
    fd: RawFd,
    req: &Request<Incoming>,
    injected: &mut Option<FaultKind>,
) -> Result<Resp, io::Error> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed: use GET or HEAD");
        resp.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(resp);
    }
    let (cc, file) = match route(req.uri().path()) {
        Route::Page(page) => {
            let host = req.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            return Ok(pages::render(page, &state.config, host));
        }
        Route::Missing => return Ok(text(StatusCode::NOT_FOUND, "404 Not Found")),
        Route::Flag(cc, file) => (cc, file),
    };
    let cfg = &state.config;
    let path = req.uri().path();
    let n = state.stats.nth(&cc, file == File::Image);
    let delay = cfg.delay.at(state.draw(path, n, 1));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if cfg.error_rate > 0.0 && state.draw(path, n, 2) < cfg.error_rate {
        state.stats.count_teapot();
        *injected = Some(FaultKind::Status(418));
        return Ok(status_fault(418, 0));
    }
    let fault = match file {
        File::Image => cfg.faults.pick(state.draw(path, n, 3)),
        File::Metadata => None,
    };
    *injected = fault;
    match fault {
        Some(FaultKind::Status(s)) => return Ok(status_fault(s, cfg.fault_settings.retry_after)),
        Some(FaultKind::Latency) => tokio::time::sleep(cfg.fault_settings.jitter.mul_f64(state.draw(path, n, 4))).await,
        Some(FaultKind::Stall) => {
            tokio::time::sleep(cfg.fault_settings.stall).await;
            return Err(io::Error::other("stalled on purpose"));
        }
        _ => {}
    }
    let Some(served) = state.flag_file(&cc, file).await else {
        return Ok(text(StatusCode::NOT_FOUND, "404 Not Found"));
    };
    let len = served.bytes.len() as u64;
    let decision = answer(req.headers(), &served.validators, len);
    let (status, bytes) = match decision {
        Answer::NotModified => (StatusCode::NOT_MODIFIED, Bytes::new()),
        Answer::Whole => (StatusCode::OK, served.bytes),
        Answer::Part { start, end } => (StatusCode::PARTIAL_CONTENT, served.bytes.slice(start as usize..=end as usize)),
        Answer::Unsatisfiable => {
            let mut resp = text(StatusCode::RANGE_NOT_SATISFIABLE, "416 Range Not Satisfiable");
            resp.headers_mut().insert(CONTENT_RANGE, HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"));
            return Ok(resp);
        }
    };
    let full_len = bytes.len();
    let body = match fault {
        Some(FaultKind::Drip) => body::drip(bytes, cfg.fault_settings.drip_rate),
        Some(FaultKind::Truncate) => body::truncated(bytes),
        Some(FaultKind::Reset) => body::reset(bytes, fd),
        Some(FaultKind::SlowClose) => body::slow_close(bytes, cfg.fault_settings.slow_close),
        _ => body::full(bytes),
    };
    let mut resp = respond(status, served.mime, body);
    let h = resp.headers_mut();
    if status != StatusCode::NOT_MODIFIED {
        h.insert(CONTENT_LENGTH, HeaderValue::from(full_len));
    }
    h.insert(ETAG, HeaderValue::from_str(&served.validators.etag).expect("ascii"));
    h.insert(LAST_MODIFIED, HeaderValue::from_str(&served.validators.http_date()).expect("ascii"));
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Answer::Part { start, end } = decision {
        h.insert(CONTENT_RANGE, HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")).expect("ascii"));
    }
    if fault == Some(FaultKind::SlowClose) {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(resp)
}
