//! How `flags` names itself on the wire: the `User-Agent` of its requests
//! and the `Server` of its answers.

/// `flags/0.1.0`.
pub const PRODUCT: &str = concat!("flags/", env!("CARGO_PKG_VERSION"));
