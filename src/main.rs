//! The `flags` binary: parse the command line, run it, map errors to exit codes
//! (0 ok, 1 failures, 2 usage error, 130 interrupted).

use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser};

use flags::cli::{Cli, Command, DemoArgs, ServeConfig};
use flags::get::GetConfig;
use flags::signals::{exit_status, Signals};
use flags::{demo, server};

fn main() -> ExitCode {
    // SIGPIPE stays ignored (Rust's default): a peer that closes its socket
    // must never end the server or a client. A closed stdout is handled by
    // `report::out` instead.
    // A process pool starts this executable as its workers.
    flags::executor::run_worker_if_requested(flags::download::processpool::registry());
    // Caught before anything else, so a Ctrl-C while starting is not lost.
    let signals = match Signals::catch() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("flags: cannot catch Ctrl-C: {e}");
            return ExitCode::from(1);
        }
    };
    let cli = Cli::try_parse().unwrap_or_else(|e| match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => e.exit(),
        _ => usage_error(e.render().to_string().trim_start_matches("error: ")),
    });
    let result = match cli.command {
        None => run_demo(DemoArgs { delay: None, seed: 0, runs: 1, dest: "downloads".into() }, signals),
        Some(Command::Demo(args)) => run_demo(args, signals),
        Some(Command::Get(args)) => match GetConfig::try_from(args) {
            Ok(config) => Ok(get(&config, signals)),
            Err(msg) => usage_error(&msg),
        },
        Some(Command::Bench(args)) => match flags::bench::BenchConfig::try_from(args) {
            Ok(config) => signals
                .exit_on_first()
                .map_err(Into::into)
                .and_then(|()| flags::bench::run(&config).map(|_| ExitCode::SUCCESS)),
            Err(msg) => usage_error(&msg),
        },
        Some(Command::Serve(args)) => match ServeConfig::try_from(args) {
            Ok(config) => serve(config, signals),
            Err(msg) => usage_error(&msg),
        },
    };
    match result {
        // Like other Unix tools, stop quietly when stdout's reader went away.
        Ok(_) if flags::report::out::closed() => ExitCode::from(141),
        Ok(code) => code,
        Err(e) => {
            eprintln!("flags: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Prints `error: msg`, the usage line of the subcommand in use, and a
/// pointer to `--help`; exits 2.
fn usage_error(msg: &str) -> ! {
    const TIP: &str = "For more information, try '--help'.";
    let msg = msg.trim_end().trim_end_matches(TIP).trim_end();
    let mut cmd = Cli::command();
    cmd.build();
    let sub = std::env::args().nth(1).unwrap_or_default();
    let usage = match cmd.find_subcommand_mut(&sub) {
        Some(sub) => sub.render_usage(),
        None => cmd.render_usage(),
    };
    if msg.contains("Usage:") {
        eprintln!("error: {msg}\n\n{TIP}");
    } else {
        eprintln!("error: {msg}\n\n{usage}\n\n{TIP}");
    }
    std::process::exit(2)
}

fn get(config: &GetConfig, signals: Signals) -> ExitCode {
    // First Ctrl-C or SIGTERM: stop, report, exit 130 or 143. Second: remove
    // the temporary files, end the workers, and quit now.
    let (stop, abort) = (Arc::clone(&config.cancel), Arc::clone(&config.cancel));
    let first = match signals.watch(
        move |_| stop.cancel(),
        move |signal| {
            let _held = abort.abort();
            std::process::exit(exit_status(signal).into());
        },
    ) {
        Ok(first) => first,
        Err(e) => {
            eprintln!("flags: cannot watch for Ctrl-C: {e}");
            return ExitCode::from(1);
        }
    };
    // A reader of stdout that goes away (`flags get -v | head`) stops the run too.
    let stdout_gone = Arc::clone(&config.cancel);
    flags::report::out::on_closed(move || stdout_gone.cancel());
    let report = flags::get::run(config);
    match first.get() {
        Some(signal) => ExitCode::from(exit_status(signal)),
        None if report.failed() => ExitCode::from(1),
        None => ExitCode::SUCCESS,
    }
}

fn run_demo(args: DemoArgs, signals: Signals) -> anyhow::Result<ExitCode> {
    signals.exit_on_first()?;
    demo::run(&args.into())?;
    Ok(ExitCode::SUCCESS)
}

fn serve(config: ServeConfig, signals: Signals) -> anyhow::Result<ExitCode> {
    let running = server::spawn(config.server.clone(), config.addr).map_err(|e| bind_error(e, config.addr))?;
    flags::report::serving(&running.addr(), &config.server);
    // The first SIGINT or SIGTERM stops accepting and lets the requests in
    // flight finish (within the grace period); a second one quits now.
    let stop = running.stop_handle();
    signals.watch(move |_| stop.graceful(), |signal| std::process::exit(exit_status(signal).into()))?;
    running.wait()?;
    flags::report::stopped();
    Ok(ExitCode::SUCCESS)
}

/// Why `flags serve` could not listen on `addr`, with what to try.
fn bind_error(e: std::io::Error, addr: std::net::SocketAddr) -> anyhow::Error {
    let hint = match e.kind() {
        std::io::ErrorKind::AddrInUse => " (another server has that port; --port 0 picks a free one)",
        std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges; --port 0 picks a free one)",
        _ => "",
    };
    anyhow::anyhow!("cannot listen on {addr}: {e}{hint}")
}
