//! Which form a `--timeline FILE` takes, from FILE's name: the one place
//! every writer asks (`flags get`, `flags serve`, the demo).
//!
//! | FILE ends in | form |
//! |---|---|
//! | `.trace.json` | Trace Event JSON, for Perfetto's UI and `chrome://tracing` ([`trace`](super::trace)) |
//! | `.har` | HAR 1.2, for a browser's network panel ([`har`](super::har)) |
//! | `.json` | the timeline's own JSON: the server's record, or `flags get`'s report (as `--json` prints it) |
//! | `.html`, `.htm` | an HTML page with the SVG waterfall in it |
//! | `.svg`, or anything else | the SVG waterfall (`flags demo --timeline` refuses these: it has no lone SVG, only its page) |
//!
//! Case does not matter. `.json` kept its meaning (`flags serve
//! --timeline x.json` wrote the record before Trace Event came), so Trace
//! Event takes the longer `.trace.json`.

use std::path::Path;

/// A timeline file's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Html,
    Json,
    Trace,
    Har,
}

impl Format {
    /// The form `path`'s name asks for.
    pub fn of(path: &Path) -> Format {
        let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let ext = name.rsplit_once('.').map_or("", |(_, ext)| ext);
        match ext {
            "json" if name.ends_with(".trace.json") => Format::Trace,
            "json" => Format::Json,
            "har" => Format::Har,
            "html" | "htm" => Format::Html,
            _ => Format::Svg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_decides() {
        let of = |name: &str| Format::of(Path::new(name));
        assert_eq!(of("run.trace.json"), Format::Trace);
        assert_eq!(of("dir.har/RUN.TRACE.JSON"), Format::Trace);
        assert_eq!(of("run.json"), Format::Json);
        assert_eq!(of("trace.json"), Format::Json, "a file called trace.json is plain JSON");
        assert_eq!(of("run.HAR"), Format::Har);
        assert_eq!(of("run.htm"), Format::Html);
        assert_eq!(of("run.svg"), Format::Svg);
        assert_eq!(of("run.txt"), Format::Svg);
        assert_eq!(of("/dev/stdout"), Format::Svg);
        assert_eq!(of("x.har.svg"), Format::Svg);
    }
}
