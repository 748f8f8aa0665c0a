//! framing/*: where a response's body ends (RFC 9112 §6 and §7).

use super::kit::{case, chunk, gif_fields, head, send, text};
use crate::exam::case::{Case, Expect, Kind, Serve};
use crate::exam::script::{Ask, Piece, Reply, Step};

const CHOICE: Expect = Expect::Choice { as_sent: false };

pub(super) fn cases() -> Vec<Case> {
    use Expect::{NotSaved, Saved};
    use Kind::Protocol;
    vec![
        case("framing/length-shorter", Kind::Task, CHOICE, Serve::Plain(length_shorter),
            "Content-Length: 10, then the whole flag, then close",
            "RFC 9112 §6.3: the body is the first 10 bytes; of the data after a complete answer, \"a user agent MAY discard the remaining data or attempt to determine if that data belongs as part of the prior message body\". Saving the whole flag or refusing are both allowed (INFO). The 10 bytes are the body by the rules, but they are not a flag: keeping them as one is a task failure."),
        case("framing/length-longer-close", Protocol, NotSaved, Serve::Plain(longer_close),
            "an honest Content-Length, half the flag, then close (a truncated body)",
            "RFC 9112 §8: a message that ends before its Content-Length is incomplete. Report it, save nothing, leave no partial file."),
        case("framing/length-longer-stall", Kind::Task, NotSaved, Serve::Plain(longer_stall),
            "Content-Length 1000 more than the flag, the flag, then silence",
            "The rest never comes: give up within a deadline of your own, save nothing."),
        case("framing/chunked-and-length", Protocol, CHOICE, Serve::Plain(chunked_and_length),
            "Transfer-Encoding: chunked with a false Content-Length, a valid chunked body",
            "RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and such a message ought to be handled as an error (response splitting). Either is defensible: INFO says which."),
        case("framing/chunked-cut", Protocol, NotSaved, Serve::Plain(chunked_cut),
            "chunked: the first chunk, then close before the last chunk",
            "RFC 9112 §7.1: a chunked body ends with a chunk of size 0. Without it the body is incomplete: save nothing."),
        case("framing/chunk-extensions", Protocol, Saved, Serve::Plain(chunk_extensions),
            "chunked with chunk extensions (;name=value) and a trailer field",
            "RFC 9112 §7.1.1 and §7.1.2: a recipient ignores unknown chunk extensions and may ignore trailers. The flag must be saved."),
        case("framing/chunk-size-bad", Protocol, NotSaved, Serve::Plain(chunk_size_bad),
            "chunked with a chunk size of \"zz\"",
            "RFC 9112 §7.1: a chunk size is hex digits. The body cannot be read: save nothing."),
        case("framing/chunk-size-zeros", Protocol, Saved, Serve::Plain(chunk_size_zeros),
            "chunked with chunk sizes padded with leading zeros (0002d67, 0000)",
            "RFC 9112 §7.1: chunk-size is 1*HEXDIG, so leading zeros are valid. The flag must be saved."),
        case("framing/close-delimited-1-0", Protocol, Saved, Serve::Plain(http10),
            "HTTP/1.0 200 without Content-Length: the flag, then close",
            "RFC 9112 §6.3 rule 8: without a length the body runs to the close. The flag must be saved."),
        case("framing/close-delimited-1-1", Protocol, Saved, Serve::Plain(http11_close),
            "HTTP/1.1 200, Connection: close, no Content-Length: the flag, then close",
            "RFC 9112 §6.3 rule 8, as for HTTP/1.0. The flag must be saved."),
        case("framing/length-twice-same", Protocol, CHOICE, Serve::Plain(length_twice),
            "two identical Content-Length fields",
            "RFC 9110 §8.6: a recipient may reject the message or use the one value. INFO says which."),
        case("framing/length-list-same", Protocol, CHOICE, Serve::Plain(length_list),
            "Content-Length: N, N (a list of identical values)",
            "RFC 9110 §8.6: as for two identical fields: reject, or use the value. INFO says which."),
        case("framing/length-conflict", Protocol, NotSaved, Serve::Plain(length_conflict),
            "two Content-Length fields that disagree",
            "RFC 9112 §6.3 rule 5: an invalid length is an unrecoverable error. Save nothing."),
        case("framing/length-signed", Protocol, NotSaved, Serve::Plain(length_signed),
            "Content-Length: +N",
            "RFC 9110 §8.6: Content-Length is 1*DIGIT, so \"+N\" is invalid, and RFC 9112 §6.3 rule 5 makes that an error. Save nothing."),
        case("framing/bare-lf", Protocol, CHOICE, Serve::Plain(bare_lf),
            "every line of the head ends in LF alone",
            "RFC 9112 §2.2: a recipient may take a bare LF as a line end. INFO says whether the client did."),
        case("framing/obs-fold", Protocol, Saved, Serve::Plain(obs_fold),
            "a field value continued on the next line (obs-fold)",
            "RFC 9112 §5.2: a user agent must replace an obs-fold with spaces and go on. The flag must be saved."),
    ]
}

fn length_shorter(a: &Ask) -> Reply {
    let _ = a;
    Reply(vec![send(vec![head("200 OK", &gif_fields(10)), Piece::flag()]), Step::Close])
}

fn longer_close(a: &Ask) -> Reply {
    let n = a.flag.len();
    Reply(vec![send(vec![head("200 OK", &gif_fields(n)), Piece::Flag(0..n / 2)]), Step::Close])
}

fn longer_stall(a: &Ask) -> Reply {
    Reply(vec![send(vec![head("200 OK", &gif_fields(a.flag.len() + 1000)), Piece::flag()]), Step::Hold])
}

fn chunked_and_length(a: &Ask) -> Reply {
    let n = a.flag.len();
    let fields = [
        ("Content-Type", "image/gif".to_string()),
        ("Transfer-Encoding", "chunked".to_string()),
        ("Content-Length", (n / 2).to_string()),
    ];
    let mut parts = vec![head("200 OK", &fields)];
    parts.extend(chunk(0, n, ""));
    parts.push(text("0\r\n\r\n"));
    Reply(vec![send(parts), Step::Close])
}

fn chunked_fields() -> Vec<(&'static str, String)> {
    vec![("Content-Type", "image/gif".into()), ("Transfer-Encoding", "chunked".into())]
}

fn chunked_cut(a: &Ask) -> Reply {
    let mut parts = vec![head("200 OK", &chunked_fields())];
    parts.extend(chunk(0, a.flag.len() / 2, ""));
    Reply(vec![send(parts), Step::Close])
}

fn chunk_extensions(a: &Ask) -> Reply {
    let n = a.flag.len();
    let mut parts = vec![head("200 OK", &chunked_fields())];
    parts.extend(chunk(0, 7, ";name=value"));
    parts.extend(chunk(7, n, ";quoted=\"a b\""));
    parts.push(text("0\r\nX-Checksum: none\r\n\r\n"));
    Reply(vec![send(parts)])
}

fn chunk_size_bad(a: &Ask) -> Reply {
    let mut parts = vec![head("200 OK", &chunked_fields()), text("zz\r\n"), Piece::flag()];
    parts.push(text("\r\n0\r\n\r\n"));
    let _ = a;
    Reply(vec![send(parts), Step::Close])
}

fn chunk_size_zeros(a: &Ask) -> Reply {
    let n = a.flag.len();
    let mut parts = vec![head("200 OK", &chunked_fields())];
    parts.push(text(format!("{n:07x}\r\n")));
    parts.push(Piece::flag());
    parts.push(text("\r\n0000\r\n\r\n"));
    Reply(vec![send(parts)])
}

fn http10(_: &Ask) -> Reply {
    Reply(vec![send(vec![text("HTTP/1.0 200 OK\r\nContent-Type: image/gif\r\n\r\n"), Piece::flag()]), Step::Close])
}

fn http11_close(_: &Ask) -> Reply {
    let fields = [("Content-Type", "image/gif".to_string()), ("Connection", "close".to_string())];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::flag()]), Step::Close])
}

fn length_twice(a: &Ask) -> Reply {
    let n = a.flag.len().to_string();
    let fields = [("Content-Type", "image/gif".to_string()), ("Content-Length", n.clone()), ("Content-Length", n)];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::flag()])])
}

fn length_list(a: &Ask) -> Reply {
    let n = a.flag.len();
    let fields = [("Content-Type", "image/gif".to_string()), ("Content-Length", format!("{n}, {n}"))];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::flag()])])
}

fn length_conflict(a: &Ask) -> Reply {
    let n = a.flag.len();
    let fields = [
        ("Content-Type", "image/gif".to_string()),
        ("Content-Length", n.to_string()),
        ("Content-Length", (n + 5).to_string()),
    ];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::flag(), text("12345")]), Step::Close])
}

fn length_signed(a: &Ask) -> Reply {
    let fields = [("Content-Type", "image/gif".to_string()), ("Content-Length", format!("+{}", a.flag.len()))];
    Reply(vec![send(vec![head("200 OK", &fields), Piece::flag()]), Step::Close])
}

fn bare_lf(a: &Ask) -> Reply {
    let head = format!("HTTP/1.1 200 OK\nContent-Type: image/gif\nContent-Length: {}\n\n", a.flag.len());
    Reply(vec![send(vec![text(head), Piece::flag()])])
}

fn obs_fold(a: &Ask) -> Reply {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nX-Note: this value\r\n goes on here\r\nContent-Length: {}\r\n\r\n",
        a.flag.len()
    );
    Reply(vec![send(vec![text(head), Piece::flag()])])
}
