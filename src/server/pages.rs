//! The pages for people: the index at `/`, and plain directory listings at
//! `/flags/` and `/flags/{cc}/`, like a static file server's. Pages are
//! never delayed and never faulted.

use std::fmt::Write as _;

use hyper::StatusCode;

use super::body;
use super::routes::{respond, text};
use super::{ServerConfig, Source};
use crate::countries::{catalog, lookup};

/// A page the server knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Index,
    FlagsDir,
    CodeDir(String),
}

/// Which page `path` is, if any.
pub fn route(path: &str) -> Option<Page> {
    match path {
        "/" => Some(Page::Index),
        "/flags" | "/flags/" => Some(Page::FlagsDir),
        _ => {
            let cc = path.strip_prefix("/flags/")?.strip_suffix('/')?;
            (cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase())).then(|| Page::CodeDir(cc.to_string()))
        }
    }
}

/// The codes the server holds, lower case, sorted.
pub fn codes(config: &ServerConfig) -> Vec<String> {
    match &config.source {
        Source::Catalog => catalog().iter().map(|c| c.cc.to_ascii_lowercase()).collect(),
        Source::Dir(dir) => {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_lowercase()))
                .filter(|n| dir.join(n).join(format!("{n}.gif")).is_file())
                .collect();
            v.sort();
            v
        }
    }
}

fn html(body: String) -> hyper::Response<body::Body> {
    respond(StatusCode::OK, "text/html; charset=utf-8", body::full(body))
}

fn listing(title: &str, entries: impl Iterator<Item = String>) -> String {
    let mut page = format!(
        "<!doctype html>\n<meta charset=utf-8>\n<title>Index of {title}</title>\n<h1>Index of {title}</h1>\n<ul>\n"
    );
    for e in entries {
        let _ = writeln!(page, "<li><a href=\"{e}\">{e}</a></li>");
    }
    page.push_str("</ul>\n");
    page
}

/// Renders `page`.
pub fn render(page: Page, config: &ServerConfig) -> hyper::Response<body::Body> {
    match page {
        Page::Index => html(index(config)),
        Page::FlagsDir => html(listing("/flags/", codes(config).into_iter().map(|cc| format!("{cc}/")))),
        Page::CodeDir(cc) => {
            if !codes(config).contains(&cc) {
                return text(StatusCode::NOT_FOUND, "404 Not Found");
            }
            let files = [format!("{cc}.gif"), "metadata.json".to_string()];
            html(listing(&format!("/flags/{cc}/"), files.into_iter()))
        }
    }
}

/// The index: what the server is doing and a link to every flag.
fn index(config: &ServerConfig) -> String {
    let mut page =
        String::from("<!doctype html>\n<meta charset=utf-8>\n<title>flags server</title>\n<h1>flags server</h1>\n");
    let label = config.label.map_or(String::new(), |l| format!("{l}: "));
    let _ = writeln!(
        page,
        "<p>{label}delay {}, error rate {:.0}%, faults {}. Download with <code>flags get -s URL/flags</code>.</p>\n<ul>",
        config.delay,
        config.error_rate * 100.0,
        config.faults
    );
    for cc in codes(config) {
        let name = lookup(&cc).map_or(String::new(), |c| c.name.clone());
        let _ = writeln!(
            page,
            "<li><a href=\"/flags/{cc}/{cc}.gif\">{}</a> {name} (<a href=\"/flags/{cc}/metadata.json\">metadata</a>)</li>",
            cc.to_ascii_uppercase()
        );
    }
    page.push_str("</ul>\n");
    page
}
