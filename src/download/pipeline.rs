//! What every style does for one code, in two siblings with matching steps:
//! [`fetch_one`] on the calling thread (blocking client) and [`fetch_async`]
//! on tokio (async client).
//!
//! 1. GET `{cc}/{cc}.gif`; when the policy accepts the head, stream the body
//!    into a new [`Part`] in the destination, checking it as it comes.
//! 2. With `names`, GET `{cc}/metadata.json` for the country's name.
//! 3. With `--work`, do the flag's CPU work ([`crate::work`]): on this
//!    thread, or for the async style on the event loop or (`--offload`)
//!    on the blocking pool.
//! 4. Commit the part under the flag's name, unless the run was cancelled.
//!
//! A step that fails in a way that may pass is tried again, `retries`
//! times at most, after [`retry_wait`]; each retry is told to the observer.
//!
//! Both note the code's [`Timeline`] as they go: started, the image
//! request's trace (from the client), released, saved, done.

use std::sync::Arc;
use std::time::Duration;

use super::cancel::Cancel;
use super::job::{Failure, Job, Outcome, Run};
use super::timeline::Timeline;
use crate::countries::CountryCode;
use crate::http::policy::{self, BodyCheck, Checked, Want};
use crate::http::trace::{Stamp, Trace};
use crate::http::{AsyncClient, BlockingClient, FetchError};
use crate::save::{self, CommitError, Part};
use crate::work::{self, Gil};

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

/// The tries of one step of the pipeline for one code. After a failed
/// try it decides whether another follows (see [`retry_wait`]; a cancelled
/// run is not retried), tells the observer, and waits; the blocking and the
/// async pipeline differ only in how they wait.
struct Tries<'r> {
    run: &'r Run,
    cc: CountryCode,
    failed: u32,
}

impl<'r> Tries<'r> {
    fn new(run: &'r Run, cc: CountryCode) -> Self {
        Tries { run, cc, failed: 0 }
    }

    /// After a try failed with `error`: the wait before the next one, or
    /// the failure that ends the step.
    fn next(&mut self, error: &Failure) -> Option<Duration> {
        if self.run.cancel.is_cancelled() {
            return None;
        }
        let wait = retry_wait(self.failed, self.run.job.retries, error)?;
        self.run.observer.retrying(self.cc, self.failed, error, wait);
        self.failed += 1;
        Some(wait)
    }

    /// [`Tries::next`], waiting on this thread: `Ok` to try again, or the
    /// failure that ends the step (a cancel ends the wait).
    fn wait_blocking(&mut self, error: Failure) -> Result<(), Failure> {
        match self.next(&error) {
            Some(wait) if self.run.cancel.sleep(wait) => Ok(()),
            _ => Err(error),
        }
    }

    /// [`Tries::wait_blocking`] for the async pipeline.
    async fn wait(&mut self, error: Failure) -> Result<(), Failure> {
        let Some(wait) = self.next(&error) else { return Err(error) };
        tokio::select! {
            _ = self.run.cancel.cancelled() => Err(error),
            _ = tokio::time::sleep(wait) => Ok(()),
        }
    }
}

/// A file that could not be made or written in the destination.
fn save_error(e: std::io::Error) -> Failure {
    Failure::save("a temporary file", &e)
}

/// The end of the pipeline: the part renamed into place, or why not.
fn commit(part: Part, cc: CountryCode, country: Option<&str>) -> Outcome {
    let name = save::file_name(&cc, country);
    let bytes = part.len() as usize;
    match part.commit(&name) {
        Ok(path) => Outcome::Saved { path, bytes },
        Err(CommitError::Closed) => Outcome::Cancelled,
        Err(CommitError::Io(e)) => Outcome::Failed(Failure::save(name, &e)),
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

/// A flag that has arrived: its part, its bytes when there is work to do
/// on them, and with `names` its country's name.
struct Arrived {
    part: Part,
    flag: Vec<u8>,
    country: Option<String>,
}

/// A body on its way into a new part, checked piece by piece before each
/// piece is written, and kept in memory too when `--work` needs it.
struct Incoming {
    check: BodyCheck,
    part: Part,
    kept: Option<Vec<u8>>,
}

impl Incoming {
    fn new(job: &Job, check: BodyCheck, part: Part) -> Self {
        Incoming { check, part, kept: job.work.map(|_| Vec::new()) }
    }

    fn take(&mut self, piece: &[u8]) -> Result<(), Failure> {
        self.check.take(piece)?;
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(piece);
        }
        self.part.write(piece).map_err(save_error)
    }

    /// The body ended: the flag, if the body is one.
    fn finish(self, trace: &mut Trace) -> Result<Arrived, Failure> {
        trace.body_done = Some(Stamp::now());
        self.check.finish()?;
        Ok(Arrived { part: self.part, flag: self.kept.unwrap_or_default(), country: None })
    }
}

/// The flag's work, when the job asks for some, done on this thread and
/// noted in `timeline`; `false` if the run was stopped during it.
fn work_here(run: &Run, flag: &[u8], timeline: &mut Timeline) -> bool {
    let Some(asked) = run.job.work else { return true };
    timeline.work = work_on(&asked, flag, &run.cancel);
    timeline.work.is_some()
}

/// `asked` for `flag` under this process's GIL, until `cancel` stops it.
fn work_on(asked: &work::Work, flag: &[u8], cancel: &Cancel) -> Option<work::Worked> {
    work::compute(asked, flag, Gil::process(), &|| cancel.is_cancelled())
}

/// The name a finished metadata check found.
fn country_of(check: BodyCheck) -> Result<String, Failure> {
    match check.finish()? {
        Checked::Country(name) => Ok(name),
        Checked::Gif(_) => unreachable!("a metadata check gives a country"),
    }
}

/// The blocking pipeline for one code: fetch, name, commit; noting the
/// steps in `timeline` (from `started` on: the caller queued it).
pub fn fetch_one(client: &BlockingClient, run: &Run, cc: CountryCode, timeline: &mut Timeline) -> Outcome {
    timeline.started = Some(Stamp::now());
    let outcome = match run.cancel.is_cancelled() {
        true => Outcome::Cancelled,
        false => match fetch_blocking(client, run, cc, timeline) {
            Ok(flag) if work_here(run, &flag.flag, timeline) => commit(flag.part, cc, flag.country.as_deref()),
            Ok(_) => Outcome::Cancelled,
            Err(e) => failed(run, e),
        },
    };
    let now = Stamp::now();
    (timeline.released, timeline.done) = (Some(now), Some(now));
    if outcome.saved() {
        timeline.saved = Some(now);
    }
    outcome
}

/// The image, and with `names` the country's name, each fetch tried as
/// [`Tries`] allows.
fn fetch_blocking(
    client: &BlockingClient,
    run: &Run,
    cc: CountryCode,
    timeline: &mut Timeline,
) -> Result<Arrived, Failure> {
    let mut tries = Tries::new(run, cc);
    let flag = loop {
        timeline.attempts += 1;
        match fetch_gif(client, run, cc, &mut timeline.trace) {
            Ok(flag) => break flag,
            Err(e) => tries.wait_blocking(e)?,
        }
    };
    if !run.job.names {
        return Ok(flag);
    }
    let mut tries = Tries::new(run, cc);
    loop {
        match fetch_country(client, &run.job, cc) {
            Ok(name) => return Ok(Arrived { country: Some(name), ..flag }),
            Err(e) => tries.wait_blocking(e)?,
        }
    }
}

/// One GET of the image into a new part.
fn fetch_gif(client: &BlockingClient, run: &Run, cc: CountryCode, trace: &mut Trace) -> Result<Arrived, Failure> {
    let job = &run.job;
    let response = client.get(&job.base, &gif_path(cc), Want::Gif, trace)?;
    let check = BodyCheck::new(Want::Gif, response.head(), job.max_size);
    let mut body = Incoming::new(job, check, run.cancel.gate().create().map_err(save_error)?);
    response.read_body(|piece| body.take(piece))?;
    body.finish(trace)
}

/// One GET of the metadata, for the country's name.
fn fetch_country(client: &BlockingClient, job: &Job, cc: CountryCode) -> Result<String, Failure> {
    let response = client.get(&job.base, &metadata_path(cc), Want::Metadata, &mut Trace::default())?;
    let mut check = BodyCheck::new(Want::Metadata, response.head(), job.max_size);
    response.read_body(|piece| check.take(piece))?;
    country_of(check)
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
    let fetched = tokio::select! {
        biased;
        _ = run.cancel.cancelled() => None,
        fetched = fetch_nonblocking(client, run, cc, timeline) => Some(fetched),
    };
    let outcome = match fetched {
        None => Outcome::Cancelled,
        Some(fetched) => {
            timeline.released = Some(Stamp::now());
            drop(permit);
            match fetched {
                Ok(flag) if !work_async(run, &flag.flag, timeline).await => Outcome::Cancelled,
                // With work done on the event loop, the save follows it
                // there at once, as `flags_asyncio.py`'s `save_flag` does:
                // handed to the pool, it waited for every other flag's work.
                Ok(flag) if on_the_loop(run) => commit(flag.part, cc, flag.country.as_deref()),
                Ok(flag) => {
                    // Renaming can block on the file system: off the event loop.
                    tokio::task::spawn_blocking(move || commit(flag.part, cc, flag.country.as_deref()))
                        .await
                        .unwrap_or_else(|e| Outcome::Failed(Failure::Worker(format!("the save task failed: {e}"))))
                }
                Err(e) => failed(run, e),
            }
        }
    };
    timeline.done = Some(Stamp::now());
    if outcome.saved() {
        timeline.saved = timeline.done;
    }
    outcome
}

/// True when `--work` runs on the event loop itself (not offloaded).
fn on_the_loop(run: &Run) -> bool {
    run.job.work.is_some_and(|w| !w.offload)
}

/// [`work_here`] for the async pipeline: on the event loop itself,
/// blocking it as a coroutine that computes does, or with `--offload` on
/// the blocking pool while the loop goes on.
async fn work_async(run: &Run, flag: &[u8], timeline: &mut Timeline) -> bool {
    match run.job.work {
        Some(asked) if asked.offload => {
            let (cancel, flag) = (Arc::clone(&run.cancel), flag.to_vec());
            let offloaded = tokio::task::spawn_blocking(move || work_on(&asked, &flag, &cancel));
            timeline.work = offloaded.await.ok().flatten();
            timeline.work.is_some()
        }
        _ => work_here(run, flag, timeline),
    }
}

/// [`fetch_blocking`]'s fetches, async.
async fn fetch_nonblocking(
    client: &AsyncClient,
    run: &Run,
    cc: CountryCode,
    timeline: &mut Timeline,
) -> Result<Arrived, Failure> {
    let mut tries = Tries::new(run, cc);
    let flag = loop {
        timeline.attempts += 1;
        match fetch_gif_async(client, run, cc, &mut timeline.trace).await {
            Ok(flag) => break flag,
            Err(e) => tries.wait(e).await?,
        }
    };
    if !run.job.names {
        return Ok(flag);
    }
    let mut tries = Tries::new(run, cc);
    loop {
        match fetch_country_async(client, &run.job, cc).await {
            Ok(name) => return Ok(Arrived { country: Some(name), ..flag }),
            Err(e) => tries.wait(e).await?,
        }
    }
}

/// One GET of the image into a new part, async.
async fn fetch_gif_async(
    client: &AsyncClient,
    run: &Run,
    cc: CountryCode,
    trace: &mut Trace,
) -> Result<Arrived, Failure> {
    let job = &run.job;
    let response = client.get(&job.base, &gif_path(cc), Want::Gif, trace).await?;
    let check = BodyCheck::new(Want::Gif, response.head(), job.max_size);
    // Creating a file can block (the file system looking for a free
    // inode): off the event loop. Writes go to the page cache.
    let gate = Arc::clone(run.cancel.gate());
    let part = tokio::task::spawn_blocking(move || gate.create())
        .await
        .map_err(|e| Failure::Worker(format!("the save task failed: {e}")))?
        .map_err(save_error)?;
    let mut body = Incoming::new(job, check, part);
    response.read_body(|piece| body.take(piece)).await?;
    body.finish(trace)
}

/// One GET of the metadata, async.
async fn fetch_country_async(client: &AsyncClient, job: &Job, cc: CountryCode) -> Result<String, Failure> {
    let response = client.get(&job.base, &metadata_path(cc), Want::Metadata, &mut Trace::default()).await?;
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
        Run {
            job: Arc::new(job),
            observer: Arc::new(super::super::job::Quiet),
            cancel: super::super::cancel::Cancel::new(dir),
        }
    }

    /// Tries `failures` in turn as async tries do, then succeeds: how many
    /// tries were made, or the failure that ended them.
    async fn try_async(run: &Run, failures: &[Failure]) -> Result<usize, Failure> {
        let mut tries = Tries::new(run, CountryCode::of("BR"));
        for failure in failures {
            tries.wait(failure.clone()).await?;
        }
        Ok(failures.len() + 1)
    }

    #[tokio::test(start_paused = true)]
    async fn async_retries_wait_as_the_server_asked_in_paused_time() {
        let dir = tempfile::tempdir().unwrap();
        let run = quiet_run(dir.path(), 3);
        let busy = Failure::Fetch(FetchError::Http { status: 503, retry_after: Some(2) });
        let started = tokio::time::Instant::now();
        assert_eq!(try_async(&run, &[busy.clone(), busy]).await.ok(), Some(3));
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
        let busy = Failure::Fetch(FetchError::Http { status: 503, retry_after: Some(10) });
        assert!(try_async(&run, &[busy.clone(), busy.clone(), busy]).await.is_err());
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

    #[test]
    fn a_retry_after_is_honoured_up_to_ten_seconds() {
        let hour = Failure::Fetch(FetchError::Http { status: 503, retry_after: Some(3600) });
        assert_eq!(retry_wait(0, 3, &hour), Some(Duration::from_secs(10)));
        let two = Failure::Fetch(FetchError::Http { status: 429, retry_after: Some(2) });
        assert_eq!(retry_wait(0, 3, &two), Some(Duration::from_secs(2)));
    }
}
