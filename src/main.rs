//! The `flags` binary: the command layer. It parses the command line, runs
//! the library's command with the report module's printers as observers,
//! and maps the result to an exit status: 0 ok, 1 failures, 2 usage error,
//! 130 or 143 interrupted by SIGINT or SIGTERM, 141 when stdout's reader
//! went away.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser};

use flags::bench::BenchConfig;
use flags::book::{BookConfig, BookError};
use flags::cli::{Cli, Command, DemoArgs, ExamCommand, ExamRun, MergeRun, Outputs, ServeConfig, VerdictRun};
use flags::demo::DemoConfig;
use flags::get::GetConfig;
use flags::report;
use flags::shutdown::{exit_status, Shutdown, Signals};
use flags::{demo, server};

fn main() -> ExitCode {
    // A process pool starts this executable as its workers.
    flags::executor::run_worker_if_requested(flags::download::processpool::registry());
    // SIGPIPE stays ignored (Rust's default): a peer that closes its socket
    // must never end the server or a client; a closed stdout is handled by
    // `report::out`. SIGINT, SIGTERM, SIGHUP, SIGQUIT (and SIGUSR1 and
    // SIGALRM, to be ignored) are caught before anything else, so one that
    // comes while flags starts is not lost (see `flags::signals`).
    let signals = match Signals::catch() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("flags: cannot catch Ctrl-C: {e}");
            return ExitCode::from(1);
        }
    };
    let cli = Cli::try_parse().unwrap_or_else(|e| with_usage(e, &std::env::args().nth(1).unwrap_or_default()).exit());
    let shutdown = Arc::new(Shutdown::default());
    // The first SIGINT, SIGTERM or SIGHUP stops the command cleanly, and it
    // exits 130, 143 or 129; a second one, or SIGQUIT, aborts it and quits
    // now, leaving no file (see `flags::shutdown`).
    let watched = |signals: Signals| signals.watch(Arc::clone(&shutdown)).map(|()| &shutdown);
    let result = match cli.command {
        None => demo_command(valid("demo", DemoConfig::try_from(DemoArgs::default_run())), watched(signals)),
        Some(Command::Demo(args)) => demo_command(valid("demo", DemoConfig::try_from(args)), watched(signals)),
        Some(Command::Get(args)) => get_command(&valid("get", GetConfig::try_from(args)), watched(signals)),
        Some(Command::Serve(args)) => serve_command(valid("serve", ServeConfig::try_from(args)), watched(signals)),
        Some(Command::Bench(args)) => bench_command(&valid("bench", BenchConfig::try_from(args)), watched(signals)),
        Some(Command::Book(args)) => book_command(&valid("book", BookConfig::try_from(args)), watched(signals)),
        Some(Command::Exam(mut args)) => match args.command.take() {
            Some(ExamCommand::Merge(args)) => merge_command(valid("exam merge", MergeRun::try_from(args))),
            Some(ExamCommand::Verdict(args)) => {
                let run = valid("exam verdict", VerdictRun::try_from(args));
                report::exam::verdict(&flags::exam::outside::grade(&run.run()), run.json);
                Ok(ExitCode::SUCCESS)
            }
            None => exam_command(valid("exam", ExamRun::try_from(args)), signals, &shutdown),
        },
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "flags", &mut script);
            report::out::write_bytes(&script);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page).map(|()| {
                report::out::write_bytes(&page);
                ExitCode::SUCCESS
            })
        }
        .map_err(Into::into),
    };
    match result {
        // Like other Unix tools, stop quietly when stdout's reader went away.
        Ok(_) if report::out::closed() => ExitCode::from(141),
        Ok(code) => code,
        Err(e) => {
            eprintln!("flags: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The configuration, or the usage error printed with `sub`'s usage (exit 2).
fn valid<T>(sub: &str, config: Result<T, clap::Error>) -> T {
    config.unwrap_or_else(|e| with_usage(e, sub).exit())
}

/// `e` with the usage line of subcommand `sub` (or of `flags`), which clap
/// leaves out of some errors, such as a value its parser refused.
fn with_usage(e: clap::Error, sub: &str) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let mut cli = Cli::command();
    cli.build();
    // `sub` may name a nested subcommand: `exam merge`.
    fn find<'a>(cmd: &'a mut clap::Command, path: &str) -> Option<&'a mut clap::Command> {
        path.split(' ').try_fold(cmd, |cmd, name| cmd.find_subcommand_mut(name))
    }
    let mut e = match find(&mut cli, sub) {
        Some(cmd) => e.format(cmd),
        None => e.format(&mut cli),
    };
    if e.get(ContextKind::Usage).is_none() {
        let usage = match find(&mut cli, sub) {
            Some(cmd) => cmd.render_usage(),
            None => cli.render_usage(),
        };
        e.insert(ContextKind::Usage, ContextValue::StyledStr(usage));
    }
    e
}

fn get_command(config: &GetConfig, shutdown: std::io::Result<&Arc<Shutdown>>) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown?;
    // A reader of stdout that goes away (`flags get -v | head`) stops the run too.
    let stdout_gone = Arc::clone(shutdown);
    report::out::on_closed(move || stdout_gone.stop());
    let outcome = flags::get::run(config, &report::get::Printer, shutdown)?;
    Ok(match shutdown.signal() {
        Some(signal) => ExitCode::from(exit_status(signal)),
        None if outcome.failed() => ExitCode::from(1),
        None => ExitCode::SUCCESS,
    })
}

fn demo_command(config: DemoConfig, shutdown: std::io::Result<&Arc<Shutdown>>) -> anyhow::Result<ExitCode> {
    // First Ctrl-C, SIGTERM or SIGHUP: the run in progress is cancelled (a
    // peer's process group stopped), the styles done so far are tabled,
    // exit 130, 143 or 129. Second, or SIGQUIT: quit now, leaving no file.
    let shutdown = shutdown?;
    let demo = demo::run(&config, &report::DemoPrinter, shutdown)?;
    if let Some(signal) = shutdown.signal() {
        report::seed::demo_interrupted(&demo);
        return Ok(ExitCode::from(exit_status(signal)));
    }
    let path = demo::timeline_path(&config);
    let written = demo::write_timeline(&demo, config.delay, &path).map(|()| path.as_path()).map_err(|e| e.to_string());
    report::seed::demo_end(&demo, config.delay, &config.dest, written);
    Ok(ExitCode::SUCCESS)
}

fn book_command(config: &BookConfig, shutdown: std::io::Result<&Arc<Shutdown>>) -> anyhow::Result<ExitCode> {
    // As the demo: the first signal ends the run in progress and tables
    // the pairs done; a second quits now, the temporary copies removed.
    let shutdown = shutdown?;
    let book = match flags::book::run(config, &report::book::BookPrinter, shutdown) {
        Ok(book) => book,
        // A folder that holds no chapter, or a script that is not one of
        // it: a usage error.
        Err(BookError::Chapter(e)) => {
            with_usage(clap::Error::raw(clap::error::ErrorKind::ValueValidation, e), "book").exit()
        }
        Err(BookError::NoArgs { script }) => with_usage(
            clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!("{script} takes no command line (only the flags2 and flags3 scripts do)"),
            ),
            "book",
        )
        .exit(),
        // Stopped before any script ran (asking Python, say): a stop.
        Err(_) if shutdown.signal().is_some() => {
            report::book::stopped_early();
            return Ok(ExitCode::from(exit_status(shutdown.signal().unwrap_or(libc::SIGINT))));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(signal) = shutdown.signal() {
        report::book::interrupted(&book);
        return Ok(ExitCode::from(exit_status(signal)));
    }
    let written = flags::book::page::write_timeline(&book, &config.timeline)
        .map(|()| config.timeline.as_path())
        .map_err(|e| e.to_string());
    report::book::end(&book, written);
    Ok(ExitCode::from(if book.all_well() { 0 } else { 1 }))
}

fn serve_command(mut config: ServeConfig, shutdown: std::io::Result<&Arc<Shutdown>>) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown?;
    if let Some(case) = config.scenario {
        return scenario_command(case, config.addr, config.record.as_deref(), shutdown);
    }
    if config.verbose {
        config.server.log = Some(report::serve::server_log());
    }
    if let Some(source) = &config.tls {
        // The made CA file goes when the server does (its key goes with it),
        // or at once on an abort.
        let tls = shutdown.holding(|| {
            let tls = server::tls::setup(source)?;
            if let Some(ca) = &tls.ca_file {
                shutdown.scratch(ca);
            }
            Ok::<_, server::tls::TlsSetupError>(tls)
        })?;
        config.server.tls = Some(tls);
    }
    let running = match server::spawn(config.server.clone(), config.addr) {
        Ok(running) => running,
        // Like a bad argument: exit 2, with the usage line.
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => with_usage(
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "port {} is in use: another server listens on it; --port 0 picks a free one",
                    config.addr.port()
                ),
            ),
            "serve",
        )
        .exit(),
        Err(e) => return Err(bind_error(e, config.addr)),
    };
    report::serve::serving(&running.addr(), &config.server, running.flags());
    // The first SIGINT, SIGTERM or SIGHUP stops accepting and lets the
    // requests in flight finish (within the grace period), then writes the
    // timeline; a second one, or SIGQUIT, quits now with no file left.
    let stop = running.stop_handle();
    let record = Arc::clone(running.stats().timeline());
    let running_addr = running.addr();
    let waited = shutdown.step(move || stop.graceful(), || {}, || running.wait());
    if let Some(ca) = config.server.tls.as_ref().and_then(|tls| tls.ca_file.as_ref()) {
        let _ = std::fs::remove_file(ca.to_path_buf());
    }
    // A timeline that cannot be written is a failure, as for `flags get`.
    let mut status = ExitCode::SUCCESS;
    if let Some(path) = &config.timeline {
        let doc = record.since(f64::NEG_INFINITY);
        match flags::save::write_output(path, &flags::waterfall::served_file(&doc, path, &running_addr.to_string())) {
            Ok(()) => report::serve::timeline_written(path, doc.requests.len()),
            Err(e) => {
                report::get::timeline_failed(path, &e);
                status = ExitCode::from(1);
            }
        }
    }
    waited?;
    report::serve::stopped();
    Ok(status)
}

fn bench_command(config: &BenchConfig, shutdown: std::io::Result<&Arc<Shutdown>>) -> anyhow::Result<ExitCode> {
    // First Ctrl-C, SIGTERM or SIGHUP: the process group being measured gets
    // SIGINT (SIGKILL after a grace period), the bench removes its scratch
    // folders and server and exits 130, 143 or 129. Second, or SIGQUIT: the
    // same at once.
    let shutdown = shutdown?;
    let out = flags::bench::OutDir::make(config)?;
    if out.made() {
        shutdown.scratch(&out.path);
    }
    let results = match flags::bench::run(config, &report::bench::Printer, shutdown) {
        Ok(results) => {
            shutdown.keep(&out.path);
            results
        }
        Err(e) => {
            out.discard();
            return match shutdown.signal() {
                Some(signal) => {
                    report::bench::interrupted();
                    Ok(ExitCode::from(exit_status(signal)))
                }
                None => Err(e.into()),
            };
        }
    };
    let svg = flags::bench::write_results(&results, &out.path)?;
    if let Some(md) = &config.markdown {
        let text = report::bench::markdown(&results, &svg.display().to_string());
        flags::save::write_output(md, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", md.display()))?;
    }
    report::bench::footer(&results, &out.path);
    Ok(ExitCode::SUCCESS)
}

/// Why `flags serve` could not listen on `addr`, with what to try.
fn bind_error(e: std::io::Error, addr: std::net::SocketAddr) -> anyhow::Error {
    let hint = match e.kind() {
        std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges; --port 0 picks a free one)",
        _ => "",
    };
    anyhow::anyhow!("cannot listen on {addr}: {e}{hint}")
}

/// `flags exam`: the listing, or every run, then the grid or the JSON, and
/// the files asked for. Exit 1 when a client failed a case or a control,
/// or, with --expect, when a verdict differs from the baseline.
fn exam_command(run: ExamRun, signals: Signals, shutdown: &Arc<Shutdown>) -> anyhow::Result<ExitCode> {
    use flags::exam::{self, ExamError};
    if run.list {
        report::exam::list(&run.exam.cases, &run.exam.clients, run.outputs.json);
        return Ok(ExitCode::SUCCESS);
    }
    // First Ctrl-C, SIGTERM or SIGHUP: every client's group is killed, no
    // run starts, the scratch folder goes. Second, or SIGQUIT: the same, at
    // once, and quit.
    signals.watch(Arc::clone(shutdown))?;
    let progress = report::exam::ExamProgress::new(run.exam.cases.len() * run.exam.clients.len());
    let result = exam::run(&run.exam, &progress, shutdown);
    progress.finish();
    let report = match result {
        Ok(report) => report,
        Err(ExamError::Interrupted) => {
            report::exam::interrupted();
            return Ok(ExitCode::from(exit_status(shutdown.signal().unwrap_or(libc::SIGINT))));
        }
        Err(e) => return Err(e.into()),
    };
    deliver(&report, &run.outputs)
}

/// `flags exam merge`: reports made elsewhere, read and merged, then the
/// same outputs as an exam. Exit 2 when a report cannot be read or the
/// reports do not fit together.
fn merge_command(run: MergeRun) -> anyhow::Result<ExitCode> {
    use flags::exam::merge;
    let reports = run.reports.iter().map(|path| Ok((path.display().to_string(), merge::read(path)?)));
    match reports.collect::<Result<Vec<_>, _>>().and_then(merge::merge) {
        Ok(report) => deliver(&report, &run.outputs),
        Err(e) => {
            report::exam::not_merged(&e);
            Ok(ExitCode::from(2))
        }
    }
}

/// Prints the report (grid or JSON), writes the files asked for, holds the
/// verdicts to the baseline, and says what the exit status is.
fn deliver(report: &flags::exam::ExamReport, outputs: &Outputs) -> anyhow::Result<ExitCode> {
    use flags::exam::baseline;
    match outputs.json {
        true => report::exam::json(report),
        false => report::exam::grid(report),
    }
    let files = [
        ("report card", &outputs.html, report::exam_html::page as fn(&_) -> String),
        ("JUnit XML", &outputs.junit, report::exam_junit::document),
        ("Markdown summary", &outputs.markdown, report::exam_markdown::summary),
        ("baseline", &outputs.write_expect, baseline::write),
    ];
    for (what, path, make) in files {
        if let Some(path) = path {
            flags::save::write_output(path, make(report).as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            report::exam::written(what, path);
        }
    }
    // A baseline gates on changed verdicts; but a client that failed a
    // control, or a run the exam could not make, was not graded at all, so
    // no baseline can make that a pass.
    let ungraded = report.scores.iter().any(|s| !s.controls_failed.is_empty())
        || report.runs.iter().any(|r| r.verdict.grade == flags::exam::Grade::Error);
    let failed = match &outputs.expect {
        Some((path, entries)) => {
            let differences = baseline::compare(entries, report);
            report::exam::differences(path, &differences);
            !differences.is_empty() || ungraded
        }
        None => report.failed(),
    };
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `flags serve --scenario ID`: one exam case on the given address, until
/// Ctrl-C; then what the server saw, printed and, with `--record FILE`,
/// written for `flags exam verdict`.
fn scenario_command(
    case: &'static flags::exam::Case,
    addr: std::net::SocketAddr,
    record: Option<&std::path::Path>,
    shutdown: &Shutdown,
) -> anyhow::Result<ExitCode> {
    use flags::exam::{certs::Certs, outside, stage::Stage};
    let certs = Certs::make().map_err(anyhow::Error::msg)?;
    // An abort removes the CA file, made and registered as one step.
    let ca = shutdown.holding(|| {
        let ca = tempfile::Builder::new().prefix("flags-exam-ca-").suffix(".pem").tempfile()?;
        shutdown.scratch(ca.path());
        std::fs::write(ca.path(), &certs.ca_pem).map(|()| ca)
    })?;
    let mark = outside::scenario_stamp();
    let stage = Stage::start_on(case, &certs, addr, mark.clone()).map_err(|e| bind_error(e, addr))?;
    report::serve::scenario(case, &stage, ca.path());
    shutdown.wait();
    let other_port = stage.other.port();
    let saw = stage.stop();
    report::serve::scenario_log(&saw);
    if let Some(path) = record {
        let record = outside::Record { case: case.id.into(), mark, other_port, server: saw };
        flags::save::write_output(path, &serde_json::to_vec_pretty(&record)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(ExitCode::from(exit_status(shutdown.signal().unwrap_or(libc::SIGINT))))
}
