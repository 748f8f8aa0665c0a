//! A command named on the command line (`--peer NAME='COMMAND'`): a
//! template run by `sh -c` with its placeholders replaced.

use std::path::Path;
use std::process::Command;

use super::quote::quote;

/// A command named on the command line (`--peer NAME='COMMAND'`), run by
/// `sh -c` with its placeholders replaced, each value shell-quoted, as
/// hyperfine runs its commands: `{base}` the server's base URL, `{dir}` a
/// fresh folder to download into (also its working directory), `{cc}` the
/// workload's codes as separate words, `{m}` the requests at once, and
/// `{cacert}` the CA file of an HTTPS server.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandPeer {
    pub name: String,
    pub template: String,
}

/// Why a `--peer NAME='COMMAND'` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerSpecError {
    #[error("{0:?}: expected NAME='COMMAND', e.g. book='python3 flags_threadpool.py'")]
    NoName(String),
    #[error("peer name {0:?}: use letters, digits, '-', '_' or '.'")]
    BadName(String),
    #[error("peer {0}: the command is empty")]
    Empty(String),
    #[error("peer {name}: unknown {{{placeholder}}} (known: {{base}} {{dir}} {{cc}} {{m}} {{cacert}})")]
    Unknown { name: String, placeholder: String },
}

impl CommandPeer {
    /// Parses `NAME=COMMAND`.
    pub fn parse(arg: &str) -> Result<CommandPeer, PeerSpecError> {
        let Some((name, template)) = arg.split_once('=') else {
            return Err(PeerSpecError::NoName(arg.to_string()));
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(PeerSpecError::BadName(name.to_string()));
        }
        if template.trim().is_empty() {
            return Err(PeerSpecError::Empty(name.to_string()));
        }
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            let after = &rest[i + 1..];
            let end = after.find('}').unwrap_or(after.len());
            if !["base", "dir", "cc", "m", "cacert"].contains(&&after[..end]) {
                let placeholder = after[..end].to_string();
                return Err(PeerSpecError::Unknown { name: name.to_string(), placeholder });
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
        Ok(CommandPeer { name: name.to_string(), template: template.to_string() })
    }

    /// True when it chooses its codes (`{cc}`): it then fits every
    /// workload; otherwise only those of the 20 flags a script downloads
    /// by itself (the book's scripts take POP20).
    pub fn takes_codes(&self) -> bool {
        self.template.contains("{cc}")
    }

    /// True when it can trust a CA file (`{cacert}`): it then also runs the
    /// HTTPS workload.
    pub fn takes_cacert(&self) -> bool {
        self.template.contains("{cacert}")
    }

    /// The command line, its placeholders replaced.
    pub fn line(&self, base: &str, dir: &Path, codes: &[String], m: usize, ca: Option<&Path>) -> String {
        let words: Vec<String> = codes.iter().map(|c| quote(c)).collect();
        self.template
            .replace("{base}", &quote(base))
            .replace("{dir}", &quote(&dir.to_string_lossy()))
            .replace("{cc}", &words.join(" "))
            .replace("{m}", &m.to_string())
            .replace("{cacert}", &ca.map_or(String::new(), |c| quote(&c.to_string_lossy())))
    }

    /// The command that runs it once into `dir`.
    pub fn command(&self, base: &str, dir: &Path, codes: &[String], m: usize, ca: Option<&Path>) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(self.line(base, dir, codes, m, ca)).current_dir(dir);
        cmd
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_command_peer_takes_its_placeholders_quoted() {
        let p = CommandPeer::parse("mine=get {base} -d {dir} -m {m} {cc}").unwrap();
        let line = p.line("http://127.0.0.1:9/flags", Path::new("/tmp/a b"), &["br".into(), "fr".into()], 4, None);
        assert_eq!(line, "get http://127.0.0.1:9/flags -d '/tmp/a b' -m 4 br fr");
        assert!(p.takes_codes() && !p.takes_cacert());
        let tls = CommandPeer::parse("t=curl --cacert {cacert} {base}").unwrap();
        assert_eq!(
            tls.line("https://h/flags", Path::new("/d"), &[], 1, Some(Path::new("/ca.pem"))),
            "curl --cacert /ca.pem https://h/flags"
        );
        assert!(CommandPeer::parse("x").unwrap_err().to_string().contains("NAME='COMMAND'"));
        assert!(CommandPeer::parse("x=get {url}").unwrap_err().to_string().contains("unknown {url}"));
        assert!(CommandPeer::parse("a b=true").is_err() && CommandPeer::parse("a=").is_err());
    }
}
