//! Saving flags: file names and atomic writes.
//!
//! Each file is written to a temporary name in the destination directory
//! and renamed into place, so a reader of `downloads/` (or a crash, or
//! Ctrl-C) never sees a partial file: a flag is either complete or absent.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The file name for a flag: `br.gif`, or with a country name (flags3's
/// `--names`) `Brazil-BR.gif`, spaces turned into `_`.
pub fn file_name(cc: &str, country: Option<&str>) -> String {
    match country {
        None => format!("{}.gif", cc.to_ascii_lowercase()),
        Some(name) => {
            let safe: String = name
                .chars()
                .map(|c| if c == ' ' || c == '/' || c == '\\' || c.is_control() { '_' } else { c })
                .collect();
            format!("{safe}-{}.gif", cc.to_ascii_uppercase())
        }
    }
}

/// Creates `dir` if needed and checks that a file can be created in it,
/// so a bad destination fails before any request is made.
pub fn prepare_dest(dir: &Path) -> io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "it exists and is not a directory"));
    }
    fs::create_dir_all(dir)?;
    let probe = temp_path(dir, "probe");
    fs::File::create(&probe)?;
    fs::remove_file(&probe)
}

fn temp_path(dir: &Path, name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // The pid, asked once: `process::id` is a system call each time.
    static PID: OnceLock<u32> = OnceLock::new();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}-{n}.part", PID.get_or_init(std::process::id)))
}

/// Writes `bytes` to `dir/name` atomically: temp file, then rename. On any
/// error the temp file is removed and nothing is left behind.
pub fn save_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = temp_path(dir, name);
    let target = dir.join(name);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_flags3() {
        assert_eq!(file_name("BR", None), "br.gif");
        assert_eq!(file_name("us", Some("United States of America")), "United_States_of_America-US.gif");
        assert_eq!(file_name("CI", Some("Côte d'Ivoire")), "Côte_d'Ivoire-CI.gif");
    }

    #[test]
    fn atomic_save_leaves_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        prepare_dest(dir.path()).unwrap();
        let path = save_atomic(dir.path(), "br.gif", b"GIF89a").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"GIF89a");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["br.gif"]);
        assert!(save_atomic(&dir.path().join("missing"), "x.gif", b"x").is_err());
    }
}
