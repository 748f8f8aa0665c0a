//! The `flags` binary: parse the command line, run it, map errors to exit codes
//! (0 ok, 1 failures, 2 usage error, 130 interrupted).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory, Parser};

use flags::cli::{Cli, Command, DemoArgs, ServeConfig};
use flags::get::GetConfig;
use flags::{demo, server};

fn main() -> ExitCode {
    // Like other Unix tools, stop quietly when the reader goes away
    // (`flags get -e -v | head`) instead of panicking on a closed stdout.
    // SAFETY: setting a signal's disposition to its default is sound at start-up.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A process pool starts this executable as its workers.
    flags::executor::run_worker_if_requested(&flags::download::processpool::registry());
    let cli = Cli::try_parse().unwrap_or_else(|e| match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => e.exit(),
        _ => usage_error(e.render().to_string().trim_start_matches("error: ")),
    });
    let result = match cli.command {
        None => run_demo(DemoArgs { delay: None, seed: 0, runs: 1, dest: "downloads".into() }),
        Some(Command::Demo(args)) => run_demo(args),
        Some(Command::Get(args)) => match GetConfig::try_from(args) {
            Ok(config) => Ok(get(&config)),
            Err(msg) => usage_error(&msg),
        },
        Some(Command::Bench(args)) => match flags::bench::BenchConfig::try_from(args) {
            Ok(config) => flags::bench::run(&config).map(|_| ExitCode::SUCCESS),
            Err(msg) => usage_error(&msg),
        },
        Some(Command::Serve(args)) => match ServeConfig::try_from(args) {
            Ok(config) => serve(config),
            Err(msg) => usage_error(&msg),
        },
    };
    match result {
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

fn get(config: &GetConfig) -> ExitCode {
    // First Ctrl-C: stop starting downloads and report; second: quit now.
    let cancel = std::sync::Arc::clone(&config.cancel);
    let _ = ctrlc::set_handler(move || {
        if cancel.is_cancelled() {
            std::process::exit(130);
        }
        cancel.cancel();
    });
    let report = flags::get::run(config);
    if report.interrupted() {
        ExitCode::from(130)
    } else if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    demo::run(&args.into())?;
    Ok(ExitCode::SUCCESS)
}

fn serve(config: ServeConfig) -> anyhow::Result<ExitCode> {
    let runtime = server::runtime(config.server.threads)?;
    runtime.block_on(async {
        let listener = server::bind(config.addr).with_context(|| format!("cannot listen on {}", config.addr))?;
        let addr = listener.local_addr()?;
        flags::report::serving(&addr, &config.server);
        server::run(listener, config.server, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        flags::report::stopped();
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
