//! Test helpers: a flag server on a free loopback port, and checks on what
//! a download left on disk.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use flags::server::{self, Delay, RunningServer, ServerConfig};

/// The `flags` binary, which process pools must run as their workers.
pub const FLAGS_EXE: &str = env!("CARGO_BIN_EXE_flags");

/// Starts the embedded server on 127.0.0.1:0 with this behaviour.
pub fn server_with(delay: Delay, error_rate: f64) -> RunningServer {
    flags::download::processpool::use_worker_program(FLAGS_EXE);
    let config = ServerConfig { delay, error_rate, seed: 42, ..ServerConfig::default() };
    server::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("the test server starts")
}

/// A server with no delay and no errors.
pub fn server() -> RunningServer {
    server_with(Delay::NONE, 0.0)
}

/// The bytes the embedded server serves for `cc`.
pub fn served_image(cc: &str) -> Vec<u8> {
    let index = flags::countries::position(cc).expect("a catalog code");
    flags::server::image::catalog_image(index).to_vec()
}

/// The sorted file names in `dir`.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

/// Asserts `dir` holds exactly `{cc}.gif` for each code, byte-identical to
/// what the server serves, and nothing else (no temp files).
pub fn assert_exactly_saved(dir: &Path, codes: &[&str]) {
    let mut expected: Vec<String> = codes.iter().map(|cc| format!("{}.gif", cc.to_lowercase())).collect();
    expected.sort();
    assert_eq!(files_in(dir), expected);
    for cc in codes {
        let got = std::fs::read(dir.join(format!("{}.gif", cc.to_lowercase()))).unwrap();
        assert!(got == served_image(cc), "{cc}.gif differs from what the server sent");
    }
}
