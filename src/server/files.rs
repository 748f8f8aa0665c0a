//! `flags serve --dir`: flags from a directory laid out like the unpacked
//! flags.zip (`DIR/{cc}/{cc}.gif`, `DIR/{cc}/metadata.json`).
//!
//! **What is served.** Only regular files whose real path (every symlink
//! resolved) lies inside the root. A FIFO, a device, a directory or a link
//! that leads out is 404, and the listing at `/flags/` shows exactly the
//! codes whose image can be fetched. A FIFO is opened non-blocking, so it
//! never holds a request.
//!
//! **Memory and speed.** Files up to [`CACHE_FILE_MAX`] are kept in memory,
//! [`CACHE_TOTAL_MAX`] in all. An entry is checked against the file with
//! one `stat` of its path (same device, inode, size and modification time,
//! or the file is read again) when it is older than [`REVALIDATE`], so a
//! file changed on disk is served within that time, and a busy file costs
//! no system call at all. That is what brings `--dir` to nginx's speed on
//! small files: nginx sends them with `sendfile`, without copying, and
//! each request here costs a copy into the socket, so a `stat` per request
//! (5% of the server's CPU time under `wrk`) was the difference. A file too
//! large for the cache is streamed in [`PIECE`]-sized reads, so a request
//! holds one piece at a time whatever the file's size.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::conditional::Validators;

/// The largest file kept in memory.
pub const CACHE_FILE_MAX: u64 = 1 << 20;

/// The most bytes the cache holds; past it, files are streamed.
pub const CACHE_TOTAL_MAX: usize = 64 << 20;

/// How much of an uncached file one read takes.
pub const PIECE: usize = 64 << 10;

/// How old a cache entry may get before it is checked against the file.
pub const REVALIDATE: Duration = Duration::from_millis(100);

/// A file's identity as `stat` tells it: if any of it changes, the cached
/// copy is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

impl Identity {
    fn of(meta: &Metadata) -> Self {
        Identity { dev: meta.dev(), ino: meta.ino(), len: meta.len(), mtime: (meta.mtime(), meta.mtime_nsec()) }
    }
}

/// A file held in memory.
#[derive(Debug)]
pub struct Cached {
    identity: Identity,
    /// When the entry was last checked against the file, in microseconds
    /// since the source was made.
    checked_us: AtomicU64,
    pub bytes: Bytes,
    pub validators: Validators,
}

/// What a request for a file gets.
#[derive(Debug)]
pub enum Content {
    /// A small file, from memory.
    Cached(Arc<Cached>),
    /// A file to stream: opened, `len` bytes long.
    Stream { file: File, len: u64, validators: Validators },
}

/// A `--dir` root and its cache.
#[derive(Debug)]
pub struct DirSource {
    root: PathBuf,
    cache: RwLock<HashMap<String, Arc<Cached>>>,
    cached_bytes: AtomicUsize,
    /// The clock the entries' ages are measured on.
    born_us: u64,
    /// How old an entry may get before it is checked ([`REVALIDATE`]).
    revalidate: Duration,
    /// The most bytes this cache holds.
    budget: usize,
}

impl DirSource {
    /// The source for `root`, which must exist, for one of `threads`
    /// server threads (they share [`CACHE_TOTAL_MAX`]).
    pub fn new(root: &Path, threads: usize) -> io::Result<Self> {
        Ok(DirSource {
            budget: CACHE_TOTAL_MAX / threads.max(1),
            root: root.canonicalize()?,
            cache: RwLock::default(),
            cached_bytes: AtomicUsize::new(0),
            born_us: coarse_us(),
            revalidate: REVALIDATE,
        })
    }

    /// Microseconds since the source was made, from the coarse clock (the
    /// kernel's last tick, a few ms stale): plenty for [`REVALIDATE`], and
    /// cheaper than the precise clock on every request.
    fn now_us(&self) -> u64 {
        coarse_us().saturating_sub(self.born_us)
    }

    /// The file at `relative` (such as `br/br.gif`), or `None` when it is not
    /// a regular file inside the root.
    pub fn open(&self, relative: &str) -> Option<Content> {
        let hit = self.cache.read().unwrap_or_else(|e| e.into_inner()).get(relative).cloned();
        if let Some(cached) = hit {
            let now = self.now_us();
            if now.saturating_sub(cached.checked_us.load(Ordering::Relaxed)) < self.revalidate.as_micros() as u64 {
                return Some(Content::Cached(cached));
            }
            // `stat` follows links as the open below did: a link turned to
            // another file shows another inode.
            match std::fs::metadata(self.root.join(relative)) {
                Ok(meta) if Identity::of(&meta) == cached.identity => {
                    cached.checked_us.store(now, Ordering::Relaxed);
                    return Some(Content::Cached(cached));
                }
                _ => self.forget(relative),
            }
        }
        let (file, meta) = self.open_regular(relative)?;
        let validators = Validators::new(None, meta.len() as usize, meta.modified().unwrap_or(SystemTime::UNIX_EPOCH));
        let len = meta.len();
        if len <= CACHE_FILE_MAX && self.cached_bytes.load(Ordering::Relaxed) + len as usize <= self.budget {
            let bytes = read_exactly(&file, len).ok()?;
            let checked_us = AtomicU64::new(self.now_us());
            let cached = Arc::new(Cached { identity: Identity::of(&meta), checked_us, bytes, validators });
            self.remember(relative, Arc::clone(&cached));
            return Some(Content::Cached(cached));
        }
        Some(Content::Stream { file, len, validators })
    }

    /// Opens `relative` if its real path is inside the root and it is a
    /// regular file.
    fn open_regular(&self, relative: &str) -> Option<(File, Metadata)> {
        let real = self.root.join(relative).canonicalize().ok()?;
        if !real.starts_with(&self.root) {
            return None;
        }
        // Non-blocking, so a FIFO doesn't wait for a writer; not following a
        // link that appeared since the path was resolved.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&real)
            .ok()?;
        let meta = file.metadata().ok()?;
        meta.is_file().then_some((file, meta))
    }

    fn remember(&self, relative: &str, cached: Arc<Cached>) {
        let len = cached.bytes.len();
        let old = self.cache.write().unwrap_or_else(|e| e.into_inner()).insert(relative.to_string(), cached);
        self.cached_bytes.fetch_add(len, Ordering::Relaxed);
        if let Some(old) = old {
            self.cached_bytes.fetch_sub(old.bytes.len(), Ordering::Relaxed);
        }
    }

    fn forget(&self, relative: &str) {
        if let Some(old) = self.cache.write().unwrap_or_else(|e| e.into_inner()).remove(relative) {
            self.cached_bytes.fetch_sub(old.bytes.len(), Ordering::Relaxed);
        }
    }

    /// The codes whose image can be fetched, lower case, sorted.
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_lowercase()))
            .filter(|cc| self.open_regular(&format!("{cc}/{cc}.gif")).is_some())
            .collect();
        codes.sort();
        codes
    }
}

/// The monotonic clock's coarse reading, in microseconds.
fn coarse_us() -> u64 {
    crate::os::clock_ns(crate::os::Clock::MonotonicCoarse) / 1_000
}

/// Reads all `len` bytes of `file` (a regular file opened non-blocking,
/// which reads like a blocking one).
fn read_exactly(file: &File, len: u64) -> io::Result<Bytes> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut buf)?;
    if buf.len() as u64 != len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, tempfile::TempDir) {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir(r.join("br")).unwrap();
        std::fs::write(r.join("br/br.gif"), b"GIF89a-br").unwrap();
        std::fs::create_dir(r.join("fi")).unwrap();
        nix_mkfifo(&r.join("fi/fi.gif"));
        std::fs::create_dir(r.join("dd")).unwrap();
        std::fs::create_dir(r.join("dd/dd.gif")).unwrap();
        std::fs::create_dir(outside.path().join("us")).unwrap();
        std::fs::write(outside.path().join("us/us.gif"), b"outside").unwrap();
        std::os::unix::fs::symlink(outside.path().join("us"), r.join("us")).unwrap();
        std::fs::create_dir(r.join("in")).unwrap();
        std::os::unix::fs::symlink(r.join("br/br.gif"), r.join("in/in.gif")).unwrap();
        (root, outside)
    }

    fn nix_mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        assert!(crate::os::make_fifo(&c));
    }

    #[test]
    fn only_regular_files_inside_the_root() {
        let (root, _outside) = tree();
        let dir = DirSource::new(root.path(), 1).unwrap();
        assert!(matches!(dir.open("br/br.gif"), Some(Content::Cached(c)) if &c.bytes[..] == b"GIF89a-br"));
        assert!(dir.open("in/in.gif").is_some(), "a link inside the root is fine");
        assert!(dir.open("fi/fi.gif").is_none(), "a FIFO is not served");
        assert!(dir.open("dd/dd.gif").is_none(), "a directory is not served");
        assert!(dir.open("us/us.gif").is_none(), "a link out is not served");
        assert_eq!(dir.codes(), ["br", "in"]);
    }

    #[test]
    fn the_cache_notices_a_changed_file() {
        let (root, _outside) = tree();
        let mut dir = DirSource::new(root.path(), 1).unwrap();
        dir.revalidate = Duration::ZERO;
        assert!(dir.open("br/br.gif").is_some());
        std::fs::write(root.path().join("br/br.gif"), b"GIF89a-new and longer").unwrap();
        assert!(matches!(dir.open("br/br.gif"), Some(Content::Cached(c)) if &c.bytes[..] == b"GIF89a-new and longer"));
        std::fs::remove_file(root.path().join("br/br.gif")).unwrap();
        assert!(dir.open("br/br.gif").is_none());
        assert_eq!(dir.cached_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn large_files_are_streamed_not_cached() {
        let (root, _outside) = tree();
        std::fs::create_dir(root.path().join("zz")).unwrap();
        let big = root.path().join("zz/zz.gif");
        std::fs::File::create(&big).unwrap().set_len(CACHE_FILE_MAX + 1).unwrap();
        let dir = DirSource::new(root.path(), 1).unwrap();
        assert!(matches!(dir.open("zz/zz.gif"), Some(Content::Stream { len, .. }) if len == CACHE_FILE_MAX + 1));
        assert_eq!(dir.cached_bytes.load(Ordering::Relaxed), 0);
    }
}

#[cfg(test)]
mod revalidation {
    use super::*;

    #[test]
    fn a_fresh_entry_is_served_without_looking_and_an_old_one_is_checked() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("br")).unwrap();
        std::fs::write(root.path().join("br/br.gif"), b"old").unwrap();
        let mut dir = DirSource::new(root.path(), 1).unwrap();
        dir.revalidate = Duration::from_secs(3600);
        assert!(matches!(dir.open("br/br.gif"), Some(Content::Cached(c)) if &c.bytes[..] == b"old"));
        std::fs::write(root.path().join("br/br.gif"), b"newer").unwrap();
        assert!(matches!(dir.open("br/br.gif"), Some(Content::Cached(c)) if &c.bytes[..] == b"old"));
        dir.revalidate = Duration::ZERO;
        assert!(matches!(dir.open("br/br.gif"), Some(Content::Cached(c)) if &c.bytes[..] == b"newer"));
    }
}
