//! The clients an exam grades: a name, a shell command template, and what
//! the client declares it can do. Built-in profiles cover the tools on PATH
//! and `flags get` in its four styles; `--client NAME=TEMPLATE` adds any
//! other.
//!
//! A template is run by `sh -c` with its placeholders replaced, each value
//! shell-quoted:
//!
//! | placeholder | value |
//! |---|---|
//! | `{url}` | the first code's URL, `http://127.0.0.1:PORT/flags/br/br.gif` |
//! | `{urls}` | every code's URL, as separate words |
//! | `{out}` | the first code's destination, `DIR/br.gif` |
//! | `{dir}` | the run's fresh folder (also the working directory) |
//! | `{base}` | the base URL, `http://127.0.0.1:PORT/flags` |
//! | `{cc}` | the codes, as separate words (`br fr jp`) |
//! | `{cacert}` | the exam's CA certificate (PEM) |
//!
//! `{{` and `}}` stand for literal braces.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::case::Needs;
pub use crate::shell::quote;

/// A client the exam runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub name: String,
    pub template: String,
    /// The template for the HTTP/2 cases, if the client speaks HTTP/2 with
    /// prior knowledge (the URLs are the same http ones).
    pub h2_template: Option<String>,
    /// What the client can do: retries are declared; several files and a
    /// CA file are read from the template's placeholders.
    pub can: Needs,
    /// The program's version, as its `--version` says (built-in profiles
    /// only: the exam runs no other command than the template).
    #[serde(default)]
    pub version: Option<String>,
}

/// A template or a `--client` argument that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ClientError(pub String);

const PLACEHOLDERS: [&str; 7] = ["url", "urls", "out", "dir", "base", "cc", "cacert"];

impl Client {
    /// A client from its name, template and declared abilities.
    pub fn new(name: &str, template: &str, h2_template: Option<&str>, retries: bool) -> Result<Client, ClientError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(ClientError(format!("client name {name:?}: use letters, digits, '-', '_' or '.'")));
        }
        let used = placeholders(template)?;
        if let Some(t) = h2_template {
            placeholders(t)?;
        }
        if !used.iter().any(|p| ["url", "urls", "base"].contains(p)) {
            return Err(ClientError(format!(
                "client {name}: the template names no URL ({{url}}, {{urls}} or {{base}})"
            )));
        }
        let several = used.contains(&"urls") || used.contains(&"cc");
        let tls = used.contains(&"cacert");
        let can = Needs { retries, several, h2: h2_template.is_some(), tls };
        Ok(Client {
            name: name.into(),
            template: template.into(),
            h2_template: h2_template.map(Into::into),
            can,
            version: None,
        })
    }

    /// Parses `NAME=TEMPLATE` or `NAME+retries+h2=TEMPLATE` (`+h2`: the
    /// same template takes the HTTP/2 cases).
    pub fn parse(arg: &str) -> Result<Client, ClientError> {
        let Some((label, template)) = arg.split_once('=') else {
            return Err(ClientError(format!("{arg:?}: expected NAME=TEMPLATE, e.g. mine='./get.sh {{url}} {{out}}'")));
        };
        let mut words = label.split('+');
        let name = words.next().unwrap_or("");
        let (mut retries, mut h2) = (false, false);
        for w in words {
            match w {
                "retries" => retries = true,
                "h2" => h2 = true,
                other => return Err(ClientError(format!("client {name}: unknown ability {other:?} (retries, h2)"))),
            }
        }
        Client::new(name, template, h2.then_some(template), retries)
    }

    /// The command line for one run.
    pub fn command(&self, h2: bool, vars: &Vars<'_>) -> String {
        let template = match (h2, &self.h2_template) {
            (true, Some(t)) => t,
            _ => &self.template,
        };
        expand(template, vars)
    }
}

/// The values of one run's placeholders.
pub struct Vars<'a> {
    pub base: &'a str,
    pub codes: &'a [&'a str],
    pub dir: &'a Path,
    pub cacert: &'a Path,
}

/// The placeholders a template uses; an unknown one is an error.
fn placeholders(template: &str) -> Result<Vec<&'static str>, ClientError> {
    let mut used = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let after = &rest[i + 1..];
        if after.starts_with(&rest[i..=i]) {
            rest = &after[1..];
            continue;
        }
        if rest.as_bytes()[i] == b'}' {
            return Err(ClientError(format!("template {template:?}: a lone '}}' (write }}}} for a brace)")));
        }
        let Some(end) = after.find('}') else {
            return Err(ClientError(format!("template {template:?}: '{{' without '}}' (write {{{{ for a brace)")));
        };
        let name = &after[..end];
        match PLACEHOLDERS.iter().find(|p| **p == name) {
            Some(p) => used.push(*p),
            None => {
                let known: Vec<String> = PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect();
                return Err(ClientError(format!(
                    "template {template:?}: unknown {{{name}}} (known: {})",
                    known.join(" ")
                )));
            }
        }
        rest = &after[end + 1..];
    }
    Ok(used)
}

fn expand(template: &str, v: &Vars<'_>) -> String {
    let url = |cc: &str| format!("{}/{cc}/{cc}.gif", v.base);
    let words = |items: Vec<String>| items.iter().map(|s| quote(s)).collect::<Vec<_>>().join(" ");
    let first = v.codes.first().copied().unwrap_or("br");
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if after.starts_with(&rest[i..=i]) {
            out.push_str(&rest[i..=i]);
            rest = &after[1..];
            continue;
        }
        let end = after.find('}').unwrap_or(after.len());
        out.push_str(&match &after[..end] {
            "url" => quote(&url(first)),
            "urls" => words(v.codes.iter().map(|cc| url(cc)).collect()),
            "out" => quote(&v.dir.join(format!("{first}.gif")).to_string_lossy()),
            "dir" => quote(&v.dir.to_string_lossy()),
            "base" => quote(v.base),
            "cc" => words(v.codes.iter().map(|cc| cc.to_string()).collect()),
            "cacert" => quote(&v.cacert.to_string_lossy()),
            _ => String::new(),
        });
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Python's standard library: `urllib.request.urlretrieve`, trusting `{cacert}`.
const PYTHON_URLLIB: &str = "python3 -c 'import ssl, sys, urllib.request as u; \
u.install_opener(u.build_opener(u.HTTPSHandler(context=ssl.create_default_context(cafile=sys.argv[1])))); \
[u.urlretrieve(x, x.rsplit(\"/\", 1)[1]) for x in sys.argv[2:]]' {cacert} {urls}";

/// The built-in profiles whose program is on PATH, each with the options a
/// careful user of that tool passes, and `flags get` in its four styles
/// (run as `flags`, this executable). Retries are declared only where the
/// tool can be told to retry an error answer: wget with
/// `--retry-on-http-error`, aria2c with `--retry-wait` (which retries a
/// 503 only), curl with `--retry`; wget2 has no such option. aria2c gets
/// `--file-allocation=none`, so that a huge announced length allocates no
/// disk.
pub fn builtins(flags: &Path) -> Vec<Client> {
    let flags = quote(&flags.to_string_lossy());
    let get = |mode: &str| {
        format!("{flags} get {{cc}} --mode {mode} -s {{base}} -d {{dir}} --retries 2 --timeout 5 --cacert {{cacert}}")
    };
    let mut all = vec![
        ("curl", "curl -sS --cacert {cacert} --remote-name-all {urls}".to_string(),
            Some("curl -sS --http2-prior-knowledge --remote-name-all {urls}".to_string()), false),
        ("curl-careful", "curl -sS --fail --remove-on-error --max-time 5 --max-filesize 1M --retry 2 --retry-max-time 10 --cacert {cacert} --remote-name-all {urls}".to_string(),
            Some("curl -sS --fail --remove-on-error --max-time 5 --max-filesize 1M --retry 2 --retry-max-time 10 --http2-prior-knowledge --remote-name-all {urls}".to_string()), true),
        ("wget2", "wget2 -q --ca-certificate={cacert} {urls}".to_string(), None, false),
        ("wget", "wget -q --tries=3 --waitretry=2 --retry-on-http-error=429,500,503 --ca-certificate={cacert} {urls}".to_string(), None, true),
        ("aria2c", "aria2c -q -Z --file-allocation=none --max-tries=3 --retry-wait=1 --ca-certificate={cacert} {urls}".to_string(), None, true),
        ("python-urllib", PYTHON_URLLIB.to_string(), None, false),
    ];
    let program = |name: &str| match name {
        "python-urllib" => "python3".to_string(),
        _ => name.split('-').next().unwrap_or(name).to_string(),
    };
    all.retain(|(name, ..)| on_path(&program(name)));
    let mut clients: Vec<Client> = all
        .into_iter()
        .filter_map(|(name, t, h2, retries)| {
            let mut c = Client::new(name, &t, h2.as_deref(), retries).ok()?;
            c.version = version_of(&program(name));
            Some(c)
        })
        .collect();
    for mode in ["sequential", "threadpool", "async", "processpool"] {
        let template = get(mode);
        let h2 = (mode == "async").then(|| format!("{template} --http2"));
        if let Ok(mut c) = Client::new(&format!("flags-{mode}"), &template, h2.as_deref(), true) {
            c.version = Some(format!("flags {}", env!("CARGO_PKG_VERSION")));
            clients.push(c);
        }
    }
    clients
}

/// What `program --version` says (on stdout, or stderr as Python 2 did):
/// its first line, up to the first word that starts with a digit
/// (`curl 7.88.1`, `GNU Wget2 1.99.1`, `aria2 version 1.36.0`).
fn version_of(program: &str) -> Option<String> {
    let out = std::process::Command::new(program).arg("--version").stdin(std::process::Stdio::null()).output().ok()?;
    let text = if out.stdout.is_empty() { out.stderr } else { out.stdout };
    let line = String::from_utf8_lossy(&text).lines().map(str::trim).find(|l| !l.is_empty())?.to_string();
    Some(short_version(&line))
}

fn short_version(line: &str) -> String {
    let mut words = Vec::new();
    for w in line.split_whitespace().take(6) {
        words.push(w);
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            break;
        }
    }
    words.join(" ")
}

/// True when `program` is an executable file in a folder of PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_with_every_value_quoted() {
        let (dir, ca) = (Path::new("/tmp/a b"), Path::new("/tmp/ca.pem"));
        let vars = Vars { base: "http://127.0.0.1:9/flags", codes: &["br", "fr"], dir, cacert: ca };
        let c = Client::new("x", "get {url} -o {out} {{lit}} {cc} {urls} --ca {cacert}", None, false).unwrap();
        assert_eq!(
            c.command(false, &vars),
            "get http://127.0.0.1:9/flags/br/br.gif -o '/tmp/a b/br.gif' {lit} br fr \
             http://127.0.0.1:9/flags/br/br.gif http://127.0.0.1:9/flags/fr/fr.gif --ca /tmp/ca.pem"
        );
        assert!(c.can.several && c.can.tls && !c.can.retries && !c.can.h2);
        assert_eq!(quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn versions_are_cut_after_the_number() {
        assert_eq!(short_version("curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1"), "curl 7.88.1");
        assert_eq!(short_version("GNU Wget2 1.99.1 - multithreaded metalink"), "GNU Wget2 1.99.1");
        assert_eq!(short_version("aria2 version 1.36.0"), "aria2 version 1.36.0");
    }

    #[test]
    fn bad_clients_are_refused_with_a_reason() {
        assert!(Client::parse("mine").unwrap_err().0.contains("NAME=TEMPLATE"));
        assert!(Client::parse("mine=get {nope}").unwrap_err().0.contains("unknown {nope}"));
        assert!(Client::parse("mine=get {url").unwrap_err().0.contains("without"));
        assert!(Client::parse("mine=true").unwrap_err().0.contains("no URL"));
        assert!(Client::parse("a b=get {url}").unwrap_err().0.contains("client name"));
        assert!(Client::parse("m+fast=get {url}").unwrap_err().0.contains("unknown ability"));
        let c = Client::parse("book+retries+h2=python3 flags2.py -s {base} {cc}").unwrap();
        assert!(c.can.retries && c.can.h2 && c.can.several && !c.can.tls);
    }
}
