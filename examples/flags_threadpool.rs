//! `flags_threadpool.py`: the same downloads through `ThreadPoolExecutor::map`.
//!
//! `download_one` is the body of `flags.rs`'s loop; the executor calls it
//! from up to 20 threads at once.

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use flags::countries::{pop20_sorted, CountryCode};
use flags::download::pipeline::gif_path;
use flags::executor::ThreadPoolExecutor;
use flags::http::policy::Want;
use flags::http::{BaseUrl, BlockingClient};
use flags::report::{seed_line, show};
use flags::save::{file_name, save_bytes};

const MAX_WORKERS: usize = 20;

/// Downloads and saves one flag; on failure, the code and why.
fn download_one(
    client: &BlockingClient,
    base: &BaseUrl,
    cc: CountryCode,
) -> Result<CountryCode, (CountryCode, String)> {
    let image = client.get_bytes(base, &gif_path(cc), Want::Gif).map_err(|e| (cc, e.to_string()))?;
    save_bytes(Path::new(common::DEST), &file_name(&cc, None), &image).map_err(|e| (cc, e.to_string()))?;
    show(&cc);
    Ok(cc)
}

fn main() -> ExitCode {
    let base = match common::setup() {
        Ok(base) => base,
        Err(code) => return code,
    };
    let cc_list = pop20_sorted();
    let workers = MAX_WORKERS.min(cc_list.len());
    let client = BlockingClient::simple(Duration::from_secs(10), workers);

    let t0 = Instant::now();
    let executor = ThreadPoolExecutor::new(workers);
    let job_base = base.clone();
    let results = executor.map(move |cc| download_one(&client, &job_base, cc), cc_list);
    let mut count = 0;
    for result in results {
        match result.expect("download_one does not panic") {
            Ok(_) => count += 1,
            Err((cc, why)) => return common::failed(&cc, &base, why),
        }
    }
    println!("\n{}", seed_line(count, t0.elapsed()));
    ExitCode::SUCCESS
}
