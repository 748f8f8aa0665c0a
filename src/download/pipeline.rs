//! What every style does for one code, in two siblings with matching steps:
//! [`fetch_one`] on the calling thread (blocking client) and [`fetch_async`]
//! on tokio (async client).
//!
//! 1. GET `{cc}/{cc}.gif`; when the policy accepts the head, stream the body
//!    into a new [`Part`] in the destination, checking it as it comes.
//! 2. With `names`, GET `{cc}/metadata.json` for the country's name.
//! 3. Commit the part under the flag's name, unless the run was cancelled.
//!
//! A step that fails in a way that may pass is tried again, `retries`
//! times at most, after [`retry_wait`]; each retry is told to the sink.
//!
//! Both note the code's [`Timeline`] as they go: started, the image
//! request's trace (from the client), released, saved, done.

use std::sync::Arc;
use std::time::Duration;

use super::job::{Failure, Job, Outcome, Run};
use super::timeline::Timeline;
use crate::countries::CountryCode;
use crate::http::policy::{self, BodyCheck, Checked, Want};
use crate::http::trace::{Stamp, Trace};
use crate::http::{AsyncClient, BlockingClient, FetchError};
use crate::save::{self, CommitError, Gate, Part};

/// The path of a flag's image under the base: `br/br.gif`.
pub fn gif_path(cc: CountryCode) -> String {
    let cc = cc.lower();
    format!("{cc}/{cc}.gif")
}

/// The path of a flag's metadata under the base: `br/metadata.json`.
pub fn metadata_path(cc: CountryCode) -> String {
    format!("{}/metadata.json", cc.lower())
}

/// How long to wait before try `attempt + 1` (attempt 0 failed first), or
/// `None` to give up: not transient, or out of retries. Exponential backoff
/// from 100 ms, capped at 5 s, with jitter (x0.5..1.5); a `Retry-After`
/// from the server is honoured up to 10 s.
pub fn retry_wait(attempt: u32, retries: u32, error: &Failure) -> Option<Duration> {
    use std::hash::{BuildHasher, Hasher};
    let Failure::Fetch(error) = error else { return None };
    if attempt >= retries || !policy::transient(error) {
        return None;
    }
    let backoff = Duration::from_millis(100).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(5));
    let jitter = 0.5 + (std::collections::hash_map::RandomState::new().build_hasher().finish() % 1000) as f64 / 1000.0;
    let wait = backoff.mul_f64(jitter);
    Some(match error.retry_after() {
        Some(asked) => wait.max(asked.min(Duration::from_secs(10))),
        None => wait,
    })
}

/// After try `attempt` failed with `error`: how long to wait before the
/// next one (and the sink is told), or `None` to give up. A cancelled run
/// is not retried.
fn next_try(run: &Run, cc: CountryCode, attempt: u32, error: &Failure) -> Option<Duration> {
    if run.cancel.is_cancelled() {
        return None;
    }
    let wait = retry_wait(attempt, run.job.retries, error)?;
    run.sink.retrying(cc, attempt, error, wait);
    Some(wait)
}

/// A file that could not be made or written in the destination.
fn save_error(e: std::io::Error) -> Failure {
    Failure::Save { name: "a temporary file".into(), source: Arc::new(e) }
}

/// The end of the pipeline: the part renamed into place, or why not.
fn commit(part: Part, cc: CountryCode, country: Option<&str>) -> Outcome {
    let name = save::file_name(&cc, country);
    let bytes = part.len() as usize;
    match part.commit(&name) {
        Ok(path) => Outcome::Saved { path, bytes },
        Err(CommitError::Closed) => Outcome::Cancelled,
        Err(CommitError::Io(e)) => Outcome::Failed(Failure::Save { name, source: Arc::new(e) }),
    }
}

/// What a failure means for the code: cancelled if the run was.
fn failed(run: &Run, error: Failure) -> Outcome {
    match error {
        _ if run.cancel.is_cancelled() => Outcome::Cancelled,
        Failure::Fetch(FetchError::NotFound) => Outcome::NotFound,
        e => Outcome::Failed(e),
    }
}

/// The blocking pipeline for one code: fetch, name, commit; noting the
/// steps in `timeline` (from `started` on: the caller queued it).
pub fn fetch_one(client: &BlockingClient, run: &Run, cc: CountryCode, timeline: &mut Timeline) -> Outcome {
    timeline.started = Some(Stamp::now());
    let outcome = fetch_one_steps(client, run, cc, timeline);
    let now = Stamp::now();
    (timeline.released, timeline.done) = (Some(now), Some(now));
    if outcome.saved() {
        timeline.saved = Some(now);
    }
    outcome
}

fn fetch_one_steps(client: &BlockingClient, run: &Run, cc: CountryCode, timeline: &mut Timeline) -> Outcome {
    if run.cancel.is_cancelled() {
        return Outcome::Cancelled;
    }
    let fetched = with_retries(run, cc, || {
        timeline.attempts += 1;
        fetch_gif(client, &run.job, run.cancel.gate(), cc, &mut timeline.trace)
    });
    let part = match fetched {
        Ok(part) => part,
        Err(e) => return failed(run, e),
    };
    let country = match run.job.names {
        false => None,
        true => match with_retries(run, cc, || fetch_country(client, &run.job, cc)) {
            Ok(name) => Some(name),
            Err(e) => return failed(run, e),
        },
    };
    commit(part, cc, country.as_deref())
}

/// Runs `attempt` until it succeeds, fails for good, or the retries run out.
fn with_retries<T>(run: &Run, cc: CountryCode, mut attempt: impl FnMut() -> Result<T, Failure>) -> Result<T, Failure> {
    let mut tries = 0;
    loop {
        let error = match attempt() {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let wait = next_try(run, cc, tries, &error).ok_or_else(|| error.clone())?;
        if !run.cancel.sleep(wait) {
            return Err(error);
        }
        tries += 1;
    }
}

/// One GET of the image into a new part.
fn fetch_gif(
    client: &BlockingClient,
    job: &Job,
    gate: &Arc<Gate>,
    cc: CountryCode,
    trace: &mut Trace,
) -> Result<Part, Failure> {
    let response = client.get_traced(&job.base, &gif_path(cc), Want::Gif, job.max_size, trace)?;
    let mut check = BodyCheck::new(Want::Gif, response.head(), job.max_size);
    let mut part = gate.create().map_err(save_error)?;
    response.read_body(|piece| {
        check.take(piece)?;
        part.write(piece).map_err(save_error)
    })?;
    trace.body_done = Some(Stamp::now());
    check.finish()?;
    Ok(part)
}

/// One GET of the metadata, for the country's name.
fn fetch_country(client: &BlockingClient, job: &Job, cc: CountryCode) -> Result<String, Failure> {
    let response = client.get(&job.base, &metadata_path(cc), Want::Metadata, job.max_size)?;
    let mut check = BodyCheck::new(Want::Metadata, response.head(), job.max_size);
    response.read_body(|piece| check.take(piece))?;
    country_of(check)
}

/// The name a finished metadata check found.
fn country_of(check: BodyCheck) -> Result<String, Failure> {
    match check.finish()? {
        Checked::Country(name) => Ok(name),
        Checked::Gif(_) => unreachable!("a metadata check gives a country"),
    }
}

/// The async pipeline for one code, the same steps as [`fetch_one`].
/// `permit` (the caller's place among the requests in flight) is dropped
/// once the answers are read, before the file is renamed, so a slow disk
/// never holds back the next request. A cancel ends it at once; the commit
/// at the end is not cancellable, and a closed gate makes it
/// [`Outcome::Cancelled`].
pub async fn fetch_async<P>(
    client: &AsyncClient,
    run: &Run,
    cc: CountryCode,
    permit: P,
    timeline: &mut Timeline,
) -> Outcome {
    timeline.started = Some(Stamp::now());
    let outcome = fetch_async_steps(client, run, cc, permit, timeline).await;
    timeline.done = Some(Stamp::now());
    if outcome.saved() {
        timeline.saved = timeline.done;
    }
    outcome
}

async fn fetch_async_steps<P>(
    client: &AsyncClient,
    run: &Run,
    cc: CountryCode,
    permit: P,
    timeline: &mut Timeline,
) -> Outcome {
    // Each try's future borrows these while the next is made.
    let (attempts, trace) = (std::sync::atomic::AtomicU32::new(0), std::sync::Mutex::new(Trace::default()));
    let fetched = async {
        let part = with_retries_async(run, cc, || {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            fetch_gif_async(client, run, cc, &trace)
        })
        .await?;
        let country = match run.job.names {
            false => None,
            true => Some(with_retries_async(run, cc, || fetch_country_async(client, &run.job, cc)).await?),
        };
        Ok::<_, Failure>((part, country))
    };
    let fetched = tokio::select! {
        biased;
        _ = run.cancel.cancelled() => None,
        fetched = fetched => Some(fetched),
    };
    timeline.attempts = attempts.into_inner();
    timeline.trace = trace.into_inner().unwrap_or_else(|e| e.into_inner());
    let Some(fetched) = fetched else { return Outcome::Cancelled };
    timeline.released = Some(Stamp::now());
    drop(permit);
    match fetched {
        Ok((part, country)) => {
            // Renaming can block on the file system: off the event loop.
            tokio::task::spawn_blocking(move || commit(part, cc, country.as_deref()))
                .await
                .unwrap_or_else(|e| Outcome::Failed(Failure::Worker(format!("the save task failed: {e}"))))
        }
        Err(e) => failed(run, e),
    }
}

/// [`with_retries`] for async attempts; a cancel ends the wait.
async fn with_retries_async<T, F, A>(run: &Run, cc: CountryCode, mut attempt: A) -> Result<T, Failure>
where
    A: FnMut() -> F,
    F: std::future::Future<Output = Result<T, Failure>>,
{
    let mut tries = 0;
    loop {
        let error = match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let wait = next_try(run, cc, tries, &error).ok_or_else(|| error.clone())?;
        tokio::select! {
            _ = run.cancel.cancelled() => return Err(error),
            _ = tokio::time::sleep(wait) => {}
        }
        tries += 1;
    }
}

/// One GET of the image into a new part, async; its trace goes to `noted`.
async fn fetch_gif_async(
    client: &AsyncClient,
    run: &Run,
    cc: CountryCode,
    noted: &std::sync::Mutex<Trace>,
) -> Result<Part, Failure> {
    let mut trace = Trace::default();
    let fetched = fetch_gif_traced(client, run, cc, &mut trace).await;
    *noted.lock().unwrap_or_else(|e| e.into_inner()) = trace;
    fetched
}

async fn fetch_gif_traced(
    client: &AsyncClient,
    run: &Run,
    cc: CountryCode,
    trace: &mut Trace,
) -> Result<Part, Failure> {
    let job = &run.job;
    let response = client.get_traced(&job.base, &gif_path(cc), Want::Gif, job.max_size, trace).await?;
    let mut check = BodyCheck::new(Want::Gif, response.head(), job.max_size);
    // Creating a file can block (the file system looking for a free
    // inode): off the event loop. Writes go to the page cache.
    let gate = Arc::clone(run.cancel.gate());
    let mut part = tokio::task::spawn_blocking(move || gate.create())
        .await
        .map_err(|e| Failure::Worker(format!("the save task failed: {e}")))?
        .map_err(save_error)?;
    response
        .read_body(|piece| {
            check.take(piece)?;
            part.write(piece).map_err(save_error)
        })
        .await?;
    trace.body_done = Some(Stamp::now());
    check.finish()?;
    Ok(part)
}

/// One GET of the metadata, async.
async fn fetch_country_async(client: &AsyncClient, job: &Job, cc: CountryCode) -> Result<String, Failure> {
    let response = client.get(&job.base, &metadata_path(cc), Want::Metadata, job.max_size).await?;
    let mut check = BodyCheck::new(Want::Metadata, response.head(), job.max_size);
    response.read_body(|piece| check.take(piece)).await?;
    country_of(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_books_layout() {
        assert_eq!(gif_path(CountryCode::of("BR")), "br/br.gif");
        assert_eq!(metadata_path(CountryCode::of("BR")), "br/metadata.json");
    }

    /// A run that goes nowhere, for the retry loop alone.
    fn quiet_run(dir: &std::path::Path, retries: u32) -> Run {
        let mut job = Job::new("http://127.0.0.1:9/flags".parse().unwrap(), dir, 1);
        job.retries = retries;
        Run { job: Arc::new(job), sink: Arc::new(super::super::job::Quiet), cancel: super::super::Cancel::new(dir) }
    }

    #[tokio::test(start_paused = true)]
    async fn async_retries_wait_as_the_server_asked_in_paused_time() {
        let dir = tempfile::tempdir().unwrap();
        let run = quiet_run(dir.path(), 3);
        let tries = std::sync::atomic::AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = with_retries_async(&run, CountryCode::of("BR"), || async {
            match tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 | 1 => Err(Failure::Fetch(FetchError::Http { status: 503, retry_after: Some(2) })),
                _ => Ok(()),
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(tries.into_inner(), 3);
        // Two waits of the 2 s asked for, in time that only the test clock spent.
        assert!(started.elapsed() >= Duration::from_secs(4), "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancel_ends_the_wait_between_tries() {
        let dir = tempfile::tempdir().unwrap();
        let run = quiet_run(dir.path(), 3);
        let cancel = Arc::clone(&run.cancel);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            cancel.cancel();
        });
        let started = tokio::time::Instant::now();
        let result: Result<(), Failure> = with_retries_async(&run, CountryCode::of("BR"), || async {
            Err(Failure::Fetch(FetchError::Http { status: 503, retry_after: Some(10) }))
        })
        .await;
        assert!(result.is_err());
        assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
    }

    #[test]
    fn retries_only_what_may_pass() {
        let busy = Failure::Fetch(FetchError::Http { status: 503, retry_after: Some(3) });
        assert!(retry_wait(0, 2, &busy).unwrap() >= Duration::from_secs(3));
        assert!(retry_wait(2, 2, &busy).is_none(), "out of retries");
        assert!(retry_wait(0, 2, &Failure::Fetch(FetchError::NotFound)).is_none());
        let w = retry_wait(1, 5, &Failure::Fetch(FetchError::Timeout { answered: true })).unwrap();
        assert!(w >= Duration::from_millis(100) && w <= Duration::from_millis(300), "{w:?}");
    }
}
