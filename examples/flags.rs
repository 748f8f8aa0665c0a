//! `flags.py`: download the POP20 flags one after another.
//!
//! Start a server first (`flags serve --delay 0.35`), then
//! `cargo run --release --example flags`. `FLAGS_BASE_URL` picks another server.

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use flags::countries::pop20_sorted;
use flags::download::pipeline::gif_path;
use flags::http::policy::Want;
use flags::http::BlockingClient;
use flags::report::{seed_line, show};
use flags::save::{file_name, save_bytes};

fn main() -> ExitCode {
    let base = match common::setup() {
        Ok(base) => base,
        Err(code) => return code,
    };
    let client = BlockingClient::simple(Duration::from_secs(10), 1);

    let t0 = Instant::now();
    let mut count = 0;
    for cc in pop20_sorted() {
        let image = match client.get_bytes(&base, &gif_path(cc), Want::Gif) {
            Ok(image) => image,
            Err(e) => return common::failed(&cc, &base, e),
        };
        if let Err(e) = save_bytes(Path::new(common::DEST), &file_name(&cc, None), &image) {
            return common::failed(&cc, &base, e);
        }
        show(&cc);
        count += 1;
    }
    println!("\n{}", seed_line(count, t0.elapsed()));
    ExitCode::SUCCESS
}
