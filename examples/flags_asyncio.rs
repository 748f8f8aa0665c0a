//! `flags_asyncio.py`: every request in flight at once, on one thread.
//!
//! One tokio task per flag on a current-thread runtime, the counterpart of
//! asyncio's single event loop; codes print in the order they arrive.

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use flags::countries::{pop20_sorted, CountryCode};
use flags::download::pipeline::gif_path;
use flags::http::policy::Want;
use flags::http::{AsyncClient, BaseUrl};
use flags::report::{seed_line, show};
use flags::save::{file_name, save_bytes};

/// Downloads and saves one flag; on failure, the code and why.
async fn download_one(
    client: AsyncClient,
    base: BaseUrl,
    cc: CountryCode,
) -> Result<CountryCode, (CountryCode, String)> {
    let image = client.get_bytes(&base, &gif_path(cc), Want::Gif).await.map_err(|e| (cc, e.to_string()))?;
    save_bytes(Path::new(common::DEST), &file_name(&cc, None), &image).map_err(|e| (cc, e.to_string()))?;
    show(&cc);
    Ok(cc)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let base = match common::setup() {
        Ok(base) => base,
        Err(code) => return code,
    };
    let cc_list = pop20_sorted();
    let client = AsyncClient::simple(Duration::from_secs(10), cc_list.len());

    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for cc in cc_list {
        tasks.spawn(download_one(client.clone(), base.clone(), cc));
    }
    let mut count = 0;
    while let Some(done) = tasks.join_next().await {
        match done.expect("download_one does not panic") {
            Ok(_) => count += 1,
            // Unlike the book's script, the first failure ends the run cleanly.
            Err((cc, why)) => return common::failed(&cc, &base, why),
        }
    }
    println!("\n{}", seed_line(count, t0.elapsed()));
    ExitCode::SUCCESS
}
