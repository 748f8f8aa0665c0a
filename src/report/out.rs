//! Writing to stdout when its reader may go away (`flags get -e -v | head`).
//!
//! SIGPIPE stays ignored, as Rust sets it, so that no peer on a socket can
//! end the process; a closed stdout is then an `EPIPE` error on write. The
//! first one is remembered, later output is dropped, and the hook set with
//! [`on_closed`] runs once (`flags get` stops its downloads). The binary
//! asks [`closed`] at the end and exits quietly, as a Unix tool whose
//! reader left does.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

static CLOSED: AtomicBool = AtomicBool::new(false);

type Hook = Box<dyn Fn() + Send + Sync>;

fn hook() -> &'static Mutex<Option<Hook>> {
    static HOOK: OnceLock<Mutex<Option<Hook>>> = OnceLock::new();
    HOOK.get_or_init(Mutex::default)
}

/// Runs `f` once when stdout's reader is found gone.
pub fn on_closed(f: impl Fn() + Send + Sync + 'static) {
    *hook().lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(f));
}

/// Stops `shutdown` when stdout's reader is found gone (`flags get -v |
/// head`): what the command would print has nobody to read it.
pub fn stops(shutdown: std::sync::Arc<crate::shutdown::Shutdown>) {
    on_closed(move || shutdown.stop());
}

/// True once a write to stdout found its reader gone.
pub fn closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

/// Writes `bytes` to stdout and flushes; on a closed stdout, notes it.
pub fn write_bytes(bytes: &[u8]) {
    if closed() {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe && !CLOSED.swap(true, Ordering::SeqCst) {
            if let Some(f) = &*hook().lock().unwrap_or_else(|e| e.into_inner()) {
                f();
            }
        }
    }
}

/// Writes formatted text to stdout (see [`write_bytes`]).
pub fn write_fmt(args: fmt::Arguments<'_>) {
    match args.as_str() {
        Some(s) => write_bytes(s.as_bytes()),
        None => write_bytes(args.to_string().as_bytes()),
    }
}

/// `println!` for the report: a closed stdout is noted, not a panic.
macro_rules! say {
    () => { $crate::report::out::write_bytes(b"\n") };
    ($($arg:tt)*) => { $crate::report::out::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` for the report.
macro_rules! say_part {
    ($($arg:tt)*) => { $crate::report::out::write_fmt(format_args!($($arg)*)) };
}

pub(crate) use {say, say_part};
