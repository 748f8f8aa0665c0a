//! `flags exam`'s arguments and the configuration they become.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::parse::{invalid, parse_timeout};
use crate::exam::{self, Client, ExamConfig};
use crate::save;

#[derive(Debug, Args)]
pub struct ExamArgs {
    /// Print the cases: what each server does and what a correct client does.
    #[arg(long)]
    pub list: bool,
    /// Only these cases: ids or patterns, comma-separated (framing/*,tls/*).
    #[arg(long, value_name = "PATTERNS")]
    pub cases: Option<String>,
    /// Built-in clients to grade, comma-separated, or `all` [default: all
    /// those on PATH, or none when --client is given]. `flags exam --list`
    /// names them.
    #[arg(long, value_name = "NAMES")]
    pub clients: Option<String>,
    /// Another client: NAME=TEMPLATE, or NAME+retries+h2=TEMPLATE to declare
    /// that it retries or speaks HTTP/2 with prior knowledge. Placeholders:
    /// {url} {urls} {out} {dir} {base} {cc} {cacert}. Repeatable.
    #[arg(long, value_name = "NAME=TEMPLATE")]
    pub client: Vec<String>,
    /// Kill a client still running after this long and grade it hung.
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = parse_timeout)]
    pub deadline: Duration,
    /// Runs at once (each has a server of its own).
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Print the report as JSON on stdout instead of the grid.
    #[arg(long)]
    pub json: bool,
    /// Also write the report card, an HTML page, to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// A validated `flags exam`.
pub struct ExamRun {
    /// Only list the cases (and the clients found).
    pub list: bool,
    pub exam: ExamConfig,
    pub json: bool,
    pub html: Option<PathBuf>,
}

impl TryFrom<ExamArgs> for ExamRun {
    type Error = clap::Error;
    fn try_from(a: ExamArgs) -> Result<Self, clap::Error> {
        let cases = match &a.cases {
            Some(p) => exam::select(p).map_err(|why| invalid("--cases <PATTERNS>", p, why))?,
            None => exam::catalog().iter().collect(),
        };
        let exe = std::env::current_exe().map_err(|e| invalid("flags exam", "", e))?;
        let builtins = exam::client::builtins(&exe);
        let mut clients: Vec<Client> = match a.clients.as_deref() {
            None if !a.client.is_empty() => Vec::new(),
            None | Some("all") => builtins.clone(),
            Some(names) => {
                let mut chosen = Vec::new();
                for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let Some(c) = builtins.iter().find(|c| c.name == name) else {
                        let known: Vec<&str> = builtins.iter().map(|c| c.name.as_str()).collect();
                        let why = format!("no built-in client {name:?} here (found: {})", known.join(", "));
                        return Err(invalid("--clients <NAMES>", names, why));
                    };
                    chosen.push(c.clone());
                }
                chosen
            }
        };
        for arg in &a.client {
            let c = Client::parse(arg).map_err(|e| invalid("--client <NAME=TEMPLATE>", arg, e))?;
            if clients.iter().any(|o| o.name == c.name) {
                return Err(invalid(
                    "--client <NAME=TEMPLATE>",
                    arg,
                    format!("a client named {} is already graded", c.name),
                ));
            }
            clients.push(c);
        }
        if clients.is_empty() && !a.list {
            return Err(invalid("--clients <NAMES>", a.clients.unwrap_or_default(), "no client to grade"));
        }
        if let Some(path) = &a.html {
            save::check_output(path).map_err(|why| invalid("--html <FILE>", path.display(), why))?;
        }
        let exam = ExamConfig {
            cases,
            clients,
            deadline: a.deadline,
            jobs: a.jobs as usize,
            cancel: Arc::new(AtomicBool::new(false)),
            live: Arc::default(),
        };
        Ok(ExamRun { list: a.list, exam, json: a.json, html: a.html })
    }
}
