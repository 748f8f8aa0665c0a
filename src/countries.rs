//! Country codes: [`CountryCode`], checked once where it enters; the seed's
//! POP20; the catalog of the 194 flags the book's data set holds; and the
//! expansion of what a user types (`BR`, `b`, `-a`, `-e`, `-l N`) into a
//! sorted list of codes.
//!
//! The catalog facts (ISO code, country name, `tld_cc`, `gec_cc`, and the
//! byte and pixel size of each original GIF) are compiled in from
//! `data/catalog.tsv`, so the binary needs no file at run time.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::OnceLock;

/// A two-letter country code, kept in upper case (`BR`). Made only from
/// two ASCII letters (of either case), so everything past the edge can
/// rely on it; it reads as `&str` (`BR`), and [`CountryCode::lower`] gives
/// the `br` of the book's URLs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

/// Text that is not a two-letter code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a country code (two letters, such as BR)")]
pub struct BadCode(pub String);

impl CountryCode {
    /// `cc` if it is two ASCII letters, in either case.
    pub fn new(cc: &str) -> Result<Self, BadCode> {
        match cc.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(CountryCode([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(BadCode(cc.to_string())),
        }
    }

    /// For constants: panics (at compile time) unless two upper-case letters.
    pub const fn of(cc: &str) -> Self {
        let b = cc.as_bytes();
        assert!(b.len() == 2 && b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase());
        CountryCode([b[0], b[1]])
    }

    /// The code in upper case: `BR`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("two ASCII letters")
    }

    /// The code in lower case, as the book's URLs have it: `br`.
    pub fn lower(&self) -> String {
        self.as_str().to_ascii_lowercase()
    }

    /// Where the code falls in AA..ZZ: 0 for AA, 675 for ZZ.
    pub fn index(&self) -> usize {
        (self.0[0] - b'A') as usize * 26 + (self.0[1] - b'A') as usize
    }

    /// All 676 codes, AA to ZZ.
    pub fn every() -> impl Iterator<Item = CountryCode> {
        (b'A'..=b'Z').flat_map(|a| (b'A'..=b'Z').map(move |b| CountryCode([a, b])))
    }
}

impl Deref for CountryCode {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl FromStr for CountryCode {
    type Err = BadCode;
    fn from_str(s: &str) -> Result<Self, BadCode> {
        CountryCode::new(s)
    }
}

impl TryFrom<String> for CountryCode {
    type Error = BadCode;
    fn try_from(s: String) -> Result<Self, BadCode> {
        CountryCode::new(&s)
    }
}

impl From<CountryCode> for String {
    fn from(cc: CountryCode) -> String {
        cc.as_str().to_string()
    }
}

impl PartialEq<&str> for CountryCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The 20 most populous countries, in the seed's order (most populous first).
pub const POP20: [CountryCode; 20] = [
    CountryCode::of("CN"),
    CountryCode::of("IN"),
    CountryCode::of("US"),
    CountryCode::of("ID"),
    CountryCode::of("BR"),
    CountryCode::of("PK"),
    CountryCode::of("NG"),
    CountryCode::of("BD"),
    CountryCode::of("RU"),
    CountryCode::of("JP"),
    CountryCode::of("MX"),
    CountryCode::of("PH"),
    CountryCode::of("VN"),
    CountryCode::of("ET"),
    CountryCode::of("EG"),
    CountryCode::of("DE"),
    CountryCode::of("IR"),
    CountryCode::of("TR"),
    CountryCode::of("CD"),
    CountryCode::of("FR"),
];

/// One row of the catalog: what the book's server holds for a country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub cc: CountryCode,
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
    /// The `metadata.json` document the book's server publishes for this
    /// flag, byte for byte as the book's files have it: its field order,
    /// and Python's `json.dumps` spacing and `\u` escapes.
    pub fn metadata_json(&self) -> String {
        format!(
            "{{\"tld_cc\": {}, \"iso_cc\": {}, \"country\": {}, \"gec_cc\": {}}}",
            python_json_string(&self.tld_cc),
            python_json_string(&self.cc),
            python_json_string(&self.name),
            python_json_string(&self.gec_cc)
        )
    }
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`): every
/// character outside ASCII as `\uXXXX`, in UTF-16.
fn python_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// The 194 countries of the book's data set, sorted by code.
pub fn catalog() -> &'static [Country] {
    static CATALOG: OnceLock<Vec<Country>> = OnceLock::new();
    CATALOG.get_or_init(|| parse_catalog(include_str!("../data/catalog.tsv")))
}

/// Looks a code up in the catalog.
pub fn lookup(cc: CountryCode) -> Option<&'static Country> {
    position(cc).map(|i| &catalog()[i])
}

/// The index of a code in [`catalog`].
pub fn position(cc: CountryCode) -> Option<usize> {
    catalog().binary_search_by(|c| c.cc.cmp(&cc)).ok()
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
                cc: CountryCode::new(f[0]).expect("catalog.tsv: a two-letter code"),
                name: f[1].to_string(),
                tld_cc: f[2].to_string(),
                gec_cc: f[3].to_string(),
                gif_bytes: f[4].parse().expect("catalog.tsv: gif_bytes"),
                width: f[5].parse().expect("catalog.tsv: gif_width"),
                height: f[6].parse().expect("catalog.tsv: gif_height"),
            }
        })
        .collect();
    rows.sort_by_key(|c| c.cc);
    rows
}

/// A code or a letter, as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeArg {
    /// `BR`.
    Code(CountryCode),
    /// `b`: the 26 codes BA..BZ (upper case here).
    Letter(u8),
}

impl FromStr for CodeArg {
    type Err = BadCode;
    fn from_str(s: &str) -> Result<Self, BadCode> {
        match s.as_bytes() {
            [l] if l.is_ascii_alphabetic() => Ok(CodeArg::Letter(l.to_ascii_uppercase())),
            _ => CountryCode::new(s).map(CodeArg::Code),
        }
    }
}

/// What the user asked for; [`Selection::codes`] turns it into codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Two-letter codes, or single letters meaning the 26 codes starting with it.
    pub args: Vec<CodeArg>,
    /// `-a`: every code in the catalog.
    pub all: bool,
    /// `-e`: every pair of letters AA..ZZ.
    pub every: bool,
    /// `-l N`: keep the first N codes after sorting.
    pub limit: Option<usize>,
}

impl Selection {
    /// The requested codes, sorted, each once. With nothing selected, the
    /// seed's POP20.
    pub fn codes(&self) -> Vec<CountryCode> {
        let mut set = BTreeSet::new();
        if self.every {
            set.extend(CountryCode::every());
        }
        if self.all {
            set.extend(catalog().iter().map(|c| c.cc));
        }
        for arg in &self.args {
            match *arg {
                CodeArg::Code(cc) => {
                    set.insert(cc);
                }
                CodeArg::Letter(l) => set.extend((b'A'..=b'Z').map(|b| CountryCode([l, b]))),
            }
        }
        if set.is_empty() {
            set.extend(POP20);
        }
        let mut codes: Vec<CountryCode> = set.into_iter().collect();
        if let Some(n) = self.limit {
            codes.truncate(n);
        }
        codes
    }
}

/// The seed's POP20, sorted: the order the sequential style prints.
pub fn pop20_sorted() -> Vec<CountryCode> {
    let mut v = POP20.to_vec();
    v.sort();
    v
}

/// A short description of a sorted code list: `from BA to BZ`.
pub struct Span<'a>(pub &'a [CountryCode]);

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
        let br = lookup(CountryCode::of("BR")).unwrap();
        assert_eq!((br.gif_bytes, br.width, br.height), (11_623, 414, 302));
        assert_eq!(lookup(CountryCode::of("MC")).unwrap().gif_bytes, 1_193);
        assert!(lookup(CountryCode::of("ZZ")).is_none());
        assert!(POP20.iter().all(|cc| lookup(*cc).is_some()));
    }

    #[test]
    fn metadata_has_the_books_fields() {
        let ci = lookup(CountryCode::of("CI")).unwrap().metadata_json();
        // Byte for byte the book's file, field order and escapes included.
        assert_eq!(ci, r#"{"tld_cc": ".ci", "iso_cc": "CI", "country": "C\u00f4te d'Ivoire", "gec_cc": "IV"}"#);
        let v: serde_json::Value = serde_json::from_str(&ci).unwrap();
        assert_eq!(v["country"], "Côte d'Ivoire");
    }

    #[test]
    fn codes_are_checked_once() {
        assert_eq!(CountryCode::new("br").unwrap().as_str(), "BR");
        assert_eq!(CountryCode::new("bR").unwrap().lower(), "br");
        for bad in ["", "b", "ABC", "1x", "é"] {
            assert_eq!(CountryCode::new(bad), Err(BadCode(bad.into())), "{bad}");
        }
        assert_eq!(CountryCode::of("AA").index(), 0);
        assert_eq!(CountryCode::of("ZZ").index(), 675);
        assert_eq!(CountryCode::every().count(), 676);
        assert_eq!(serde_json::to_string(&CountryCode::of("BR")).unwrap(), "\"BR\"");
        assert!(serde_json::from_str::<CountryCode>("\"B1\"").is_err());
    }

    #[test]
    fn selection_expands_letters_dedups_sorts_and_limits() {
        let sel =
            |args: &[&str]| Selection { args: args.iter().map(|s| s.parse().unwrap()).collect(), ..Default::default() };
        let b = sel(&["b"]).codes();
        assert_eq!(b.len(), 26);
        assert_eq!(Span(&b).to_string(), "from BA to BZ");
        assert_eq!(sel(&["us", "BR", "US"]).codes(), ["BR", "US"]);
        assert_eq!(sel(&[]).codes(), pop20_sorted());
        assert!("ABC".parse::<CodeArg>().is_err() && "1".parse::<CodeArg>().is_err());
        let every = Selection { every: true, limit: Some(3), ..Default::default() };
        assert_eq!(every.codes(), ["AA", "AB", "AC"]);
        let all = Selection { all: true, ..Default::default() };
        assert_eq!(all.codes().len(), 194);
    }
}
