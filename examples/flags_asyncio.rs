//! `flags_asyncio.py`: every request in flight at once, on one thread.
//!
//! One tokio task per flag on a current-thread runtime, the counterpart of
//! asyncio's single event loop; codes print in the order they arrive.

use std::path::Path;
use std::time::{Duration, Instant};

use flags::countries::pop20_sorted;
use flags::http::{flag_url, AsyncClient};
use flags::report::{seed_line, show};
use flags::save::{file_name, prepare_dest, save_atomic};

async fn download_one(client: AsyncClient, base: String, cc: String) -> String {
    let image = client.get(&flag_url(&base, &cc)).await.expect("download failed");
    save_atomic(Path::new("downloads"), &file_name(&cc, None), &image).expect("save failed");
    show(&cc);
    cc
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let base = flags::examples_base_url();
    prepare_dest(Path::new("downloads")).expect("downloads/ is writable");
    let cc_list = pop20_sorted();
    let client = AsyncClient::new(Duration::from_secs(10), cc_list.len());

    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for cc in cc_list {
        tasks.spawn(download_one(client.clone(), base.clone(), cc));
    }
    let count = tasks.join_all().await.len();
    println!("\n{}", seed_line(count, t0.elapsed()));
}
