//! Runs the exam: every (case, client) pair once, in parallel, each run
//! (`trial.rs`) with a server of its own, a fresh folder, a
//! session of its own under a watch, and a deadline.
//!
//! The exam runs in two rounds. First the controls: each client downloads
//! a plain flag over HTTP/1.1, and over TLS or HTTP/2 where it says it can.
//! Then the cases, for the clients that passed the controls they rest on;
//! a client that failed one is not graded on what rests on it (a client
//! that never runs or never connects could otherwise pass every case
//! where a correct client saves nothing).
//!
//! Each run's folder lives in one scratch folder (with the CA file), which
//! is removed when the exam ends, even when it is interrupted: a stop of
//! the caller's [`Shutdown`] ends every run, an abort kills every client at
//! once and removes the folder itself.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::card::{self, CaseRun, ExamReport, Meta};
use super::case::{Case, Family, Serve};
use super::certs::Certs;
use super::client::Client;
use super::grade::{self, Grade, Verdict};
use super::trial::{trial, Bounds, Live, Scratch};
use super::watch;
use crate::shutdown::Shutdown;

/// What to run.
pub struct ExamConfig {
    pub cases: Vec<&'static Case>,
    pub clients: Vec<Client>,
    /// Per run: past it the client is killed and graded hung.
    pub deadline: Duration,
    /// Runs at once.
    pub jobs: usize,
}

/// What the exam tells as it goes.
pub trait ExamObserver: Sync {
    /// A run ended, the `done`th of `total`.
    fn ran(&self, run: &CaseRun, done: usize, total: usize);
}

/// Why an exam could not run, or its files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExamError {
    #[error("{0}")]
    Certs(String),
    #[error("cannot make the exam's scratch folder: {0}")]
    Scratch(std::io::Error),
    #[error("interrupted")]
    Interrupted,
    /// The report was made, but a file of it could not be written.
    #[error("cannot write {}: {error}", .path.display())]
    Write { path: std::path::PathBuf, error: std::io::Error },
}

/// Runs the controls, then every case of `config` with every client that
/// passed the controls it rests on, telling `observer` of each run as it
/// ends. A stop kills every running client's processes and starts no run
/// ([`ExamError::Interrupted`]); an abort does the same at once and
/// removes the scratch folder.
pub fn run(config: &ExamConfig, observer: &dyn ExamObserver, shutdown: &Shutdown) -> Result<ExamReport, ExamError> {
    let live = Arc::new(Live::default());
    let killer = Arc::clone(&live);
    shutdown.step(|| {}, move || killer.abort(), || run_all(config, observer, shutdown, &live))
}

/// [`run`], with `live` the clients running, for an abort to kill.
fn run_all(
    config: &ExamConfig,
    observer: &dyn ExamObserver,
    shutdown: &Shutdown,
    live: &Live,
) -> Result<ExamReport, ExamError> {
    let t0 = Instant::now();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let certs = Certs::make().map_err(ExamError::Certs)?;
    let dir = tempfile::Builder::new().prefix("flags-exam-").tempdir().map_err(ExamError::Scratch)?;
    let cacert = dir.path().join("exam-ca.pem");
    std::fs::write(&cacert, &certs.ca_pem).map_err(ExamError::Scratch)?;
    shutdown.scratch(dir.path());
    let scratch = Scratch { dir, certs, cacert };
    let bounds = Bounds { deadline: config.deadline, shutdown, live };
    // The controls come first in the report, whatever cases were chosen.
    let mut cases: Vec<&'static Case> = super::cases::controls().collect();
    cases.extend(config.cases.iter().copied().filter(|c| c.family != Family::Control));
    let mut pairs: Vec<(usize, &'static Case, &Client)> = Vec::new();
    for case in &cases {
        for client in &config.clients {
            pairs.push((pairs.len(), case, client));
        }
    }
    let total = pairs.len();
    let finished = Mutex::new(0usize);
    let tell = |run: &CaseRun| {
        let mut n = finished.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        observer.ran(run, *n, total);
    };
    // The controls first, but the recheck, which runs among the cases.
    let first_round = |c: &Case| c.family == Family::Control && c.id != RECHECK;
    let (controls, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(_, c, _)| first_round(c));
    let mut runs = pool(controls, &scratch, config.jobs, &bounds, &tell);
    let mut queue = Vec::new();
    for (n, case, client) in rest {
        match ungraded(case, client, &runs) {
            Some(run) => {
                tell(&run);
                runs.push((n, run));
            }
            None => queue.push((n, case, client)),
        }
    }
    runs.extend(pool(queue, &scratch, config.jobs, &bounds, &tell));
    watch::clean_up();
    if shutdown.is_stopped() {
        return Err(ExamError::Interrupted);
    }
    ungrade_after_recheck(&mut runs);
    runs.sort_by_key(|(n, _)| *n);
    let runs: Vec<CaseRun> = runs.into_iter().map(|(_, r)| r).collect();
    let scores = config.clients.iter().map(|c| card::score(&c.name, &runs)).collect();
    let all: Vec<_> = super::cases::catalog().iter().map(|c| c.info()).collect();
    let meta = Meta {
        flags_version: env!("CARGO_PKG_VERSION").into(),
        catalog: card::fingerprint(&all),
        date,
        host: card::host(),
        deadline_s: config.deadline.as_secs_f64(),
        jobs: config.jobs,
        watch: watch::kind().name().into(),
    };
    Ok(ExamReport {
        schema: card::SCHEMA,
        meta,
        wall_ms: t0.elapsed().as_millis() as u64,
        clients: config.clients.clone(),
        cases: cases.iter().map(|c| c.info()).collect(),
        runs,
        scores,
    })
}

/// Runs `pairs` on `jobs` threads, slow cases first so that the long
/// waits overlap; the runs, numbered as their pairs were.
fn pool(
    mut pairs: Vec<(usize, &'static Case, &Client)>,
    scratch: &Scratch,
    jobs: usize,
    bounds: &Bounds<'_>,
    tell: &(dyn Fn(&CaseRun) + Sync),
) -> Vec<(usize, CaseRun)> {
    // Slow cases first, so that the long waits overlap; otherwise in an
    // order nobody can foresee, so that a client cannot count its way to
    // knowing which case it runs.
    pairs.sort_by_cached_key(|(_, case, _)| (!slow(case), super::script::unpredictable()));
    let total = pairs.len();
    let queue = Mutex::new(VecDeque::from(pairs));
    let results: Mutex<Vec<(usize, CaseRun)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            s.spawn(|| loop {
                if bounds.shutdown.is_stopped() {
                    return;
                }
                let Some((n, case, client)) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else {
                    return;
                };
                let run = one(case, client, scratch, bounds);
                tell(&run);
                results.lock().unwrap_or_else(|e| e.into_inner()).push((n, run));
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// The controls a case rests on: the plain one always, the TLS one for a
/// case over TLS, the HTTP/2 one for a case over HTTP/2.
fn rests_on(case: &Case) -> Vec<&'static str> {
    let mut on = vec!["control/http1"];
    match case.serve {
        Serve::Tls(..) => on.push("control/tls"),
        Serve::H2(_) => on.push("control/http2"),
        _ => {}
    }
    on
}

/// The run of a case by a client that failed a control the case rests on
/// (or None: the case is to be run).
fn ungraded(case: &'static Case, client: &Client, controls: &[(usize, CaseRun)]) -> Option<CaseRun> {
    if !case.needs.met_by(&client.can) {
        return None;
    }
    let failed = rests_on(case).into_iter().find_map(|id| {
        controls
            .iter()
            .map(|(_, r)| r)
            .find(|r| r.client == client.name && r.case == id && r.verdict.grade == Grade::Fail)
    })?;
    let reason = format!("not graded: {} failed ({})", failed.case, failed.verdict.reason);
    let verdict = Verdict { grade: Grade::Ungraded, reason };
    Some(CaseRun { case: case.id.into(), kind: case.kind, client: client.name.clone(), verdict, observed: None })
}

/// The control that runs again among the cases: a client that passes the
/// first controls and then refuses everything is caught by it.
const RECHECK: &str = "control/again";

/// Every case run of a client that failed the recheck is not graded.
fn ungrade_after_recheck(runs: &mut [(usize, CaseRun)]) {
    let failed: Vec<(String, String)> = runs
        .iter()
        .filter(|(_, r)| r.case == RECHECK && r.verdict.grade == Grade::Fail)
        .map(|(_, r)| (r.client.clone(), r.verdict.reason.clone()))
        .collect();
    for (client, reason) in failed {
        for (_, r) in runs.iter_mut().filter(|(_, r)| r.client == client && !r.case.starts_with("control/")) {
            if matches!(r.verdict.grade, Grade::Pass | Grade::Fail | Grade::Info) {
                r.verdict =
                    Verdict { grade: Grade::Ungraded, reason: format!("not graded: {RECHECK} failed ({reason})") };
            }
        }
    }
}

/// True for a case whose server waits or sends for long.
fn slow(case: &Case) -> bool {
    let lines = super::cases::describe(case).join(" ");
    ["hold", "pieces", "without end", "listen queue"].iter().any(|w| lines.contains(w))
}

fn not_applicable(case: &'static Case, client: &Client, why: String) -> CaseRun {
    let verdict = Verdict { grade: Grade::NotApplicable, reason: why };
    CaseRun { case: case.id.into(), kind: case.kind, client: client.name.clone(), verdict, observed: None }
}

/// One run: the case served, the client run, the result graded.
fn one(case: &'static Case, client: &Client, scratch: &Scratch, bounds: &Bounds<'_>) -> CaseRun {
    if !case.needs.met_by(&client.can) {
        let missing = case.needs.missing(&client.can);
        let why = match client.can.tls || !case.needs.tls {
            true => format!("needs {}", missing.join(" and ")),
            false => {
                "skipped: the template has no {cacert}, so the client cannot be told to trust the exam's CA".into()
            }
        };
        return not_applicable(case, client, why);
    }
    match trial(case, client, scratch, bounds) {
        Ok(observed) => {
            let verdict = grade::verdict(case, &observed);
            let kind = grade::counts_as(case, &observed, &verdict);
            CaseRun { case: case.id.into(), kind, client: client.name.clone(), verdict, observed: Some(observed) }
        }
        Err(why) => {
            let verdict = Verdict { grade: Grade::Error, reason: why };
            CaseRun { case: case.id.into(), kind: case.kind, client: client.name.clone(), verdict, observed: None }
        }
    }
}
