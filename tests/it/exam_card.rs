//! The published report card: the HTML page of a real exam (what was
//! graded, where and when, the legend, an anchor per case, templates and
//! the requests sent, all escaped), and the example clients of
//! `examples/clients`, each graded for real.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::util::flags_exe;

/// Runs `flags exam --json ARGS --html CARD`: the report and the card.
fn exam_with_card(args: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card.html");
    let out = Command::new(flags_exe()).args(["exam", "--json"]).args(args).arg("--html").arg(&card).output().unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON report; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    let html = std::fs::read_to_string(&card).unwrap_or_else(|e| panic!("no card ({e})"));
    (report, html)
}

/// As the card writes text: `&`, `<`, `>` and `"` escaped.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The run of `case` by `client` in a report.
fn run<'a>(report: &'a Value, case: &str, client: &str) -> &'a Value {
    let runs = report["runs"].as_array().unwrap();
    runs.iter().find(|r| r["case"] == case && r["client"] == client).unwrap_or_else(|| panic!("no run {case} {client}"))
}

#[test]
fn the_card_of_a_real_exam_is_complete_and_escapes_what_clients_wrote() {
    assert!(Command::new("curl").arg("--version").output().is_ok(), "curl is not installed (.ci/run installs it)");
    // A client that prints markup, saves a file named like markup, and
    // sends a header field that holds markup.
    let hostile = "hostile=echo '<script>alert(1)</script>'; echo '<script>' >&2; : > '<script>.gif'; \
                   curl -sS -H 'X-Evil: <script>alert(2)</script>' -o br.gif {url}";
    let cases = ["framing/length-shorter", "content/html-page"];
    let (report, html) = exam_with_card(&["--cases", &cases.join(","), "--clients", "curl", "--client", hostile]);
    let meta = &report["meta"];
    for field in ["date", "host", "flags_version", "catalog", "watch"] {
        let value = meta[field].as_str().unwrap();
        assert!(html.contains(&escaped(value)), "the header's {field}: {value}");
    }
    for word in ["PASS", "FAIL", "INFO", "N/A", "hung", ">--<", "a legitimate choice", "not graded"] {
        assert!(html.contains(word), "the legend: {word}");
    }
    for case in cases {
        assert!(html.contains(&format!("id=\"{case}\"")), "{case}'s anchor");
        assert!(html.contains(&format!("href=\"#{case}\"")), "the grid's row head links to {case}");
        assert!(html.contains(&format!("id=\"{case}/curl\"")), "{case}'s run by curl");
    }
    // Templates, not the commands run: those name the scratch folder, gone now.
    let curl = report["clients"].as_array().unwrap().iter().find(|c| c["name"] == "curl").unwrap();
    assert!(html.contains(&escaped(curl["template"].as_str().unwrap())));
    for r in report["runs"].as_array().unwrap() {
        // Runs not made (N/A, not graded) have no command.
        if let Some(command) = r["observed"]["command"].as_str() {
            assert!(!html.contains(&escaped(command)), "a command with a scratch path: {command}");
        }
    }
    // The request head each client sent, escaped, line by line.
    let head =
        run(&report, "framing/length-shorter", "curl")["observed"]["server"]["requests"][0]["head"].as_str().unwrap();
    assert!(head.starts_with("GET /flags/br/br.gif HTTP/1.1"), "{head}");
    assert!(html.contains("GET /flags/br/br.gif HTTP/1.1\\r\\n\nHost: 127.0.0.1:"), "curl's request head");
    assert!(html.contains("X-Evil: &lt;script&gt;alert(2)&lt;/script&gt;\\r\\n"), "the hostile request head");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && html.contains("&lt;script&gt;.gif"));
    assert!(!html.to_ascii_lowercase().contains("<script"), "a raw <script> in the card");
}

/// The example clients: name, script, and a mark of the library in the
/// request head it sends (its User-Agent).
const EXAMPLES: [(&str, &str, &str, &str); 4] = [
    ("py-urllib", "fetch_urllib.py", "urllib.request", "Python-urllib/"),
    ("py-requests", "fetch_requests.py", "requests", "python-requests/"),
    ("py-httpx", "fetch_httpx.py", "httpx", "python-httpx/"),
    ("py-aiohttp", "fetch_aiohttp.py", "aiohttp", "aiohttp/"),
];

#[test]
fn each_example_client_is_graded_for_real() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clients");
    let mut args: Vec<String> =
        vec!["--cases".into(), "framing/close-delimited-1-1,content/html-page,tls/expired".into()];
    for (name, script, module, _) in EXAMPLES {
        let import = Command::new("python3").args(["-c", &format!("import {module}")]).output();
        assert!(
            import.is_ok_and(|o| o.status.success()),
            "python3 cannot import {module}: pip install -r examples/clients/requirements.txt (.ci/run does)"
        );
        let path = folder.join(script);
        args.push("--client".into());
        args.push(format!("{name}=python3 {} --cacert {{cacert}} {{urls}}", path.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (report, _) = exam_with_card(&args);
    for (name, _, _, agent) in EXAMPLES {
        let client = report["clients"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap();
        let can = &client["can"];
        assert!(can["several"] == true && can["tls"] == true && can["retries"] == false, "{name}: {can}");
        for case in ["control/http1", "control/tls", "framing/close-delimited-1-1", "content/html-page"] {
            let r = run(&report, case, name);
            let (grade, reason) = (r["verdict"]["grade"].as_str().unwrap(), &r["verdict"]["reason"]);
            let o = &r["observed"];
            assert!(grade == "pass" || grade == "fail", "{name} {case}: {grade} {reason}");
            let head = o["server"]["requests"][0]["head"].as_str().unwrap_or("");
            assert!(
                head.contains(agent),
                "{name} {case}: the server saw no request from it: {head:?}; {}",
                o["stderr_tail"]
            );
        }
        // It ran, fetched a plain flag, and trusted the exam's CA.
        for case in ["control/http1", "control/tls", "framing/close-delimited-1-1"] {
            let verdict = &run(&report, case, name)["verdict"];
            assert_eq!(verdict["grade"], "pass", "{name} {case}: {verdict}");
        }
    }
}
