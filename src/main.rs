//! The `flags` binary: parse the command line, run it, map errors to exit codes
//! (0 ok, 1 failures, 2 usage error, 130 interrupted).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use flags::cli::{Cli, Command, DemoArgs, ServeConfig};
use flags::{demo, server};

fn main() -> ExitCode {
    // A process pool starts this executable as its workers.
    flags::executor::run_worker_if_requested(&flags::download::processpool::registry());
    let cli = Cli::parse();
    let result = match cli.command {
        None => run_demo(DemoArgs { delay: None, seed: 0, runs: 1, dest: "downloads".into() }),
        Some(Command::Demo(args)) => run_demo(args),
        Some(Command::Serve(args)) => match ServeConfig::try_from(args) {
            Ok(config) => serve(config),
            Err(msg) => return usage_error(&msg),
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

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n\nUsage: flags [COMMAND]\n\nFor more information, try '--help'.");
    ExitCode::from(2)
}

fn run_demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    demo::run(&args.into())?;
    Ok(ExitCode::SUCCESS)
}

fn serve(config: ServeConfig) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
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
