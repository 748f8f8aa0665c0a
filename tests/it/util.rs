//! Test helpers: a flag server on a free loopback port, and checks on what
//! a download left on disk.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use flags::server::{self, Delay, RunningServer, ServerConfig};

/// The `flags` binary, which process pools must run as their workers.
pub const FLAGS_EXE: &str = env!("CARGO_BIN_EXE_flags");

/// The build the binary's suites run (hostile servers, signals):
/// `FLAGS_TEST_EXE` (an older build, to see what it got wrong), else this one.
pub fn flags_exe() -> String {
    std::env::var("FLAGS_TEST_EXE").unwrap_or_else(|_| FLAGS_EXE.to_string())
}

/// Starts the embedded server on 127.0.0.1:0 with this behaviour.
pub fn server_with(delay: Delay, error_rate: f64) -> RunningServer {
    flags::download::processpool::use_worker_program(FLAGS_EXE);
    let config = ServerConfig { delay, error_rate, seed: 42, ..ServerConfig::default() };
    server::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("the test server starts")
}

/// A server with no delay and no errors.
pub fn server() -> RunningServer {
    server_with(Delay::NONE, 0.0)
}

/// The bytes the embedded server serves for `cc`.
pub fn served_image(cc: &str) -> Vec<u8> {
    let code = flags::countries::CountryCode::new(cc).expect("a country code");
    let index = flags::countries::position(code).expect("a catalog code");
    flags::server::image::catalog_image(index).to_vec()
}

/// The sorted file names in `dir`.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

/// Asserts `dir` holds exactly `{cc}.gif` for each code, byte-identical to
/// what the server serves, and nothing else (no temp files).
pub fn assert_exactly_saved(dir: &Path, codes: &[&str]) {
    let mut expected: Vec<String> = codes.iter().map(|cc| format!("{}.gif", cc.to_lowercase())).collect();
    expected.sort();
    assert_eq!(files_in(dir), expected);
    for cc in codes {
        let got = std::fs::read(dir.join(format!("{}.gif", cc.to_lowercase()))).unwrap();
        assert!(got == served_image(cc), "{cc}.gif differs from what the server sent");
    }
}

/// `flags serve` run as users run it: the real binary (or `FLAGS_TEST_EXE`) in a process of its
/// own, on a free port. Dropping it kills the process.
pub struct ServeProcess {
    child: std::process::Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// With `--tls`: the CA file its banner names.
    pub ca: Option<PathBuf>,
    /// Everything it printed on stdout, collected by a thread.
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServeProcess {
    /// Starts `flags serve --port 0` with `args` and waits for its banner.
    pub fn start(args: &[&str]) -> ServeProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(flags_exe())
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("flags serve starts");
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = std::sync::Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                // The banner's last line offers a command to try.
                let done = line.contains("try: flags get");
                sink.lock().unwrap().push(line);
                if done {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(std::time::Duration::from_secs(10)).expect("flags serve prints its banner");
        let banner = lines.lock().unwrap().clone();
        let url = banner.iter().find_map(|l| l.split_once("://")).expect("the banner names its URL").1;
        let addr = url.split('/').next().unwrap().parse().expect("an address");
        let ca = banner
            .iter()
            .find_map(|l| l.strip_prefix("CA certificate: "))
            .map(|rest| PathBuf::from(rest.split(' ').next().unwrap()));
        ServeProcess { child, addr, ca, lines }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it `signal` (`libc::SIGTERM`, ...).
    pub fn signal(&self, signal: i32) {
        send_signal(self.child.id(), signal);
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits up to `limit` for it to exit; its exit code, or `None` if it
    /// is still running (or died of a signal).
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<i32> {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        None
    }

    /// The lines it printed so far.
    pub fn output(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Asserts it still answers `GET /flags/br/br.gif` with the whole image.
    pub fn assert_serves(&mut self) {
        self.assert_answers("/flags/br/br.gif", &served_image("BR"));
    }

    /// Asserts it still runs and answers `GET path` with 200 and `body`.
    pub fn assert_answers(&mut self, path: &str, body: &[u8]) {
        assert!(self.alive(), "flags serve died: {:?}", self.child.try_wait());
        let answer = http_get(self.addr, path);
        let head = String::from_utf8_lossy(&answer[..answer.len().min(200)]).into_owned();
        assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"), "{path}: {head}");
        assert!(answer.ends_with(body), "{path}: the body came back incomplete");
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Killed, it could not remove its CA file itself.
        if let Some(ca) = &self.ca {
            let _ = std::fs::remove_file(ca);
        }
    }
}

/// One `GET path` over TLS (HTTP/1.1, `Connection: close`) from a server
/// whose certificate `ca` signed; the whole answer, head and body.
pub fn https_get(addr: SocketAddr, path: &str, ca: &Path) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    out
}

/// Sends `signal` to process `pid`.
pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a pid of our own child and a valid signal number.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal}) failed: {}", std::io::Error::last_os_error());
}

/// One `GET path` with `Connection: close`; the whole answer, head and body
/// (empty if nothing came within 5 s).
pub fn http_get(addr: SocketAddr, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5)) else {
        return Vec::new();
    };
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let _ = s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// An answer read off the wire.
pub struct Answer {
    pub status: u16,
    /// The head, status line and fields, as text.
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// `GET path` with `Connection: close`, split into status, head and body.
pub fn fetch(addr: SocketAddr, path: &str) -> Answer {
    let raw = http_get(addr, path);
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut answer = Answer { status, head, body: raw[end + 4..].to_vec() };
    if answer.header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        answer.body = dechunk(&answer.body);
    }
    answer
}

/// The data of a chunked body (an answer made as it is sent, such as a
/// `/timeline` page), as far as it is whole.
fn dechunk(mut chunked: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(eol) = chunked.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&chunked[..eol]);
        let Ok(size) = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16) else { break };
        let data = &chunked[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        body.extend_from_slice(&data[..size]);
        chunked = data[size..].strip_prefix(b"\r\n").unwrap_or(&[]);
    }
    body
}

/// The server's `/stats` at `addr`, as JSON.
pub fn stats(addr: SocketAddr) -> serde_json::Value {
    serde_json::from_slice(&fetch(addr, "/stats").body).expect("stats are JSON")
}

/// Waits until `ready` says so, looking every few milliseconds; panics
/// naming `what` after `limit`, a bound only a broken build reaches.
pub fn wait_until(what: &str, limit: std::time::Duration, mut ready: impl FnMut() -> bool) {
    let t0 = std::time::Instant::now();
    while !ready() {
        assert!(t0.elapsed() < limit, "never happened within {limit:?}: {what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Waits until the server at `addr` has `n` requests in flight.
pub fn wait_in_flight(addr: SocketAddr, n: u64) {
    wait_until(&format!("{n} requests in flight"), std::time::Duration::from_secs(60), || {
        stats(addr)["in_flight"].as_u64() >= Some(n)
    });
}

/// The peak resident set of process `pid` so far, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    flags::os::peak_rss_kib(pid).expect("the process runs")
}

/// Samples process `pid`'s own peak resident set (`VmHWM`, in KiB) until
/// it exits: the largest seen. Not `wait4`'s figure, which starts a child
/// at its parent's mark (the test process, which may hold a lot).
pub fn hwm_until_exit(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while let Some(kib) = flags::os::peak_rss_kib(pid) {
            peak = peak.max(kib);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        peak
    })
}
