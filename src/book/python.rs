//! The reader's Python: which modules each script needs (its top-level
//! imports, and those of the chapter's own modules it imports), and what
//! one run of the interpreter says it has: its version, `os.cpu_count()`
//! (which sizes `ThreadPoolExecutor()`), and which of the modules it can
//! find.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::shell::measure;
use crate::shutdown::Shutdown;

/// What the interpreter said of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `sys.version`'s first word, e.g. `3.11.7`.
    pub version: String,
    /// The CPUs `ThreadPoolExecutor()` counts: `os.process_cpu_count()`
    /// (Python 3.13 on), else `os.cpu_count()`.
    pub cpus: usize,
    /// The modules asked about that it cannot import.
    pub missing: BTreeSet<String>,
}

/// Why the interpreter could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum NoPython {
    #[error("{program}: not found; install Python 3 (python.org, or your system's python3 package), or name it with --python")]
    NotFound { program: String },
    #[error("{program} did not answer as Python 3 does: {said}")]
    Odd { program: String, said: String },
}

/// The longest the interpreter may take to answer.
const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// The program's answer to which of `modules` it has, asked as a step of
/// `shutdown` and within `PROBE_LIMIT` (30 s) (a `--python` that hangs is stopped
/// as a script is).
pub fn probe(program: &str, modules: &BTreeSet<String>, shutdown: &Shutdown) -> Result<Probe, NoPython> {
    const ASK: &str = "import sys, os, importlib.util as u\n\
                       print(sys.version.split()[0]); print(getattr(os, 'process_cpu_count', os.cpu_count)() or 1)\n\
                       for m in sys.argv[1:]:\n    print(m if u.find_spec(m) is None else '')\n";
    let mut cmd = Command::new(program);
    cmd.args(["-c", ASK]).current_dir(std::env::temp_dir()).args(modules);
    let keep = measure::Keep { stdout: 64 * 1024, stderr: Some(2048) };
    let output = measure::run_within(cmd, keep, shutdown, Some(PROBE_LIMIT))
        .map_err(|_| NoPython::NotFound { program: program.to_string() })?;
    let text = output.stdout.text();
    let mut lines = text.lines();
    let odd = || NoPython::Odd {
        program: program.to_string(),
        said: match output.overran {
            true => format!("no answer within {} s", PROBE_LIMIT.as_secs()),
            false => crate::proto::text::peer_text(format!("{}{}", text, output.stderr.text()).as_bytes()),
        },
    };
    let version = lines.next().filter(|v| v.starts_with('3') && output.status == Some(0)).ok_or_else(odd)?;
    let cpus = lines.next().and_then(|n| n.trim().parse().ok()).ok_or_else(odd)?;
    let missing = lines.map(str::trim).filter(|m| !m.is_empty()).map(String::from).collect();
    Ok(Probe { version: version.to_string(), cpus, missing })
}

/// The modules `script` imports at its top level, and those the chapter's
/// own modules it imports do, leaving out the chapter's own.
pub fn needs(chapter: &Path, script: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut needed = BTreeSet::new();
    let mut todo = vec![script.trim_end_matches(".py").to_string()];
    while let Some(module) = todo.pop() {
        if !seen.insert(module.clone()) {
            continue;
        }
        let text = std::fs::read_to_string(chapter.join(format!("{module}.py"))).unwrap_or_default();
        for name in imports(&text) {
            if chapter.join(format!("{name}.py")).is_file() {
                todo.push(name);
            } else {
                needed.insert(name);
            }
        }
    }
    needed
}

/// The top-level modules of `import a, b.c` and `from a import b` lines
/// at the start of a line.
pub fn imports(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let listed = match (line.strip_prefix("import "), line.strip_prefix("from ")) {
            (Some(list), _) => list.split(',').collect::<Vec<_>>(),
            (_, Some(from)) if from.contains(" import") => vec![from.split(" import").next().unwrap_or("")],
            _ => continue,
        };
        for item in listed {
            let module = item.split_whitespace().next().unwrap_or("").split('.').next().unwrap_or("");
            let plain = !module.is_empty() && module.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if plain && !names.iter().any(|n| n == module) {
                names.push(module.to_string());
            }
        }
    }
    names
}

/// The package that installs `module` from PyPI, where its name differs.
pub fn package_of(module: &str) -> &str {
    match module {
        "yaml" => "pyyaml",
        "PIL" => "pillow",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_from_the_start_of_lines() {
        let text = "import time\nfrom pathlib import Path\nimport httpx  # <1>\nimport os, sys\n\
                    from concurrent import futures\nfrom flags import save_flag, get_flag\n\
                    from httpx import AsyncClient\nimport xml.etree.ElementTree as ET\n    import indented\n# import nope\n";
        assert_eq!(imports(text), ["time", "pathlib", "httpx", "os", "sys", "concurrent", "flags", "xml"]);
    }

    #[test]
    fn a_script_needs_what_its_own_modules_import() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flags.py"), "import time\nimport httpx\n").unwrap();
        std::fs::write(
            dir.path().join("flags_threadpool.py"),
            "from concurrent import futures\nfrom flags import main\n",
        )
        .unwrap();
        let needed: Vec<String> = needs(dir.path(), "flags_threadpool.py").into_iter().collect();
        assert_eq!(needed, ["concurrent", "httpx", "time"]);
    }

    #[test]
    fn the_interpreter_says_what_it_lacks() {
        let Ok(p) =
            probe("python3", &["json".to_string(), "no_such_module_here".to_string()].into(), &Shutdown::default())
        else {
            eprintln!("skipped: no python3 on PATH");
            return;
        };
        assert!(p.version.starts_with('3') && p.cpus >= 1);
        assert_eq!(p.missing.into_iter().collect::<Vec<_>>(), ["no_such_module_here"]);
        assert!(matches!(
            probe("no-such-python-here", &BTreeSet::new(), &Shutdown::default()),
            Err(NoPython::NotFound { .. })
        ));
        assert!(matches!(probe("false", &BTreeSet::new(), &Shutdown::default()), Err(NoPython::Odd { .. })));
    }
}
