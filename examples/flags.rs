//! `flags.py`: download the POP20 flags one after another.
//!
//! Start a server first (`flags serve --delay 0.35`), then
//! `cargo run --release --example flags`. `FLAGS_BASE_URL` picks another server.

use std::time::Instant;

use flags::countries::pop20_sorted;
use flags::http::{flag_url, BlockingClient};
use flags::report::{seed_line, show};
use flags::save::{file_name, prepare_dest, save_atomic};

fn main() {
    let base = flags::examples_base_url();
    let dest = std::path::Path::new("downloads");
    prepare_dest(dest).expect("downloads/ is writable");
    let client = BlockingClient::new(std::time::Duration::from_secs(10), 1);

    let t0 = Instant::now();
    let mut count = 0;
    for cc in pop20_sorted() {
        let image = client.get(&flag_url(&base, &cc)).expect("download failed");
        save_atomic(dest, &file_name(&cc, None), &image).expect("save failed");
        show(&cc);
        count += 1;
    }
    println!("\n{}", seed_line(count, t0.elapsed()));
}
