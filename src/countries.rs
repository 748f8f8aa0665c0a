//! Country codes: the seed's POP20, the catalog of the 194 flags the book's
//! data set holds, and the expansion of what a user types (`BR`, `b`, `-a`,
//! `-e`, `-l N`) into a sorted list of codes.
//!
//! The catalog facts (ISO code, country name, `tld_cc`, `gec_cc`, and the
//! byte and pixel size of each original GIF) are compiled in from
//! `data/catalog.tsv`, so the binary needs no file at run time.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

/// The 20 most populous countries, in the seed's order (most populous first).
pub const POP20: [&str; 20] = [
    "CN", "IN", "US", "ID", "BR", "PK", "NG", "BD", "RU", "JP", "MX", "PH", "VN", "ET", "EG", "DE", "IR", "TR", "CD",
    "FR",
];

/// One row of the catalog: what the book's server holds for a country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, upper case (`BR`).
    pub cc: String,
    /// The country name as the book's data set spells it.
    pub name: String,
    /// Internet top-level domain (`.br`).
    pub tld_cc: String,
    /// CIA World Factbook (GEC) code.
    pub gec_cc: String,
    /// Byte size of the original GIF.
    pub gif_bytes: usize,
    /// Pixel width of the original GIF.
    pub width: u16,
    /// Pixel height of the original GIF.
    pub height: u16,
}

impl Country {
    /// The `metadata.json` document the book's server publishes for this flag.
    pub fn metadata_json(&self) -> String {
        serde_json::json!({
            "tld_cc": self.tld_cc,
            "iso_cc": self.cc,
            "country": self.name,
            "gec_cc": self.gec_cc,
        })
        .to_string()
    }
}

/// The 194 countries of the book's data set, sorted by code.
pub fn catalog() -> &'static [Country] {
    static CATALOG: OnceLock<Vec<Country>> = OnceLock::new();
    CATALOG.get_or_init(|| parse_catalog(include_str!("../data/catalog.tsv")))
}

/// Looks a code up in the catalog, case-insensitively.
pub fn lookup(cc: &str) -> Option<&'static Country> {
    position(cc).map(|i| &catalog()[i])
}

/// The index of a code in [`catalog`], case-insensitively.
pub fn position(cc: &str) -> Option<usize> {
    let cc = cc.to_ascii_uppercase();
    catalog().binary_search_by(|c| c.cc.as_str().cmp(&cc)).ok()
}

fn parse_catalog(tsv: &str) -> Vec<Country> {
    let mut rows: Vec<Country> = tsv
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 7, "catalog.tsv: bad row {line:?}");
            Country {
                cc: f[0].to_string(),
                name: f[1].to_string(),
                tld_cc: f[2].to_string(),
                gec_cc: f[3].to_string(),
                gif_bytes: f[4].parse().expect("catalog.tsv: gif_bytes"),
                width: f[5].parse().expect("catalog.tsv: gif_width"),
                height: f[6].parse().expect("catalog.tsv: gif_height"),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.cc.cmp(&b.cc));
    rows
}

/// A country-code argument that is neither one letter nor two.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid country code or letter: {0:?} (expected a letter A-Z or a two-letter code such as BR)")]
pub struct BadCode(pub String);

/// What the user asked for; [`Selection::codes`] turns it into codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Two-letter codes, or single letters meaning the 26 codes starting with it.
    pub args: Vec<String>,
    /// `-a`: every code in the catalog.
    pub all: bool,
    /// `-e`: every pair of letters AA..ZZ.
    pub every: bool,
    /// `-l N`: keep the first N codes after sorting.
    pub limit: Option<usize>,
}

impl Selection {
    /// The requested codes, upper case, sorted, each once. With nothing
    /// selected, the seed's POP20.
    pub fn codes(&self) -> Result<Vec<String>, BadCode> {
        let mut set = BTreeSet::new();
        if self.every {
            set.extend(every_code());
        }
        if self.all {
            set.extend(catalog().iter().map(|c| c.cc.clone()));
        }
        for arg in &self.args {
            let up = arg.to_ascii_uppercase();
            match up.len() {
                1 if up.as_bytes()[0].is_ascii_uppercase() => set.extend(('A'..='Z').map(|b| format!("{up}{b}"))),
                2 if up.bytes().all(|b| b.is_ascii_uppercase()) => {
                    set.insert(up);
                }
                _ => return Err(BadCode(arg.clone())),
            }
        }
        if set.is_empty() {
            set.extend(POP20.iter().map(|s| s.to_string()));
        }
        let mut codes: Vec<String> = set.into_iter().collect();
        if let Some(n) = self.limit {
            codes.truncate(n);
        }
        Ok(codes)
    }
}

/// All 676 two-letter codes, AA to ZZ.
pub fn every_code() -> impl Iterator<Item = String> {
    ('A'..='Z').flat_map(|a| ('A'..='Z').map(move |b| format!("{a}{b}")))
}

/// The seed's POP20, sorted: the order the sequential style prints.
pub fn pop20_sorted() -> Vec<String> {
    let mut v: Vec<String> = POP20.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// A short description of a sorted code list: `from BA to BZ`.
pub struct Span<'a>(pub &'a [String]);

impl fmt::Display for Span<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => write!(f, "nothing"),
            [one] => write!(f, "{one}"),
            [first, .., last] => write!(f, "from {first} to {last}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_the_books_194_flags() {
        assert_eq!(catalog().len(), 194);
        let br = lookup("br").unwrap();
        assert_eq!((br.gif_bytes, br.width, br.height), (11_623, 414, 302));
        assert_eq!(lookup("MC").unwrap().gif_bytes, 1_193);
        assert!(lookup("ZZ").is_none());
        assert!(POP20.iter().all(|cc| lookup(cc).is_some()));
    }

    #[test]
    fn metadata_has_the_books_fields() {
        let v: serde_json::Value = serde_json::from_str(&lookup("CI").unwrap().metadata_json()).unwrap();
        assert_eq!(v["iso_cc"], "CI");
        assert_eq!(v["country"], "Côte d'Ivoire");
        assert_eq!(v["tld_cc"], ".ci");
        assert_eq!(v["gec_cc"], "IV");
    }

    #[test]
    fn selection_expands_letters_dedups_sorts_and_limits() {
        let sel =
            |args: &[&str]| Selection { args: args.iter().map(|s| s.to_string()).collect(), ..Default::default() };
        let b = sel(&["b"]).codes().unwrap();
        assert_eq!(b.len(), 26);
        assert_eq!(Span(&b).to_string(), "from BA to BZ");
        assert_eq!(sel(&["us", "BR", "US"]).codes().unwrap(), ["BR", "US"]);
        assert_eq!(sel(&[]).codes().unwrap(), pop20_sorted());
        assert_eq!(sel(&["ABC"]).codes(), Err(BadCode("ABC".into())));
        assert_eq!(sel(&["1"]).codes(), Err(BadCode("1".into())));
        let every = Selection { every: true, limit: Some(3), ..Default::default() };
        assert_eq!(every.codes().unwrap(), ["AA", "AB", "AC"]);
        let all = Selection { all: true, ..Default::default() };
        assert_eq!(all.codes().unwrap().len(), 194);
    }
}
