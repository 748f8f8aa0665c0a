//! What the pytest plugin (python/flags_pytest) reads from the binary, held
//! here so that a change to it breaks a Rust test and not only a Python
//! one: the catalog as JSON with each case's codes, and the lines of
//! `flags serve --scenario`: where it serves, the CA to trust, the end of
//! the banner, and what its server saw when SIGTERM stops it. The record
//! it grades with (`--record`, `flags exam verdict`) is held in
//! `exam_verdict.rs`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::util::{flags_exe, http_get, send_signal};

#[test]
fn the_listing_names_each_cases_codes() {
    let out = Command::new(flags_exe()).args(["exam", "--list", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 40, "{}", cases.len());
    for case in cases {
        let codes: Vec<&str> = case["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert!(!codes.is_empty(), "{}", case["id"]);
        assert!(codes.iter().all(|cc| cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase())), "{codes:?}");
        // Several files exactly where the case needs several.
        assert_eq!(codes.len() > 1, case["needs"]["several"] == Value::Bool(true), "{}", case["id"]);
    }
}

/// `flags serve --scenario ID --port 0`, killed when dropped.
struct Scenario {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Scenario {
    /// Starts the case's server and reads its banner, up to its last line.
    fn start(id: &str) -> (Scenario, Vec<String>) {
        let mut child = Command::new(flags_exe())
            .args(["serve", "--scenario", id, "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut scenario = Scenario { child, out };
        let mut lines = Vec::new();
        // The banner is printed at once; read_line returns at its end, or at
        // EOF if the server died, so this wait is bounded by the server.
        while !lines.last().is_some_and(|l: &String| l.starts_with("try: ")) {
            let mut line = String::new();
            assert!(scenario.out.read_line(&mut line).unwrap() > 0, "the banner ended early: {lines:?}");
            lines.push(line.trim_end().to_string());
        }
        (scenario, lines)
    }

    /// SIGTERM; what it printed after the banner, and its exit code.
    fn stop(&mut self) -> (String, Option<i32>) {
        send_signal(self.child.id(), libc::SIGTERM);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.out, &mut rest).unwrap();
        (rest, self.child.wait().unwrap().code())
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_scenario_says_where_it_serves_and_what_it_saw() {
    let (mut scenario, banner) = Scenario::start("framing/length-longer-close");
    let url = banner.iter().find_map(|l| l.strip_prefix("serving at ")).expect("a `serving at` line");
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    assert_eq!(path, "/flags/br/br.gif");
    let answer = http_get(addr.parse().unwrap(), path);
    assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
    let (rest, code) = scenario.stop();
    assert!(rest.starts_with("1 connection(s), 1 request(s):"), "{rest}");
    assert_eq!(code, Some(143));
}

#[test]
fn a_tls_scenario_names_its_ca_and_removes_it() {
    let (mut scenario, banner) = Scenario::start("tls/expired");
    assert!(banner.iter().any(|l| l.starts_with("serving at https://127.0.0.1:")), "{banner:?}");
    let ca = banner.iter().find_map(|l| l.strip_prefix("CA certificate: ")).expect("a CA line");
    let ca = std::path::PathBuf::from(ca.split(' ').next().unwrap());
    assert!(std::fs::read_to_string(&ca).unwrap().contains("BEGIN CERTIFICATE"));
    assert_eq!(scenario.stop().1, Some(143));
    super::util::wait_until("the CA file is removed", Duration::from_secs(5), || !ca.exists());
}
