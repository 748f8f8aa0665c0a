//! A temporary copy of the chapter whose scripts download from the
//! embedded server: the reader's files are read, never written. Each
//! quoted URL that ends in `/flags` (the book's `BASE_URL` and the flags2
//! `SERVERS`, whatever their host) becomes the server's base URL, and the
//! folder a `DEST_DIR` names is made, as the book has its reader make it.
//! Every change is returned, to be shown.

use std::path::{Path, PathBuf};

/// One line changed in the copy, or a folder made in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub file: String,
    /// Its number, from 1; 0 for a folder made.
    pub line: usize,
    pub before: String,
    pub after: String,
}

/// A copy of the chapter, removed when dropped.
#[derive(Debug)]
pub struct Copy {
    dir: tempfile::TempDir,
}

impl Copy {
    /// Copies the chapter's `.py` and `.txt` files from `chapter` into a new
    /// temporary folder, pointed at `base`; the copy and what was changed.
    pub fn make(chapter: &Path, base: &str) -> std::io::Result<(Copy, Vec<Change>)> {
        let dir = tempfile::Builder::new().prefix("flags-book-").tempdir()?;
        let mut changes = Vec::new();
        // A link to a file counts as the file (the chapter's own listing
        // follows links too).
        let mut names: Vec<PathBuf> = std::fs::read_dir(chapter)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
            .filter(|p| p.extension().is_some_and(|x| x == "py" || x == "txt"))
            .collect();
        names.sort();
        let mut made: Vec<String> = Vec::new();
        for path in names {
            let name = path.file_name().expect("a file has a name").to_string_lossy().into_owned();
            let target = dir.path().join(&name);
            let text = match name.ends_with(".py") {
                true => std::fs::read(&path).ok().and_then(|b| String::from_utf8(b).ok()),
                false => None,
            };
            let Some(text) = text else {
                std::fs::copy(&path, &target)?;
                continue;
            };
            let (text, changed) = point_at(&text, base);
            changes.extend(changed.into_iter().map(|(line, before, after)| Change {
                file: name.clone(),
                line,
                before,
                after,
            }));
            // The first edition's scripts save into a folder they do not
            // make: the book has its reader make it.
            let makes_its_own = text.contains("mkdir") || text.contains("makedirs");
            for folder in dest_dirs(&text) {
                if makes_its_own || made.contains(&folder) {
                    continue;
                }
                std::fs::create_dir_all(dir.path().join(&folder))?;
                let after = format!("made, for {name} saves into it (DEST_DIR) and does not make it");
                changes.push(Change { file: format!("{folder}/"), line: 0, before: String::new(), after });
                made.push(folder);
            }
            std::fs::write(target, text)?;
        }
        Ok((Copy { dir }, changes))
    }

    /// The copy's folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// `text` with each quoted URL ending in `/flags` replaced by `base`; the
/// lines changed (number, before, after).
pub fn point_at(text: &str, base: &str) -> (String, Vec<(usize, String, String)>) {
    let mut changed = Vec::new();
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let new = replace_urls(line, base);
        if new != line {
            changed.push((i + 1, line.trim_end().to_string(), new.trim_end().to_string()));
        }
        out.push_str(&new);
    }
    (out, changed)
}

/// `line` with each string literal `'http...://.../flags'` (or `"..."`)
/// replaced by `base`, quoted the same way.
fn replace_urls(line: &str, base: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find(['\'', '"']) {
        let quote = rest.as_bytes()[start] as char;
        let after = &rest[start + 1..];
        let Some(len) = after.find(quote) else { break };
        let literal = &after[..len];
        out.push_str(&rest[..=start]);
        let url = literal.strip_suffix('/').unwrap_or(literal);
        let is_base = (url.starts_with("http://") || url.starts_with("https://")) && url.ends_with("/flags");
        out.push_str(if is_base { base } else { literal });
        out.push(quote);
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

/// The folders the scripts save into, from `DEST_DIR = 'downloads/'` or
/// `DEST_DIR = Path('downloaded')`: relative names only.
fn dest_dirs(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("DEST_DIR")?.trim_start().strip_prefix('='))
        .filter_map(|v| {
            let q = v.find(['\'', '"'])?;
            let quote = v.as_bytes()[q] as char;
            let name = v[q + 1..].split(quote).next()?.trim_end_matches('/');
            let plain = !name.is_empty() && !name.starts_with('/') && !name.split('/').any(|p| p == "..");
            plain.then(|| name.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:4242/flags";

    #[test]
    fn the_base_url_and_every_server_point_at_the_embedded_one() {
        let text = "BASE_URL = 'https://www.fluentpython.com/data/flags'  # <3>\n\
                    SERVERS = {\n    'REMOTE': \"http://flupy.org/data/flags/\",\n    'LOCAL':  'http://localhost:8000/flags',\n}\n\
                    url = f'{BASE_URL}/{cc}/{cc}.gif'.lower()\nother = 'http://example.com/x'\n";
        let (out, changed) = point_at(text, BASE);
        assert!(out.starts_with(&format!("BASE_URL = '{BASE}'  # <3>\n")), "{out}");
        assert!(out.contains(&format!("'REMOTE': \"{BASE}\",")) && out.contains(&format!("'LOCAL':  '{BASE}',")));
        assert!(out.contains("url = f'{BASE_URL}/{cc}/{cc}.gif'.lower()") && out.contains("'http://example.com/x'"));
        assert_eq!(changed.iter().map(|c| c.0).collect::<Vec<_>>(), [1, 3, 4]);
        assert_eq!(changed[0].1, "BASE_URL = 'https://www.fluentpython.com/data/flags'  # <3>");
        // Nothing else moves: an unterminated quote is left as it is.
        assert_eq!(point_at("x = 'abc\n", BASE).0, "x = 'abc\n");
    }

    #[test]
    fn the_folder_a_script_saves_into_is_made() {
        assert_eq!(dest_dirs("DEST_DIR = 'downloads/'  # <4>\n"), ["downloads"]);
        assert_eq!(dest_dirs("DEST_DIR = Path('downloaded')\n"), ["downloaded"]);
        assert!(dest_dirs("DEST_DIR = '/etc'\nDEST_DIR = '../up'\n").is_empty());
    }

    #[test]
    fn a_copy_leaves_the_readers_files_alone() {
        let chapter = tempfile::tempdir().unwrap();
        let original = "BASE_URL = 'http://flupy.org/data/flags'\nDEST_DIR = 'downloads/'\n";
        std::fs::write(chapter.path().join("flags.py"), original).unwrap();
        std::fs::write(chapter.path().join("country_codes.txt"), "AD AE\n").unwrap();
        std::fs::write(chapter.path().join("flags.zip"), [0u8; 4]).unwrap();
        // A link to a script counts as the script, and the folder both save
        // into is made (and said) once.
        std::os::unix::fs::symlink("flags.py", chapter.path().join("flags_again.py")).unwrap();
        let (copy, changes) = Copy::make(chapter.path(), BASE).unwrap();
        assert_eq!(std::fs::read_to_string(chapter.path().join("flags.py")).unwrap(), original);
        let copied = std::fs::read_to_string(copy.path().join("flags.py")).unwrap();
        assert!(copied.contains(BASE));
        assert!(copy.path().join("downloads").is_dir() && copy.path().join("country_codes.txt").is_file());
        assert!(!copy.path().join("flags.zip").exists());
        assert!(copy.path().join("flags_again.py").is_file());
        let said: Vec<(&str, usize)> = changes.iter().map(|c| (c.file.as_str(), c.line)).collect();
        assert_eq!(said, [("flags.py", 1), ("downloads/", 0), ("flags_again.py", 1)]);
        let path = copy.path().to_path_buf();
        drop(copy);
        assert!(!path.exists());
    }
}
