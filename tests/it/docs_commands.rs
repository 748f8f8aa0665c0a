//! What the documentation shows, checked: every `flags` command in a shell
//! code block of README.md or docs/*.md parses with the real command line
//! (the subcommand and every option exist, and values clap checks parse),
//! and every relative link points at a file that exists.

use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::Parser;
use flags::cli::Cli;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md, sorted.
fn pages() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

/// The lines of `text` inside ```sh, ```console and ```bash blocks, with
/// their line numbers (from 1); a line that ends in a backslash is joined
/// with the next, as the shell joins them.
fn shell_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut in_shell = false;
    let mut in_block = false;
    let mut joining = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            if in_block {
                in_block = false;
                in_shell = false;
            } else {
                in_block = true;
                in_shell = matches!(info.trim(), "sh" | "console" | "bash" | "shell");
            }
        } else if in_shell {
            let piece = line.strip_suffix('\\');
            match (joining, out.last_mut()) {
                (true, Some((_, joined))) => {
                    joined.push(' ');
                    joined.push_str(piece.unwrap_or(line).trim_start());
                }
                _ => out.push((i + 1, piece.unwrap_or(line).to_string())),
            }
            joining = piece.is_some();
        }
    }
    out
}

/// A shell line as words, for the simple cases the docs use: `'...'` and
/// `"..."` quotes, a backslash escape outside single quotes, a comment after
/// an unquoted ` #`. `None` for a line a simple split cannot read (an
/// unterminated quote).
fn words(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => w.push(chars.next()?),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next().unwrap_or('\\')),
            '#' if word.is_none() => break,
            c if c.is_whitespace() => out.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    Some(out)
}

/// The `flags` command a shell line runs, as the words clap would get, or
/// `None` when the line runs something else or is beyond a simple split.
fn flags_command(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    let line = line.strip_prefix("$ ").unwrap_or(line);
    if !line.starts_with("flags ") && line != "flags" {
        return None;
    }
    if ["$(", "`", "|", "&&", "||", "<<", ";"].iter().any(|s| line.contains(s)) {
        return None;
    }
    let mut words = words(line)?;
    // A trailing `&`, and the redirections a simple line may end with.
    if words.last().is_some_and(|w| w == "&") {
        words.pop();
    }
    let mut out = Vec::new();
    let mut iter = words.into_iter();
    while let Some(w) = iter.next() {
        if matches!(w.as_str(), ">" | ">>" | "2>" | "2>>" | "<") {
            iter.next();
        } else if w.starts_with('>') || w.starts_with("2>") {
            continue;
        } else {
            out.push(w);
        }
    }
    Some(out)
}

#[test]
fn every_flags_command_in_the_docs_parses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        for (n, line) in shell_lines(&text) {
            let Some(args) = flags_command(&line) else { continue };
            checked += 1;
            match Cli::try_parse_from(&args) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {}
                Err(e) => failures.push(format!("{name}:{n}: {}\n{}", line.trim(), e.render())),
            }
        }
    }
    assert!(failures.is_empty(), "commands in the docs that do not parse:\n\n{}", failures.join("\n"));
    assert!(checked >= 10, "only {checked} flags commands found in the docs: is the extraction broken?");
}

/// The targets of the Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    out
}

#[test]
fn every_relative_link_in_the_docs_exists() {
    let mut failures = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap();
            if !Path::new(&dir.join(path)).exists() {
                failures.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(failures.is_empty(), "links to files that do not exist:\n{}", failures.join("\n"));
}

#[test]
fn the_shell_split_reads_the_simple_cases() {
    // A command over two lines is read as one, and a wrong option in its
    // second line is seen.
    let joined = shell_lines("```sh\nflags get \\\n  --bogus\n```\n");
    assert_eq!(joined.len(), 1, "{joined:?}");
    let args = flags_command(&joined[0].1).unwrap();
    assert_eq!(args, ["flags", "get", "--bogus"]);
    assert!(Cli::try_parse_from(&args).is_err());
    assert_eq!(
        flags_command("$ flags get -a --mode threadpool    # the 194 flags"),
        Some(vec!["flags".into(), "get".into(), "-a".into(), "--mode".into(), "threadpool".into()])
    );
    assert_eq!(
        flags_command("flags exam --client 'mine=curl -o {out} {url}' > card.txt &"),
        Some(vec!["flags".into(), "exam".into(), "--client".into(), "mine=curl -o {out} {url}".into()])
    );
    assert_eq!(flags_command("flags get -a | head"), None);
    assert_eq!(flags_command("cargo run --release"), None);
}
