//! The `flags` binary, run for real.

use assert_cmd::Command;

fn flags() -> Command {
    Command::cargo_bin("flags").unwrap()
}

#[test]
fn demo_prints_a_seed_run_per_style_and_the_table() {
    let dir = tempfile::tempdir().unwrap();
    // A delay long beside the time it takes to start 20 requests, so that
    // the overlap shows however loaded the machine is.
    let out = flags().current_dir(dir.path()).args(["demo", "--delay", "0.3"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // Four styles in part one, five runs in part two.
    assert_eq!(text.matches("20 flags downloaded in ").count(), 9, "{text}");
    assert!(text.contains("BD BR CD CN DE EG ET FR ID IN IR JP MX NG PH PK RU TR US VN \n"), "{text}");
    // Our commands, with the book's script each stands for; no Python runs.
    assert!(text.contains("\n$ flags get --mode sequential    # the book's flags.py\n"), "{text}");
    assert!(text.contains("\n$ flags get --mode async -m 20    # the book's flags_asyncio.py\n"), "{text}");
    assert!(text.contains("\n$ flags get --mode processpool -m 20    # concurrent.futures.ProcessPoolExecutor\n"));
    assert!(!text.contains("python3"), "{text}");
    for style in ["sequential", "threadpool", "async", "processpool"] {
        assert!(text.lines().any(|l| l.starts_with(style) && l.ends_with('x')), "{style}: {text}");
    }
    assert!(text.contains("flags serve --dir"));
    assert_eq!(super::util::files_in(&dir.path().join("downloads")).len(), 20);
    // The picture: a staircase for sequential, overlap for the rest, in 80 columns.
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("sequential (")).expect("the sequential waterfall");
    let rows = &lines[at + 1..at + 21];
    assert!(rows.iter().all(|l| l.chars().count() <= 80 && l.contains('│')), "{rows:#?}");
    let starts: Vec<usize> = rows.iter().map(|l| l.chars().position(|c| c == '█').unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[1] >= w[0]) && starts[19] > starts[0] + 40, "no staircase: {rows:#?}");
    let at = lines.iter().position(|l| l.starts_with("async (")).expect("the async waterfall");
    let starts: Vec<usize> = lines[at + 1..at + 21].iter().map(|l| l.chars().position(|c| c == '█').unwrap()).collect();
    assert!(starts.iter().all(|s| *s < 10), "async did not overlap: {:#?}", &lines[at + 1..at + 21]);
    assert!(text.contains("with every time on hover: ./demo-timeline.html"), "{text}");
    let page = std::fs::read_to_string(dir.path().join("demo-timeline.html")).unwrap();
    // Each run twice: on the shared time axis, and on its own (the toggle).
    assert_eq!(page.matches("<svg").count(), 18);
    assert_eq!(page.matches("<g class=\"row\"").count(), 360);
    assert!(page.contains("each style on its own time scale") && page.contains("x sequential's speed"));
    assert!(page.contains("releases the GIL") && page.contains("sit idle while all"));
    // On the shared axis every style's last tick is sequential's.
    let shared: Vec<&str> =
        page.split("<div class=\"shared\">").skip(1).map(|p| p.split("</div>").next().unwrap()).collect();
    let last_tick =
        |svg: &str| svg.rsplit("text-anchor=\"middle\">").next().unwrap().split('<').next().unwrap().to_string();
    assert_eq!(shared.len(), 9);
    assert!(shared[..4].iter().all(|svg| last_tick(svg) == last_tick(shared[0])), "one axis for part one");
    assert!(shared[4..].iter().all(|svg| last_tick(svg) == last_tick(shared[4])), "one axis for part two");
    // Part two: the CPU-bound runs, their table, and the answers.
    assert!(text.contains("\n$ flags get --mode threadpool -m 20 --work 50ms --gil    # "), "{text}");
    assert!(text.contains("\n$ flags get --mode async -m 20 --work 50ms --gil --offload    # "), "{text}");
    // Each part whole: part one's runs, its table and pictures, then part
    // two's runs, its table and pictures.
    let part_two = text.find("\nPart two, the chapter's closing questions").expect("part two's start");
    let first_table = text.find("\nstyle ").expect("a table");
    let first_pictures = text.find("\nsequential (").expect("part one's pictures");
    assert!(first_table < part_two && first_pictures < part_two, "part one's table after part two's runs: {text}");
    assert!(text[part_two..].find("Part two, --work 50ms --gil:\n") > text[part_two..].find("--offload    # "));
    let table = text.split("Part two, --work 50ms --gil:\n").nth(1).expect("part two's table");
    for style in ["sequential", "threadpool", "async ", "async --offload", "processpool"] {
        assert!(table.lines().take(6).any(|l| l.starts_with(style) && l.ends_with('x')), "{style}: {table}");
    }
    assert!(text.contains("The chapter's two questions, answered by these runs."), "{text}");
    assert!(page.contains("waiting for the GIL") && page.contains("part two, --work 50ms --gil: threadpool"));
    // The GIL's threads computed in turn, and the processes side by side.
    let at = lines.iter().rposition(|l| l.starts_with("threadpool (")).unwrap();
    assert!(lines[at + 1..at + 21].iter().all(|l| l.contains('·') && l.contains('▓')), "{:#?}", &lines[at..at + 21]);
}

#[test]
fn each_demo_header_is_a_command_that_does_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let out = flags().current_dir(dir.path()).args(["demo", "--delay", "0.05"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("against `flags serve --delay 0.05`"), "{text}");
    let server = super::util::ServeProcess::start(&["--delay", "0.05"]);
    // Part two's runs are against a server with no delay.
    assert!(text.contains("(each $ line is the flags get that does the same against `flags serve`)"), "{text}");
    let no_delay = super::util::ServeProcess::start(&[]);
    let headers: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("$ flags ")).collect();
    assert_eq!(headers.len(), 9, "{text}");
    for header in headers {
        let args: Vec<&str> = header.split('#').next().unwrap().split_whitespace().collect();
        let at = if args.contains(&"--work") { no_delay.addr } else { server.addr };
        let got = flags()
            .args(&args)
            .args(["-s", &format!("http://{at}/flags"), "-d"])
            .arg(dir.path().join("again"))
            .assert()
            .success();
        let got = String::from_utf8(got.get_output().stdout.clone()).unwrap();
        // The same 20 flags, as many at once as the demo's run had.
        let m = args.iter().position(|a| *a == "-m").map_or("1", |i| args[i + 1]);
        let at_once = match m {
            "1" => "1 concurrent connection will".to_string(),
            m => format!("{m} concurrent connections"),
        };
        assert!(got.contains("20 flags downloaded") && got.contains(&at_once), "{header}: {got}");
        assert_eq!(got.contains("Work: 50 ms of CPU per flag"), args.contains(&"--work"), "{header}: {got}");
    }
}

#[test]
fn serve_rejects_bad_arguments_with_exit_2() {
    for (args, named) in [
        (&["serve", "--error-rate", "1.5"][..], "--error-rate"),
        (&["serve", "--delay", "-1"], "--delay"),
        (&["serve", "--port", "70000"], "--port"),
        (&["serve", "--label", "NOWHERE"], "--label"),
        (&["serve", "--dir", "/no/such/dir"], "--dir"),
        (&["serve", "--fault", "explode"], "--fault"),
        (&["serve", "--fault", "reset:0.7,stall:0.7"], "--fault"),
        (&["serve", "--fault", ""], "--fault"),
        (&["serve", "--threads", "0"], "--threads"),
    ] {
        let out = flags().args(args).assert().code(2);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(err.contains(named) && err.contains("Usage: flags serve"), "{args:?}: {err}");
    }
    // The label a server can play: not REMOTE, not a URL.
    let out = flags().args(["serve", "--label", "foo"]).assert().code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("[possible values: LOCAL, DELAY, ERROR]") && !err.contains("REMOTE"), "{err}");
}

#[test]
fn usage_messages_say_what_is_wanted() {
    for (args, says) in [
        (&["get", "-m", "-1"][..], "must be a positive number, from 1 to 1000"),
        (&["get", "-m", "0"], "must be from 1 to 1000"),
        (&["demo", "--dest", "Cargo.toml"], "--dest"),
    ] {
        let out = flags().args(args).assert().code(2);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(err.contains(says) && err.contains("Usage:"), "{args:?}: {err}");
    }
    let help = flags().args(["--help"]).assert().success();
    let help = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    assert!(help.contains("`flags` alone runs the demo") && help.contains("LOCAL (port"), "{help}");
    let help = flags().args(["get", "--help"]).assert().success();
    let help = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    assert!(help.contains("processpool") && help.contains("DELAY (8001)"), "{help}");
}

#[test]
fn completions_and_a_manual_page() {
    let out = flags().args(["completions", "bash"]).assert().success();
    let script = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(script.contains("_flags()") && script.contains("complete"), "{script}");
    let out = flags().args(["man"]).assert().success();
    let page = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(page.contains(".TH flags 1") && page.contains(".SH SUBCOMMANDS"), "{}", &page[..page.len().min(400)]);
}

/// A quick `flags bench` of `workloads` and `styles` that writes into a
/// scratch folder: the folder, what it printed, and its JSON report.
fn quick_bench(workloads: &str, styles: &str) -> (tempfile::TempDir, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = flags()
        .args(["bench", "--quick", "--workloads", workloads, "--styles", styles, "--out"])
        .arg(dir.path())
        .arg("--markdown")
        .arg(dir.path().join("BENCHMARKS.md"))
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let report = serde_json::from_slice(&std::fs::read(dir.path().join("bench.json")).unwrap()).unwrap();
    (dir, text, report)
}

#[test]
fn bench_writes_json_and_svg() {
    let (dir, text, report) = quick_bench("W2,sweep-latency", "sequential,async");
    let md = dir.path().join("BENCHMARKS.md");
    assert!(text.contains("W2") && text.contains("flags async"), "{text}");
    let points = report["points"].as_array().unwrap();
    // W2 for two styles, sweep-latency at three latencies for two styles.
    assert_eq!(points.len(), 2 + 3 * 2);
    let w2_async = points.iter().find(|p| p["workload"] == "W2" && p["tool"] == "flags async").unwrap();
    assert_eq!(w2_async["saved"], 194);
    assert!(w2_async["peak_rss_kib"].as_u64().unwrap() > 0);
    assert!(w2_async["speedup_vs_sequential"].as_f64().is_some());
    let slow = points
        .iter()
        .find(|p| p["workload"] == "sweep-latency" && p["latency_s"] == 0.1 && p["tool"] == "flags async")
        .unwrap();
    assert!(slow["median_s"].as_f64().unwrap() >= 0.1);
    assert!((slow["ideal_s"].as_f64().unwrap() - 0.1).abs() < 1e-9);
    let svg = std::fs::read_to_string(dir.path().join("bench.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("peak RSS") && svg.contains("W1-W6: median wall time"));
    assert!(std::fs::read_to_string(&md).unwrap().contains("## Method"));
}

#[test]
fn bench_w6_measures_the_gil_model_beside_python() {
    let (dir, text, report) = quick_bench("W6", "threadpool,processpool");
    let points = report["points"].as_array().unwrap();
    let tools: Vec<&str> = points.iter().map(|p| p["tool"].as_str().unwrap()).collect();
    assert_eq!(
        tools,
        [
            "flags threadpool",
            "flags threadpool --gil",
            "flags processpool",
            "flags processpool --gil",
            "python3 sequential",
            "python3 threads",
            "python3 processes"
        ]
    );
    let cores = std::thread::available_parallelism().unwrap().get();
    for p in points {
        assert_eq!(p["saved"], 20, "{p}");
        assert_eq!(p["work_ms"], 50.0, "{p}");
        let m = p["concurrency"].as_u64().unwrap() as usize;
        // Twenty flags of 50 ms of CPU over the cores that can compute at once.
        let ideal = 20.0 * 0.05 / m.min(cores) as f64;
        assert!((p["ideal_s"].as_f64().unwrap() - ideal).abs() < 1e-9, "{p}");
        assert!(p["median_s"].as_f64().unwrap() >= 20.0 * 0.05 / cores as f64, "faster than the CPU allows: {p}");
    }
    let processes = points.iter().filter(|p| p["tool"].as_str().unwrap().contains("process"));
    assert!(processes.clone().all(|p| p["concurrency"].as_u64() == Some(cores.min(20) as u64)));
    // The process pool's workers, as its runs reported them: a worker per
    // core, started and ready in a measured time; no other tool has any.
    for p in points {
        match p["tool"].as_str().unwrap().starts_with("flags processpool") {
            true => {
                let w = &p["workers"];
                let n = cores.min(20) as u64;
                assert_eq!((w["started"].as_u64(), w["peak_live"].as_u64()), (Some(n), Some(n)), "{p}");
                let (median, slowest) =
                    (w["start_up_median_ms"].as_f64().unwrap(), w["start_up_max_ms"].as_f64().unwrap());
                assert!(median > 0.0 && median <= slowest && slowest < 20_000.0, "{p}");
            }
            false => assert!(p.get("workers").is_none(), "{p}"),
        }
    }
    assert!(
        text.contains(&format!("workers {} started, {} at once, start-up ", cores.min(20), cores.min(20))),
        "{text}"
    );
    // Python timed itself, after its interpreter started.
    for p in points.iter().filter(|p| p["tool"].as_str().unwrap().starts_with("python3")) {
        let own = p["self_timed_s"].as_f64().unwrap_or_else(|| panic!("{p}"));
        assert!(own <= p["median_s"].as_f64().unwrap() && own >= 0.5, "{p}");
    }
    assert!(text.contains("self-timed"), "{text}");
    let md = std::fs::read_to_string(dir.path().join("BENCHMARKS.md")).unwrap();
    assert!(md.contains("### CPU-bound work and the GIL (W6)") && md.contains("| flags threadpool --gil | "), "{md}");
    assert!(md.contains("### The process pool's workers") && md.contains("| W6 | flags processpool | "), "{md}");
}

#[test]
fn bench_w5_compares_http1_connections_with_http2_streams_over_tls() {
    let (dir, _, report) = quick_bench("W5", "async,threadpool");
    let md = dir.path().join("BENCHMARKS.md");
    let points = report["points"].as_array().unwrap();
    let tools: Vec<&str> = points.iter().map(|p| p["tool"].as_str().unwrap()).collect();
    // Over TLS only the async style runs, once per protocol.
    assert_eq!(tools, ["flags async h1", "flags async h2"]);
    for p in points {
        assert_eq!(p["saved"], 194, "{p}");
        assert!(p["tls_handshakes"].as_u64().unwrap() <= p["connections"].as_u64().unwrap(), "{p}");
        assert!(p["tls_handshake_ms"].as_f64().unwrap() > 0.0, "{p}");
    }
    // (A connect abandoned on a loaded machine may add one or two.)
    assert!((100..110).contains(&points[0]["connections"].as_u64().unwrap()), "{}", points[0]);
    // HTTP/2: as many connections as -m 100 needs at 32 streams each.
    let h2 = points[1]["connections"].as_u64().unwrap();
    assert!((1..=4).contains(&h2), "{}", points[1]);
    assert_eq!(points[1]["tls_handshakes"], h2);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("### TLS handshake cost (W5)") && text.contains(&format!("| flags async h2 | {h2} x ")),
        "{text}"
    );
}

#[test]
fn bench_rejects_unknown_workloads() {
    let a = flags().args(["bench", "--workloads", "W9"]).assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--workloads"));
}

#[test]
fn bench_fails_fast_on_what_would_fail_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let free_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nobody = format!("http://127.0.0.1:{free_port}/flags");
    let srv = super::util::ServeProcess::start(&[]);
    let somebody = format!("http://{}/flags", srv.addr);
    let missing_dir = dir.path().join("no/such/dir/BENCHMARKS.md");
    for (args, named) in [
        (vec!["--server", "http://"], "--server"),
        (vec!["--server", "http://[::1"], "--server"),
        (vec!["--server", nobody.as_str()], "--server"),
        (vec!["--server", somebody.as_str(), "--workloads", "W1"], "--workloads"),
        (vec!["--out", file.to_str().unwrap()], "--out"),
        (vec!["--markdown", missing_dir.to_str().unwrap()], "--markdown"),
        (vec!["--markdown", dir.path().to_str().unwrap()], "--markdown"),
    ] {
        let t0 = std::time::Instant::now();
        let a = flags().arg("bench").args(&args).timeout(std::time::Duration::from_secs(20)).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(t0.elapsed() < std::time::Duration::from_secs(10), "{args:?} took {:?}", t0.elapsed());
    }
}

#[test]
fn an_example_without_a_server_says_how_to_start_one() {
    // A plain `cargo test` builds the examples next to the test binaries;
    // `cargo test --test tests` does not, so then they are built here.
    let profile_dir = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
    let examples = profile_dir.join("examples");
    if !examples.join("flags_asyncio").exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev".to_string(),
            Some(name) => name.to_string(),
            None => "dev".to_string(),
        };
        let built = std::process::Command::new(cargo)
            .args(["build", "--quiet", "--examples", "--profile", &profile])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "building the examples failed");
    }
    let free_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    for example in ["flags", "flags_threadpool", "flags_threadpool_ac", "flags_asyncio"] {
        let out = std::process::Command::new(examples.join(example))
            .env("FLAGS_BASE_URL", format!("http://127.0.0.1:{free_port}/flags"))
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{example}: {e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{example}: {err}");
        assert!(err.contains("connection failed") && err.contains("flags serve --delay 0.35"), "{example}: {err}");
        assert!(!err.contains("panicked"), "{example}: {err}");
    }
}

/// Errors read once, as a user sees them: each cause is printed one time,
/// after what it is the cause of.
#[test]
fn errors_print_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    // A certificate and a key that do not belong together.
    let one = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, one.cert.pem()).unwrap();
    std::fs::write(&key, other.signing_key.serialize_pem()).unwrap();
    let a = flags()
        .args(["serve", "--port", "0", "--tls", "--cert"])
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let (what, cause) = err.trim().split_once(": ").unwrap().1.split_once(": ").expect("a cause after the error");
    assert_eq!(what, "the certificate and key do not make a TLS configuration", "{err}");
    assert_eq!(err.matches(cause).count(), 1, "the cause is printed once: {err}");
    // A failed download's reason, in the report and its JSON.
    let free_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let a = flags()
        .args(["get", "BR", "-v", "-s", &format!("http://127.0.0.1:{free_port}/flags"), "-d"])
        .arg(dir.path())
        .assert()
        .code(1);
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(out.contains("*** Error for BR: connection failed: connection refused\n"), "{out}");
    assert_eq!(out.matches("refused").count(), 1, "{out}");
}

#[test]
fn the_demo_runs_a_peer_beside_the_styles_and_says_when_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = flags()
        .current_dir(dir.path())
        .args(["demo", "--no-work", "--delay", "0.05", "--peer"])
        .arg("pair=printf '%s\\n' {cc} | xargs -P 2 -I@ curl -sf -o @.gif {base}/@/@.gif; echo fetched")
        .args(["--peer", "broken=exit 3"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("# --peer pair\nfetched\n20 flags downloaded in "), "{text}");
    assert!(text.contains("(pair; the server saw 20 requests, at most 2 at once, on 20 connections)"), "{text}");
    assert!(text.contains("broken failed: it exited 3, having saved 0 of 20 flags"), "{text}");
    let row = text.lines().rfind(|l| l.starts_with("broken ")).unwrap();
    assert!(row.ends_with("failed"), "{row}");
    // The peer's waterfall comes from the server's record: a row per request.
    let at = text.lines().position(|l| l.starts_with("pair (")).expect("the peer's waterfall");
    assert_eq!(text.lines().skip(at + 1).take_while(|l| l.contains('│')).count(), 21, "{text}");
    let page = std::fs::read_to_string(dir.path().join("demo-timeline.html")).unwrap();
    assert!(page.contains("pair: the server saw 20 requests"), "the page says what the server saw");
}

#[test]
fn every_style_and_peer_of_a_demo_meets_the_same_delay_per_flag() {
    // A long tail of delays: which flags are slow is luck, unless every
    // leg meets the same draws. The sequential style and the same command
    // run as a peer then wait the same sum of delays.
    let dir = tempfile::tempdir().unwrap();
    let seq = format!("seq={} get --mode sequential -s {{base}} -d {{dir}} {{cc}}", super::util::flags_exe());
    let out = flags()
        .current_dir(dir.path())
        .args(["demo", "--no-work", "--delay", "lognormal:0.1,1", "--seed", "5", "--peer", &seq])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let mean = |name: &str| -> f64 {
        let row = text.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("{text}"));
        row.split_whitespace().nth(2).unwrap().trim_end_matches('s').parse().unwrap()
    };
    let (style, peer) = (mean("sequential"), mean("seq"));
    assert!((style - peer).abs() <= 0.05 * style, "sequential {style} s, the same as a peer {peer} s: {text}");
}

#[test]
fn bench_takes_a_delay_that_every_tool_meets_the_same_per_flag() {
    // `--delay lognormal` in place of W1's fixed 0.35 s: no bound is known,
    // and the sequential style and the same command run as a peer meet the
    // same draws, so they wait the same sum of delays.
    let dir = tempfile::tempdir().unwrap();
    let seq = format!("seq={} get --mode sequential -s {{base}} -d {{dir}} {{cc}}", super::util::flags_exe());
    let out = flags()
        .args(["bench", "--quick", "--workloads", "W1", "--styles", "sequential", "--delay", "lognormal:0.2,1"])
        .args(["--peer", &seq, "--out"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("delay lognormal:0.2,1 in place of each fixed latency"), "{text}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bench.json")).unwrap()).unwrap();
    let point = |tool: &str| {
        report["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["tool"] == tool)
            .unwrap_or_else(|| panic!("{text}"))
            .clone()
    };
    let (style, peer) = (point("flags sequential"), point("seq"));
    for p in [&style, &peer] {
        assert_eq!(p["delay"], "lognormal:0.2,1");
        assert_eq!((p["latency_s"].as_f64(), p["ideal_s"].as_f64()), (Some(0.2), Some(0.0)));
        assert!(p["ratio_to_ideal"].is_null(), "{p}");
    }
    let row = text.lines().find(|l| l.contains("flags sequential")).unwrap();
    assert_eq!(row.split_whitespace().nth(6), Some("-"), "no ideal under a random delay: {row}");
    let (a, b) = (style["median_s"].as_f64().unwrap(), peer["median_s"].as_f64().unwrap());
    assert!((a - b).abs() <= 0.05 * a, "sequential {a} s, the same as a peer {b} s: {text}");
}
