//! time/*, connection/*, redirect/*, tls/* and http2/*: when bytes come,
//! what the connection does, where the answer points, and the layers
//! around HTTP/1.1.

use std::time::Duration;

use super::kit::{case, gif_fields, head, ok, page, send, text, H2, SEVERAL, TLS};
use crate::exam::case::{Case, Expect, Kind, Serve};
use crate::exam::certs::Cert;
use crate::exam::h2::Flaw;
use crate::exam::script::{Ask, Piece, Reply, Step};

const CHOICE: Expect = Expect::Choice { as_sent: false };

pub(super) fn cases() -> Vec<Case> {
    use Expect::{Either, NotSaved, Saved};
    use Kind::{Protocol, Task};
    let mut credentials = case("redirect/other-host-credentials", Protocol, CHOICE, Serve::Plain(other_host),
        "the URL carries user:password; 302 to the same path on another port (another origin)",
        "RFC 9110 §11.6.2 and §15.4: credentials belong to their origin. Following is a choice (INFO), but Authorization must never reach the other host.");
    credentials.credentials = true;
    vec![
        case("time/stall-before-head", Task, NotSaved, Serve::Plain(|_| Reply(vec![Step::Hold])),
            "reads the request and never answers",
            "Give up within a deadline of your own, and save nothing."),
        case("time/stall-after-head", Task, NotSaved, Serve::Plain(stall_after_head),
            "the head of a 200, then silence",
            "Give up within a deadline, and save nothing."),
        case("time/stall-mid-body", Task, NotSaved, Serve::Plain(stall_mid_body),
            "the head and half the flag, then silence",
            "Give up within a deadline, and leave no partial file."),
        case("time/drip", Task, Either, Serve::Plain(drip),
            "the whole answer in 4 pieces, 4 s apart (under a typical 5 s read timeout, 12 s in all)",
            "The answer is honest, only slow: save the flag, or give up by a total deadline the client announces, leaving nothing."),
        case("time/listen-queue-full", Protocol, Saved, Serve::Backlog(ok),
            "the listen queue is full, so the first SYN is dropped; accepting starts 0.5 s later",
            "RFC 9293 §3.8.1: TCP retransmits a SYN that got no answer. The connection is made a second later: save the flag."),
        case("time/refused", Protocol, NotSaved, Serve::Refused,
            "nothing listens: the connection is refused",
            "Report the refusal at once, and save nothing."),
        case("connection/reset-mid-body", Protocol, NotSaved, Serve::Plain(reset_mid_body),
            "the head and half the flag, then a TCP reset",
            "The body is incomplete: report it and leave no partial file."),
        case("connection/close-after-head", Protocol, NotSaved, Serve::Plain(close_after_head),
            "the head of a 200, then close",
            "RFC 9112 §8: the message is incomplete. Report it, save nothing."),
        case("connection/empty-answer", Protocol, NotSaved, Serve::Plain(|_| Reply(vec![Step::Close])),
            "reads the request and closes without a byte",
            "No answer: report it (RFC 9112 §9.3.1 allows one retry of a GET), save nothing."),
        case("connection/garbage", Protocol, NotSaved, Serve::Plain(garbage),
            "answers with bytes that are not HTTP (an SSH banner), then close",
            "RFC 9112 §4: no status line, no response. Report it, save nothing."),
        case("connection/closed-on-reuse", Protocol, Expect::Retry, Serve::Plain(closed_on_reuse),
            "answers the first request on a connection, keeps it open, and closes it when a second request comes",
            "RFC 9112 §9.3.1: a GET on a kept-alive connection the server closed \"MAY\" be sent again on a new one. Retrying saves all three flags (PASS); reporting the ones lost is allowed too (INFO). A wrong file fails."
            )
            .needing(SEVERAL),
        case("connection/unasked-bytes", Protocol, Expect::NeverWrong, Serve::Plain(unasked),
            "the first answer is followed, in the same write, by a second, unasked answer (another flag)",
            "RFC 9112 §6.3: data after a complete answer may be discarded or taken as part of its body, but \"a client MUST NOT process, cache, or forward such extra data as a separate response\". The unasked bytes are there before the next request is sent, so a client can always know. Never save them as the next flag; every flag saved right, or the ones refused reported, passes.")
            .needing(SEVERAL),
        case("redirect/same-host", Protocol, CHOICE, Serve::Plain(same_host),
            "302 to another path on the same server, which has the flag",
            "RFC 9110 §15.4.3: following is the client's choice (a flag downloader may report it instead). INFO says which."),
        credentials,
        case("redirect/gif-body", Protocol, CHOICE, Serve::Plain(gif_body),
            "302 whose body is a complete, valid GIF (another flag); its Location answers 200 with the flag",
            "RFC 9110 §15.4: following is the client's choice (INFO says which). A 3xx's body is not the file: saving it as the flag fails, as a task failure when the client did not follow."),
        case("redirect/loop", Protocol, NotSaved, Serve::Plain(redirect_loop),
            "302 to itself, for ever",
            "RFC 9110 §15.4: a client ought to detect a cycle of redirects. End it, save nothing."),
        case("redirect/to-html", Task, NotSaved, Serve::Plain(to_html),
            "302 to a page that answers 200 with HTML",
            "Wherever it leads, HTML is not a flag: save nothing."),
        case("tls/expired", Protocol, NotSaved, Serve::Tls(Cert::Expired, ok),
            "a certificate from the exam's CA that expired in 2020",
            "RFC 5280 §6.1.3: an expired certificate fails validation. Refuse, save nothing.")
            .needing(TLS),
        case("tls/wrong-host", Protocol, NotSaved, Serve::Tls(Cert::WrongHost, ok),
            "a certificate from the exam's CA for wrong.example only",
            "RFC 9110 §4.3.4 and RFC 6125: the certificate must name the host in the URL. Refuse, save nothing.")
            .needing(TLS),
        case("tls/self-signed", Protocol, NotSaved, Serve::Tls(Cert::SelfSigned, ok),
            "a self-signed certificate for 127.0.0.1",
            "Nothing the client trusts vouches for it: refuse, save nothing.")
            .needing(TLS),
        case("tls/untrusted-ca", Protocol, NotSaved, Serve::Tls(Cert::UntrustedCa, ok),
            "a certificate for 127.0.0.1 from a CA the client was not given",
            "Refuse, save nothing.")
            .needing(TLS),
        case("tls/no-close-notify", Protocol, NotSaved, Serve::Tls(Cert::Valid, no_close_notify),
            "a close-delimited body cut in half by a TCP close without TLS's close_notify",
            "RFC 8446 §6.1 and RFC 9112 §9.8: without close_notify the end of the body may be an attacker's truncation. Save nothing.")
            .needing(TLS),
        case("http2/reset-mid-body", Protocol, NotSaved, Serve::H2(Flaw::ResetMidBody),
            "HEADERS, half the DATA, then RST_STREAM (INTERNAL_ERROR)",
            "RFC 9113 §6.4: the stream ended abnormally. Save nothing.")
            .needing(H2),
        case("http2/goaway", Protocol, Expect::Retry, Serve::H2(Flaw::GoAway),
            "GOAWAY (last stream 0) on the first connection, a correct answer on the next",
            "RFC 9113 §6.8: a stream above the last-stream-id was not processed and \"can be safely retried\" on a new connection. Retrying saves the flag (PASS); reporting the failure is allowed too (INFO).")
            .needing(H2),
        case("http2/length-lie", Protocol, NotSaved, Serve::H2(Flaw::LengthLie),
            "content-length 100 more than the DATA that ends the stream",
            "RFC 9113 §8.1.1: a content-length that does not match the DATA makes the response malformed. Save nothing.")
            .needing(H2),
    ]
}

fn stall_after_head(a: &Ask) -> Reply {
    Reply(vec![send(vec![head("200 OK", &gif_fields(a.flag.len()))]), Step::Hold])
}

fn stall_mid_body(a: &Ask) -> Reply {
    let n = a.flag.len();
    Reply(vec![send(vec![head("200 OK", &gif_fields(n)), Piece::Flag(0..n / 2)]), Step::Hold])
}

fn drip(a: &Ask) -> Reply {
    let parts = vec![head("200 OK", &gif_fields(a.flag.len())), Piece::flag()];
    Reply(vec![Step::Drip { parts, pieces: 4, every: Duration::from_secs(4) }])
}

fn reset_mid_body(a: &Ask) -> Reply {
    let n = a.flag.len();
    Reply(vec![send(vec![head("200 OK", &gif_fields(n)), Piece::Flag(0..n / 2)]), Step::Reset])
}

fn close_after_head(a: &Ask) -> Reply {
    Reply(vec![send(vec![head("200 OK", &gif_fields(a.flag.len()))]), Step::Close])
}

fn garbage(_: &Ask) -> Reply {
    Reply(vec![
        send(vec![
            text("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
            Piece::Bytes(vec![0, 0, 1, 0x14, 0x0a, 0x14, 0xff], "binary"),
        ]),
        Step::Close,
    ])
}

fn closed_on_reuse(a: &Ask) -> Reply {
    match a.on_conn {
        0 => ok(a),
        _ => Reply(vec![Step::Close]),
    }
}

fn unasked(a: &Ask) -> Reply {
    let other = a.stamp.flag(if a.cc == "jp" { "fr" } else { "jp" });
    Reply(vec![send(vec![
        head("200 OK", &gif_fields(a.flag.len())),
        Piece::flag(),
        head("200 OK", &gif_fields(other.len())),
        Piece::Bytes(other.to_vec(), "another flag"),
    ])])
}

fn gif_body(a: &Ask) -> Reply {
    if a.path.contains("/moved/") {
        return ok(a);
    }
    let body = a.stamp.flag(if a.cc == "jp" { "fr" } else { "jp" });
    let fields = [
        ("Location", format!("/moved/{}/{}.gif", a.cc, a.cc)),
        ("Content-Type", "image/gif".to_string()),
        ("Content-Length", body.len().to_string()),
    ];
    Reply(vec![send(vec![head("302 Found", &fields), Piece::Bytes(body.to_vec(), "another flag, a whole GIF")])])
}

fn redirect(to: String) -> Reply {
    let body = format!("<a href=\"{to}\">moved</a>");
    let fields =
        [("Location", to), ("Content-Type", "text/html".to_string()), ("Content-Length", body.len().to_string())];
    Reply(vec![send(vec![head("302 Found", &fields), text(body)])])
}

fn same_host(a: &Ask) -> Reply {
    match a.path.contains("/moved/") {
        true => ok(a),
        false => redirect(format!("/moved/{}/{}.gif", a.cc, a.cc)),
    }
}

fn other_host(a: &Ask) -> Reply {
    match a.other {
        true => ok(a),
        false => redirect(format!("http://127.0.0.1:{}{}", a.other_port, a.path)),
    }
}

fn redirect_loop(a: &Ask) -> Reply {
    redirect(a.path.clone())
}

fn to_html(a: &Ask) -> Reply {
    match a.path.ends_with(".html") {
        true => Reply(vec![send(page("200 OK", "<!doctype html><title>Moved</title><p>Flags are elsewhere now.</p>"))]),
        false => redirect("/flags/moved.html".into()),
    }
}

fn no_close_notify(a: &Ask) -> Reply {
    let n = a.flag.len();
    let fields = [("Content-Type", "image/gif".to_string()), ("Connection", "close".to_string())];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::Flag(0..n / 2)]), Step::CloseNoNotify])
}
