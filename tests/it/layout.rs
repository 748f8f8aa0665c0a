//! The code's shape, checked: no module of `flags` imports a module that
//! imports it back (a parent counts as importing the modules it declares),
//! neither file by file nor between the top-level modules of `src/`, and
//! nothing prints outside `report/` and `main.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module a file holds, as `crate::a::b` segments (`[]` for lib.rs).
fn module_of(src: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop()?;
    match last.as_str() {
        "lib.rs" if parts.is_empty() => Some(vec![]),
        "main.rs" if parts.is_empty() => None,
        "mod.rs" => Some(parts),
        name => {
            parts.push(name.trim_end_matches(".rs").to_string());
            Some(parts)
        }
    }
}

/// The code of a file without its tests (a `#[cfg(test)]` module ends each
/// file here), comments and string literals, roughly: enough to find paths
/// and macros in code.
fn code_only(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = String::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// Expands `a::{b, c::{d}}` into `a::b`, `a::c::d`.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else { return vec![path.trim().to_string()] };
    let prefix = &path[..open];
    let inner = &path[open + 1..path.rfind('}').unwrap_or(path.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).flat_map(|p| expand(&format!("{prefix}{}", p.trim()))).collect()
}

/// The paths a file's code names: `use` trees and inline `crate::`/`super::` paths.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let flat = code.replace('\n', " ");
    for stmt in flat.split(';') {
        let stmt = stmt.trim();
        let stmt = stmt.strip_prefix("pub(crate) ").or_else(|| stmt.strip_prefix("pub ")).unwrap_or(stmt);
        if let Some(tree) = stmt.strip_prefix("use ") {
            paths.extend(expand(tree));
        }
    }
    for start in ["crate::", "super::"] {
        for (i, _) in flat.match_indices(start) {
            let rest: String =
                flat[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            // `super::{a, b}` is a use tree, read above.
            if !rest.ends_with(':') {
                paths.push(rest);
            }
        }
    }
    paths
}

/// The module a path leads into, from module `here`: the longest module
/// among `modules` that the path names.
fn target(path: &str, here: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let path = path.split(" as ").next().unwrap().trim();
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = match segs.first() {
        Some(&"crate") => {
            segs.remove(0);
            vec![]
        }
        Some(&"super") => {
            let mut b = here.to_vec();
            while segs.first() == Some(&"super") {
                segs.remove(0);
                b.pop();
            }
            b
        }
        Some(&"self") => {
            segs.remove(0);
            here.to_vec()
        }
        _ => return None,
    };
    let mut found = base.clone();
    for seg in segs {
        base.push(seg.to_string());
        if modules.contains(&base) {
            found = base.clone();
        } else {
            break;
        }
    }
    Some(found)
}

/// Who imports whom among the modules of `src/` (`main.rs` aside), one
/// module per file: each module's set of imported modules.
fn module_edges() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<(Vec<String>, String)> = sources(&src)
        .into_iter()
        .filter_map(|f| Some((module_of(&src, &f)?, code_only(&std::fs::read_to_string(&f).unwrap()))))
        .collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, code) in &files {
        let out = edges.entry(module.clone()).or_default();
        // A parent depends on the modules it declares.
        for child in modules.iter().filter(|m| m.len() == module.len() + 1 && m.starts_with(module)) {
            out.insert(child.clone());
        }
        for path in paths_in(code) {
            if let Some(t) = target(&path, module, &modules) {
                if &t != module {
                    out.insert(t);
                }
            }
        }
    }
    edges
}

/// Every edge of `edges` whose target reaches back to its source, as
/// `from -> to` lines: every cycle is a pair of nodes that reach each other.
fn cycles<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>, name: impl Fn(&N) -> String) -> Vec<String> {
    let reach = |from: &N| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let mut found = Vec::new();
    for (m, out) in edges {
        for t in out {
            if reach(t).contains(m) {
                found.push(format!("{} -> {}", name(m), name(t)));
            }
        }
    }
    found
}

/// A module's name as code writes it (`crate` for the root).
fn name(m: &[String]) -> String {
    if m.is_empty() {
        "crate".to_string()
    } else {
        m.join("::")
    }
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let cycles = cycles(&module_edges(), |m| name(m));
    assert!(cycles.is_empty(), "imports that come back around:\n{}", cycles.join("\n"));
}

/// The same rule one level up: the top-level modules of `src/` (`server`,
/// `waterfall`, `bench`, ...) form a DAG too, so that what two of them share
/// lives below both. Files can be acyclic while their modules are not:
/// `server::pages` -> `waterfall` and `waterfall::served` ->
/// `server::timeline` make no file cycle, yet `server` and `waterfall` each
/// need the other. The crate root's declarations are left out (it declares
/// every module); what its code imports counts.
#[test]
fn no_top_level_module_imports_one_that_imports_it_back() {
    let top = |m: &[String]| m.first().cloned().unwrap_or_else(|| "crate".to_string());
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // The file edges behind each top-level edge, for the message.
    let mut why: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (module, out) in module_edges() {
        for t in out {
            let declared = module.is_empty() && t.len() == 1;
            if declared || top(&module) == top(&t) {
                continue;
            }
            edges.entry(top(&module)).or_default().insert(top(&t));
            why.entry((top(&module), top(&t))).or_default().push(format!("{} -> {}", name(&module), name(&t)));
        }
    }
    let cycles: Vec<String> = cycles(&edges, String::clone)
        .into_iter()
        .map(|edge| {
            let (from, to) = edge.split_once(" -> ").unwrap();
            format!("{edge}  ({})", why[&(from.to_string(), to.to_string())].join(", "))
        })
        .collect();
    assert!(cycles.is_empty(), "top-level modules that import each other back:\n{}", cycles.join("\n"));
}

#[test]
fn only_the_report_and_main_print() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for file in sources(&src) {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if rel.starts_with("report") || rel == "main.rs" {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for mac in ["print!(", "println!(", "eprint!(", "eprintln!(", "dbg!("] {
            if code.contains(mac) {
                offenders.push(format!("{rel}: {mac}"));
            }
        }
    }
    assert!(offenders.is_empty(), "printing outside report/ and main.rs: {offenders:?}");
}

#[test]
fn only_os_calls_the_system() {
    // Every call into libc is gated in src/os.rs, so a port to another
    // Unix touches one file; libc's constants may be named elsewhere.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for file in sources(&src) {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if rel == "os.rs" {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for (i, _) in code.match_indices("libc::") {
            let name: String = code[i + 6..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let called = code[i + 6 + name.len()..].starts_with('(');
            if called && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                offenders.push(format!("{rel}: libc::{name}("));
            }
        }
    }
    assert!(offenders.is_empty(), "system calls outside src/os.rs: {offenders:?}");
}
