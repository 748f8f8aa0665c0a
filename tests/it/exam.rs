//! `flags exam` as users run it: the real binary grading real clients
//! against the catalog's servers on 127.0.0.1. The hostile-server suite,
//! run through the exam: every style of `flags get` passes every case, and
//! clients written to be wrong prove that each verdict can fail.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::util::{flags_exe, send_signal, wait_until, ServeProcess};

/// Runs `flags exam --json ARGS`: its exit code and report.
fn exam(args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(flags_exe()).args(["exam", "--json"]).args(args).output().unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON report; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

/// (case, client) -> (grade, reason), and case -> expect.
fn grades(report: &Value) -> BTreeMap<(String, String), (String, String)> {
    report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = (r["case"].as_str().unwrap().to_string(), r["client"].as_str().unwrap().to_string());
            let v = &r["verdict"];
            (key, (v["grade"].as_str().unwrap().to_string(), v["reason"].as_str().unwrap().to_string()))
        })
        .collect()
}

fn expects(report: &Value) -> BTreeMap<String, String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let expect = match &c["expect"] {
                Value::String(s) => s.clone(),
                other => other.as_object().unwrap().keys().next().unwrap().clone(),
            };
            (c["id"].as_str().unwrap().to_string(), expect)
        })
        .collect()
}

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name).to_string_lossy().into_owned()
}

#[test]
fn every_style_of_flags_get_passes_every_case() {
    let (code, report) = exam(&["--clients", "flags-sequential,flags-threadpool,flags-async,flags-processpool"]);
    let cases = expects(&report);
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let families: std::collections::BTreeSet<&str> = cases.keys().map(|c| c.split('/').next().unwrap()).collect();
    assert!(families.len() >= 8, "{families:?}");
    for ((case, client), (grade, reason)) in grades(&report) {
        match grade.as_str() {
            "pass" => {}
            "info" => assert!(["choice", "retry"].contains(&cases[&case].as_str()), "{client} {case}: {reason}"),
            "n/a" => assert!(
                (case.starts_with("http2/") || case == "control/http2") && client != "flags-async",
                "{client} {case}: {reason}"
            ),
            _ => panic!("{client} failed {case}: {reason}"),
        }
    }
    assert_eq!(code, Some(0));
}

#[test]
fn each_verdict_fails_a_client_written_to_get_it_wrong() {
    let naive = format!("naive=python3 {} {{url}} {{out}}", script("naive.py"));
    let temp = format!("temp=python3 {} {{url}} {{out}}", script("through_temp.py"));
    // The default deadline (20 s): with 32 runs at once on a loaded machine,
    // starting Python took some runs past 5 s, and 8 s killed clients that
    // were about to pass.
    let (code, report) = exam(&["--client", &naive, "--client", "never=: {url}", "--client", &temp]);
    assert_eq!(code, Some(1), "some client failed");
    let cases = expects(&report);
    let grades = grades(&report);
    let grade = |case: &str, client: &str| grades[&(case.to_string(), client.to_string())].clone();
    let mut refusals = 0;
    for (case, expect) in &cases {
        // The naive client saves whatever comes and exits 0: it fails every
        // case where a correct client must save nothing.
        let (g, reason) = grade(case, "naive");
        if g != "n/a" && (expect == "not-saved" || expect == "no-file") {
            assert_eq!(g, "fail", "naive passed {case}: {reason}");
            refusals += 1;
        }
        // The client that does nothing fails its control, and so is not
        // graded on anything else: no PASS anywhere.
        let (g, reason) = grade(case, "never");
        match case.as_str() {
            "control/http1" => {
                assert_eq!((g.as_str(), reason.as_str()), ("fail", "the server saw no request (exit 0)"))
            }
            _ => assert!(g == "ungraded" || g == "n/a", "never got {g} on {case}: {reason}"),
        }
    }
    assert!(refusals >= 25, "{refusals} refusals checked");
    // Saving through a temporary name passes where the answer is good...
    for case in
        ["framing/chunk-extensions", "framing/close-delimited-1-0", "framing/obs-fold", "time/listen-queue-full"]
    {
        assert_eq!(grade(case, "temp"), ("pass".into(), "saved br.gif".into()), "{case}");
    }
    // ...and the temporary file it leaves on an error is seen.
    assert_eq!(grade("framing/length-longer-close", "temp").1, "left br.gif.part (0 bytes)");
    assert_eq!(grade("content/html-page", "naive").1, "saved text/html as br.gif");
    assert_eq!(
        grade("framing/length-longer-close", "naive").1,
        "left a partial file br.gif (the first 5 811 of 11 623 bytes)"
    );
    assert_eq!(grade("status/no-content", "naive").1, "left an empty br.gif");
    let (g, why) = grade("tls/expired", "naive");
    assert!(g == "n/a" && why.contains("no {cacert}"), "no {{cacert}}: no TLS case: {why}");
}

#[test]
fn curl_leaves_a_partial_file_unless_told_not_to() {
    for tool in ["curl", "wget2"] {
        assert!(Command::new(tool).arg("--version").output().is_ok(), "{tool} is not installed (.ci/run installs it)");
    }
    let (_, report) =
        exam(&["--clients", "curl,curl-careful,wget2", "--cases", "framing/length-longer-close,status/no-content"]);
    let grades = grades(&report);
    let g = |case: &str, client: &str| grades[&(case.to_string(), client.to_string())].clone();
    assert_eq!(
        g("framing/length-longer-close", "curl"),
        ("fail".into(), "left a partial file br.gif (the first 5 811 of 11 623 bytes)".into())
    );
    let run = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["client"] == "curl" && r["case"] == "framing/length-longer-close")
        .unwrap();
    assert_eq!(run["observed"]["exit"], 18, "curl's 'partial file' exit");
    assert_eq!(run["kind"], "task", "curl reported the truncation: only the file it kept is wrong");
    assert_eq!(g("framing/length-longer-close", "curl-careful").0, "pass");
    // wget2 reports success with no file on a 204.
    assert_eq!(
        g("status/no-content", "wget2"),
        ("fail".into(), "exit 0, but no file: the failure is not reported".into())
    );
}

#[test]
fn a_scenario_is_served_byte_for_byte() {
    let mut server = ServeProcess::start(&["--scenario", "framing/length-shorter"]);
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: 10\r\n\r\n";
    assert!(got.starts_with(head), "{}", String::from_utf8_lossy(&got[..80.min(got.len())]));
    assert_eq!(&got[head.len()..], &super::util::served_image("BR")[..]);
    server.signal(libc::SIGINT);
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(130));
    assert!(server.output().iter().any(|l| l.contains("1 connection(s), 1 request(s)")), "{:?}", server.output());
}

#[test]
fn bad_exam_arguments_are_usage_errors() {
    for (args, says) in [
        (&["--cases", "nope/*"][..], "no case matches"),
        (&["--client", "mine"][..], "NAME=TEMPLATE"),
        (&["--client", "mine=get {nope}"][..], "unknown {nope}"),
        (&["--clients", "netscape"][..], "no built-in client"),
    ] {
        let out = Command::new(flags_exe()).arg("exam").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && err.contains("Usage:"), "{args:?}: {err}");
    }
    let out = Command::new(flags_exe()).args(["serve", "--scenario", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_report_card_escapes_what_clients_print() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("card.html");
    let out = Command::new(flags_exe())
        .args(["exam", "--cases", "content/html-page", "--client", "loud=echo '<script>alert(1)</script>'; : {url}"])
        .arg("--html")
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "exit 0 and no file is a FAIL");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"));
    let grid = String::from_utf8_lossy(&out.stdout);
    assert!(grid.contains("content/html-page") && grid.contains("FAIL"), "{grid}");
}

#[test]
fn ctrl_c_ends_the_exam_kills_its_clients_and_removes_its_scratch_folder() {
    // Once (the clean stop) and twice at once (the quick one): either way.
    for signals in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let mark = tempfile::tempdir().unwrap();
        let pid_file = mark.path().join("pid");
        let client = format!("sleeper=echo $$ > {}; exec sleep 60 # {{url}}", pid_file.display());
        let mut child = Command::new(flags_exe())
            .args(["exam", "--cases", "time/stall-before-head", "--client", &client])
            .env("TMPDIR", tmp.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the client starts", Duration::from_secs(20), || {
            std::fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
        });
        let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        for _ in 0..signals {
            send_signal(child.id(), libc::SIGINT);
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{signals} Ctrl-C");
        wait_until("the client is gone", Duration::from_secs(5), || !flags::os::is_running(pid));
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "{signals} Ctrl-C: the scratch folder is gone");
        let cgroup = format!("flags-exam-{}", child.id());
        assert!(!found_under(Path::new("/sys/fs/cgroup"), &cgroup, 4), "{signals} Ctrl-C: {cgroup} is left");
    }
}

#[test]
fn the_listing_explains_every_case() {
    let out = Command::new(flags_exe()).args(["exam", "--list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let cases = text.lines().filter(|l| l.contains("  [protocol") || l.contains("  [task")).count();
    assert!(cases >= 40, "{cases}");
    assert_eq!(text.matches("\n  correct: ").count(), cases);
    assert!(text.contains("RFC 9112 §6.3") && text.contains("Content-Length: 10\\r\\n\\r\\n<the flag, 11623 bytes>"));
}

#[test]
fn the_exam_cases_that_make_sense_as_rates_are_faults_of_the_server() {
    use super::util::{fetch, served_image};
    let flag = served_image("BR");
    let answer = |kind: &str| {
        let server = ServeProcess::start(&["--fault", kind, "--drip-rate", "100000"]);
        let got = match kind {
            // Without end: read the head and 200 KB of the body, then hang up.
            "endless" => {
                let mut s = std::net::TcpStream::connect(server.addr).unwrap();
                s.write_all(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                let mut raw = vec![0u8; 0];
                let mut buf = [0u8; 65536];
                while raw.len() < 200_000 {
                    let n = s.read(&mut buf).unwrap();
                    assert!(n > 0, "the endless body ended");
                    raw.extend_from_slice(&buf[..n]);
                }
                String::from_utf8_lossy(&raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).into_owned()
            }
            _ => {
                let a = fetch(server.addr, "/flags/br/br.gif");
                if kind == "gzip" {
                    let mut plain = Vec::new();
                    flate2::read::GzDecoder::new(&a.body[..]).read_to_end(&mut plain).unwrap();
                    assert_eq!(plain, flag);
                }
                if kind == "length-lie" {
                    assert_eq!(a.body, flag, "the whole flag, then the connection drops");
                }
                a.head
            }
        };
        // And every style reports it, saving nothing.
        let dest = tempfile::tempdir().unwrap();
        for mode in ["sequential", "threadpool", "async", "processpool"] {
            let base = format!("http://{}/flags", server.addr);
            let out = Command::new(flags_exe())
                .args(["get", "br", "--json", "--timeout", "5", "--mode", mode, "-s", &base, "-d"])
                .arg(dest.path())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{kind} {mode}");
            assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0, "{kind} {mode}");
        }
        server.signal(libc::SIGTERM);
        got
    };
    let n = flag.len();
    let head = answer("html");
    assert!(head.starts_with("HTTP/1.1 200") && head.contains("text/html"), "{head}");
    assert!(answer("204").starts_with("HTTP/1.1 204"));
    assert!(answer("redirect").to_ascii_lowercase().contains("location: /flags/br/"));
    assert!(answer("gzip").to_ascii_lowercase().contains("content-encoding: gzip"));
    assert!(answer("length-lie").to_ascii_lowercase().contains(&format!("content-length: {}", n + 1000)));
    let head = answer("endless").to_ascii_lowercase();
    assert!(!head.contains("content-length") && head.contains("chunked"), "{head}");
}

#[test]
fn the_leak_memory_and_hung_verdicts_fail_clients_written_to_earn_them() {
    let leaky = format!("leaky=python3 {} {{url}} {{out}}", script("leaky.py"));
    // The hog downloads well (it passes the control) and spends 400 MB on
    // any answer that is not a GIF.
    let hog = format!("hog=python3 {} {{url}} {{out}}", script("hog.py"));
    // The default deadline (20 s), so that a loaded machine has time to
    // fill the hog's 400 MB; the sleeper alone gets a short one.
    let (_, report) =
        exam(&["--cases", "redirect/other-host-credentials,content/html-page", "--client", &leaky, "--client", &hog]);
    let graded = grades(&report);
    let g = |case: &str, client: &str| graded[&(case.to_string(), client.to_string())].clone();
    let (grade, reason) = g("redirect/other-host-credentials", "leaky");
    assert_eq!(grade, "fail");
    assert!(reason.starts_with("sent authorization to 127.0.0.1:") && reason.ends_with("(another host)"), "{reason}");
    let (grade, reason) = g("content/html-page", "hog");
    assert!(grade == "fail" && reason.starts_with("used ") && reason.contains("MB of memory"), "{reason}");
    let (_, report) =
        exam(&["--cases", "content/html-page", "--client", "sleeper=sleep 30 # {url}", "--deadline", "3"]);
    let graded = grades(&report);
    let (grade, reason) = graded[&("control/http1".to_string(), "sleeper".to_string())].clone();
    assert!(grade == "fail" && reason.starts_with("hung: killed after 3 s"), "{reason}");
    let (grade, reason) = graded[&("content/html-page".to_string(), "sleeper".to_string())].clone();
    assert!(grade == "ungraded" && reason.contains("control/http1 failed (hung"), "{reason}");
}

#[test]
fn without_a_cgroup_the_runs_session_and_children_are_still_watched() {
    // FLAGS_EXAM_WATCH=session: the fallback for a machine without a
    // writable cgroup file system. A child that starts a session of its
    // own is still seen while its parent runs, and still killed.
    let marks = tempfile::tempdir().unwrap();
    let pids = marks.path().join("pids");
    let cheat = script("cheat_setsid.py");
    let linger = format!("linger=python3 {cheat} linger {} {{url}} {{out}}", pids.display());
    let hog = format!("hog=python3 {cheat} hog {} {{url}} {{out}}", pids.display());
    let out = Command::new(flags_exe())
        .args(["exam", "--json", "--cases", "content/html-page", "--client", &linger, "--client", &hog])
        .env("FLAGS_EXAM_WATCH", "session")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["meta"]["watch"], "session");
    let graded = grades(&report);
    let (grade, reason) = graded[&("control/http1".to_string(), "linger".to_string())].clone();
    assert!(grade == "fail" && reason.starts_with("left a process running ("), "{reason}");
    let (grade, reason) = graded[&("content/html-page".to_string(), "hog".to_string())].clone();
    assert!(grade == "fail" && reason.starts_with("used "), "{reason}");
    for line in std::fs::read_to_string(&pids).unwrap().lines() {
        let pid: u32 = line.split(' ').next().unwrap().parse().unwrap();
        assert!(!flags::os::is_running(pid), "{pid} outlived its run");
    }
}

#[test]
fn what_a_client_prints_costs_the_exam_a_few_kilobytes() {
    // 300 MB on stdout and 300 MB on stderr: the exam keeps each stream's
    // ends and its count, and its own memory does not follow.
    let loud = "loud=head -c 300000000 /dev/zero; head -c 300000000 /dev/zero >&2; echo last words >&2; : {url}";
    // Reaped by wait4 below.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(flags_exe())
        .args(["exam", "--json", "--cases", "content/html-page", "--client", loud])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let sampler = super::util::hwm_until_exit(pid);
    let mut stdout = child.stdout.unwrap();
    let mut text = Vec::new();
    stdout.read_to_end(&mut text).unwrap();
    flags::os::wait_with_usage(pid).unwrap();
    let peak_kib = sampler.join().unwrap();
    let report: Value = serde_json::from_slice(&text).unwrap();
    let run = report["runs"].as_array().unwrap().iter().find(|r| r["case"] == "control/http1").unwrap();
    let o = &run["observed"];
    assert_eq!((o["stdout_bytes"].as_u64(), o["stderr_bytes"].as_u64()), (Some(300_000_000), Some(300_000_011)));
    let err = o["stderr_tail"].as_str().unwrap();
    assert!(err.contains("bytes left out") && err.ends_with("last words\n"), "{}", &err[err.len() - 100..]);
    assert!(o["stdout_tail"].as_str().unwrap().len() < 10_000);
    assert!(peak_kib > 0 && peak_kib < 100 << 10, "the exam's peak RSS: {} MB", peak_kib >> 10);
}

/// True when a folder named `name` is under `dir`, `depth` levels down at most.
fn found_under(dir: &Path, name: &str, depth: usize) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .any(|e| e.file_name() == name || (depth > 0 && found_under(&e.path(), name, depth - 1)))
}
