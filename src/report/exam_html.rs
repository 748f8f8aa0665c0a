//! The exam's report card: one HTML page, no script, no outside resource.
//! The grid of cases by clients; each cell opens its details (the verdict,
//! the command, the exit, time and memory, the files left, the server's
//! log of the exchange, the tails of the client's output). Everything a
//! client or the server's peer wrote is escaped.

use std::fmt::Write;

use crate::exam::grade::{thousands, Grade};
use crate::exam::{ExamReport, Run};
use crate::waterfall::escape;

/// Text from a client: control characters (but newlines and tabs) shown
/// as escapes, then made safe for HTML.
fn shown(text: &str) -> String {
    let visible: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect();
    escape(&visible)
}

fn class(grade: Grade) -> &'static str {
    match grade {
        Grade::Pass => "pass",
        Grade::Fail => "fail",
        Grade::Info => "info",
        Grade::NotApplicable | Grade::Ungraded => "na",
    }
}

fn details(run: &Run) -> String {
    let mut d = String::new();
    let _ = write!(d, "<p><b>{}</b>: {}</p>", run.verdict.grade.word(), shown(&run.verdict.reason));
    let Some(o) = &run.observed else { return d };
    let exit = match (o.exit, o.signal) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "no status".into(),
    };
    let rss = o.peak_rss_kib.map_or("?".into(), |k| format!("{} KiB", thousands(k)));
    let _ = write!(d, "<p><code>{}</code></p>", shown(&o.command));
    let _ = write!(
        d,
        "<p>{exit}{}, {} ms, peak RSS {rss}; the server saw {} connection(s), {} request(s)</p>",
        if o.hung { " (hung, killed)" } else { "" },
        o.wall_ms,
        o.server.connections,
        o.server.requests.len()
    );
    d.push_str("<p>files left:</p><ul>");
    if o.files.is_empty() {
        d.push_str("<li>none</li>");
    }
    for f in &o.files {
        let judged =
            serde_json::to_value(&f.judged).ok().and_then(|v| v["is"].as_str().map(String::from)).unwrap_or_default();
        let leftover = if f.leftover { ", a leftover" } else { "" };
        let _ = write!(d, "<li><code>{}</code> {} bytes: {judged}{leftover}</li>", shown(&f.name), thousands(f.size));
    }
    d.push_str("</ul>");
    for (title, text) in
        [("server log", o.server.log.join("\n")), ("stdout", o.stdout_tail.clone()), ("stderr", o.stderr_tail.clone())]
    {
        if !text.trim().is_empty() {
            let _ = write!(d, "<p>{title}:</p><pre>{}</pre>", shown(&text));
        }
    }
    d
}

/// The report card.
pub fn page(report: &ExamReport) -> String {
    let mut h = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>flags exam</title><style>\
         body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:2px 4px;vertical-align:top}th{background:#f4f4f4}\
         .pass{background:#dff5dd}.fail{background:#f9d3d0}.info{background:#dbeefa}.na{color:#888}\
         details>div{max-width:40em;font-size:12px}pre{white-space:pre-wrap;max-height:20em;overflow:auto;background:#f8f8f8}\
         td.case{white-space:nowrap}</style></head><body><h1>flags exam</h1>",
    );
    let _ = write!(
        h,
        "<p>{} cases, {} clients, {} runs in {:.1} s, deadline {:.0} s a run.</p>",
        report.cases.len(),
        report.clients.len(),
        report.runs.len(),
        report.wall_ms as f64 / 1000.0,
        report.meta.deadline_s
    );
    h.push_str("<table><tr><th>client</th><th>protocol pass/fail/info/n/a</th><th>task pass/fail/info/n/a</th><th>command</th></tr>");
    for (s, c) in report.scores.iter().zip(&report.clients) {
        let t = |t: &crate::exam::card::Tally| format!("{}/{}/{}/{}", t.pass, t.fail, t.info, t.not_applicable);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&s.client),
            t(&s.protocol),
            t(&s.task),
            escape(&c.template)
        );
    }
    h.push_str("</table><h2>Grid</h2><table><tr><th>case</th>");
    for c in &report.clients {
        let _ = write!(h, "<th>{}</th>", escape(&c.name));
    }
    h.push_str("</tr>");
    for case in &report.cases {
        let kind = format!("{:?}", case.kind).to_lowercase();
        let _ = write!(
            h,
            "<tr><td class=\"case\" title=\"{}\"><b>{}</b> <small>{kind}</small><br><small>{}</small></td>",
            escape(&case.why),
            escape(&case.id),
            escape(&case.about)
        );
        for c in &report.clients {
            match report.run(&case.id, &c.name) {
                Some(run) => {
                    let word = match &run.observed {
                        Some(o) if o.hung => "hung",
                        _ => run.verdict.grade.word(),
                    };
                    let _ = write!(
                        h,
                        "<td class=\"{}\"><details><summary>{word}</summary><div>{}</div></details></td>",
                        class(run.verdict.grade),
                        details(run)
                    );
                }
                None => h.push_str("<td></td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><h2>Cases</h2><dl>");
    for case in &report.cases {
        let _ = write!(
            h,
            "<dt><b>{}</b></dt><dd>{}<br>{}<pre>{}</pre></dd>",
            escape(&case.id),
            escape(&case.about),
            escape(&case.why),
            escape(&case.server.join("\n"))
        );
    }
    h.push_str("</dl></body></html>\n");
    h
}
