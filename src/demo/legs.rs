//! One style's runs in the demo, either part: the job it is given, the
//! run as a step that Ctrl-C cancels, and its waterfall.

use std::time::Duration;

use super::spec::{DemoConfig, Leg, LegObserver, StyleTimes};
use crate::countries::CountryCode;
use crate::download::{self, Job, RunResult};
use crate::http::BaseUrl;
use crate::shutdown::Shutdown;
use crate::waterfall::Row;

/// Runs `leg` over `codes` from `base` `config.runs` times, telling
/// `observer`: its times and its last run's waterfall, or `None` once
/// `shutdown` is stopped (the run in progress cancelled as `flags get`
/// cancels one, its temporary files removed). `slowest` is the server's
/// longest delay, added to every request's timeout.
pub fn run_leg(
    leg: &Leg,
    (base, slowest): (&BaseUrl, Duration),
    codes: &[CountryCode],
    config: &DemoConfig,
    observer: &dyn LegObserver,
    shutdown: &Shutdown,
) -> Option<StyleTimes> {
    let (mut times, mut waterfall, mut recording) = (Vec::new(), Vec::new(), None);
    for i in 1..=config.runs {
        if shutdown.is_stopped() {
            return None;
        }
        let outcomes = observer.run_started(leg, i, config.runs);
        let mut job = Job::new(base.clone(), config.dest.clone(), leg.concurrency);
        job.timeout = Duration::from_secs(10) + slowest;
        job.stall = job.timeout;
        job.work = leg.work;
        job.names = leg.names;
        let result = download::run(leg.mode, job, codes.to_vec(), outcomes, shutdown);
        observer.run_ended(&result);
        if shutdown.is_stopped() {
            return None;
        }
        times.push(result.elapsed);
        waterfall = waterfall_rows(&result);
        recording = Some(crate::waterfall::exchange::of_run(leg.runner().to_string(), &result, base));
    }
    Some(StyleTimes { mode: leg.runner(), times, waterfall, note: None, recording })
}

/// A run's waterfall: a row per code, in the order they started.
pub fn waterfall_rows(result: &RunResult) -> Vec<Row> {
    let mut rows: Vec<Row> = result
        .done
        .iter()
        .zip(result.timelines())
        .map(|(d, timeline)| Row {
            label: d.cc.to_string(),
            timeline,
            ending: crate::waterfall::exchange::ending_of(&d.outcome),
        })
        .collect();
    rows.sort_by(|a, b| {
        let at = |r: &Row| r.timeline.started.unwrap_or(f64::MAX);
        at(a).total_cmp(&at(b)).then_with(|| a.label.cmp(&b.label))
    });
    rows
}
