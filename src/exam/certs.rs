//! The exam's certificates: one CA the client is told to trust (`{cacert}`),
//! and one server certificate per TLS case, each with one flaw. Made with
//! rcgen when the exam starts, never stored.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use serde::Serialize;

/// Which certificate a TLS case presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cert {
    /// Signed by the exam's CA, for 127.0.0.1 and localhost, valid now.
    Valid,
    /// As `Valid`, but it expired in 2020.
    Expired,
    /// Signed by the exam's CA for another name only (`wrong.example`).
    WrongHost,
    /// For 127.0.0.1, signed by its own key.
    SelfSigned,
    /// For 127.0.0.1, signed by a CA the client was not given.
    UntrustedCa,
}

impl Cert {
    /// Its name in the listing.
    pub fn name(self) -> &'static str {
        match self {
            Cert::Valid => "valid",
            Cert::Expired => "expired",
            Cert::WrongHost => "wrong-host",
            Cert::SelfSigned => "self-signed",
            Cert::UntrustedCa => "untrusted-CA",
        }
    }
}

/// The CA (PEM, for `{cacert}`) and a server configuration per [`Cert`].
pub struct Certs {
    pub ca_pem: String,
    configs: Vec<(Cert, Arc<ServerConfig>)>,
}

impl Certs {
    /// Makes the CA and every case's certificate.
    pub fn make() -> Result<Certs, String> {
        make().map_err(|e| format!("cannot make the exam's certificates: {e}"))
    }

    /// The server configuration that presents `cert` (HTTP/1.1 only).
    pub fn config(&self, cert: Cert) -> Arc<ServerConfig> {
        let found = self.configs.iter().find(|(c, _)| *c == cert).or(self.configs.first());
        Arc::clone(&found.expect("made with every certificate").1)
    }
}

fn authority(name: &str) -> Result<(Issuer<'static, KeyPair>, String), rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = params.self_signed(&key)?.pem();
    Ok((Issuer::new(params, key), pem))
}

fn make() -> Result<Certs, Box<dyn std::error::Error>> {
    let (ca, ca_pem) = authority("flags exam CA")?;
    let (stranger, _) = authority("flags exam: a CA nobody trusts")?;
    let here = || vec!["127.0.0.1".to_string(), "localhost".to_string()];
    let mut configs = Vec::new();
    for cert in [Cert::Valid, Cert::Expired, Cert::WrongHost, Cert::SelfSigned, Cert::UntrustedCa] {
        let key = KeyPair::generate()?;
        let names = if cert == Cert::WrongHost { vec!["wrong.example".to_string()] } else { here() };
        let mut params = CertificateParams::new(names)?;
        params.distinguished_name.push(DnType::CommonName, "flags exam server");
        if cert == Cert::Expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let signed = match cert {
            Cert::SelfSigned => params.self_signed(&key)?,
            Cert::UntrustedCa => params.signed_by(&key, &stranger)?,
            _ => params.signed_by(&key, &ca)?,
        };
        let chain = vec![CertificateDer::from(signed.der().to_vec())];
        let key = PrivateKeyDer::try_from(key.serialize_der())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        configs.push((cert, Arc::new(config)));
    }
    Ok(Certs { ca_pem, configs })
}
