//! The TLS configuration of every `https://` request, blocking or async,
//! built in one place so every style trusts the same servers.
//!
//! rustls (with ring) trusts the system's root certificates, read once with
//! rustls-native-certs (the usual places, or `SSL_CERT_FILE` /
//! `SSL_CERT_DIR`), plus the certificates of `--cacert` ([`Trust`]). With
//! `--insecure` no certificate is checked, only the handshake's signatures.
//!
//! A chain is trusted when it leads to one of those roots. It is checked
//! against `--cacert`'s first, and against the system's only if that
//! fails, because reading and parsing the system's ~150 roots takes 10 to
//! 30 ms, which a run against a local server with its own CA need not pay.
//! A chain ends in one root, so trying the two sets in turn trusts exactly
//! what their union would.
//! What crosses to a process worker is the [`Trust`], and the worker builds
//! the same configuration from it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::proto::error::{ConnectError, FetchError, TlsFailure};

/// Which servers a client believes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Trust {
    /// A PEM file of further CA certificates (`--cacert`), trusted along
    /// with the system's.
    pub cacert: Option<PathBuf>,
    /// Check no certificate (`-k`, `--insecure`).
    pub insecure: bool,
}

/// Which protocols a TLS client offers (ALPN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alpn {
    /// HTTP/1.1 only.
    Http1,
    /// h2 first, then HTTP/1.1.
    H2OrHttp1,
    /// h2 only.
    H2,
}

/// The configurations made so far.
type Made = Mutex<HashMap<(Trust, Alpn), Arc<ClientConfig>>>;

/// The client configuration for `trust` offering `alpn`, made on first use.
pub fn config(trust: &Trust, alpn: Alpn) -> Result<Arc<ClientConfig>, FetchError> {
    static CONFIGS: OnceLock<Made> = OnceLock::new();
    let configs = CONFIGS.get_or_init(Default::default);
    if let Some(config) = configs.lock().unwrap_or_else(|p| p.into_inner()).get(&(trust.clone(), alpn)) {
        return Ok(config.clone());
    }
    let config = build(trust, alpn).map_err(|e| FetchError::Connect(ConnectError::Tls(TlsFailure::Setup(e))))?;
    configs.lock().unwrap_or_else(|p| p.into_inner()).insert((trust.clone(), alpn), config.clone());
    Ok(config)
}

/// Checks that `path` holds at least one PEM certificate: how `--cacert`
/// is checked before a run starts. The number of certificates.
pub fn check_cacert(path: &Path) -> Result<usize, String> {
    read_pem(path).map(|certs| certs.len())
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{} is not a PEM certificate file ({e})", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

/// The system's roots, read once: how many files were unreadable does
/// not matter as long as some were found.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        roots
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(trust: &Trust, alpn: Alpn) -> Result<Arc<ClientConfig>, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let verifier: Arc<dyn ServerCertVerifier> = if trust.insecure {
        Arc::new(Unchecked(provider()))
    } else {
        let own = match &trust.cacert {
            None => None,
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for cert in read_pem(path)? {
                    roots.add(cert).map_err(|e| format!("{}: a certificate was refused ({e})", path.display()))?;
                }
                Some(webpki_verifier(roots)?)
            }
        };
        Arc::new(Roots { own, system: OnceLock::new() })
    };
    let mut config = builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    config.alpn_protocols = match alpn {
        Alpn::Http1 => vec![b"http/1.1".to_vec()],
        Alpn::H2OrHttp1 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Alpn::H2 => vec![b"h2".to_vec()],
    };
    Ok(Arc::new(config))
}

fn webpki_verifier(roots: RootCertStore) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider()).build().map_err(|e| e.to_string())
}

/// The roots of a [`Trust`]: `--cacert`'s, then the system's, read on
/// first need.
#[derive(Debug)]
struct Roots {
    own: Option<Arc<WebPkiServerVerifier>>,
    system: OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
}

impl Roots {
    fn system(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        let verifier = self.system.get_or_init(|| {
            let roots = system_roots().clone();
            if roots.is_empty() {
                return Err("no trusted root certificates found on this system (install ca-certificates, set \
                            SSL_CERT_FILE, or give --cacert)"
                    .into());
            }
            webpki_verifier(roots)
        });
        verifier.as_ref().map_err(|e| rustls::Error::General(e.clone()))
    }

    /// The verifier for signatures: the same algorithms in both.
    fn any(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        match &self.own {
            Some(own) => Ok(own),
            None => self.system(),
        }
    }
}

impl ServerCertVerifier for Roots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(own) = &self.own {
            match own.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {}
                decided => return decided,
            }
        }
        self.system()?.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}

/// `--insecure`: every certificate is taken; the handshake's signatures
/// are still checked, so the connection is encrypted, only not
/// authenticated.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The name a certificate must carry for `host`.
pub fn server_name(host: &str) -> Result<ServerName<'static>, FetchError> {
    ServerName::try_from(host.to_string())
        .map_err(|_| FetchError::Connect(ConnectError::Tls(TlsFailure::BadName { host: host.to_string() })))
}

/// A TLS failure as a sentence.
pub fn describe(e: &rustls::Error) -> TlsFailure {
    use rustls::{CertificateError, Error as E};
    match e {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => TlsFailure::UnknownIssuer,
        E::InvalidCertificate(CertificateError::NotValidForName)
        | E::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => TlsFailure::OtherName,
        E::InvalidCertificate(CertificateError::Expired)
        | E::InvalidCertificate(CertificateError::ExpiredContext { .. }) => TlsFailure::Expired,
        E::InvalidCertificate(CertificateError::NotValidYet) => TlsFailure::NotYetValid,
        E::InvalidCertificate(CertificateError::Revoked) => TlsFailure::Revoked,
        E::InvalidCertificate(_) => TlsFailure::Refused,
        E::General(why) => TlsFailure::Other(why.clone()),
        E::NoApplicationProtocol => TlsFailure::NoProtocol,
        E::AlertReceived(alert) => TlsFailure::Alert { alert: alert_words(alert) },
        other => TlsFailure::Other(other.to_string()),
    }
}

fn alert_words(alert: &rustls::AlertDescription) -> String {
    // The alert's name (`HandshakeFailure`) split into words.
    let name = format!("{alert:?}");
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cacert_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        assert!(check_cacert(&missing).unwrap_err().starts_with("cannot read"));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "hello\n").unwrap();
        assert!(check_cacert(&empty).unwrap_err().contains("holds no PEM certificate"));
    }

    #[test]
    fn alerts_read_as_words() {
        assert_eq!(alert_words(&rustls::AlertDescription::HandshakeFailure), "handshake failure");
    }
}
