//! The `flags` binary: the command layer's thin half. It parses the command
//! line, hands the signals to the one [`Shutdown`], runs the library's
//! command with the report module's printers as observers, and maps how it
//! ended to an exit status: 0 ok, 1 failures, 2 usage error, 130 or 143
//! interrupted by SIGINT or SIGTERM, 141 when stdout's reader went away.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use flags::cli::{self, Cli, Command, DemoArgs, ExamCommand, Exit};
use flags::shutdown::{exit_status, Shutdown, Signals};
use flags::{bench, book, demo, get, report};

fn main() -> ExitCode {
    // A process pool starts this executable as its workers.
    flags::executor::run_worker_if_requested(flags::download::processpool::registry());
    // SIGPIPE stays ignored (Rust's default): a peer that closes its socket
    // must never end the server or a client; a closed stdout is handled by
    // `report::out`. SIGINT, SIGTERM, SIGHUP, SIGQUIT (and SIGUSR1 and
    // SIGALRM, to be ignored) are caught before anything else, so one that
    // comes while flags starts is not lost (see `flags::shutdown`).
    let signals = Signals::catch().unwrap_or_else(|e| {
        eprintln!("flags: cannot catch Ctrl-C: {e}");
        std::process::exit(1)
    });
    let cli =
        Cli::try_parse().unwrap_or_else(|e| cli::with_usage(e, &std::env::args().nth(1).unwrap_or_default()).exit());
    let shutdown = Arc::new(Shutdown::default());
    match run(cli.command.unwrap_or_else(|| Command::Demo(DemoArgs::default_run())), signals, &shutdown) {
        Ok(Exit::Usage(sub, e)) => cli::with_usage(e, sub).exit(),
        // Like other Unix tools, stop quietly when stdout's reader went away.
        Ok(_) if report::out::closed() => ExitCode::from(141),
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Failure) => ExitCode::from(1),
        Ok(Exit::Unusable) => ExitCode::from(2),
        Ok(Exit::Stopped) => ExitCode::from(exit_status(shutdown.signal().unwrap_or(libc::SIGINT))),
        Err(e) => {
            eprintln!("flags: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs `command`. The signals stop those that run for long, from their
/// start on (see `flags::shutdown`); the others (listings, merges, a
/// verdict) let them wait.
fn run(command: Command, signals: Signals, shutdown: &Arc<Shutdown>) -> anyhow::Result<Exit> {
    let watched = |signals: Signals| signals.watch(Arc::clone(shutdown)).map(|()| &**shutdown);
    Ok(match command {
        Command::Demo(args) => {
            let config = valid("demo", args.try_into());
            demo::run(&config, &report::DemoPrinter, watched(signals)?).map(|_| Exit::after(shutdown, false))?
        }
        Command::Get(args) => {
            let config = valid("get", args.try_into());
            report::out::stops(Arc::clone(shutdown));
            get::run(&config, &report::get::Printer, watched(signals)?).map(|r| Exit::after(shutdown, r.failed()))?
        }
        Command::Serve(args) => {
            cli::serve::run(&valid("serve", args.try_into()), &report::serve::Printer, watched(signals)?)?
        }
        Command::Bench(args) => {
            let config = valid("bench", args.try_into());
            Exit::of_bench(bench::run(&config, &report::bench::Printer, watched(signals)?), shutdown)?
        }
        Command::Book(args) => {
            let config = valid("book", args.try_into());
            Exit::of_book(book::run(&config, &report::book::BookPrinter, watched(signals)?), shutdown)?
        }
        Command::Exam(mut args) => match args.command.take() {
            Some(ExamCommand::Merge(args)) => {
                cli::exam::merge(&valid("exam merge", args.try_into()), &report::exam::Printer)?
            }
            Some(ExamCommand::Verdict(args)) => {
                cli::exam::verdict(&valid("exam verdict", args.try_into()), &report::exam::Printer)
            }
            None => match valid("exam", cli::ExamRun::try_from(args)) {
                config if config.list => cli::exam::run(&config, &report::exam::Printer, shutdown)?,
                config => cli::exam::run(&config, &report::exam::Printer, watched(signals)?)?,
            },
        },
        Command::Completions { shell } => printed(&cli::completions(shell)),
        Command::Man => printed(&cli::man_page()?),
    })
}

/// Writes `bytes` to stdout: a command that only prints.
fn printed(bytes: &[u8]) -> Exit {
    report::out::write_bytes(bytes);
    Exit::Success
}

/// The configuration, or the usage error printed with `sub`'s usage (exit 2).
fn valid<T>(sub: &str, config: Result<T, clap::Error>) -> T {
    config.unwrap_or_else(|e| cli::with_usage(e, sub).exit())
}
