//! `flags_threadpool_ac.py`: `submit` + `as_completed`, printing the futures.
//!
//! Five countries and only three workers, so the first three futures are
//! `running` when printed and the last two `pending`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flags::countries::POP20;
use flags::executor::{as_completed, ThreadPoolExecutor};
use flags::http::{flag_url, BlockingClient};
use flags::report::{seed_line, show};
use flags::save::{file_name, prepare_dest, save_atomic};

fn download_one(client: &BlockingClient, base: &str, cc: &str) -> String {
    let image = client.get(&flag_url(base, cc)).expect("download failed");
    save_atomic(Path::new("downloads"), &file_name(cc, None), &image).expect("save failed");
    show(cc);
    cc.to_string()
}

fn main() {
    let base: Arc<str> = flags::examples_base_url().into();
    prepare_dest(Path::new("downloads")).expect("downloads/ is writable");
    let client = BlockingClient::new(Duration::from_secs(10), 3);
    let mut cc_list: Vec<&str> = POP20[..5].to_vec();
    cc_list.sort();

    let t0 = Instant::now();
    let executor = ThreadPoolExecutor::new(3);
    let mut to_do = Vec::new();
    for cc in cc_list {
        let (client, base) = (client.clone(), base.clone());
        let future = executor.submit(move || download_one(&client, &base, cc));
        println!("Scheduled for {cc}: {future}");
        to_do.push(future);
    }
    let mut count = 0;
    for future in as_completed(&to_do, None) {
        let future = future.expect("no timeout was set");
        let res = future.result(None).expect("a download panicked");
        println!("{future} result: {res:?}");
        count += 1;
    }
    println!("\n{}", seed_line(count, t0.elapsed()));
}
