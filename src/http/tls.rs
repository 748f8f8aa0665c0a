//! The TLS configuration of every `https://` request, blocking or async:
//! rustls (with ring), trusting the system's root certificates (read once
//! with rustls-native-certs from the usual places, or `SSL_CERT_FILE` /
//! `SSL_CERT_DIR`). One configuration, so every style trusts the same
//! servers.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::ServerName;
use rustls::ClientConfig;

use super::error::{ConnectError, FetchError};

/// The client configuration, made on first use.
pub fn config() -> Result<Arc<ClientConfig>, FetchError> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(build).clone().map_err(|e| FetchError::Connect(ConnectError::Tls(e)))
}

fn build() -> Result<Arc<ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err("no trusted root certificates found on this system (install ca-certificates, or set \
                    SSL_CERT_FILE)"
            .into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The name a certificate must carry for `host`.
pub fn server_name(host: &str) -> Result<ServerName<'static>, FetchError> {
    ServerName::try_from(host.to_string())
        .map_err(|_| FetchError::Connect(ConnectError::Tls(format!("{host:?} is not a TLS server name"))))
}

/// A TLS failure as a sentence.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::{CertificateError, Error as E};
    match e {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "TLS: the server's certificate is not signed by a trusted authority".into()
        }
        E::InvalidCertificate(CertificateError::NotValidForName)
        | E::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "TLS: the server's certificate is for another host name".into()
        }
        E::InvalidCertificate(CertificateError::Expired)
        | E::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "TLS: the server's certificate has expired".into()
        }
        E::InvalidCertificate(CertificateError::NotValidYet) => "TLS: the server's certificate is not valid yet".into(),
        E::InvalidCertificate(CertificateError::Revoked) => "TLS: the server's certificate was revoked".into(),
        E::InvalidCertificate(_) => "TLS: the server's certificate was refused".into(),
        other => format!("TLS: {other}"),
    }
}
