//! The tools users would otherwise pick, driven over the same URLs into a
//! directory of their own: curl (`--parallel --parallel-immediate --fail`), aria2c
//! and wget2. Each is used only if installed. And any command a user names
//! (`--peer NAME='COMMAND'`, [`CommandPeer`], from [`crate::shell`], which
//! the demo and the book share), such as the book's scripts.
//!
//! Over HTTPS each trusts the server's CA file, and the ones that can speak
//! HTTP/2 do: curl with `--http2` and without `--parallel-immediate` (which
//! would open a connection per transfer rather than wait to multiplex them
//! on one), wget2 by default. aria2c speaks HTTP/1.1 only.

use std::path::Path;
use std::process::Command;

pub use crate::shell::CommandPeer;

/// True when `program --version` runs and succeeds: it is installed.
pub fn on_path(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// A peer downloader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Curl,
    Aria2c,
    Wget2,
}

impl Peer {
    pub const ALL: [Peer; 3] = [Peer::Curl, Peer::Aria2c, Peer::Wget2];

    /// Its program name.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Curl => "curl",
            Peer::Aria2c => "aria2c",
            Peer::Wget2 => "wget2",
        }
    }

    /// True if the program is on PATH.
    pub fn installed(self) -> bool {
        on_path(self.name())
    }

    /// The command that downloads `urls` (pairs of URL and file name) into
    /// `dir` with `concurrency` transfers at once, trusting the CA file `ca`
    /// (HTTPS). Writes its list file into `dir`.
    pub fn command(
        self,
        urls: &[(String, String)],
        dir: &Path,
        concurrency: usize,
        ca: Option<&Path>,
    ) -> std::io::Result<Command> {
        let list = dir.join(".list");
        let mut cmd = Command::new(self.name());
        if let Some(ca) = ca {
            match self {
                Peer::Curl => cmd.args(["--http2", "--cacert"]).arg(ca),
                Peer::Aria2c | Peer::Wget2 => cmd.arg(format!("--ca-certificate={}", ca.display())),
            };
        }
        match self {
            Peer::Curl => {
                let config: String = urls
                    .iter()
                    .map(|(u, f)| format!("url = \"{u}\"\noutput = \"{}\"\n", dir.join(f).display()))
                    .collect();
                std::fs::write(&list, config)?;
                // --fail: no file for a 404, like every other tool here.
                cmd.args(["--silent", "--fail", "--parallel"]);
                if ca.is_none() {
                    cmd.arg("--parallel-immediate");
                }
                cmd.arg("--parallel-max").arg(concurrency.to_string()).arg("--config").arg(&list);
            }
            Peer::Aria2c => {
                let input: String = urls.iter().map(|(u, f)| format!("{u}\n  out={f}\n")).collect();
                std::fs::write(&list, input)?;
                cmd.args(["--quiet", "--allow-overwrite=true", "--auto-file-renaming=false"])
                    .arg(format!("--max-concurrent-downloads={concurrency}"))
                    .arg("--dir")
                    .arg(dir)
                    .arg("--input-file")
                    .arg(&list);
            }
            Peer::Wget2 => {
                let input: String = urls.iter().map(|(u, _)| format!("{u}\n")).collect();
                std::fs::write(&list, input)?;
                cmd.args(["--quiet", "--no-robots", "--no-directories"])
                    .arg(format!("--max-threads={concurrency}"))
                    .arg("--directory-prefix")
                    .arg(dir)
                    .arg("--input-file")
                    .arg(&list);
            }
        }
        Ok(cmd)
    }
}
