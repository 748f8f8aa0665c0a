//! What the examples share: where the flags are, and how a failure is told.
//!
//! The book's scripts let an exception end them; these print what went
//! wrong, and how to start the server when none answers, and exit 1.

use std::fmt::Display;
use std::path::Path;
use std::process::ExitCode;

use flags::http::BaseUrl;

/// Where the examples save, as the book's scripts do.
pub const DEST: &str = "downloads";

/// The base URL (`FLAGS_BASE_URL`, or the book's LOCAL server) and a ready
/// `downloads/`, or the failure to report.
pub fn setup() -> Result<BaseUrl, ExitCode> {
    let base = flags::examples_base_url().map_err(|e| {
        eprintln!("error: FLAGS_BASE_URL: {e}");
        ExitCode::FAILURE
    })?;
    flags::save::prepare_dest(Path::new(DEST)).map_err(|e| {
        eprintln!("error: cannot write to {DEST}/: {e}");
        ExitCode::FAILURE
    })?;
    Ok(base)
}

/// Tells why `cc` could not be downloaded from `base`, with a hint when
/// nothing answered; the exit status to end with.
pub fn failed(cc: &str, base: &BaseUrl, error: impl Display) -> ExitCode {
    let error = error.to_string();
    eprintln!("\nerror: cannot download {cc} from {base}: {error}");
    if error.starts_with("connection failed") {
        eprintln!("Is the flag server running? Start it with: flags serve --delay 0.35");
        eprintln!("(or point FLAGS_BASE_URL at another server)");
    }
    ExitCode::FAILURE
}
