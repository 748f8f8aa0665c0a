//! The `flags` binary, run for real.

use assert_cmd::Command;

fn flags() -> Command {
    Command::cargo_bin("flags").unwrap()
}

#[test]
fn demo_prints_a_seed_run_per_style_and_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = flags().current_dir(dir.path()).args(["demo", "--delay", "0.02"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text.matches("20 flags downloaded in ").count(), 4, "{text}");
    assert!(text.contains("BD BR CD CN DE EG ET FR ID IN IR JP MX NG PH PK RU TR US VN \n"), "{text}");
    for style in ["sequential", "threadpool", "async", "processpool"] {
        assert!(text.lines().any(|l| l.starts_with(style) && l.ends_with('x')), "{style}: {text}");
    }
    assert!(text.contains("flags serve --dir"));
    assert_eq!(super::util::files_in(&dir.path().join("downloads")).len(), 20);
}

#[test]
fn serve_rejects_bad_arguments_with_exit_2() {
    for args in [
        &["serve", "--error-rate", "1.5"][..],
        &["serve", "--delay", "-1"],
        &["serve", "--port", "70000"],
        &["serve", "--label", "NOWHERE"],
        &["serve", "--dir", "/no/such/dir"],
        &["serve", "--fault", "explode"],
        &["serve", "--fault", "reset:0.7,stall:0.7"],
    ] {
        let out = flags().args(args).assert().code(2);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn serve_reports_a_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = flags().args(["serve", "--port", &port]).timeout(std::time::Duration::from_secs(10)).assert().code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains(&port), "{err}");
}
