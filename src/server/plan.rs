//! What the server does with one request for a flag's file, decided before
//! anything is done: its delay, whether it is answered 418, the fault
//! injected and a latency fault's extra wait. A pure function of the
//! configuration and the request's reproducible draws (`draw(salt)`, one
//! per decision, from the seed, the path and which request of that path it
//! is), so a test can ask what the Nth request of a flag meets with no
//! server running. The answer is then made from the plan (`routes`).

use std::time::Duration;

use super::config::ServerConfig;
use super::faults::FaultKind;

/// The salts of the draws, one per decision, so that each is independent.
const DELAY: u64 = 1;
const TEAPOT: u64 = 2;
const FAULT: u64 = 3;
const JITTER: u64 = 4;

/// What the server does with a request for a flag's file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// How long the answer is held first (`--delay`), if at all.
    pub delay: Option<Duration>,
    /// Answered `418 I'm a Teapot` after the delay (`--error-rate`).
    pub teapot: bool,
    /// The fault injected (`--fault`), for images only, never with a 418.
    pub fault: Option<FaultKind>,
    /// A latency fault's extra wait.
    pub jitter: Option<Duration>,
}

/// The plan for a request of the image (`image`) or the metadata of a
/// flag under `config`, `draw` giving the request's draw for each salt.
pub fn plan(config: &ServerConfig, image: bool, draw: impl Fn(u64) -> f64) -> Plan {
    let delay = (!config.delay.max.is_zero()).then(|| config.delay.at(draw(DELAY)));
    let teapot = config.error_rate > 0.0 && draw(TEAPOT) < config.error_rate;
    let fault = match image && !teapot && !config.faults.is_empty() {
        true => config.faults.pick(draw(FAULT)),
        false => None,
    };
    let jitter = (fault == Some(FaultKind::Latency)).then(|| config.fault_settings.jitter.mul_f64(draw(JITTER)));
    Plan { delay, teapot, fault, jitter }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Delay, FaultPlan};

    /// Draws that give `u` for `salt` and 0.5 for the others.
    fn draws(salt: u64, u: f64) -> impl Fn(u64) -> f64 {
        move |s| if s == salt { u } else { 0.5 }
    }

    #[test]
    fn no_delay_no_error_no_fault_is_a_plain_answer() {
        let plain = plan(&ServerConfig::default(), true, |_| 0.0);
        assert_eq!(plain, Plan { delay: None, teapot: false, fault: None, jitter: None });
    }

    #[test]
    fn the_delay_is_the_draw_of_its_own_salt() {
        let config = ServerConfig { delay: Delay::range(1.0, 3.0), ..ServerConfig::default() };
        assert_eq!(plan(&config, true, draws(DELAY, 0.25)).delay, Some(Duration::from_millis(1500)));
        assert_eq!(plan(&config, false, draws(DELAY, 0.0)).delay, Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_teapot_comes_by_its_rate_and_takes_the_place_of_any_fault() {
        let faults: FaultPlan = "reset".parse().unwrap();
        let config = ServerConfig { error_rate: 0.25, faults, ..ServerConfig::default() };
        let teapot = plan(&config, true, draws(TEAPOT, 0.2));
        assert!(teapot.teapot && teapot.fault.is_none(), "{teapot:?}");
        let reset = plan(&config, true, draws(TEAPOT, 0.3));
        assert_eq!((reset.teapot, reset.fault), (false, Some(FaultKind::Reset)));
        // Faults are for images: metadata is answered plainly.
        assert_eq!(plan(&config, false, draws(TEAPOT, 0.3)).fault, None);
    }

    #[test]
    fn a_latency_fault_waits_its_own_draw_of_the_jitter() {
        let faults: FaultPlan = "latency".parse().unwrap();
        let mut config = ServerConfig { faults, ..ServerConfig::default() };
        config.fault_settings.jitter = Duration::from_secs(2);
        let p = plan(&config, true, draws(JITTER, 0.75));
        assert_eq!((p.fault, p.jitter), (Some(FaultKind::Latency), Some(Duration::from_millis(1500))));
    }
}
