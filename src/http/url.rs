//! Base URLs, checked once where they enter (`-s`, `bench --server`,
//! `FLAGS_BASE_URL`), so a malformed one is a usage error that names the
//! problem and nothing downstream parses a URL again.
//!
//! A base is `http://` or `https://`, a host (a name, an IPv4 address or an
//! IPv6 address in brackets), an optional port, and an optional path; no
//! query or fragment. Credentials (`http://user:pw@host/flags`) are taken
//! apart here and sent as HTTP basic authentication (RFC 7617) in every
//! style, so they never reach a resolver as part of a host name.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    /// The port a URL without one uses.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A checked base URL such as `http://127.0.0.1:8000/flags`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BaseUrl {
    pub scheme: Scheme,
    /// The host as written, without brackets: `example.com`, `127.0.0.1`, `::1`.
    pub host: String,
    pub port: u16,
    /// The path without a trailing slash: `/flags`, or empty.
    pub path: String,
    /// `Authorization: Basic ...`'s value, from the URL's user and password.
    pub authorization: Option<String>,
}

/// Why a string is not a base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url:?} is not a usable base URL: {why}")]
pub struct UrlError {
    pub url: String,
    pub why: &'static str,
}

impl FromStr for BaseUrl {
    type Err = UrlError;

    fn from_str(url: &str) -> Result<Self, UrlError> {
        let fail = |why| UrlError { url: url.to_string(), why };
        if url.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(fail("it contains a space or a control character"));
        }
        let (scheme, rest) = url.split_once("://").ok_or(fail("it needs http:// or https://"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(fail("only http:// and https:// are supported")),
        };
        if rest.contains(['?', '#']) {
            return Err(fail("a base URL has no query (?) or fragment (#)"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport).map_err(fail)?;
        let port = match port {
            None | Some("") => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(fail("the port must be a number from 1 to 65535")),
            },
        };
        if !valid_path(path) {
            return Err(fail("the path has a character that must be percent-encoded, or a bad % escape"));
        }
        let authorization = userinfo.map(|u| basic_auth(u).map_err(fail)).transpose()?;
        Ok(BaseUrl {
            scheme,
            host: host.to_string(),
            port,
            path: path.trim_end_matches('/').to_string(),
            authorization,
        })
    }
}

/// `host[:port]` or `[v6][:port]`, with the host checked.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), &'static str> {
    if s.is_empty() {
        return Err("it has no host");
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or("the IPv6 address has no closing ]")?;
        v6.parse::<std::net::Ipv6Addr>().map_err(|_| "the part in [ ] is not an IPv6 address")?;
        return match after {
            "" => Ok((v6, None)),
            _ => after.strip_prefix(':').map(|p| (v6, Some(p))).ok_or("only :port may follow the ]"),
        };
    }
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if host.is_empty() {
        return Err("it has no host");
    }
    // A registered name (RFC 3986 reg-name, without percent-escapes) or an IPv4 address.
    if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)) {
        return Err("the host name has a character a host name can't have");
    }
    Ok((host, port))
}

/// Path characters of RFC 3986 (pchar and `/`), with `%` only in `%XX`.
fn valid_path(path: &str) -> bool {
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                    return false;
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&c) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// `user:password` (percent-encoded) as a basic-auth header value.
fn basic_auth(userinfo: &str) -> Result<String, &'static str> {
    let decoded = percent_decode(userinfo).ok_or("the user name or password has a bad % escape")?;
    Ok(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(decoded)))
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

impl BaseUrl {
    /// `host:port` as the `Host` header writes it (brackets around IPv6,
    /// the port only when it is not the scheme's default).
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The path of a file under the base: `{path}/{rest}`.
    pub fn path_of(&self, rest: &str) -> String {
        format!("{}/{rest}", self.path)
    }

    /// The URL of a file under the base, for messages and peers.
    pub fn url_of(&self, rest: &str) -> String {
        format!("{}://{}{}", self.scheme.as_str(), self.host_header(), self.path_of(rest))
    }
}

/// The base as a URL, without the credentials.
impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme.as_str(), self.host_header(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> BaseUrl {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn good_bases() {
        let b = parse("http://127.0.0.1:8000/flags/");
        assert_eq!((b.scheme, b.host.as_str(), b.port, b.path.as_str()), (Scheme::Http, "127.0.0.1", 8000, "/flags"));
        assert_eq!(b.to_string(), "http://127.0.0.1:8000/flags");
        assert_eq!(b.url_of("br/br.gif"), "http://127.0.0.1:8000/flags/br/br.gif");
        let b = parse("HTTPS://www.fluentpython.com/data/flags");
        assert_eq!((b.port, b.host_header()), (443, "www.fluentpython.com".to_string()));
        let b = parse("http://[::1]:9/x");
        assert_eq!((b.host.as_str(), b.host_header()), ("::1", "[::1]:9".to_string()));
        assert_eq!(parse("http://h").path, "");
        assert_eq!(parse("http://h:/a%20b").port, 80);
    }

    #[test]
    fn credentials_become_basic_auth_and_leave_the_host() {
        let b = parse("http://user:p%40ss@127.0.0.1:8000/flags");
        assert_eq!(b.host, "127.0.0.1");
        assert_eq!(b.authorization.as_deref(), Some("Basic dXNlcjpwQHNz"));
        assert_eq!(b.to_string(), "http://127.0.0.1:8000/flags", "no credentials in what is printed");
    }

    #[test]
    fn bad_bases_say_why() {
        for (url, why) in [
            ("http://", "no host"),
            ("http://[::1", "closing ]"),
            ("http://a b", "space"),
            ("ftp://x", "only http"),
            ("localhost:8000", "http://"),
            ("http://h:0", "port"),
            ("http://h:99999", "port"),
            ("http://h:8a", "port"),
            ("http://h/a?b", "query"),
            ("http://h/%zz", "% escape"),
            ("http://h/a\"b", "percent-encoded"),
            ("http://[zz]/", "IPv6"),
            ("http://h%2fx/", "host name"),
            ("http://:80/", "no host"),
            ("http://u:%zz@h/", "% escape"),
        ] {
            let err = url.parse::<BaseUrl>().expect_err(url).to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
    }
}
