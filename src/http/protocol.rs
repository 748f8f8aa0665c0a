//! Which HTTP version the async client speaks: a choice of the command
//! line (`--http1.1`, `--http2`), kept as data.

/// Which HTTP version the async client speaks (the blocking one speaks
/// HTTP/1.1 only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP/2 where TLS's ALPN agrees on it, else HTTP/1.1; plain http is
    /// HTTP/1.1 (as curl and wget2 do).
    #[default]
    Auto,
    /// HTTP/1.1 only (`--http1.1`).
    Http1,
    /// HTTP/2 only (`--http2`): offered alone over TLS, and spoken with
    /// prior knowledge (h2c) over plain http.
    Http2,
}
