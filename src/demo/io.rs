//! Part one of the demo, the seed's experiment: the 20 flags from the
//! embedded server at the demo's delay, in each style, then each
//! `--peer` command against the same server.

use std::net::{Ipv4Addr, SocketAddr};

use super::legs::run_leg;
use super::peer::Peer;
use super::spec::{DemoConfig, DemoError, DemoObserver, Leg, PeerRun, Runner, StyleTimes};
use crate::countries::pop20_sorted;
use crate::download::Mode;
use crate::server::{self, ServerConfig};
use crate::shell::CommandPeer;
use crate::shutdown::Shutdown;
use crate::waterfall::exchange::Recording;
use crate::waterfall::Row;

/// Runs part one; the styles and peers that ran to their end.
pub fn run(
    config: &DemoConfig,
    observer: &dyn DemoObserver,
    shutdown: &Shutdown,
) -> Result<Vec<StyleTimes>, DemoError> {
    let server_config = ServerConfig { delay: config.delay, seed: config.seed, ..ServerConfig::default() };
    let server = server::spawn(server_config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(DemoError::Server)?;
    server.warm();
    let codes = pop20_sorted();
    observer.started(&server.base(), config.delay, codes.len());
    let mut rows = Vec::new();
    for mode in Mode::ALL {
        let concurrency = if mode == Mode::Sequential { 1 } else { codes.len() };
        let leg = Leg { mode, concurrency, work: None, names: false };
        server.stats().start_leg();
        match run_leg(&leg, (&server.base(), config.delay.max), &codes, config, observer, shutdown) {
            Some(times) => rows.push(times),
            None => return Ok(rows),
        }
    }
    for peer in &config.peers {
        server.stats().start_leg();
        let (mut times, mut waterfall, mut note, mut recording) = (Vec::new(), Vec::new(), None, None);
        for _ in 1..=config.runs {
            if shutdown.is_stopped() {
                return Ok(rows);
            }
            let (run, served, record) = run_peer(peer, &server, &codes, observer, shutdown)?;
            observer.peer_ended(&run);
            if shutdown.is_stopped() {
                return Ok(rows);
            }
            note = Some(run.failure().map_or_else(|| run.seen(), |why| format!("failed: {why}")));
            times.push(run.elapsed);
            waterfall = served;
            recording = Some(record);
        }
        rows.push(StyleTimes { mode: Runner::Peer(peer.name.clone()), times, waterfall, note, recording });
    }
    Ok(rows)
}

/// Runs `peer` once against `server` into a fresh folder (removed after),
/// as a step of `shutdown`; its run, and the server's record of it as
/// waterfall rows and as a recording.
fn run_peer(
    peer: &CommandPeer,
    server: &server::RunningServer,
    codes: &[crate::countries::CountryCode],
    observer: &dyn DemoObserver,
    shutdown: &Shutdown,
) -> Result<(PeerRun, Vec<Row>, Recording), DemoError> {
    let dir = tempfile::Builder::new().prefix("flags-demo-peer-").tempdir().map_err(DemoError::Scratch)?;
    shutdown.scratch(dir.path());
    let names: Vec<String> = codes.iter().map(|c| c.lower()).collect();
    let line = peer.line(&server.base().to_string(), dir.path(), &names, codes.len(), None);
    observer.peer_started(&peer.name, &line);
    let cmd = peer.command(&server.base().to_string(), dir.path(), &names, codes.len(), None);
    let command = Peer { name: &peer.name, line, dir: dir.path(), wanted: codes.len(), limit: None };
    command.run(cmd, server, shutdown).map_err(DemoError::Peer)
}
