//! The exam's report card: one HTML page, no script, no outside resource,
//! meant to be published. From the top: what was graded, where and when;
//! the legend; the clients with their versions, templates and scores; the
//! grid of cases by clients, which scrolls inside a box of its own with
//! its first row and column held; then one section per case (anchored by
//! its id, `card.html#framing/length-shorter`) with each client's run
//! (anchored `#framing/length-shorter/curl`): the verdict, the template it
//! ran, what it sent, what the server answered, the files it left, the
//! server's log and the tails of its output.
//!
//! Commands are shown as templates, not as run: the expanded ones name
//! the exam's scratch folder, which is gone once the exam ends. Everything
//! a client or a server wrote is escaped.

mod style;

use std::fmt::Write;

use crate::exam::card::Tally;
use crate::exam::grade::{thousands, Grade, Judged};
use crate::exam::{CaseInfo, CaseRun, Client, ExamReport};
use crate::waterfall::escape;

/// Text from a client or a server, made safe for HTML: control characters
/// (but newlines and tabs) and the invisible ones that reorder or hide
/// text are shown as escapes.
fn shown(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    let visible: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if hidden(c) => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect();
    escape(&visible)
}

/// Bytes on the wire, already escaped by the stage (`\r\n` or `\u{d}\u{a}`
/// written out): shown safe, with a line break after each line's end so
/// that a head reads line by line.
fn wire(text: &str) -> String {
    let text = text.replace("\\u{d}", "\\r").replace("\\u{a}", "\\n");
    shown(&text.replace("\\n", "\\n\n"))
}

/// The class of a grade's cell.
fn class(grade: Grade) -> &'static str {
    match grade {
        Grade::Pass => "pass",
        Grade::Fail => "fail",
        Grade::Info => "info",
        Grade::NotApplicable => "na",
        Grade::Ungraded => "ungraded",
        Grade::Error => "fail",
    }
}

/// A run's word and class: the grade's, or `hung` for a run killed at the
/// deadline.
fn word(run: &CaseRun) -> (&'static str, &'static str) {
    match &run.observed {
        Some(o) if o.hung => ("hung", "hung"),
        _ => (run.verdict.grade.word(), class(run.verdict.grade)),
    }
}

/// The client's version, when the report records one (built-in profiles).
fn version(client: &Client) -> Option<String> {
    client.version.clone()
}

/// The template a client runs for a case: the HTTP/2 one for the HTTP/2 cases.
fn template<'a>(client: &'a Client, case: &CaseInfo) -> &'a str {
    match (&client.h2_template, case.needs.h2) {
        (Some(t), true) => t,
        _ => &client.template,
    }
}

/// A template as the card shows it: the path of `flags` itself (the
/// built-in profiles run this executable by its full path) as `flags`,
/// since that path means nothing on the reader's machine.
fn portable(template: &str) -> String {
    // The first word, which `quote` put in single quotes if it had to.
    let (first, rest) = match template.strip_prefix('\'') {
        Some(quoted) => quoted.split_once('\'').unwrap_or((quoted, "")),
        None => template.split_once(' ').unwrap_or((template, "")),
    };
    let (path, rest) = (std::path::Path::new(first), rest.trim_start());
    match path.file_name() {
        Some(name) if path.is_absolute() && name == "flags" => format!("flags {rest}").trim_end().to_string(),
        _ => template.to_string(),
    }
}

/// What a client declares it can do, in words.
fn abilities(client: &Client) -> String {
    let can = &client.can;
    let words: Vec<&str> =
        [(can.retries, "retries"), (can.several, "several files"), (can.h2, "HTTP/2"), (can.tls, "TLS")]
            .into_iter()
            .filter_map(|(yes, w)| yes.then_some(w))
            .collect();
    if words.is_empty() {
        "one file, plain HTTP/1.x".into()
    } else {
        words.join(", ")
    }
}

fn tally(t: &Tally) -> String {
    let ungraded = if t.ungraded > 0 { format!(" / {} --", t.ungraded) } else { String::new() };
    format!("{} / {} / {} / {}{ungraded}", t.pass, t.fail, t.info, t.not_applicable)
}

/// `1 client`, `2 clients`.
fn count(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// What was graded, where and when.
fn header(h: &mut String, report: &ExamReport) {
    let m = &report.meta;
    let names: Vec<String> = report.clients.iter().map(|c| escape(&c.name)).collect();
    let _ = write!(
        h,
        "<h1>flags exam: report card</h1><dl class=\"meta\">\
         <dt>graded</dt><dd>{} ({}) on {}: {}</dd>\
         <dt>when</dt><dd>{}, in {:.1} s</dd>\
         <dt>where</dt><dd>{}; {} runs at once, each watched by {}</dd>\
         <dt>deadline</dt><dd>{:.0} s a run, then the client's process group is killed and the run is <i>hung</i></dd>\
         <dt>flags</dt><dd>version {}</dd>\
         <dt>catalog</dt><dd><code>{}</code> (reports merge only when this is the same)</dd></dl>",
        count(report.clients.len(), "client"),
        names.join(", "),
        count(report.cases.len(), "case"),
        count(report.runs.len(), "run"),
        escape(&m.date),
        report.wall_ms as f64 / 1000.0,
        escape(&m.host),
        m.jobs,
        escape(&m.watch),
        m.deadline_s,
        escape(&m.flags_version),
        escape(&m.catalog),
    );
}

/// The clients: version, what they declare, their scores and their templates.
fn clients(h: &mut String, report: &ExamReport) {
    h.push_str(
        "<h2 id=\"clients\">Clients</h2><table class=\"scores\"><tr><th>client</th><th>version</th><th>declares</th>\
         <th>protocol<br><small>pass / fail / info / n/a</small></th><th>task<br><small>pass / fail / info / n/a</small></th>\
         <th>template</th></tr>",
    );
    for c in &report.clients {
        let score = report.scores.iter().find(|s| s.client == c.name);
        let (protocol, task) = score.map_or((String::new(), String::new()), |s| (tally(&s.protocol), tally(&s.task)));
        let mut command = format!("<code>{}</code>", shown(&portable(&c.template)));
        if let Some(t) = c.h2_template.as_deref().filter(|t| *t != c.template) {
            let _ = write!(command, "<br>HTTP/2: <code>{}</code>", shown(&portable(t)));
        }
        if let Some(s) = score.filter(|s| !s.controls_failed.is_empty()) {
            let _ = write!(command, "<br><b>controls failed:</b> {}", shown(&s.controls_failed.join("; ")));
        }
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{protocol}</td><td class=\"n\">{task}</td><td>{command}</td></tr>",
            escape(&c.name),
            version(c).map_or_else(|| "<small>not recorded</small>".to_string(), |v| shown(&v)),
            abilities(c),
        );
    }
    h.push_str(
        "</table><p><small>Placeholders: <code>{url}</code> <code>{urls}</code> <code>{out}</code> <code>{dir}</code> \
         <code>{base}</code> <code>{cc}</code> <code>{cacert}</code>, each replaced by a shell-quoted value; \
         the run's folder is the working directory.</small></p>",
    );
}

/// A client's name as the grid's column head shows it: cut to 18
/// characters, so that long names do not make the head tall (the head's
/// title has it whole).
fn short(name: &str) -> String {
    match name.char_indices().nth(17) {
        Some((i, _)) if name.chars().count() > 18 => format!("{}…", &name[..i]),
        _ => name.to_string(),
    }
}

/// The grid: a row per case, a column per client, a row head per family.
fn grid(h: &mut String, report: &ExamReport) {
    h.push_str("<h2 id=\"grid\">Grid</h2><div class=\"grid\"><table><thead><tr><th class=\"corner\">case</th>");
    for c in &report.clients {
        let _ = write!(
            h,
            "<th class=\"client\" title=\"{}: {}\"><span>{}</span></th>",
            escape(&c.name),
            shown(&portable(&c.template)),
            escape(&short(&c.name))
        );
    }
    h.push_str("</tr></thead><tbody>");
    let mut family = "";
    for case in &report.cases {
        let this = case.id.split('/').next().unwrap_or("");
        if this != family {
            family = this;
            let _ = write!(
                h,
                "<tr class=\"family\"><th>{}</th><td colspan=\"{}\"></td></tr>",
                escape(family),
                report.clients.len()
            );
        }
        let kind = format!("{:?}", case.kind).to_lowercase();
        let _ = write!(
            h,
            "<tr><th title=\"{}\"><a href=\"#{id}\">{id}</a> <small>{kind}</small></th>",
            escape(&case.about),
            id = escape(&case.id)
        );
        for c in &report.clients {
            match report.run(&case.id, &c.name) {
                Some(run) => {
                    let (word, class) = word(run);
                    let _ = write!(
                        h,
                        "<td class=\"{class}\"><a href=\"#{}/{}\" title=\"{}: {word}, {}\">{word}</a></td>",
                        escape(&case.id),
                        escape(&c.name),
                        escape(&c.name),
                        shown(&run.verdict.reason)
                    );
                }
                None => h.push_str("<td></td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
}

/// What a file left was judged to be, in a word.
fn judged(j: &Judged) -> String {
    match j {
        Judged::Flag { cc } => format!("{cc}'s flag"),
        Judged::Partial { cc, of } => format!("the first bytes of {cc}'s flag ({} bytes)", thousands(*of as u64)),
        Judged::FlagPlus { cc, extra } => format!("{cc}'s flag with {} bytes after it", thousands(*extra)),
        Judged::Stale { cc } => format!("a copy of {cc}'s flag that this run did not send"),
        Judged::Gzip => "the flag gzipped".into(),
        Judged::Html => "HTML".into(),
        Judged::Empty => "empty".into(),
        Judged::OtherGif => "another GIF".into(),
        Judged::Other => "other bytes".into(),
    }
}

/// One run's details: the verdict, the template, what went each way on
/// the wire, the files left, the server's log and the client's output.
fn details(d: &mut String, run: &CaseRun, client: &Client, case: &CaseInfo) {
    let (word, class) = word(run);
    let _ = write!(
        d,
        "<details class=\"run {class}\" id=\"{}/{}\"><summary><b>{}</b>: {word}, {}</summary><div>",
        escape(&case.id),
        escape(&client.name),
        escape(&client.name),
        shown(&run.verdict.reason)
    );
    let _ = write!(d, "<p>ran <code>{}</code></p>", shown(&portable(template(client, case))));
    let Some(o) = &run.observed else {
        d.push_str("<p>not run</p></div></details>");
        return;
    };
    let exit = o.status();
    let rss = o.peak_rss_kib.map_or("?".into(), |k| format!("{} KiB", thousands(k)));
    let s = &o.server;
    let _ = write!(
        d,
        "<p>{exit}{} after {} ms, peak RSS {rss}. The server saw {} connection(s) and {} request(s), and sent {} bytes.</p>",
        if o.hung { " (hung: killed at the deadline)" } else { "" },
        thousands(o.wall_ms),
        s.connections,
        s.requests.len(),
        thousands(s.sent_bytes),
    );
    for r in &s.requests {
        let place = if r.other { format!(", to the other port ({})", o.other_port) } else { String::new() };
        let creds = if r.credentials.is_empty() {
            String::new()
        } else {
            format!(", carrying {}", r.credentials.join(" and "))
        };
        let head = if r.head.is_empty() { &r.line } else { &r.head };
        let _ = write!(
            d,
            "<p>request on connection #{} at {} ms{place}{}:</p><pre>{}</pre>",
            r.conn,
            r.at_ms,
            shown(&creds),
            wire(head)
        );
    }
    if !s.sent.is_empty() {
        let _ = write!(d, "<p>the server's first answer:</p><pre>{}</pre>", wire(&s.sent));
    }
    d.push_str("<p>files left:</p><ul>");
    if o.files.is_empty() {
        d.push_str("<li>none</li>");
    }
    for f in &o.files {
        let leftover = if f.leftover { ", a leftover by its name" } else { "" };
        let _ = write!(
            d,
            "<li><code>{}</code>, {} bytes: {}{leftover}</li>",
            shown(&f.name),
            thousands(f.size),
            shown(&judged(&f.judged))
        );
    }
    d.push_str("</ul>");
    for (title, text) in
        [("server's log", s.log.join("\n")), ("stdout", o.stdout_tail.clone()), ("stderr", o.stderr_tail.clone())]
    {
        if !text.trim().is_empty() {
            let _ = write!(d, "<p>{title}:</p><pre>{}</pre>", shown(&text));
        }
    }
    d.push_str("</div></details>");
}

/// A section per case, with every client's run.
fn cases(h: &mut String, report: &ExamReport) {
    h.push_str("<h2 id=\"cases\">Cases</h2>");
    for case in &report.cases {
        let kind = format!("{:?}", case.kind).to_lowercase();
        let id = escape(&case.id);
        let _ = write!(
            h,
            "<section class=\"case\" id=\"{id}\"><h3><a href=\"#{id}\">{id}</a> <small>{kind}</small></h3>\
             <p>{}</p><p>A correct client: {}</p><p>The server:</p><pre>{}</pre>",
            shown(&case.about),
            shown(&case.why),
            wire(&case.server.join("\n"))
        );
        for c in &report.clients {
            if let Some(run) = report.run(&case.id, &c.name) {
                details(h, run, c, case);
            }
        }
        h.push_str("</section>");
    }
}

/// The report card.
pub fn page(report: &ExamReport) -> String {
    let mut h = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>flags exam: {}, {}</title><style>{}</style></head><body>",
        count(report.clients.len(), "client"),
        escape(&report.meta.date),
        style::CSS
    );
    header(&mut h, report);
    h.push_str("<h2 id=\"legend\">Legend</h2>");
    h.push_str(style::LEGEND);
    clients(&mut h, report);
    grid(&mut h, report);
    cases(&mut h, report);
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_of_flags_is_shown_as_flags_and_long_names_are_cut() {
        assert_eq!(portable("/opt/x/target/release/flags get {cc} -s {base}"), "flags get {cc} -s {base}");
        assert_eq!(portable("'/a b/flags' get {cc}"), "flags get {cc}");
        assert_eq!(portable("/usr/bin/curl -sS {url}"), "/usr/bin/curl -sS {url}");
        assert_eq!(portable("flagsy {url}"), "flagsy {url}");
        assert_eq!(short("flags-processpool"), "flags-processpool");
        assert_eq!(short("client-with-a-long-name-01"), "client-with-a-lon…");
    }
}
