//! How a command ended ([`Exit`]), which the binary maps to its exit
//! status.

use crate::shutdown::Shutdown;

/// How a command ended, for the binary's exit status.
#[derive(Debug)]
pub enum Exit {
    /// Everything asked was done: 0.
    Success,
    /// Some of the work failed, each failure reported: 1.
    Failure,
    /// What was given could not be used, and that was reported: 2.
    Unusable,
    /// A signal stopped it: 128 + that signal's number.
    Stopped,
    /// A usage error of subcommand `.0` (`book`, `serve`), which clap's
    /// checks could not see: printed with its usage line, 2.
    Usage(&'static str, clap::Error),
}

impl Exit {
    /// The end of a command that returned: [`Exit::Stopped`] if a signal
    /// stopped `shutdown`, else [`Exit::Failure`] if `failed`.
    pub fn after(shutdown: &Shutdown, failed: bool) -> Exit {
        match shutdown.signal() {
            Some(_) => Exit::Stopped,
            None if failed => Exit::Failure,
            None => Exit::Success,
        }
    }

    /// A command's error `e`, unless a signal stopped it meanwhile: then
    /// the error says only how it stopped, and the command was stopped.
    pub fn stopped_or<E>(e: E, shutdown: &Shutdown) -> Result<Exit, E> {
        match shutdown.signal() {
            Some(_) => Ok(Exit::Stopped),
            None => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_makes_any_end_a_stop_and_only_a_signal_does() {
        let quiet = Shutdown::default();
        assert!(matches!(Exit::after(&quiet, false), Exit::Success));
        assert!(matches!(Exit::after(&quiet, true), Exit::Failure));
        assert!(matches!(Exit::stopped_or("broken", &quiet), Err("broken")));
        // Stopped by a closed stdout, say: no signal, so no stop status.
        quiet.stop();
        assert!(matches!(Exit::after(&quiet, true), Exit::Failure));
        let signalled = Shutdown::default();
        signalled.stop_by(libc::SIGTERM);
        assert!(matches!(Exit::after(&signalled, true), Exit::Stopped));
        assert!(matches!(Exit::stopped_or("broken", &signalled), Ok(Exit::Stopped)));
    }
}
