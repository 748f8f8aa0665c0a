//! HTTP as rules and states, with no I/O and no clock: no socket, no
//! runtime, no system call, no reading of the time. What the drivers of
//! [`crate::http`] do (write, read, look at an idle connection, read the
//! clock) comes in here as values: bytes in a buffer (`buf::Buf`), what
//! was seen on an idle connection (`reuse::Idle`), a `now`; what comes
//! out is what to do next and until when (`exchange::Need`). So every rule is written once for both
//! drivers, and its tests choose the bytes and the time.
//!
//! | module | what it holds |
//! |---|---|
//! | [`syntax`] | HTTP/1.1's syntax that the client, the server and the exam share: `Connection` options, keep-alive, `Content-Length`, status phrases |
//! | [`text`] | a peer's bytes as text that is safe to show anywhere |
//! | [`wire`] | the client's HTTP/1.1: the GET's bytes and a response [`wire::Reader`] |
//! | [`policy`] | what the client accepts: statuses, redirects, sizes, what a flag is, [`policy::Limits`], when to resend |
//! | [`gif`] | what makes a body a whole GIF, walked as it arrives |
//! | [`error`] | [`error::FetchError`]: why a request gave no flag, with its cause |
//! | [`trace`] | when a request's steps happened ([`trace::Trace`], [`trace::Stamp`]), as data |
//! | `buf` | a connection's receive buffer |
//! | `exchange` | one HTTP/1.1 request and its answer as a state machine, given bytes and `now` |
//! | `attempt` | a request's tries: on a pooled connection, then once on a fresh one; HTTP/2's resend |
//! | `reuse` | whether a connection carries another request: what was seen on it idle, how its answer ended |
//!
//! **Why by hand.** `ureq-proto` and `quinn-proto` are the models (a
//! client as states fed bytes; time passed in as `now`), but ureq-proto
//! decides inside what this client must decide itself and alike for its
//! blocking and async drivers (a body longer than its `Content-Length`,
//! redirects, resending on a reused connection): see [`crate::http`]. Heads
//! are parsed by `httparse`.

pub(crate) mod attempt;
pub(crate) mod buf;
pub mod error;
pub(crate) mod exchange;
pub mod gif;
pub mod policy;
pub(crate) mod reuse;
pub(crate) mod syntax;
pub(crate) mod text;
pub mod trace;
pub mod wire;

#[cfg(test)]
mod tests {
    /// What a file of this layer may not name outside its tests: sockets,
    /// a runtime, system calls, files, threads, the drivers, and the clocks.
    const FOREIGN: &[&str] = &[
        "std::net",
        "tokio",
        "libc",
        "crate::os",
        "crate::http",
        "std::fs",
        "std::thread",
        "Instant::now",
        "SystemTime::now",
        "Stamp::now",
    ];

    #[test]
    fn the_core_does_no_io_and_reads_no_clock() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proto");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or("");
                for foreign in FOREIGN {
                    assert!(!line.contains(foreign), "{}:{}: {foreign}", path.display(), n + 1);
                }
            }
            read += 1;
        }
        assert!(read >= 10, "every file of the layer is read");
    }
}
