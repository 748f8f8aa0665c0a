//! `flags serve --tls`: HTTPS on your own machine. Without `--cert` and
//! `--key`, a certificate authority and a certificate for `localhost`,
//! `127.0.0.1` and `::1` (and the address served) are made at start with
//! rcgen; the authority's certificate is written to a file, for clients'
//! `--cacert` (the banner names it), removed when the server is done with
//! it (its key dies with the server). ALPN offers `h2` and `http/1.1`.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// Made at start, for these extra addresses besides localhost's.
    Generate { extra: Vec<IpAddr> },
    /// PEM files: a certificate chain and its private key.
    Files { cert: PathBuf, key: PathBuf },
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} holds no {what} in PEM form", .path.display())]
    Missing { path: PathBuf, what: &'static str },
    #[error("cannot make a certificate")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not make a TLS configuration")]
    Config(#[from] rustls::Error),
    #[error("cannot write the CA certificate")]
    WriteCa(#[source] io::Error),
}

/// A server's TLS: the rustls configuration, and the file holding the CA
/// certificate clients should trust (when it was made here; removed when
/// the last clone of this is dropped).
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub config: Arc<rustls::ServerConfig>,
    pub ca_file: Option<Arc<tempfile::TempPath>>,
}

/// Sets up TLS from `source`.
pub fn setup(source: &CertSource) -> Result<ServerTls, TlsSetupError> {
    let (chain, key, ca_file) = match source {
        CertSource::Files { cert, key } => (read_certs(cert)?, read_key(key)?, None),
        CertSource::Generate { extra } => {
            let (chain, key, ca_pem) = generate(extra)?;
            let ca_file = write_ca(&ca_pem)?;
            (chain, key, Some(Arc::new(ca_file)))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(ServerTls { config: Arc::new(config), ca_file })
}

/// A CA, and a certificate it signed for localhost and `extra`.
fn generate(extra: &[IpAddr]) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String), rcgen::Error> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name.push(DnType::CommonName, "flags serve --tls local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    names.extend(extra.iter().filter(|ip| !ip.is_unspecified()).map(IpAddr::to_string));
    names.dedup();
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &issuer)?;
    let chain = vec![cert.der().clone()];
    let key = PrivateKeyDer::try_from(key.serialize_der()).map_err(|_| rcgen::Error::CouldNotParseKeyPair)?;
    Ok((chain, key, ca.pem()))
}

/// Writes the CA certificate to a new file in the temporary directory.
fn write_ca(pem: &str) -> Result<tempfile::TempPath, TlsSetupError> {
    use std::io::Write;
    let mut file =
        tempfile::Builder::new().prefix("flags-ca-").suffix(".pem").tempfile().map_err(TlsSetupError::WriteCa)?;
    file.write_all(pem.as_bytes()).map_err(TlsSetupError::WriteCa)?;
    Ok(file.into_temp_path())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsSetupError> {
    std::fs::read(path).map_err(|source| TlsSetupError::Read { path: path.to_path_buf(), source })
}

/// The certificates of a PEM file.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    let pem = read(path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok).collect();
    if certs.is_empty() {
        return Err(TlsSetupError::Missing { path: path.to_path_buf(), what: "certificate" });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|_| TlsSetupError::Missing { path: path.to_path_buf(), what: "private key" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_certificate_comes_with_its_ca_on_disk() {
        let tls = setup(&CertSource::Generate { extra: vec![] }).unwrap();
        let ca = tls.ca_file.clone().expect("a CA file");
        let certs = read_certs(&ca).unwrap();
        assert_eq!(certs.len(), 1);
        assert_eq!(tls.config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        let path = ca.to_path_buf();
        drop((tls, ca));
        assert!(!path.exists(), "the CA file goes with the server");
    }

    #[test]
    fn missing_files_say_which() {
        let err = setup(&CertSource::Files { cert: "/no/cert.pem".into(), key: "/no/key.pem".into() }).unwrap_err();
        assert!(err.to_string().contains("/no/cert.pem"), "{err}");
    }
}
