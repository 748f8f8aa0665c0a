//! Saving flags: file names, and files that are complete or absent.
//!
//! A body streams into a [`Part`]: a file created exclusively (never
//! through a link) under an unpredictable name, `.flags-PID-XXXXXX.part`,
//! in the destination, by `tempfile`. When the body is complete and checked,
//! [`Part::commit`] renames it to the flag's name; dropped uncommitted, it
//! is removed. So `downloads/` holds whole flags or nothing, and never a
//! temporary file once the process is gone:
//!
//! - Every live part is known to its destination's [`Gate`]. Once the gate
//!   is [closed](Gate::close) (Ctrl-C, SIGTERM), no part is committed, and
//!   a rename in progress finishes before `close` returns, so nothing is
//!   written after the signal.
//! - [`Gate::abandon`], for a process about to exit at once (a second
//!   Ctrl-C), waits for parts being created, removes every part, and keeps
//!   the gate shut until the process is gone.
//! - [`Gate::sweep`] removes the parts of a worker process that died.
//!
//! Files are not `fsync`ed (curl and wget don't either): a power failure
//! may lose the last flags saved, but a crash of this program never leaves
//! a partial one.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The prefix of every temporary file this process makes.
fn prefix(pid: u32) -> String {
    format!(".flags-{pid}-")
}

/// The suffix of every temporary file.
const SUFFIX: &str = ".part";

/// The longest country name put in a file name, in bytes.
const MAX_NAME: usize = 100;

/// The file name for a flag: `br.gif`, or with a country name (flags3's
/// `--names`) `Brazil-BR.gif`, spaces turned into `_`. A name from a
/// server is made safe first: no control, format (bidi) or path-separator
/// characters, no leading dot or dash, at most 100 bytes; a name with
/// nothing left gives `br.gif`.
pub fn file_name(cc: &str, country: Option<&str>) -> String {
    let safe = country.map(safe_name).unwrap_or_default();
    if safe.is_empty() {
        format!("{}.gif", cc.to_ascii_lowercase())
    } else {
        format!("{safe}-{}.gif", cc.to_ascii_uppercase())
    }
}

/// Unicode's format characters that reorder or hide text (bidi controls,
/// zero-width characters).
fn is_format(c: char) -> bool {
    matches!(c, '\u{AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn safe_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = match c {
            ' ' => '_',
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() || is_format(c) => continue,
            c if c.is_whitespace() => '_',
            c => c,
        };
        if out.len() + c.len_utf8() > MAX_NAME {
            break;
        }
        out.push(c);
    }
    out.trim_start_matches(['.', '-', '_']).to_string()
}

/// Saves `bytes` as `dir/name`, whole or not at all (for small programs
/// such as the examples; the styles stream into a [`Part`]).
pub fn save_bytes(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let mut part = Gate::new(dir).create()?;
    part.write(bytes)?;
    part.commit(name).map_err(|e| match e {
        CommitError::Io(e) => e,
        closed => io::Error::other(closed),
    })
}

/// The mode of the files saved: `rw-rw-rw-` less the umask, as `open(2)`
/// gives any new file (curl's, wget's, Python's), where a temporary file
/// would otherwise keep its private `rw-------`.
fn file_mode() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o666)
}

/// The `.gif` files under `dir`, `depth` folders deep at most: what a
/// client we did not write left (the book's scripts save into
/// `downloaded/`).
pub fn gifs_under(dir: &Path, depth: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() && depth > 0 => gifs_under(&e.path(), depth - 1),
            Ok(t) if t.is_file() && e.file_name().to_string_lossy().to_ascii_lowercase().ends_with(".gif") => 1,
            _ => 0,
        })
        .sum()
}

/// Writes `bytes` to `path` whole or not at all: into a new file beside
/// it, renamed over it when complete (reports and pictures, not flags).
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new().prefix(".flags-").permissions(file_mode()).tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes an output file (a timeline, a report, a chart) as a user expects
/// of `> path`: a regular file, or a missing one, is replaced whole and at
/// once ([`write_whole`]); a FIFO, a device, or a symbolic link (such as
/// `/dev/stdout`) is written through, never replaced; a directory is an
/// error.
pub fn write_output(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => write_whole(path, bytes),
        Err(e) => Err(e),
        Ok(meta) if meta.is_file() => write_whole(path, bytes),
        Ok(_) if path.is_dir() => Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a directory")),
        Ok(_) => fs::OpenOptions::new().write(true).truncate(true).open(path)?.write_all(bytes),
    }
}

/// Why [`write_output`] could not write a file.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("it is a directory")]
    IsADirectory,
    #[error("cannot write it: {0}")]
    CannotWrite(io::Error),
    #[error("{} is not a directory", .0.display())]
    NoFolder(PathBuf),
    #[error("cannot write in {}: {why}", .dir.display())]
    CannotWriteIn { dir: PathBuf, why: io::Error },
}

/// Checks, without writing anything, that [`write_output`] can write
/// `path`: not a directory, and writable, or creatable in a folder that
/// is. The error says why not.
pub fn check_output(path: &Path) -> Result<(), OutputError> {
    if path.is_dir() {
        return Err(OutputError::IsADirectory);
    }
    let replaced = match fs::symlink_metadata(path) {
        Err(_) => true,
        Ok(meta) => meta.is_file(),
    };
    if !replaced {
        return writable(path).map_err(OutputError::CannotWrite);
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(OutputError::NoFolder(dir.to_path_buf()));
    }
    writable(dir).map_err(|why| OutputError::CannotWriteIn { dir: dir.to_path_buf(), why })
}

/// Whether this process may write `path` (a folder: make files in it),
/// asked of the system (access(2)), writing nothing.
pub fn writable(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    crate::os::may_write(&c, path.is_dir())
}

/// Creates `dir` if needed and checks that a file can be created in it,
/// so a bad destination fails before any request is made.
pub fn prepare_dest(dir: &Path) -> io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "it exists and is not a directory"));
    }
    fs::create_dir_all(dir)?;
    drop(Gate::new(dir).create()?);
    Ok(())
}

/// The parts of one destination, and whether they may still be committed.
#[derive(Debug)]
pub struct Gate {
    dir: PathBuf,
    state: Mutex<GateState>,
    /// Signalled when a part's creation ends.
    created: Condvar,
}

/// What a [`Gate`] guards.
#[derive(Debug, Default)]
pub struct GateState {
    closed: bool,
    /// Parts being created right now.
    creating: usize,
    parts: HashMap<u64, PathBuf>,
    next: u64,
}

/// Why a part was not committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The gate is closed: the run was stopped.
    #[error("the download was stopped")]
    Closed,
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Gate {
    /// The gate of `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Arc<Self> {
        Arc::new(Gate { dir: dir.into(), state: Mutex::default(), created: Condvar::new() })
    }

    /// The destination directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new, empty part in the destination.
    pub fn create(self: &Arc<Self>) -> io::Result<Part> {
        {
            let mut state = self.lock();
            if state.closed {
                return Err(io::Error::new(io::ErrorKind::Interrupted, CommitError::Closed));
            }
            state.creating += 1;
        }
        let made = tempfile::Builder::new()
            .prefix(&prefix(std::process::id()))
            .suffix(SUFFIX)
            .permissions(file_mode())
            .tempfile_in(&self.dir);
        let mut state = self.lock();
        state.creating -= 1;
        self.created.notify_all();
        let file = made?;
        let id = state.next;
        state.next += 1;
        state.parts.insert(id, file.path().to_path_buf());
        Ok(Part { file: Some(file), gate: Arc::clone(self), id, written: 0 })
    }

    /// No part is committed from now on. Returns once any rename in
    /// progress is done.
    pub fn close(&self) {
        self.lock().closed = true;
    }

    /// Closes the gate, waits for parts being created, removes every part,
    /// and returns the lock: hold it until the process exits, so that no
    /// part is made or committed meanwhile.
    pub fn abandon(&self) -> MutexGuard<'_, GateState> {
        let mut state = self.lock();
        state.closed = true;
        while state.creating > 0 {
            state = self.created.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        for path in state.parts.values() {
            let _ = fs::remove_file(path);
        }
        state
    }

    /// Removes the parts that process `pid` (a worker that died) left here.
    pub fn sweep(&self, pid: u32) {
        let prefix = prefix(pid);
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(SUFFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// A flag being written: removed unless committed.
#[derive(Debug)]
pub struct Part {
    file: Option<tempfile::NamedTempFile>,
    gate: Arc<Gate>,
    id: u64,
    written: u64,
}

impl Part {
    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.as_mut().expect("present until committed").write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// How many bytes were written.
    pub fn len(&self) -> u64 {
        self.written
    }

    /// True if nothing was written.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Renames the part to `name` in the destination (replacing a file of
    /// that name), unless the gate is closed.
    pub fn commit(mut self, name: &str) -> Result<PathBuf, CommitError> {
        let target = self.gate.dir.join(name);
        let gate = Arc::clone(&self.gate);
        let mut state = gate.lock();
        if state.closed {
            return Err(CommitError::Closed);
        }
        let file = self.file.take().expect("present until committed");
        file.persist(&target).map_err(|e| CommitError::Io(e.error))?;
        state.parts.remove(&self.id);
        Ok(target)
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        // Dropping the file removes it; then it is no longer the gate's.
        drop(self.file.take());
        self.gate.lock().parts.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    #[test]
    fn names_follow_flags3() {
        assert_eq!(file_name("BR", None), "br.gif");
        assert_eq!(file_name("us", Some("United States of America")), "United_States_of_America-US.gif");
        assert_eq!(file_name("CI", Some("Côte d'Ivoire")), "Côte_d'Ivoire-CI.gif");
    }

    #[test]
    fn names_from_a_hostile_server_are_made_safe() {
        assert_eq!(file_name("US", Some(".")), "us.gif");
        assert_eq!(file_name("IN", Some("..")), "in.gif");
        assert_eq!(file_name("JP", Some("")), "jp.gif");
        assert_eq!(file_name("FR", Some("-rf ")), "rf_-FR.gif");
        assert_eq!(file_name("DE", Some("../../etc/passwd")), "etc_passwd-DE.gif");
        assert_eq!(file_name("IL", Some("evil\u{202E}fig.exe")), "evilfig.exe-IL.gif");
        assert_eq!(file_name("NL", Some("a\nb\tc\u{0}")), "abc-NL.gif");
        assert_eq!(file_name("XX", Some(&"é".repeat(200))).len(), 100 + "-XX.gif".len());
    }

    #[test]
    fn a_part_is_committed_whole_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(dir.path());
        let mut part = gate.create().unwrap();
        part.write(b"GIF89a").unwrap();
        let name = names(dir.path());
        assert!(name[0].starts_with(&prefix(std::process::id())) && name[0].ends_with(".part"), "{name:?}");
        let path = part.commit("br.gif").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"GIF89a");
        drop(gate.create().unwrap());
        assert_eq!(names(dir.path()), ["br.gif"]);
    }

    #[test]
    fn a_closed_gate_commits_nothing_and_abandon_removes_every_part() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(dir.path());
        let (a, mut b) = (gate.create().unwrap(), gate.create().unwrap());
        b.write(b"x").unwrap();
        gate.close();
        assert!(matches!(a.commit("a.gif"), Err(CommitError::Closed)));
        let held = gate.abandon();
        assert!(names(dir.path()).is_empty());
        drop(held);
        drop(b);
        assert!(gate.create().is_err(), "no new part once closed");
    }

    #[test]
    fn sweep_removes_a_dead_workers_parts_only() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".flags-4242-abc.part"), b"x").unwrap();
        fs::write(dir.path().join(".flags-4243-abc.part"), b"x").unwrap();
        fs::write(dir.path().join("br.gif"), b"x").unwrap();
        Gate::new(dir.path()).sweep(4242);
        assert_eq!(names(dir.path()), [".flags-4243-abc.part", "br.gif"]);
    }
}
