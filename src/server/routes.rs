//! What the server answers: `/flags/{cc}/{cc}.gif`, `/flags/{cc}/metadata.json`
//! and a small index at `/`. Anything else is 404; methods other than GET
//! and HEAD are 405. Delays and 418s apply to the flag API only.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE, SERVER};
use hyper::{Method, Request, Response, StatusCode};

use super::{image, ServerConfig, Source, Stats};
use crate::countries::{self, catalog};

type Resp = Response<Full<Bytes>>;

/// Everything the request handler shares.
pub(crate) struct State {
    pub(crate) config: ServerConfig,
    stats: Arc<Stats>,
    images: Vec<OnceLock<Bytes>>,
    asked: Mutex<HashMap<String, u64>>,
}

impl State {
    pub(crate) fn new(config: ServerConfig, stats: Arc<Stats>) -> Self {
        let images = catalog().iter().map(|_| OnceLock::new()).collect();
        State { config, stats, images, asked: Mutex::new(HashMap::new()) }
    }

    /// Draws every catalog image now rather than on first request.
    pub(crate) fn warm_up(&self) {
        for (i, _) in catalog().iter().enumerate() {
            self.catalog_image(i);
        }
    }

    fn catalog_image(&self, index: usize) -> Bytes {
        self.images[index].get_or_init(|| Bytes::from(image::flag_gif(&catalog()[index]))).clone()
    }

    /// A reproducible draw in [0, 1) for the n-th request of `path`.
    fn draw(&self, path: &str, salt: u64) -> f64 {
        let n = {
            let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
            let n = asked.entry(path.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let mut h = self.config.seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in path.bytes().chain(n.to_le_bytes()) {
            h = splitmix(h ^ b as u64);
        }
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    async fn flag_file(&self, cc: &str, file: &File) -> Option<(Bytes, &'static str)> {
        match (&self.config.source, file) {
            (Source::Catalog, File::Image) => {
                let i = catalog().iter().position(|c| c.cc.eq_ignore_ascii_case(cc))?;
                Some((self.catalog_image(i), "image/gif"))
            }
            (Source::Catalog, File::Metadata) => {
                Some((Bytes::from(countries::lookup(cc)?.metadata_json()), "application/json"))
            }
            (Source::Dir(dir), file) => {
                // `cc` is two ASCII letters (see `route`), so this path can't leave `dir`.
                let (name, mime) = match file {
                    File::Image => (format!("{cc}.gif"), "image/gif"),
                    File::Metadata => ("metadata.json".to_string(), "application/json"),
                };
                let bytes = tokio::fs::read(dir.join(cc).join(name)).await.ok()?;
                Some((Bytes::from(bytes), mime))
            }
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

enum File {
    Image,
    Metadata,
}

enum Route {
    Index,
    Flag(String, File),
    Missing,
}

/// `/flags/br/br.gif` -> image of `br`; only lower-case two-letter codes,
/// as the book's site has them.
fn route(path: &str) -> Route {
    if path == "/" {
        return Route::Index;
    }
    let Some(rest) = path.strip_prefix("/flags/") else {
        return Route::Missing;
    };
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

fn respond(status: StatusCode, mime: &'static str, body: Bytes) -> Resp {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    resp.headers_mut().insert(SERVER, HeaderValue::from_static(concat!("flags/", env!("CARGO_PKG_VERSION"))));
    resp
}

fn text(status: StatusCode, msg: &str) -> Resp {
    respond(status, "text/plain; charset=utf-8", Bytes::from(format!("{msg}\n")))
}

fn teapot() -> Resp {
    let mut resp = text(StatusCode::IM_A_TEAPOT, "418 I'm a Teapot");
    resp.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(b"I'm a Teapot"));
    resp
}

/// Answers one request.
pub(crate) async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let _in_flight = state.stats.enter();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed: use GET or HEAD");
        resp.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(resp);
    }
    let path = req.uri().path();
    Ok(match route(path) {
        Route::Index => respond(StatusCode::OK, "text/html; charset=utf-8", Bytes::from(index_page(&state.config))),
        Route::Missing => text(StatusCode::NOT_FOUND, "404 Not Found"),
        Route::Flag(cc, file) => {
            let delay = state.config.delay.at(state.draw(path, 1));
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if state.config.error_rate > 0.0 && state.draw(path, 2) < state.config.error_rate {
                state.stats.count_teapot();
                teapot()
            } else {
                match state.flag_file(&cc, &file).await {
                    Some((body, mime)) => respond(StatusCode::OK, mime, body),
                    None => text(StatusCode::NOT_FOUND, "404 Not Found"),
                }
            }
        }
    })
}

/// A plain page naming the server's behaviour and linking every flag.
fn index_page(config: &ServerConfig) -> String {
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><title>flags server</title>\
         <h1>flags server</h1><p>",
    );
    let label = config.label.map_or(String::new(), |l| format!("{l}: "));
    let _ = write!(
        html,
        "{label}delay {}, error rate {:.0}%. Try <code>flags get -s URL/flags</code>.</p><ul>",
        config.delay,
        config.error_rate * 100.0
    );
    let codes: Vec<String> = match &config.source {
        Source::Catalog => catalog().iter().map(|c| c.cc.to_ascii_lowercase()).collect(),
        Source::Dir(dir) => {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_lowercase()))
                .collect();
            v.sort();
            v
        }
    };
    for cc in codes {
        let _ = write!(
            html,
            "<li><a href=\"/flags/{cc}/{cc}.gif\">{cc}</a> <a href=\"/flags/{cc}/metadata.json\">metadata</a>"
        );
    }
    html.push_str("</ul>\n");
    html
}
