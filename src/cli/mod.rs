//! The command layer's library half: command-line arguments (clap
//! derive), the validated configurations they turn into, so nothing
//! downstream checks input again, and how a command's end becomes an
//! [`Exit`]. A value that fails a check is a clap error naming the
//! argument, printed with the subcommand's usage (exit 2).
//!
//! Each command has a file that builds its configuration: [`get`](GetArgs),
//! [`serve`], [`bench`](BenchArgs), [`demo`](DemoArgs), [`exam`](ExamArgs)
//! (with `exam merge` and `exam verdict`), [`book`](BookArgs). The
//! configurations hold no runtime handle: every command takes its stop as
//! a [`Shutdown`](crate::shutdown::Shutdown) beside its configuration and its observer. Where a
//! command's own module is not the place for its outputs (the server's,
//! the exam's files), its file here runs it as the binary does:
//! [`serve::run`] and [`exam::run`].

use clap::{CommandFactory, Parser, Subcommand};

mod bench;
mod book;
mod demo;
pub mod exam;
mod exit;
mod get;
mod parse;
pub mod serve;
mod work;
pub use bench::BenchArgs;
pub use book::BookArgs;
pub use demo::DemoArgs;
pub use exam::{
    Document, ExamArgs, ExamCommand, ExamPrinter, ExamProgress, ExamRun, MergeArgs, MergeRun, OutputArgs, Outputs,
    VerdictArgs, VerdictRun,
};
pub use exit::Exit;
pub use get::{GetArgs, ServerArg};
pub use serve::{ServeArgs, ServeConfig};
pub use work::WorkArgs;

/// Download country flags in several concurrency styles and measure what each costs.
///
/// `flags` alone runs the demo: the chapter's experiment against the embedded
/// flag server, no network needed. The book's servers are LOCAL (port
/// 8000), DELAY (8001, 0.5..5 s delay) and ERROR (8002, 25% answered 418):
/// `flags serve --label DELAY` plays one, `flags get -s DELAY` downloads
/// from it.
#[derive(Debug, Parser)]
#[command(name = "flags", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The chapter's experiment: POP20 with each style against the embedded server, then a table (what `flags` alone runs).
    Demo(DemoArgs),
    /// Download flags (the book's flags2/flags3): choose codes, server, style and concurrency.
    Get(GetArgs),
    /// Run the flag server (the book's site on your machine, with delays and errors).
    Serve(ServeArgs),
    /// Measure every style (and curl, aria2c, wget2) on the chapter's workloads and sweeps.
    Bench(BenchArgs),
    /// Run the book's own scripts from your copy of its code, each beside the flags style that does the same.
    Book(BookArgs),
    /// Grade HTTP download clients (curl, wget2, your own) against a catalog of misbehaving servers.
    Exam(ExamArgs),
    /// Print a shell completion script: flags completions bash > /etc/bash_completion.d/flags
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): flags man > flags.1
    Man,
}

/// `e` with the usage line of subcommand `sub` (or of `flags`), which clap
/// leaves out of some errors, such as a value its parser refused.
pub fn with_usage(e: clap::Error, sub: &str) -> clap::Error {
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

/// `flags completions SHELL`: the completion script.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "flags", &mut script);
    script
}

/// `flags man`: the manual page, in roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page).map(|()| page)
}
