//! `flags_threadpool.py`: the same downloads through `ThreadPoolExecutor::map`.
//!
//! `download_one` is the body of `flags.rs`'s loop; the executor calls it
//! from up to 20 threads at once.

use std::path::Path;
use std::time::{Duration, Instant};

use flags::countries::pop20_sorted;
use flags::executor::ThreadPoolExecutor;
use flags::http::{flag_url, BlockingClient};
use flags::report::{seed_line, show};
use flags::save::{file_name, prepare_dest, save_atomic};

const MAX_WORKERS: usize = 20;

fn download_one(client: &BlockingClient, base: &str, cc: String) -> String {
    let image = client.get(&flag_url(base, &cc)).expect("download failed");
    save_atomic(Path::new("downloads"), &file_name(&cc, None), &image).expect("save failed");
    show(&cc);
    cc
}

fn main() {
    let base = flags::examples_base_url();
    prepare_dest(Path::new("downloads")).expect("downloads/ is writable");
    let cc_list = pop20_sorted();
    let workers = MAX_WORKERS.min(cc_list.len());
    let client = BlockingClient::new(Duration::from_secs(10), workers);

    let t0 = Instant::now();
    let executor = ThreadPoolExecutor::new(workers);
    let results = executor.map(move |cc| download_one(&client, &base, cc), cc_list);
    let count = results.collect::<Result<Vec<_>, _>>().expect("a download panicked").len();
    println!("\n{}", seed_line(count, t0.elapsed()));
}
