//! HTTPS and HTTP/2 against `flags serve --tls`, both real binaries: every
//! style trusts the server's CA through `--cacert` and saves the same
//! bytes; a wrong CA or host name is a clear error in every style;
//! `--http2` carries a whole run on one connection; faults carry over to
//! HTTP/2; curl, a client we did not write, agrees.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

use super::util::{assert_exactly_saved, https_get, ServeProcess, FLAGS_EXE};

const STYLES: [&str; 4] = ["sequential", "threadpool", "processpool", "async"];

fn get(base: &str, dest: &Path) -> Command {
    let mut cmd = Command::new(FLAGS_EXE);
    cmd.arg("get").arg("-s").arg(base).arg("-d").arg(dest).timeout(Duration::from_secs(60));
    cmd
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn all_codes() -> Vec<&'static str> {
    flags::countries::catalog().iter().map(|c| c.cc.as_str()).collect()
}

/// The server's counters, from its `/stats` (fetched over one more TLS
/// connection, which they count too).
fn stats(srv: &ServeProcess) -> serde_json::Value {
    let answer = https_get(srv.addr, "/stats", srv.ca.as_ref().unwrap());
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("an answer") + 4;
    serde_json::from_slice(&answer[end..]).expect("stats are JSON")
}

#[test]
fn every_style_downloads_all_flags_over_https_with_cacert() {
    let srv = ServeProcess::start(&["--tls"]);
    let ca = srv.ca.clone().expect("the banner names the CA file");
    let base = format!("https://{}/flags", srv.addr);
    let codes = all_codes();
    for style in STYLES {
        let dir = tempfile::tempdir().unwrap();
        let a = get(&base, dir.path()).args(["-a", "--mode", style, "--cacert"]).arg(&ca).assert().success();
        assert!(stdout(&a).contains("194 flags downloaded.\n0 not found.\n0 errors.\n"), "{style}: {}", stdout(&a));
        assert_exactly_saved(dir.path(), &codes);
    }
    for protocol in ["--http1.1", "--http2"] {
        let dir = tempfile::tempdir().unwrap();
        get(&base, dir.path()).args(["-a", protocol, "--cacert"]).arg(&ca).assert().success();
        assert_exactly_saved(dir.path(), &codes);
    }
}

#[test]
fn an_unknown_ca_is_a_clear_error_in_every_style() {
    let srv = ServeProcess::start(&["--tls"]);
    let base = format!("https://{}/flags", srv.addr);
    for style in STYLES {
        let dir = tempfile::tempdir().unwrap();
        let a = get(&base, dir.path()).args(["BR", "-v", "--mode", style]).assert().code(1);
        let out = stdout(&a);
        assert!(
            out.contains(
                "*** Error for BR: connection failed: TLS: the server's certificate is not signed by a trusted \
                 authority (see --cacert)\n"
            ),
            "{style}: {out}"
        );
        assert!(!out.contains('{') && !out.contains("InvalidCertificate"), "{style}: {out}");
        assert!(super::util::files_in(dir.path()).is_empty());
    }
}

/// A CA and a certificate it signed for `name` only, as PEM files in `dir`:
/// (CA, certificate, key).
fn certificate_for(name: &str, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![name.to_string()]).unwrap().signed_by(&key, &issuer).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn a_certificate_for_another_host_is_a_clear_error_in_every_style() {
    let files = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificate_for("flags.invalid", files.path());
    let srv = ServeProcess::start(&["--tls", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert!(srv.ca.is_none(), "no CA file is made for a given certificate");
    let base = format!("https://{}/flags", srv.addr);
    for style in STYLES {
        let dir = tempfile::tempdir().unwrap();
        let a = get(&base, dir.path()).args(["BR", "-v", "--mode", style, "--cacert"]).arg(&ca).assert().code(1);
        let out = stdout(&a);
        assert!(
            out.contains(
                "*** Error for BR: connection failed: TLS: the server's certificate is for another host name\n"
            ),
            "{style}: {out}"
        );
    }
}

#[test]
fn insecure_downloads_anyway_and_says_so() {
    let srv = ServeProcess::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    for style in ["sequential", "async"] {
        let a = get(&format!("https://{}/flags", srv.addr), dir.path()).args(["BR", "-k", "--mode", style]).assert();
        let a = a.success();
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(stderr.contains("warning: --insecure: server certificates are not checked"), "{stderr}");
    }
    assert_exactly_saved(dir.path(), &["BR"]);
}

#[test]
fn a_bad_cacert_or_http2_with_a_blocking_style_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let a = get("https://127.0.0.1:9/flags", dir.path()).args(["BR", "--cacert"]).arg(&not_pem).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("invalid value") && err.contains("holds no PEM certificate"), "{err}");
    let a = get("https://127.0.0.1:9/flags", dir.path()).args(["BR", "--http2", "--mode", "threadpool"]).assert();
    let err = String::from_utf8_lossy(&a.code(2).get_output().stderr).into_owned();
    assert!(err.contains("--http2 cannot be used here: the threadpool style speaks HTTP/1.1 only"), "{err}");
}

#[test]
fn http2_carries_a_whole_run_on_as_few_connections_as_the_servers_stream_limit_allows() {
    let srv = ServeProcess::start(&["--tls"]);
    let ca = srv.ca.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("https://{}/flags", srv.addr);
    get(&base, dir.path()).args(["-a", "-m", "100", "--http2", "--cacert"]).arg(&ca).assert().success();
    assert_exactly_saved(dir.path(), &all_codes());
    let counted = stats(&srv);
    // The server takes 32 streams at once on a connection: -m 100 needs at
    // most 4 (fewer when streams end before the next ones start). The one
    // that asked for the stats counts nothing.
    let conns = counted["connections"].as_u64().unwrap();
    assert!((1..=4).contains(&conns), "{counted}");
    assert_eq!(counted["h2_connections"], conns, "{counted}");
    assert_eq!(counted["tls_handshakes"], conns, "{counted}");
    assert_eq!(counted["by_status"]["200"], 194, "{counted}");

    // By default async speaks HTTP/2 over https too; HTTP/1.1 when told.
    let before = counted["h2_connections"].as_u64().unwrap();
    get(&base, dir.path()).args(["BR", "FR", "--cacert"]).arg(&ca).assert().success();
    assert_eq!(stats(&srv)["h2_connections"].as_u64().unwrap(), before + 1);
    get(&base, dir.path()).args(["BR", "FR", "--http1.1", "--cacert"]).arg(&ca).assert().success();
    assert_eq!(stats(&srv)["h2_connections"].as_u64().unwrap(), before + 1);
}

#[test]
fn http2_with_prior_knowledge_on_plain_http() {
    let srv = ServeProcess::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    get(&format!("http://{}/flags", srv.addr), dir.path()).args(["-a", "--http2"]).assert().success();
    assert_exactly_saved(dir.path(), &all_codes());
    let stats: serde_json::Value = serde_json::from_slice(&super::util::fetch(srv.addr, "/stats").body).unwrap();
    // -m 100 (async's default) on a server that takes 32 streams at once.
    let conns = stats["connections"].as_u64().unwrap();
    assert!((1..=4).contains(&conns), "{stats}");
    assert_eq!(stats["h2_connections"], conns, "{stats}");
}

#[test]
fn faults_carry_over_to_http2() {
    let cases = [
        ("reset", "stream reset by the server"),
        ("truncate", "body is "),
        ("418", "HTTP 418 - I'm a Teapot"),
        ("503", "HTTP 503 - Service Unavailable"),
    ];
    for (fault, says) in cases {
        let srv = ServeProcess::start(&["--tls", "--fault", fault]);
        let dir = tempfile::tempdir().unwrap();
        let a = get(&format!("https://{}/flags", srv.addr), dir.path())
            .args(["BR", "FR", "-v", "--http2", "--cacert"])
            .arg(srv.ca.as_ref().unwrap())
            .assert()
            .code(1);
        let out = stdout(&a);
        assert!(out.contains(&format!("*** Error for BR: {says}")), "{fault}: {out}");
        assert!(out.contains("2 errors."), "{fault}: {out}");
        assert!(super::util::files_in(dir.path()).is_empty(), "{fault}");
    }
    // A stalled stream times out alone; the slow close costs nothing.
    let srv = ServeProcess::start(&["--tls", "--fault", "stall"]);
    let dir = tempfile::tempdir().unwrap();
    let a = get(&format!("https://{}/flags", srv.addr), dir.path())
        .args(["BR", "-v", "--http2", "--timeout", "1", "--cacert"])
        .arg(srv.ca.as_ref().unwrap())
        .assert()
        .code(1);
    assert!(stdout(&a).contains("*** Error for BR: timed out waiting for an answer"), "{}", stdout(&a));
    // The server holds each connection a minute after its answer; the
    // client must not wait for it to close.
    let srv = ServeProcess::start(&["--tls", "--fault", "slow-close", "--slow-close", "60"]);
    let started = std::time::Instant::now();
    get(&format!("https://{}/flags", srv.addr), dir.path())
        .args(["BR", "--http2", "--cacert"])
        .arg(srv.ca.as_ref().unwrap())
        .assert()
        .success();
    assert!(started.elapsed() < Duration::from_secs(30), "waited for the slow close: {:?}", started.elapsed());
}

#[test]
fn curl_downloads_over_http2_with_the_servers_ca() {
    if std::process::Command::new("curl").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "curl is not installed; .ci/run installs it");
        eprintln!("skipped: curl is not installed");
        return;
    }
    let srv = ServeProcess::start(&["--tls"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("br.gif");
    let a = std::process::Command::new("curl")
        .args(["-sS", "--http2", "--max-time", "10", "-w", "%{http_version}", "--cacert"])
        .arg(srv.ca.as_ref().unwrap())
        .arg("-o")
        .arg(&out)
        .arg(format!("https://localhost:{}/flags/br/br.gif", srv.addr.port()))
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(String::from_utf8_lossy(&a.stdout), "2", "curl spoke HTTP/2");
    assert_exactly_saved(dir.path(), &["BR"]);
}

#[test]
fn the_made_ca_file_goes_with_the_server() {
    let mut srv = ServeProcess::start(&["--tls"]);
    let ca = srv.ca.clone().unwrap();
    assert!(std::fs::read_to_string(&ca).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    srv.signal(libc::SIGTERM);
    assert_eq!(srv.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(!ca.exists(), "{} is left behind", ca.display());
}

#[test]
fn over_http2_max_req_counts_the_streams_of_the_one_connection() {
    let srv = ServeProcess::start(&["--delay", "0.1"]);
    let dir = tempfile::tempdir().unwrap();
    get(&format!("http://{}/flags", srv.addr), dir.path())
        .args(["-a", "-l", "30", "-m", "5", "--http2"])
        .assert()
        .success();
    let stats: serde_json::Value = serde_json::from_slice(&super::util::fetch(srv.addr, "/stats").body).unwrap();
    assert_eq!(stats["h2_connections"], 1, "{stats}");
    assert_eq!(stats["peak_in_flight"], 5, "{stats}");
    assert_eq!(stats["by_status"]["200"], 30, "{stats}");
}
