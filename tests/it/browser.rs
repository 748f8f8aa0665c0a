//! The gallery in a real browser: headless Chromium loads `/` from the
//! server on port 0; the page's own script counts, in the browser, the
//! images that rendered (`naturalWidth > 0`) and we read the count from the
//! DOM Chromium dumps. A screenshot goes to `target/tmp/gallery.png`.
//!
//! `.ci/run` installs Chromium (Debian's `chromium`) and NSS's `certutil`,
//! through which Chromium trusts the `--tls` server's CA. Without them the
//! tests fail under CI and are skipped, with a notice, elsewhere.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::util::{fetch, ServeProcess};

/// Chromium, or `None` with a notice when it is missing (a failure under CI).
fn chromium() -> Option<PathBuf> {
    let candidates = [std::env::var("CHROMIUM").ok(), Some("chromium".into()), Some("chromium-browser".into())];
    let found =
        candidates.into_iter().flatten().map(PathBuf::from).find(|c| Command::new(c).arg("--version").output().is_ok());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "chromium is not installed; .ci/run installs it");
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Chromium, headless, with `profile` as its profile and its home: the
/// certificates it trusts beyond the system's are in `HOME/.pki/nssdb`
/// ([`trust`]).
fn headless(chromium: &PathBuf, profile: &tempfile::TempDir) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.env("HOME", profile.path());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=20000",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()));
    cmd
}

/// Makes Chromium under `profile` trust the CA in `ca` (PEM), as a user
/// does by importing it: a certificate database in `HOME/.pki/nssdb` made
/// with NSS's `certutil` (Debian's `libnss3-tools`, installed by
/// `.ci/run`). False, with a notice, when certutil is missing outside CI.
fn trust(profile: &tempfile::TempDir, ca: &std::path::Path) -> bool {
    let db = profile.path().join(".pki/nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let db = format!("sql:{}", db.display());
    let Ok(made) = Command::new("certutil").args(["-N", "--empty-password", "-d", &db]).output() else {
        assert!(std::env::var_os("CI").is_none(), "certutil is not installed; .ci/run installs it");
        eprintln!("skipped: certutil is not installed (apt-get install libnss3-tools)");
        return false;
    };
    assert!(made.status.success(), "certutil -N: {}", String::from_utf8_lossy(&made.stderr));
    let added = Command::new("certutil")
        .args(["-A", "-t", "C,,", "-n", "flags test CA", "-d", &db, "-i"])
        .arg(ca)
        .output()
        .unwrap();
    assert!(added.status.success(), "certutil -A: {}", String::from_utf8_lossy(&added.stderr));
    true
}

/// Runs `cmd` for at most 90 s.
fn output_within(mut cmd: Command) -> std::process::Output {
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let id = child.id();
    let guard = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(90));
        // SAFETY: kill(2) on our own child's pid; harmless if it has exited.
        unsafe { libc::kill(id as libc::pid_t, libc::SIGKILL) };
    });
    let out = child.wait_with_output().unwrap();
    drop(guard);
    out
}

#[test]
fn the_gallery_shows_every_flag_in_chromium() {
    let Some(chromium) = chromium() else { return };
    // A delay on the flag API must not hold the page back.
    let srv = ServeProcess::start(&["--delay", "0.05"]);
    let url = format!("http://{}/", srv.addr);
    let page = fetch(srv.addr, "/").body;
    assert!(page.len() < 100 * 1024, "the page weighs {} bytes before images", page.len());

    let profile = tempfile::tempdir().unwrap();
    assert_gallery_renders(&chromium, &profile, &url);

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gallery.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    let mut screenshot = headless(&chromium, &profile);
    screenshot.arg("--window-size=1280,900").arg(format!("--screenshot={}", shot.display())).arg(&url);
    output_within(screenshot);
    let png = std::fs::read(&shot).expect("chromium saved a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
}

#[test]
fn the_gallery_works_over_https_and_http2_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let srv = ServeProcess::start(&["--tls", "--delay", "0.05"]);
    let url = format!("https://localhost:{}/", srv.addr.port());
    // Without the server's CA, Chromium refuses the page ...
    let stranger = tempfile::tempdir().unwrap();
    let mut dump = headless(&chromium, &stranger);
    dump.arg("--dump-dom").arg(&url);
    let dom = String::from_utf8_lossy(&output_within(dump).stdout).into_owned();
    assert!(!dom.contains("flags shown"), "Chromium showed the page without trusting its CA");
    // ... and with it, as a user who imported it, shows every flag.
    let profile = tempfile::tempdir().unwrap();
    if !trust(&profile, srv.ca.as_ref().unwrap()) {
        return;
    }
    assert_gallery_renders(&chromium, &profile, &url);
    let answer = super::util::https_get(srv.addr, "/stats", srv.ca.as_ref().unwrap());
    let body = String::from_utf8_lossy(&answer);
    assert!(!body.contains("\"h2_connections\":0"), "Chromium did not speak HTTP/2: {body}");
}

#[test]
fn the_gallerys_live_strip_follows_a_download() {
    let Some(chromium) = chromium() else { return };
    // Over HTTP/2 the page's 194 images do not queue behind Chromium's six
    // HTTP/1.1 connections. The download starts first and lasts seconds;
    // under Chromium's virtual time the strip's polls run as soon as the
    // page has loaded, while the download is still going.
    let srv = ServeProcess::start(&["--tls", "--delay", "1"]);
    let profile = tempfile::tempdir().unwrap();
    if !trust(&profile, srv.ca.as_ref().unwrap()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let download = Command::new(super::util::FLAGS_EXE)
        .args(["get", "-e", "-m", "100", "--json", "-s", &format!("https://{}/flags", srv.addr), "--cacert"])
        .arg(srv.ca.as_ref().unwrap())
        .arg("-d")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The page loads once the download is under way: its first requests
    // are held at the server.
    super::util::wait_until("the download's first requests in flight", Duration::from_secs(60), || {
        let stats = super::util::https_get(srv.addr, "/stats", srv.ca.as_ref().unwrap());
        let stats = String::from_utf8_lossy(&stats);
        let in_flight = stats.split("\"in_flight\":").nth(1).unwrap_or_default();
        in_flight.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok()).unwrap_or(0) >= 1
    });
    let mut watch = headless(&chromium, &profile);
    watch.arg("--dump-dom").arg(format!("https://localhost:{}/", srv.addr.port()));
    let dom = String::from_utf8_lossy(&output_within(watch).stdout).into_owned();
    let report: serde_json::Value = serde_json::from_slice(&download.wait_with_output().unwrap().stdout).unwrap();
    let body = dom.lines().find(|l| l.contains("<body")).unwrap_or_default().to_string();
    let attr = |name: &str| -> u64 {
        let at = body.find(&format!("data-{name}=\"")).unwrap_or_else(|| panic!("no data-{name}: {body}"));
        body[at + name.len() + 7..].split('"').next().unwrap().parse().unwrap()
    };
    assert!(attr("updates") >= 3, "the strip updated {} times: {body}", attr("updates"));
    // It saw the download's requests in flight (100 at once for seconds)
    // and its 404s come in.
    assert!(attr("most-in-flight") >= 50, "{body}");
    // The live waterfall took the requests the server answered from
    // /timeline: the download's, drawn, and the page's own images, counted
    // apart (their Referer is the page).
    assert!(attr("waterfall-own") >= 100, "{body}");
    let not_found = report["not_found"].as_u64().unwrap();
    assert!((1..=not_found).contains(&attr("not-found")), "{body}");
    // Once it is over, the server's counts agree with the client's (the
    // page asked for no favicon, so every 404 is the download's).
    let stats = super::util::https_get(srv.addr, "/stats", srv.ca.as_ref().unwrap());
    let stats = String::from_utf8_lossy(&stats).into_owned();
    assert!(stats.contains(&format!("\"404\":{not_found}")), "{stats}");
    // 200s: the download's, the page's 194 images, and the page.
    assert!(stats.contains(&format!("\"200\":{}", report["ok"].as_u64().unwrap() + 195)), "{stats}");
}

#[test]
fn the_html_timeline_renders_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let srv = ServeProcess::start(&["--delay", "0.02"]);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("timeline.html");
    let status = Command::new(super::util::FLAGS_EXE)
        .args(["get", "-s", &format!("http://{}/flags", srv.addr), "-d"])
        .arg(dir.path().join("dl"))
        .arg("--timeline")
        .arg(&page)
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let profile = tempfile::tempdir().unwrap();
    let mut dump = headless(&chromium, &profile);
    dump.arg("--dump-dom").arg(format!("file://{}", page.display()));
    let dom = String::from_utf8_lossy(&output_within(dump).stdout).into_owned();
    assert!(dom.contains("20 of 20 rows drawn"), "{}", &dom[dom.len().saturating_sub(600)..]);
}

/// Asserts Chromium, under `profile`, renders all 194 flags of the gallery
/// at `url`.
fn assert_gallery_renders(chromium: &PathBuf, profile: &tempfile::TempDir, url: &str) {
    let mut dump = headless(chromium, profile);
    dump.arg("--dump-dom").arg(url);
    let dom = String::from_utf8_lossy(&output_within(dump).stdout).into_owned();
    assert!(
        dom.contains("194 of 194 flags shown"),
        "the browser did not render every flag: {}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.contains("data-shown=\"194\""));
    assert_eq!(dom.matches("class=\"name\"").count(), 194);
    for name in ["Brazil", "Côte d'Ivoire", "United States of America", "Monaco"] {
        assert!(dom.contains(name), "{name} is missing");
    }
}

#[test]
fn directory_listings_name_the_codes() {
    let srv = ServeProcess::start(&[]);
    let flags = String::from_utf8(fetch(srv.addr, "/flags/").body).unwrap();
    assert_eq!(flags.matches("<li>").count(), 194);
    assert!(flags.contains("<a href=\"br/\">br/</a>"));
    let br = String::from_utf8(fetch(srv.addr, "/flags/br/").body).unwrap();
    assert!(br.contains("br.gif") && br.contains("metadata.json"));
    assert_eq!(fetch(srv.addr, "/flags/zz/").status, 404);
}
