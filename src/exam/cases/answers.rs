//! status/*, content/* and size/*: what an answer says, what it carries,
//! and how much of it there is.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use super::kit::{case, gif_fields, head, ok, page, send, text, RETRIES};
use crate::exam::case::{Case, Expect, Kind, Serve};
use crate::exam::script::{Ask, Piece, Reply, Step};

pub(super) fn cases() -> Vec<Case> {
    use Expect::{NotSaved, Saved};
    use Kind::{Protocol, Task};
    vec![
        case("status/no-content", Task, NotSaved, Serve::Plain(no_content),
            "204 No Content",
            "RFC 9110 §15.3.5: a 204 has no body, so there is no flag. Report it, leave no empty file."),
        case("status/partial-unasked", Protocol, NotSaved, Serve::Plain(partial),
            "206 Partial Content with the first 100 bytes, to a request without Range",
            "RFC 9110 §15.3.7: a 206 carries part of a representation. It is not the file: save nothing."),
        case("status/interim", Protocol, Saved, Serve::Plain(interim),
            "100 Continue and two 103 Early Hints before the 200",
            "RFC 9110 §15.2: a client must parse and skip 1xx answers before the final one. The flag must be saved."),
        case("status/not-found-page", Task, Expect::NoFile, Serve::Plain(not_found),
            "404 with an HTML page",
            "A 404's body is an error page, not the file: save nothing. Reporting it as not found with exit 0 is fine (flags2 counts 404s apart from errors)."),
        case("status/server-error-page", Task, NotSaved, Serve::Plain(server_error),
            "500 with an HTML page",
            "A 500's body is an error page, not the file: report it, save nothing."),
        case("status/unknown-5xx", Task, NotSaved, Serve::Plain(unknown),
            "599, a status code no RFC defines, with a page",
            "RFC 9110 §15: a client \"MUST understand the class of any status code\" and treat an unknown one as the x00 of its class, here 500; so this is server-error-page again: report it, save nothing."),
        case("status/not-found-gif", Task, Expect::NoFile, Serve::Plain(not_found_gif),
            "404 whose body is a complete, valid GIF (another flag)",
            "The status says there is no flag, whatever the body looks like: save nothing. A client that keeps any body that looks like a whole GIF fails here."),
        case("status/server-error-gif", Task, NotSaved, Serve::Plain(server_error_gif),
            "500 whose body is a complete, valid GIF (another flag)",
            "A 500's body is not the file, even when it is an image: report it, save nothing."),
        case("status/unavailable-gif", Task, NotSaved, Serve::Plain(unavailable_gif),
            "503 (without Retry-After) whose body is a complete, valid GIF (another flag), to every request",
            "A 503's body is not the file: report it, save nothing (a client that retries gets 503 again)."),
        case("status/retry-after-seconds", Task, Saved, Serve::Plain(retry_seconds),
            "503 with Retry-After: 1 until a second has passed, then the flag",
            "RFC 9110 §10.2.3: Retry-After says when to come back. A client told to retry waits and saves the flag.")
            .needing(RETRIES),
        case("status/retry-after-date", Task, Saved, Serve::Plain(retry_date),
            "429 with Retry-After as an HTTP-date 2 s ahead until a second has passed, then the flag",
            "RFC 9110 §10.2.3 and RFC 6585 §4: Retry-After may be a date. A client told to retry waits and saves the flag.")
            .needing(RETRIES),
        case("status/fail-twice", Task, Saved, Serve::Plain(fail_twice),
            "500 to the first two requests, then the flag",
            "A transient error: a client told to retry (at least twice) saves the flag.")
            .needing(RETRIES),
        case("content/html-page", Task, NotSaved, Serve::Plain(html),
            "200 with an HTML page (a captive portal, a CDN's error) for the .gif",
            "A flag is a GIF. An HTML page saved as br.gif is a wrong file reported as a success: report it, save nothing."),
        case("content/empty", Task, NotSaved, Serve::Plain(empty),
            "200 with Content-Length: 0",
            "Zero bytes are not a flag: report it, leave no empty file."),
        case("content/gif-cut", Task, NotSaved, Serve::Plain(gif_cut),
            "200 with the flag missing its last 3 bytes, and an honest Content-Length",
            "The framing is right but the GIF has no trailer: a downloader that checks what it saves reports it and saves nothing."),
        case("content/gzip", Protocol, Expect::Choice { as_sent: true }, Serve::Plain(gzip),
            "the flag with Content-Encoding: gzip, unasked",
            "RFC 9110 §8.4: Content-Encoding is part of the representation. Decoding it or keeping the bytes as sent are both defensible: INFO says which."),
        case("content/gzip-bomb", Task, NotSaved, Serve::Plain(bomb),
            "Content-Encoding: gzip over 256 MiB of zeros (1.2 MB compressed)",
            "Neither the bytes as sent nor their decoding is a flag, and decoding them must not cost 256 MiB: save nothing."),
        case("size/endless-body", Task, NotSaved, Serve::Plain(endless),
            "200 without Content-Length, a GIF header, then filler without end",
            "A flag is at most 36 KB: stop reading at a size limit or a deadline, and leave no file."),
        case("size/endless-chunks", Task, NotSaved, Serve::Plain(endless_chunks),
            "chunked, a chunk of 64 KiB after another, without end",
            "As for an endless body: stop at a limit, leave no file."),
        case("size/huge-length", Task, NotSaved, Serve::Plain(huge),
            "Content-Length: 1000000000000, the flag, then silence",
            "A flag is at most 36 KB: refuse the answer at once or give up at a deadline, and leave no file."),
        case("size/endless-head", Task, NotSaved, Serve::Plain(endless_head),
            "a status line, then header lines without end",
            "A head has a size limit (hyper: 400 KB, nginx: 8 KB a line): give up, save nothing."),
    ]
}

fn no_content(_: &Ask) -> Reply {
    Reply(vec![send(vec![head("204 No Content", &[])])])
}

fn partial(a: &Ask) -> Reply {
    let n = a.flag.len();
    let fields = [
        ("Content-Type", "image/gif".to_string()),
        ("Content-Range", format!("bytes 0-99/{n}")),
        ("Content-Length", "100".to_string()),
    ];
    Reply(vec![send(vec![head("206 Partial Content", &fields), Piece::Flag(0..100)])])
}

fn interim(a: &Ask) -> Reply {
    let hints = "HTTP/1.1 100 Continue\r\n\r\n\
                 HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n\
                 HTTP/1.1 103 Early Hints\r\nLink: </flags.js>; rel=preload\r\n\r\n";
    Reply(vec![send(vec![text(hints), head("200 OK", &gif_fields(a.flag.len())), Piece::flag()])])
}

fn not_found(_: &Ask) -> Reply {
    Reply(vec![send(page("404 Not Found", "<!doctype html><title>Not found</title><h1>No such flag</h1>"))])
}

fn server_error(_: &Ask) -> Reply {
    Reply(vec![send(page("500 Internal Server Error", "<!doctype html><title>Oops</title><h1>Something broke</h1>"))])
}

/// An error answer whose body is a whole GIF: another flag of this run.
fn gif_page(status: &str, a: &Ask) -> Reply {
    let body = a.stamp.flag(if a.cc == "jp" { "fr" } else { "jp" });
    let parts = vec![head(status, &gif_fields(body.len())), Piece::Bytes(body.to_vec(), "another flag, a whole GIF")];
    Reply(vec![send(parts)])
}

fn not_found_gif(a: &Ask) -> Reply {
    gif_page("404 Not Found", a)
}

fn server_error_gif(a: &Ask) -> Reply {
    gif_page("500 Internal Server Error", a)
}

fn unavailable_gif(a: &Ask) -> Reply {
    gif_page("503 Service Unavailable", a)
}

fn unknown(_: &Ask) -> Reply {
    Reply(vec![send(page("599 Network Read Timeout", "<!doctype html><title>599</title>"))])
}

fn retry_seconds(a: &Ask) -> Reply {
    if a.nth > 0 && a.since_first >= Duration::from_secs(1) {
        return ok(a);
    }
    let fields = [("Retry-After", "1".to_string()), ("Content-Length", "0".to_string())];
    Reply(vec![send(vec![head("503 Service Unavailable", &fields)])])
}

fn retry_date(a: &Ask) -> Reply {
    if a.nth > 0 && a.since_first >= Duration::from_secs(1) {
        return ok(a);
    }
    let at = a.now + Duration::from_secs(2);
    let fields = [("Retry-After", httpdate::fmt_http_date(at)), ("Content-Length", "0".to_string())];
    Reply(vec![send(vec![head("429 Too Many Requests", &fields)])])
}

fn fail_twice(a: &Ask) -> Reply {
    match a.nth {
        0 | 1 => Reply(vec![send(page("500 Internal Server Error", "<!doctype html><title>Try again</title>"))]),
        _ => ok(a),
    }
}

fn html(_: &Ask) -> Reply {
    Reply(vec![send(page("200 OK", "<!doctype html><title>Sign in to the Wi-Fi</title><form>...</form>"))])
}

fn empty(_: &Ask) -> Reply {
    Reply(vec![send(vec![head("200 OK", &gif_fields(0))])])
}

fn gif_cut(a: &Ask) -> Reply {
    let n = a.flag.len() - 3;
    Reply(vec![send(vec![head("200 OK", &gif_fields(n)), Piece::Flag(0..n)])])
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

fn gzip(a: &Ask) -> Reply {
    let body = gzipped(&a.flag);
    let fields = [
        ("Content-Type", "image/gif".to_string()),
        ("Content-Encoding", "gzip".to_string()),
        ("Content-Length", body.len().to_string()),
    ];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::Bytes(body, "the flag, gzipped")])])
}

fn bomb(_: &Ask) -> Reply {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    let body = BOMB.get_or_init(|| {
        // The fastest level: on zeros it compresses about as well as the
        // best, in a fraction of the time.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            let _ = enc.write_all(&zeros);
        }
        enc.finish().unwrap_or_default()
    });
    let fields = [
        ("Content-Type", "image/gif".to_string()),
        ("Content-Encoding", "gzip".to_string()),
        ("Content-Length", body.len().to_string()),
    ];
    Reply(vec![
        send(vec![head("200 OK", &fields), Piece::Bytes(body.clone(), "256 MiB of zeros, gzipped")]),
        Step::Close,
    ])
}

fn endless(_: &Ask) -> Reply {
    let fields = [("Content-Type", "image/gif".to_string())];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::Flag(0..13)]), Step::Endless { chunked: false }])
}

fn endless_chunks(_: &Ask) -> Reply {
    let fields = [("Content-Type", "image/gif".to_string()), ("Transfer-Encoding", "chunked".to_string())];
    Reply(vec![send(vec![head("200 OK", &fields)]), Step::Endless { chunked: true }])
}

fn huge(_: &Ask) -> Reply {
    Reply(vec![send(vec![head("200 OK", &gif_fields(1_000_000_000_000)), Piece::flag()]), Step::Hold])
}

fn endless_head(_: &Ask) -> Reply {
    Reply(vec![send(vec![text("HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n")]), Step::EndlessHeaders])
}
