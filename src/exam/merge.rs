//! Reports made on several machines, one card: a CI matrix runs one client
//! per job with `flags exam --json`, and `flags exam merge` puts the
//! reports together as if one exam had graded every client.
//!
//! Reports merge when they have the same layout ([`SCHEMA`]), graded the
//! same catalog (the same [`Meta::catalog`] fingerprint) and no client
//! twice. The merged report has the clients in the order the reports
//! came, the first report's cases, its runs case by case and then client
//! by client, scores counted again, and the first report's metadata but
//! for the host (every report's, once each) and the wall time (the
//! longest).

use std::path::Path;

use super::card::{self, ExamReport, SCHEMA};

#[cfg(doc)]
use super::card::Meta;

/// Why reports cannot be read or merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no report to merge")]
    Empty,
    #[error("cannot read {from}: {why}")]
    Read { from: String, why: std::io::Error },
    #[error("{from} is not a report of flags exam --json: {why}")]
    Json { from: String, why: serde_json::Error },
    #[error("{from} has the report layout {found}, and this flags reads layout {SCHEMA}: make it again with this flags exam --json")]
    Schema { from: String, found: String },
    #[error(
        "{from} graded another catalog ({found}) than {first} ({expected}): run every job with the same flags and the same --cases"
    )]
    Catalog { from: String, found: String, first: String, expected: String },
    #[error("{from} and {first} both graded a client named {client}: give each job its own clients")]
    Client { from: String, first: String, client: String },
}

/// Reads a report that `flags exam --json` wrote to `path`. Its layout is
/// checked before anything else, so that a report of another version is
/// named as such rather than as a missing field.
pub fn read(path: &Path) -> Result<ExamReport, MergeError> {
    let from = path.display().to_string();
    let text = std::fs::read(path).map_err(|why| MergeError::Read { from: from.clone(), why })?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|why| MergeError::Json { from: from.clone(), why })?;
    match value.get("schema").and_then(|s| s.as_u64()) {
        Some(s) if s == SCHEMA as u64 => {}
        _ => {
            let found = value.get("schema").map_or("(none)".into(), |s| s.to_string());
            return Err(MergeError::Schema { from, found });
        }
    }
    serde_json::from_value(value).map_err(|why| MergeError::Json { from, why })
}

/// One report from `reports`, each given with where it came from (a file
/// name, for the errors). A single report comes back as it was, but for
/// its order and scores.
pub fn merge(reports: Vec<(String, ExamReport)>) -> Result<ExamReport, MergeError> {
    let mut reports = reports.into_iter();
    let (first_from, mut merged) = reports.next().ok_or(MergeError::Empty)?;
    let mut owner: Vec<(String, String)> =
        merged.clients.iter().map(|c| (c.name.clone(), first_from.clone())).collect();
    for (from, report) in reports {
        if report.schema != merged.schema {
            return Err(MergeError::Schema { from, found: report.schema.to_string() });
        }
        if report.meta.catalog != merged.meta.catalog {
            return Err(MergeError::Catalog {
                from,
                found: report.meta.catalog,
                first: first_from,
                expected: merged.meta.catalog,
            });
        }
        for c in &report.clients {
            if let Some((_, first)) = owner.iter().find(|(name, _)| *name == c.name) {
                return Err(MergeError::Client { from, first: first.clone(), client: c.name.clone() });
            }
            owner.push((c.name.clone(), from.clone()));
        }
        let hosts: Vec<&str> = merged.meta.host.split(", ").collect();
        if !hosts.contains(&report.meta.host.as_str()) {
            merged.meta.host = format!("{}, {}", merged.meta.host, report.meta.host);
        }
        merged.wall_ms = merged.wall_ms.max(report.wall_ms);
        merged.clients.extend(report.clients);
        merged.runs.extend(report.runs);
    }
    let case_at = |id: &str| merged.cases.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    let client_at = |name: &str| merged.clients.iter().position(|c| c.name == name).unwrap_or(usize::MAX);
    let mut runs = std::mem::take(&mut merged.runs);
    runs.sort_by_cached_key(|r| (case_at(&r.case), client_at(&r.client)));
    merged.scores = merged.clients.iter().map(|c| card::score(&c.name, &runs)).collect();
    merged.runs = runs;
    Ok(merged)
}

/// A report of the `runs` given as (client, case, grade, reason), for the
/// tests of what is made from reports.
#[cfg(test)]
pub(crate) fn sample(runs: &[(&str, &str, super::Grade, &str)]) -> ExamReport {
    use super::case::{CaseInfo, Expect, Family, Kind, Needs};
    use super::{CaseRun, Client, Verdict};
    let mut clients: Vec<Client> = Vec::new();
    let mut cases: Vec<CaseInfo> = Vec::new();
    for (client, case, _, _) in runs {
        if !clients.iter().any(|c| c.name == *client) {
            clients.push(Client::new(client, "get {url}", None, false).expect("a client"));
        }
        if !cases.iter().any(|c| c.id == *case) {
            cases.push(CaseInfo {
                id: case.to_string(),
                family: Family::Framing,
                kind: Kind::Protocol,
                expect: Expect::Saved,
                needs: Needs::default(),
                about: String::new(),
                why: String::new(),
                server: Vec::new(),
                codes: vec!["br".into()],
            });
        }
    }
    let runs: Vec<CaseRun> = runs
        .iter()
        .map(|(client, case, grade, reason)| CaseRun {
            case: case.to_string(),
            kind: Kind::Protocol,
            client: client.to_string(),
            verdict: Verdict { grade: *grade, reason: reason.to_string() },
            observed: None,
        })
        .collect();
    let meta = card::Meta {
        flags_version: "0.0.0".into(),
        catalog: card::fingerprint(&cases),
        date: "Thu, 01 Jan 1970 00:00:00 GMT".into(),
        host: "box (linux x86_64)".into(),
        deadline_s: 20.0,
        jobs: 1,
        watch: "group".into(),
    };
    let scores = clients.iter().map(|c| card::score(&c.name, &runs)).collect();
    ExamReport { schema: SCHEMA, meta, wall_ms: 1000, clients, cases, runs, scores }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exam::Grade::{Fail, Info, Pass};

    fn graded(r: &ExamReport) -> Vec<(String, String, crate::exam::Grade)> {
        r.runs.iter().map(|r| (r.case.clone(), r.client.clone(), r.verdict.grade)).collect()
    }

    #[test]
    fn reports_of_one_client_each_merge_into_the_report_of_both() {
        let both = sample(&[
            ("x", "a/1", Pass, "ok"),
            ("y", "a/1", Fail, "no"),
            ("x", "a/2", Info, "accepted: ok"),
            ("y", "a/2", Pass, "ok"),
        ]);
        let mut x = sample(&[("x", "a/1", Pass, "ok"), ("x", "a/2", Info, "accepted: ok")]);
        let mut y = sample(&[("y", "a/1", Fail, "no"), ("y", "a/2", Pass, "ok")]);
        y.meta.host = "other (linux aarch64)".into();
        y.wall_ms = 5000;
        x.wall_ms = 10;
        let merged = merge(vec![("x.json".into(), x), ("y.json".into(), y)]).unwrap();
        assert_eq!(graded(&merged), graded(&both));
        assert_eq!(merged.scores, both.scores);
        assert_eq!(merged.meta.host, "box (linux x86_64), other (linux aarch64)");
        assert_eq!(merged.wall_ms, 5000);
        assert!(merged.failed());
    }

    #[test]
    fn reports_that_do_not_fit_together_are_refused() {
        let x = || sample(&[("x", "a/1", Pass, "ok")]);
        let other = sample(&[("y", "a/2", Pass, "ok")]);
        let e = merge(vec![("x.json".into(), x()), ("y.json".into(), other)]).unwrap_err();
        assert!(matches!(e, MergeError::Catalog { .. }), "{e}");
        assert!(e.to_string().starts_with("y.json graded another catalog"), "{e}");
        let e = merge(vec![("1.json".into(), x()), ("2.json".into(), x())]).unwrap_err();
        assert_eq!(e.to_string(), "2.json and 1.json both graded a client named x: give each job its own clients");
        assert!(matches!(merge(vec![]), Err(MergeError::Empty)));
    }
}
