//! `flags_threadpool_ac.py`: `submit` + `as_completed`, printing the futures.
//!
//! Five countries and only three workers, so the first three futures are
//! `running` when printed and the last two `pending`.

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use flags::countries::{CountryCode, POP20};
use flags::download::pipeline::gif_path;
use flags::executor::{as_completed, ThreadPoolExecutor};
use flags::http::policy::Want;
use flags::http::{BaseUrl, BlockingClient};
use flags::report::{seed_line, show};
use flags::save::{file_name, save_bytes};

/// Downloads and saves one flag; the error says why not.
fn download_one(client: &BlockingClient, base: &BaseUrl, cc: CountryCode) -> Result<String, String> {
    let image = client.get_bytes(base, &gif_path(cc), Want::Gif).map_err(|e| e.to_string())?;
    save_bytes(Path::new(common::DEST), &file_name(&cc, None), &image).map_err(|e| e.to_string())?;
    show(&cc);
    Ok(cc.to_string())
}

fn main() -> ExitCode {
    let base = match common::setup() {
        Ok(base) => base,
        Err(code) => return code,
    };
    let client = BlockingClient::simple(Duration::from_secs(10), 3);
    let mut cc_list: Vec<CountryCode> = POP20[..5].to_vec();
    cc_list.sort();

    let t0 = Instant::now();
    let executor = ThreadPoolExecutor::new(3);
    let mut to_do = Vec::new();
    for cc in cc_list {
        let (client, base) = (client.clone(), base.clone());
        let future = executor.submit(move || download_one(&client, &base, cc).map_err(|why| (cc, why)));
        println!("Scheduled for {cc}: {future}");
        to_do.push(future);
    }
    let mut count = 0;
    for future in as_completed(&to_do, None) {
        let future = future.expect("no timeout was set");
        match future.result(None).expect("download_one does not panic") {
            Ok(res) => println!("{future} result: {res:?}"),
            Err((cc, why)) => return common::failed(&cc, &base, why),
        }
        count += 1;
    }
    println!("\n{}", seed_line(count, t0.elapsed()));
    ExitCode::SUCCESS
}
