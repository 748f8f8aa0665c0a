//! `flags serve`'s output: the banner, one line per request with `-v`,
//! and the last line.

use std::path::Path;

use super::out::say;
use crate::cli::serve::ServeObserver;
use crate::exam::stage::{Saw, Stage};
use crate::exam::Case;
use crate::proto::text::peer_text;
use crate::server::{LogEntry, RequestLog, ServerConfig, Source};

/// What `flags serve` shows: the banner, the request log with `-v`, where
/// the timeline went, the last line; or a scenario's banner and log.
pub struct Printer;

impl ServeObserver for Printer {
    fn log(&self) -> RequestLog {
        server_log()
    }

    fn serving(&self, addr: &std::net::SocketAddr, config: &ServerConfig, flags: usize) {
        serving(addr, config, flags);
    }

    fn timeline_written(&self, path: &Path, requests: usize) {
        timeline_written(path, requests);
    }

    fn timeline_failed(&self, path: &Path, error: &std::io::Error) {
        super::get::timeline_failed(path, error);
    }

    fn stopped(&self) {
        stopped();
    }

    fn scenario(&self, case: &Case, stage: &Stage, ca: &Path) {
        scenario(case, stage, ca);
    }

    fn scenario_log(&self, saw: &Saw) {
        scenario_log(saw);
    }
}

/// Tells what `flags serve` is serving (`flags` of them) and where; warns
/// when a `--dir` holds none.
pub fn serving(addr: &std::net::SocketAddr, config: &ServerConfig, flags: usize) {
    let what = match &config.source {
        Source::Catalog => format!("the {flags} embedded flags"),
        Source::Dir(d) => format!("the {flags} flags in {}", d.display()),
    };
    if let (Source::Dir(d), 0) = (&config.source, flags) {
        eprintln!(
            "warning: {} holds no flag to serve: it should hold {{cc}}/{{cc}}.gif files, as the unpacked flags.zip's flags/ folder does",
            d.display()
        );
    }
    let label = config.label.map_or(String::new(), |l| format!("{l} "));
    let (scheme, protocols) = match &config.tls {
        Some(_) => ("https", "HTTP/2 and HTTP/1.1 over TLS"),
        None => ("http", "HTTP/1.1, and HTTP/2 with prior knowledge"),
    };
    say!("{label}flag server: serving {what} at {scheme}://{addr}/flags ({protocols})");
    let trust = match config.tls.as_ref().and_then(|t| t.ca_file.as_ref()) {
        Some(ca) => {
            say!("CA certificate: {} (trust it with --cacert, as curl does)", ca.display());
            format!(" --cacert {}", ca.display())
        }
        None => String::new(),
    };
    say!(
        "delay {}, error rate {:.0}%, faults {}, seed {}; try: flags get -s {scheme}://{addr}/flags{trust}",
        config.delay,
        config.error_rate * 100.0,
        config.faults,
        config.seed
    );
    say!("Press Ctrl-C to stop.");
}

/// A request log that prints one line per request: `GET /flags/br/br.gif 200`,
/// with the fault injected if any.
pub fn server_log() -> RequestLog {
    RequestLog(std::sync::Arc::new(|e: &LogEntry| {
        let fault = e.fault.as_deref().map_or(String::new(), |f| format!(" [fault: {f}]"));
        let status = match e.status {
            None => "client went away".to_string(),
            Some(0) => "dropped".to_string(),
            Some(s) => s.to_string(),
        };
        // The method and path are the client's text: shown escaped.
        let (method, path) = (peer_text(e.method.as_bytes()), peer_text(e.path.as_bytes()));
        say!("{method} {path} {status}{fault}");
    }))
}

/// Says the server stopped.
pub fn stopped() {
    say!("flag server stopped.");
}

/// Tells which exam case `flags serve --scenario` serves, where, and what
/// its server does.
pub fn scenario(case: &crate::exam::Case, stage: &crate::exam::stage::Stage, ca: &std::path::Path) {
    let info = case.info();
    say!("flags serve --scenario {}: {}", info.id, info.about);
    say!("serving at {}://{}/flags/{cc}/{cc}.gif", case.scheme(), stage.addr, cc = case.codes[0]);
    if case.id.starts_with("redirect/other") {
        say!("the other host it redirects to: 127.0.0.1:{}", stage.other.port());
    }
    for line in &info.server {
        say!("  server: {line}");
    }
    say!("  correct: {}", info.why);
    if case.needs.tls {
        say!("CA certificate: {} (trust it with --cacert)", ca.display());
    }
    let base = format!("{}://{}/flags", case.scheme(), stage.addr);
    say!(
        "try: flags get {} -s {base} -d /tmp/try, or curl -v {base}/{cc}/{cc}.gif; Ctrl-C stops it",
        case.codes.join(" "),
        cc = case.codes[0]
    );
}

/// What the scenario's server saw, when it stops.
pub fn scenario_log(saw: &crate::exam::stage::Saw) {
    say!("{} connection(s), {} request(s):", saw.connections, saw.requests.len());
    for line in &saw.log {
        say!("  {line}");
    }
}

/// Tells where the server's waterfall went.
pub fn timeline_written(path: &std::path::Path, requests: usize) {
    eprintln!("server timeline ({requests} requests): {}", path.display());
}
