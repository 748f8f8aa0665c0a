//! `flags book`: the book's scripts from a reader's checkout, run by the
//! real binary against its embedded server, beside the styles. The
//! scripts are stand-ins written here in each edition's shape
//! (tests/book/): the book's own code never enters the repository. They
//! need Python 3 and its standard library only.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::util::{flags_exe, send_signal, wait_until};

/// The stand-ins, copied into `into` (so that a test can change one, and
/// see that the reader's files are left as they were).
fn checkout(edition: &str, into: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/book").join(edition);
    let to = into.join(edition);
    for entry in walk(&from) {
        let target = to.join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    to
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        match entry.file_type().unwrap().is_dir() {
            true => files.extend(walk(&entry.path())),
            false => files.push(entry.path()),
        }
    }
    files.sort();
    files
}

/// Changes the first `from` in the second edition's stand-in `file` under
/// `chapter` to `to` (an empty `from`: `to` goes first).
fn edit(chapter: &Path, file: &str, from: &str, to: &str) {
    let script = chapter.join("20-executors/getflags").join(file);
    let text = std::fs::read_to_string(&script).unwrap();
    let changed = if from.is_empty() { format!("{to}{text}") } else { text.replacen(from, to, 1) };
    assert_ne!(changed, text, "{file} holds no {from:?}");
    std::fs::write(&script, changed).unwrap();
}

/// Every file under `dir` and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walk(dir).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

/// Runs `flags book ARGS` in `cwd` with TMPDIR `tmp`; its exit code,
/// stdout and stderr. A run that has not ended in 3 minutes fails.
fn book(cwd: &Path, tmp: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(flags_exe())
        .arg("book")
        .args(args)
        .current_dir(cwd)
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            pipe.read_to_string(&mut s).unwrap();
            s
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let mut status = None;
    wait_until("flags book ends", Duration::from_secs(180), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    (status.unwrap().code(), stdout.join().unwrap(), stderr.join().unwrap())
}

/// The table's row of `script`: its two times, and the style beside it.
fn row<'a>(stdout: &'a str, script: &str) -> (&'a str, &'a str, &'a str) {
    let table = stdout.rsplit("\nscript ").next().unwrap();
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("{script} ")))
        .unwrap_or_else(|| panic!("no row {script}: {stdout}"));
    let mut words = line.split_whitespace();
    let (_, python, flags) = (words.next(), words.next().unwrap(), words.next().unwrap());
    (python, flags, line.split_once("flags get").map_or("", |(_, s)| s))
}

fn secs(time: &str) -> f64 {
    time.strip_suffix('s').and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("not a time: {time}"))
}

#[test]
fn the_second_editions_scripts_run_beside_their_styles_and_the_readers_files_stay_as_they_were() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let before = snapshot(&chapter);
    let page = tmp.path().join("book.html");
    let (code, out, err) = book(
        tmp.path(),
        tmp.path(),
        &[chapter.to_str().unwrap(), "--delay", "0.05", "--timeline", page.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("the scripts of Fluent Python, second edition, chapter 20"), "{out}");
    // What the copy changed is shown: flags.py's BASE_URL (which
    // flags_asyncio.py imports) and each of flags2_common's SERVERS.
    assert!(
        out.contains("flags.py:13") && out.contains("BASE_URL = 'https://www.fluentpython.com/data/flags'"),
        "{out}"
    );
    assert_eq!(out.matches("flags2_common.py:").count(), 4, "{out}");
    assert_eq!(snapshot(&chapter), before, "the reader's files were changed");
    // Each script and its style took about as long, from the same draws.
    for (script, style) in [
        ("flags.py", " --mode sequential"),
        ("flags_threadpool.py", " --mode threadpool -m "),
        ("flags_threadpool_futures.py", " --mode threadpool -m 3, 5 flags"),
        ("flags_asyncio.py", " --mode async -m 20"),
        ("flags2_threadpool.py", " --mode threadpool -m 20"),
    ] {
        let (python, flags, beside) = row(&out, script);
        assert!(beside.starts_with(style), "{script} beside {beside}");
        assert!(secs(python) >= 0.05 && secs(flags) >= 0.05, "{script}: {python} {flags}");
    }
    assert!(secs(row(&out, "flags.py").0) >= 1.0, "20 delays end to end: {out}");
    // The style beside ThreadPoolExecutor() has as many workers as the
    // server saw the script use at once.
    let m = row(&out, "flags_threadpool.py").2.rsplit(' ').next().unwrap();
    let seen = out.lines().find(|l| l.starts_with("[flags_threadpool.py: ")).unwrap();
    assert!(seen.contains(&format!("at most {m} at once")), "-m {m} beside {seen}");
    // The futures' states, as the script printed them.
    assert!(
        out.contains("Scheduled for BR: <Future at") && out.contains("state=finished returned str> result: 'BR'"),
        "{out}"
    );
    // The waterfalls, a pair per script, from the server's record.
    let html = std::fs::read_to_string(&page).unwrap();
    for name in ["python3 flags.py", "python3 flags_asyncio.py", "flags get --mode async -m 20", "held (the delay)"] {
        assert!(html.contains(name), "{name} not in the page");
    }
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!leftovers.iter().any(|n| n.to_string_lossy().starts_with("flags-book")), "{leftovers:?}");
}

#[test]
fn the_first_editions_scripts_get_the_folder_they_do_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code", tmp.path());
    let (code, out, err) = book(tmp.path(), tmp.path(), &[chapter.to_str().unwrap(), "--delay", "0.02"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("first edition, chapter 17") && out.contains("downloads/ "), "{out}");
    assert!(out.contains("BASE_URL = 'http://flupy.org/data/flags'"), "{out}");
    assert!(out.contains("Scheduled for CN: <Future") && out.contains("result: 'US'"), "{out}");
    assert!(out.contains("5 flags downloaded in") && out.contains("20 flags downloaded in"), "{out}");
    row(&out, "flags_threadpool_ac.py");
    assert!(tmp.path().join("book-timeline.html").is_file());
    assert!(!chapter.join("17-futures/countries/downloads").exists());
}

#[test]
fn a_flags2_command_line_reaches_the_script_and_its_style() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let args =
        [chapter.to_str().unwrap(), "flags2_threadpool.py", "--delay", "0.02", "--", "b", "-m", "3", "-s", "DELAY"];
    let (code, out, err) = book(tmp.path(), tmp.path(), &args);
    assert_eq!(code, Some(0), "{out}\n{err}");
    // BA..BZ: 17 in the catalog, 9 not found, on both sides.
    assert!(out.contains("$ python3 flags2_threadpool.py b -m 3 -s DELAY"), "{out}");
    assert!(
        out.contains("DELAY site: http://127.0.0.1:") && out.contains("Searching for 26 flags: from BA to BZ"),
        "{out}"
    );
    assert!(out.contains(" 17 flags downloaded.") && out.contains("  9 not found."), "{out}");
    assert!(out.contains("at most 3 at once"), "{out}");
    assert!(out.contains("17 flags downloaded in"), "{out}");
    assert_eq!(row(&out, "flags2_threadpool.py").2, " --mode threadpool -m 3, 26 flags");
}

#[test]
fn a_module_the_python_lacks_is_named_with_the_pip_install_that_brings_it() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    edit(&chapter, "flags_asyncio.py", "", "import zz_flags_test_absent\n");
    let (code, out, err) = book(tmp.path(), tmp.path(), &[chapter.to_str().unwrap(), "flags_asyncio.py"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(
        out.contains("flags_asyncio.py: not run, its imports need zz_flags_test_absent: python3 -m pip install zz_flags_test_absent"),
        "{out}"
    );
    assert!(row(&out, "flags_asyncio.py").0 == "not", "{out}");
}

#[test]
fn what_a_script_prints_is_shown_escaped_and_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let loud = "    print('\\x1b]0;owned\\x07\\x1b[2J' + 'x' * 3_000_000)\n    DEST_DIR.mkdir(exist_ok=True)";
    edit(&chapter, "flags.py", "    DEST_DIR.mkdir(exist_ok=True)", loud);
    let (code, out, err) = book(tmp.path(), tmp.path(), &[chapter.to_str().unwrap(), "flags.py", "--delay", "0"]);
    assert_eq!(code, Some(0), "{}\n{err}", &out[..out.len().min(3000)]);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "a terminal escape went through");
    assert!(out.contains("bytes on stdout"), "the count of what was left out is shown");
    assert!(out.len() < 100_000, "{} bytes shown", out.len());
    row(&out, "flags.py");
}

#[test]
fn a_path_or_a_script_that_is_not_the_books_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let chapter = chapter.to_str().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (args, code, said) in [
        (vec!["/no/such/folder/here"], 2, "no such folder"),
        (vec![empty.to_str().unwrap()], 2, "neither 20-executors/getflags"),
        (vec![chapter, "flags_nope.py"], 2, "they are: flags.py, flags_threadpool.py"),
        (vec![chapter, "flags.py", "--", "-a"], 2, "flags.py takes no command line"),
        (vec![chapter, "--", "-a"], 2, "name the flags2 or flags3 script"),
        (vec![chapter, "flags2_threadpool.py", "--", "-m", "0"], 2, "-m 0"),
        (vec![chapter, "--python", "/no/such/python3"], 1, "not found; install Python 3"),
    ] {
        let (got, out, err) = book(tmp.path(), tmp.path(), &args);
        assert_eq!(got, Some(code), "{args:?}: {out}\n{err}");
        assert!(err.contains(said), "{args:?}: {err}");
    }
}

/// Sends SIGTERM to a running `flags book` and checks that it ends as
/// stopped: exit 143, saying that nothing finished.
fn sigterm_ends_it(child: &mut std::process::Child) {
    send_signal(child.id(), libc::SIGTERM);
    let mut status = None;
    wait_until("flags book ends", Duration::from_secs(30), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(status.unwrap().code(), Some(143), "{out}");
    assert!(out.contains("Interrupted before any script and its style finished."), "{out}");
}

#[test]
fn sigterm_ends_the_script_in_progress_and_leaves_no_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let stuck = "    Path('started').touch()\n    time.sleep(600)\n    DEST_DIR.mkdir(exist_ok=True)";
    edit(&chapter, "flags.py", "    DEST_DIR.mkdir(exist_ok=True)", stuck);
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let mut child = Command::new(flags_exe())
        .args(["book", chapter.to_str().unwrap(), "flags.py"])
        .current_dir(tmp.path())
        .env("TMPDIR", &scratch)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let copies = || std::fs::read_dir(&scratch).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>();
    wait_until("the script starts", Duration::from_secs(60), || copies().iter().any(|c| c.join("started").exists()));
    sigterm_ends_it(&mut child);
    assert!(copies().is_empty(), "left: {:?}", copies());
}

/// Each row of the SVG titled `title` in `page` (its first drawing): the
/// flag and how long the server held its answer, in ms.
fn holds(page: &str, title: &str) -> BTreeMap<String, f64> {
    let at = page.find(&format!("font-weight=\"bold\">{title}")).unwrap_or_else(|| panic!("no panel {title}"));
    let svg = &page[at..page[at..].find("</svg>").map_or(page.len(), |e| at + e)];
    let field = |row: &str, name: &str| -> f64 {
        let line = row.lines().find(|l| l.starts_with(&format!("{name}: "))).unwrap();
        line[name.len() + 2..].trim_end_matches(" ms").parse().unwrap()
    };
    svg.split("<g class=\"row\" data-label=\"")
        .skip(1)
        .map(|row| {
            let cc = row.split('"').next().unwrap().rsplit(' ').next().unwrap().to_string();
            (cc, field(row, "first_byte") - field(row, "sent"))
        })
        .collect()
}

#[test]
fn a_script_and_its_style_meet_the_same_delay_for_each_flag_in_the_servers_record() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let page = tmp.path().join("pairs.html");
    let args = [
        chapter.to_str().unwrap(),
        "flags.py",
        "--delay",
        "lognormal:0.03,1",
        "--seed",
        "3",
        "--timeline",
        page.to_str().unwrap(),
    ];
    let (code, out, err) = book(tmp.path(), tmp.path(), &args);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let page = std::fs::read_to_string(&page).unwrap();
    let (script, style) = (holds(&page, "python3 flags.py: "), holds(&page, "flags get --mode sequential: "));
    assert_eq!(script.len(), 20, "{script:?}");
    assert_eq!(script.keys().collect::<Vec<_>>(), style.keys().collect::<Vec<_>>());
    for (cc, held) in &script {
        assert!((held - style[cc]).abs() < 20.0, "{cc}: held {held} ms for the script, {} ms for its style", style[cc]);
    }
    // A long tail: the draws differ from flag to flag, so meeting the same
    // ones is no accident of a fixed delay.
    let (least, most) = script.values().fold((f64::MAX, 0.0f64), |(a, b), h| (a.min(*h), b.max(*h)));
    assert!(most > 3.0 * least, "held from {least} to {most} ms");
}

#[test]
fn the_pairs_go_to_perfetto_and_devtools_too() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code", tmp.path());
    for name in ["pairs.har", "pairs.trace.json"] {
        let path = tmp.path().join(name);
        let args = [
            chapter.to_str().unwrap(),
            "flags_threadpool_ac.py",
            "--delay",
            "0.02",
            "--timeline",
            path.to_str().unwrap(),
        ];
        let (code, out, err) = book(tmp.path(), tmp.path(), &args);
        assert_eq!(code, Some(0), "{out}\n{err}");
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        match name.ends_with(".har") {
            // The script's 5 requests and its style's, each a page.
            true => {
                assert_eq!(doc["log"]["entries"].as_array().unwrap().len(), 10, "{doc}");
                let pages: Vec<&str> =
                    doc["log"]["pages"].as_array().unwrap().iter().filter_map(|p| p["title"].as_str()).collect();
                assert_eq!(pages, ["python3 flags_threadpool_ac.py", "flags get --mode threadpool -m 3"], "{doc}");
            }
            false => assert!(doc["traceEvents"].as_array().unwrap().len() > 10, "{doc}"),
        }
    }
}

#[test]
fn a_script_that_downloads_from_elsewhere_fails_though_it_saved_its_flags() {
    // Its base URL written so that no quoted URL ends in /flags: the copy
    // cannot point it at the embedded server, and it goes to another one.
    let elsewhere = super::util::ServeProcess::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let moved = format!("BASE_URL = 'http://{}/' + 'flags'", elsewhere.addr);
    edit(&chapter, "flags.py", "BASE_URL = 'https://www.fluentpython.com/data/flags'", &moved);
    let (code, out, err) = book(tmp.path(), tmp.path(), &[chapter.to_str().unwrap(), "flags.py", "--delay", "0"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(out.contains("the server saw no request: the 20 flags it saved came from elsewhere"), "{out}");
    assert_eq!(row(&out, "flags.py").0, "failed", "{out}");
}

#[test]
fn a_script_that_never_ends_is_stopped_at_its_limit_and_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let stuck = "    time.sleep(600)\n    DEST_DIR.mkdir(exist_ok=True)";
    edit(&chapter, "flags.py", "    DEST_DIR.mkdir(exist_ok=True)", stuck);
    let t0 = std::time::Instant::now();
    let (code, out, err) = book(tmp.path(), tmp.path(), &[chapter.to_str().unwrap(), "flags.py", "--limit", "1"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(out.contains("ran past its limit of 1 s and was stopped, having saved 0 of 20 flags"), "{out}");
    assert_eq!(row(&out, "flags.py").0, "failed", "{out}");
    // Its style still ran beside it: the 20 flags at 0.35 s each.
    assert!(out.contains("20 flags downloaded in"), "{out}");
    assert!(t0.elapsed() < Duration::from_secs(60), "took {:?}", t0.elapsed());
}

#[test]
fn a_python_that_never_answers_is_ended_by_sigterm() {
    // Asking the interpreter what it has is a step a stop ends, as a
    // script is: a `--python` that hangs does not hold the book.
    let tmp = tempfile::tempdir().unwrap();
    let chapter = checkout("example-code-2e", tmp.path());
    let python = tmp.path().join("python-that-hangs");
    let asked = tmp.path().join("asked");
    std::fs::write(&python, format!("#!/bin/sh\ntouch '{}'\nexec sleep 600\n", asked.display())).unwrap();
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut child = Command::new(flags_exe())
        .args(["book", chapter.to_str().unwrap(), "--python", python.to_str().unwrap()])
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the interpreter is asked", Duration::from_secs(60), || asked.exists());
    sigterm_ends_it(&mut child);
}
