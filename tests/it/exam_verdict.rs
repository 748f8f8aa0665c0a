//! `flags exam verdict`: one run made outside the exam, graded by the real
//! binary. Each case is served by `flags serve --scenario ID --record FILE`,
//! the test plays the client (a GET of its own, a file it writes), stops
//! the server with SIGTERM (which writes the record) and asks for the
//! verdict.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use super::util::{flags_exe, ServeProcess};

/// A case's server, its record's path and a folder for the client.
struct Served {
    server: ServeProcess,
    record: PathBuf,
    dir: PathBuf,
    _scratch: tempfile::TempDir,
}

impl Served {
    fn start(case: &str) -> Served {
        let scratch = tempfile::tempdir().unwrap();
        let (record, dir) = (scratch.path().join("record.json"), scratch.path().join("dir"));
        std::fs::create_dir(&dir).unwrap();
        let server = ServeProcess::start(&["--scenario", case, "--record", record.to_str().unwrap()]);
        Served { server, record, dir, _scratch: scratch }
    }

    /// SIGTERM, and the wait for the exit that follows the record's writing.
    fn stop(&mut self) -> Value {
        self.server.signal(libc::SIGTERM);
        assert_eq!(self.server.wait_exit(Duration::from_secs(10)), Some(143));
        serde_json::from_slice(&std::fs::read(&self.record).expect("the record is written")).unwrap()
    }

    /// `flags exam verdict` on this run, with `more` arguments.
    fn verdict(&self, case: &str, exit: i32, more: &[&str]) -> Output {
        let exit = exit.to_string();
        let dir = self.dir.to_str().unwrap();
        let record = self.record.to_str().unwrap();
        let args = ["exam", "verdict", "--case", case, "--dir", dir, "--exit", &exit, "--record", record];
        Command::new(flags_exe()).args(args).args(more).output().unwrap()
    }
}

/// The JSON verdict, asserting the command gave one (exit 0).
fn json(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `bytes` sent to `addr`, and what comes back up to the end of the first
/// answer: its body, whole as its `Content-Length` says or as far as the
/// server sent it before closing; or, when no HTTP head comes, the first
/// bytes. The case servers keep a connection open, so this reads no further;
/// a read timeout bounds every wait.
fn exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 16 << 10];
    loop {
        let n = s.read(&mut chunk).unwrap_or(0);
        got.extend_from_slice(&chunk[..n]);
        let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            match n == 0 || !got.starts_with(b"HTTP/") {
                true => return got,
                false => continue,
            }
        };
        let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
        let length = head.lines().find_map(|l| l.strip_prefix("content-length:")?.trim().parse::<usize>().ok());
        let body = got.len() - end - 4;
        if n == 0 || length.is_some_and(|l| body >= l) {
            return got.split_off(end + 4);
        }
    }
}

/// The body of `GET /flags/br/br.gif`, as far as it came.
fn get_br(addr: std::net::SocketAddr) -> Vec<u8> {
    exchange(addr, b"GET /flags/br/br.gif HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
}

#[test]
fn a_whole_flag_where_it_belongs_passes() {
    let mut run = Served::start("control/http1");
    std::fs::write(run.dir.join("br.gif"), get_br(run.server.addr)).unwrap();
    let record = run.stop();
    assert_eq!(record["case"], "control/http1");
    assert_eq!(record["server"]["requests"].as_array().unwrap().len(), 1, "{record}");
    let v = json(&run.verdict("control/http1", 0, &["--json"]));
    assert_eq!((v["grade"].as_str(), v["reason"].as_str()), (Some("pass"), Some("saved br.gif")), "{v}");
    assert_eq!(v["files"][0]["judged"]["is"], "flag", "{v}");
}

#[test]
fn a_partial_file_fails_with_the_exams_reason() {
    let mut run = Served::start("framing/length-longer-close");
    std::fs::write(run.dir.join("br.gif"), get_br(run.server.addr)).unwrap();
    run.stop();
    let out = run.verdict("framing/length-longer-close", 0, &[]);
    assert_eq!(out.status.code(), Some(0), "a verdict was given, whatever the grade");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "FAIL: left a partial file br.gif (the first 5 811 of 11 623 bytes)\n"
    );
}

#[test]
fn bytes_the_run_did_not_send_fail() {
    let mut run = Served::start("control/http1");
    assert_eq!(get_br(run.server.addr).len(), 11_623);
    run.stop();
    let br = run.dir.join("br.gif");
    std::fs::write(&br, flags::exam::script::flag("fr")).unwrap();
    let v = json(&run.verdict("control/http1", 0, &["--json"]));
    assert_eq!((v["grade"].as_str(), v["reason"].as_str()), (Some("fail"), Some("saved another image as br.gif")));
    // Brazil's flag, but marked as another run's: not what this server sent.
    std::fs::write(&br, flags::exam::script::Stamp::new().flag("br")).unwrap();
    let v = json(&run.verdict("control/http1", 0, &["--json"]));
    assert_eq!(v["reason"], "br.gif holds a copy of BR's flag that this run did not send", "{v}");
}

#[test]
fn a_tls_case_needs_a_handshake_begun() {
    // A client that says it failed, but never reached the server.
    let mut untried = Served::start("tls/expired");
    untried.stop();
    let v = json(&untried.verdict("tls/expired", 1, &["--json"]));
    assert_eq!((v["grade"].as_str(), v["reason"].as_str()), (Some("fail"), Some("the server saw no TLS handshake")));

    // One that began a handshake, and gave up on it.
    let mut tried = Served::start("tls/expired");
    // Any first bytes begin it: a plain request, which the server answers
    // with a TLS alert.
    let alert = get_br(tried.server.addr);
    assert_eq!(alert.first(), Some(&0x15), "{alert:?}");
    let record = tried.stop();
    assert_eq!(record["server"]["spoke"], 1, "{record}");
    let v = json(&tried.verdict("tls/expired", 1, &["--json"]));
    assert_eq!(
        (v["grade"].as_str(), v["reason"].as_str()),
        (Some("pass"), Some("reported it (exit 1), saved nothing"))
    );
}

/// `flags exam verdict ARGS`: its exit code and stderr.
fn usage(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(flags_exe()).args(["exam", "verdict"]).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn write_record(dir: &Path, case: &str) -> String {
    let path = dir.join(format!("{}.json", case.replace('/', "-")));
    let saw = r#"{"connections":0,"requests":[],"log":[]}"#;
    std::fs::write(&path, format!(r#"{{"case":"{case}","mark":"","other_port":1,"server":{saw}}}"#)).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn bad_usage_exits_2_and_says_why() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().to_str().unwrap();
    let record = write_record(scratch.path(), "control/http1");
    let ok = ["--dir", dir, "--exit", "0", "--record", record.as_str()];

    let (code, err) = usage(&[&["--case", "framing/nope"][..], &ok].concat());
    assert_eq!(code, Some(2));
    assert!(err.contains("'framing/nope' for '--case <ID>': no such case"), "{err}");

    let (code, err) = usage(&[&["--case", "framing/length-longer-close"][..], &ok].concat());
    assert_eq!(code, Some(2));
    assert!(err.contains("it records a server of case control/http1, not of framing/length-longer-close"), "{err}");

    let (code, err) = usage(&["--case", "control/http1", "--dir", dir, "--record", &record]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--exit <CODE>"), "{err}");

    let (code, err) = usage(&["--case", "control/http1", "--dir", &record, "--exit", "0", "--record", &record]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a directory"), "{err}");

    let (code, err) = usage(&["--case", "control/http1", "--dir", dir, "--exit", "0", "--record", dir]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--record <FILE>"), "{err}");

    let (code, err) = usage(&["--case", "control/http1", "--dir", dir, "--exit", "-1", "--record", &record]);
    assert_eq!(code, Some(2), "{err}");
}
