//! The report card (`report::exam_html`) from a report written by hand, with text a hostile client or
//! server could have written in every field that shows it.

use flags::exam::ExamReport;
use flags::report::exam_html::page;

fn report() -> ExamReport {
    let head = "GET /flags/br/br.gif HTTP/1.1\\u{d}\\u{a}X-Evil: <script>alert(1)</script>\\u{d}\\u{a}\\u{d}\\u{a}";
    let doc = serde_json::json!({
        "schema": 2,
        "meta": { "flags_version": "9.8.7", "catalog": "1-cases-00ff", "date": "Mon, 07 Dec 2026 20:12:14 GMT",
                  "host": "box <b> (linux x86_64)", "deadline_s": 20.0, "jobs": 32, "watch": "cgroup" },
        "wall_ms": 169,
        "clients": [{ "name": "curl", "version": "curl 7.88.1 <x>",
                      "template": "curl -sS --cacert {cacert} --remote-name-all {urls}",
                      "h2_template": null, "can": { "retries": false, "several": true, "h2": false, "tls": true } }],
        "cases": [{ "id": "framing/length-shorter", "family": "framing", "kind": "protocol", "expect": "not-saved",
                    "needs": { "retries": false, "several": false, "h2": false, "tls": false },
                    "about": "Content-Length: 10, then the whole flag", "why": "report it, save nothing",
                    "server": ["request 1: \"HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\n<the flag, 11623 bytes>\""] }],
        "runs": [{ "case": "framing/length-shorter", "kind": "protocol", "client": "curl",
                   "verdict": { "grade": "fail", "reason": "left a partial file <i>.gif (10 of 11 623 bytes)" },
                   "observed": {
                       "command": "curl -sS --cacert /tmp/flags-exam-d96Y6j/exam-ca.pem --remote-name-all http://127.0.0.1:34161/flags/br/br.gif",
                       "exit": 0, "signal": null, "hung": false, "wall_ms": 89, "peak_rss_kib": 17228,
                       "files": [{ "name": "<i>.gif", "size": 10, "judged": { "is": "partial", "cc": "br", "of": 11623 }, "leftover": false }],
                       "server": { "connections": 1, "sent_bytes": 11687, "sent": "\"HTTP/1.1 200 OK\\r\\n\"",
                                   "requests": [{ "conn": 1, "at_ms": 76, "line": "GET /flags/br/br.gif", "head": head,
                                                  "other": false, "credentials": [] }],
                                   "log": ["    76 ms  #1 accepted"] },
                       "other_port": 34723, "stdout_tail": "<script>alert(2)</script>", "stderr_tail": "\u{202e}gif.exe\u{1b}[31m" } }],
        "scores": [{ "client": "curl", "protocol": { "pass": 0, "fail": 1, "info": 0, "not_applicable": 0, "ungraded": 0 },
                     "task": { "pass": 0, "fail": 0, "info": 0, "not_applicable": 0, "ungraded": 0 }, "controls_failed": [] }]
    });
    serde_json::from_value(doc).expect("a report")
}

#[test]
fn the_card_says_what_was_graded_where_and_when() {
    let html = page(&report());
    for field in ["Mon, 07 Dec 2026 20:12:14 GMT", "box &lt;b&gt; (linux x86_64)", "9.8.7", "1-cases-00ff", "cgroup"] {
        assert!(html.contains(field), "{field}");
    }
    for word in ["PASS", "FAIL", "INFO", "N/A", "hung", "<td class=\"ungraded\">--</td>", "a legitimate choice"] {
        assert!(html.contains(word), "the legend: {word}");
    }
    // The client's version, if the report's clients carry one.
    let recorded = serde_json::to_value(&report().clients[0]).unwrap().get("version").is_some_and(|v| v.is_string());
    assert_eq!(html.contains("curl 7.88.1 &lt;x&gt;"), recorded);
}

#[test]
fn each_case_and_run_has_an_anchor_and_the_grid_links_to_them() {
    let html = page(&report());
    assert!(html.contains("id=\"framing/length-shorter\"") && html.contains("href=\"#framing/length-shorter\""));
    assert!(
        html.contains("id=\"framing/length-shorter/curl\"") && html.contains("href=\"#framing/length-shorter/curl\"")
    );
}

#[test]
fn runs_show_the_template_what_was_sent_and_nothing_raw() {
    let html = page(&report());
    assert!(html.contains("curl -sS --cacert {cacert} --remote-name-all {urls}"));
    assert!(!html.contains("/tmp/flags-exam-"), "the scratch folder is gone once the exam ends");
    assert!(html.contains("X-Evil: &lt;script&gt;alert(1)&lt;/script&gt;\\r\\n\n"), "the head, line by line");
    assert!(html.contains("and sent 11 687 bytes"), "the bytes the server sent");
    assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;") && html.contains("&lt;i&gt;.gif"));
    assert!(html.contains("\\u{202e}gif.exe\\u{1b}[31m"), "invisible and control characters are shown");
    assert!(!html.contains("<script") && !html.contains("<i>.gif") && !html.contains('\u{202e}'));
}
