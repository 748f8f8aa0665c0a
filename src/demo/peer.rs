//! A command run against the demo's server, as the book's reader would
//! run it (a `--peer`, or one of the book's scripts under `flags book`):
//! in a process group of its own that a stop reaches and that ends with
//! it, what it prints kept at its ends, the flags it left counted, and
//! what the server saw of it drawn as a waterfall.

use std::path::Path;
use std::process::Command;
use std::time::{Instant, SystemTime};

use super::spec::PeerRun;
use crate::save;
use crate::server::timeline::Served;
use crate::server::RunningServer;
use crate::shell::measure;
use crate::shutdown::Shutdown;
use crate::waterfall::exchange::{served_recording, Recording};
use crate::waterfall::Row;

/// What is kept of each stream a command prints: its first and last 2 KB.
const SHOWN: usize = 2048;

/// The longest wait for the server to finish the answers of a command
/// that has exited.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// A command about to run: its name, the line shown for it, the folder
/// its flags are counted in, and how many it should leave there.
#[derive(Debug, Clone)]
pub struct Peer<'a> {
    pub name: &'a str,
    pub line: String,
    pub dir: &'a Path,
    pub wanted: usize,
    /// The longest it may run (none: until it ends or a stop).
    pub limit: Option<std::time::Duration>,
}

impl Peer<'_> {
    /// Runs `cmd` as a step of `shutdown`; its run, and the server's record of
    /// it as waterfall rows and as a recording (for the timeline files).
    pub fn run(
        self,
        cmd: Command,
        server: &RunningServer,
        shutdown: &Shutdown,
    ) -> std::io::Result<(PeerRun, Vec<Row>, Recording)> {
        let conns = server.stats().snapshot().connections;
        let watch = Watch::start(server);
        let keep = measure::Keep { stdout: SHOWN, stderr: Some(SHOWN) };
        let output = measure::run_within(cmd, keep, shutdown, self.limit)?;
        let served = watch.served();
        let spans: Vec<(f64, f64)> = served.iter().map(|r| (r.head_ms, r.done_ms.unwrap_or(r.head_ms))).collect();
        let run = PeerRun {
            name: self.name.to_string(),
            line: self.line,
            elapsed: output.wall,
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
            saved: save::gifs_under(self.dir, 3),
            wanted: self.wanted,
            requests: served.len(),
            peak: crate::download::timeline::peak_of(&spans),
            connections: (server.stats().snapshot().connections - conns) as usize,
            overran: self.limit.filter(|_| output.overran),
        };
        let recording = watch.recording(self.name.to_string(), &served);
        Ok((run, crate::waterfall::served_rows(&served), recording))
    }
}

/// The server's record from a moment on: what it served since, on a
/// clock that starts then.
pub struct Watch<'a> {
    server: &'a RunningServer,
    before: u64,
    t0: Instant,
    wall: SystemTime,
}

impl<'a> Watch<'a> {
    /// Starts watching `server` now.
    pub fn start(server: &'a RunningServer) -> Self {
        let before = server.stats().timeline().total();
        Watch { server, before, t0: Instant::now(), wall: SystemTime::now() }
    }

    /// The requests served since the start, their times from the start.
    /// A request is recorded as its answer's body is let go, which may
    /// come a moment after the client has read its last byte and exited:
    /// the entries not written yet are waited for, a second at most.
    pub fn served(&self) -> Vec<Served> {
        let t0 = Instant::now();
        let record = self.server.stats().timeline();
        while record.open() > 0 && t0.elapsed() < SETTLE {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let origin = record.ms(self.t0);
        let mut served = record.after(self.before).requests;
        for r in &mut served {
            r.conn_ms = (r.conn_ms - origin).max(0.0);
            r.head_ms -= origin;
            for t in [&mut r.first_byte_ms, &mut r.last_byte_ms, &mut r.done_ms].into_iter().flatten() {
                *t -= origin;
            }
        }
        served
    }

    /// `served` (from [`Watch::served`]) as a recording named `title`.
    pub fn recording(&self, title: String, served: &[Served]) -> Recording {
        served_recording(title, served, self.wall, &self.server.addr().to_string())
    }
}
