//! TLS for the secure client port: ZooKeeper's `secureClientPort` with its `ssl.*` settings (`X509Util`),
//! for PEM key and trust stores (`ssl.keyStore.type=PEM`, which ZooKeeper 3.9 supports beside JKS and
//! PKCS12; those binary Java formats are refused with a clear error).
//!
//! Keys, read from zoo.cfg or with ZooKeeper's `zookeeper.` system-property prefix:
//! - `ssl.keyStore.location`: a PEM file with the private key and the certificate chain (required);
//! - `ssl.trustStore.location`: PEM CA certificates that client certificates must chain to;
//! - `ssl.clientAuth`: `none`, `want` (verify a certificate if one is sent) or `need` (ZooKeeper's
//!   default: a client certificate is required);
//! - `ssl.keyStore.type` / `ssl.trustStore.type`: `PEM`, or absent when the file name ends in `.pem`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore};
use tokio_rustls::TlsAcceptor;

use crate::config::ServerConfig;

/// Why TLS could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(String);

/// Whether clients must present a certificate (`ssl.clientAuth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    None,
    /// A certificate is verified if the client sends one.
    Want,
    /// A verified client certificate is required.
    Need,
}

/// The secure port's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM private key and certificate chain.
    pub key_store: PathBuf,
    /// PEM CA certificates for client certificates.
    pub trust_store: Option<PathBuf>,
    /// `ssl.clientAuth`.
    pub client_auth: ClientAuth,
}

impl TlsSettings {
    /// Reads the `ssl.*` keys of `config`.
    pub fn from_config(config: &ServerConfig) -> Result<TlsSettings, TlsError> {
        let get = |key: &str| {
            config
                .other
                .get(key)
                .or_else(|| config.other.get(&format!("zookeeper.{key}")))
                .map(|p| p.value.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let key_store = get("ssl.keyStore.location").map(PathBuf::from).ok_or_else(|| {
            TlsError("secureClientPort needs ssl.keyStore.location (a PEM key and certificate)".into())
        })?;
        check_pem(&key_store, get("ssl.keyStore.type"), "ssl.keyStore")?;
        let trust_store = get("ssl.trustStore.location").map(PathBuf::from);
        if let Some(path) = &trust_store {
            check_pem(path, get("ssl.trustStore.type"), "ssl.trustStore")?;
        }
        let client_auth = match get("ssl.clientAuth").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("need") => ClientAuth::Need,
            Some("want") => ClientAuth::Want,
            Some("none") => ClientAuth::None,
            Some(other) => return Err(TlsError(format!("ssl.clientAuth: {other:?} is not none, want or need"))),
        };
        if client_auth != ClientAuth::None && trust_store.is_none() {
            return Err(TlsError(
                "ssl.clientAuth=need or want verifies client certificates: set ssl.trustStore.location \
                 (or ssl.clientAuth=none)"
                    .into(),
            ));
        }
        Ok(TlsSettings { key_store, trust_store, client_auth })
    }

    /// Loads the files and builds the acceptor.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.key_store)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| TlsError(format!("{}: {e}", self.key_store.display())))?;
        if chain.is_empty() {
            return Err(TlsError(format!("{}: no certificate", self.key_store.display())));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key_store)
            .map_err(|e| TlsError(format!("{}: no private key: {e}", self.key_store.display())))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?;
        let builder = match (&self.trust_store, self.client_auth) {
            (Some(path), auth @ (ClientAuth::Want | ClientAuth::Need)) => {
                let mut roots = RootCertStore::empty();
                for cert in
                    CertificateDer::pem_file_iter(path).map_err(|e| TlsError(format!("{}: {e}", path.display())))?
                {
                    let cert = cert.map_err(|e| TlsError(format!("{}: {e}", path.display())))?;
                    roots.add(cert).map_err(|e| TlsError(format!("{}: {e}", path.display())))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if auth == ClientAuth::Want { verifier.allow_unauthenticated() } else { verifier };
                builder.with_client_cert_verifier(verifier.build().map_err(|e| TlsError(e.to_string()))?)
            }
            _ => builder.with_no_client_auth(),
        };
        let config = builder.with_single_cert(chain, key).map_err(|e| TlsError(e.to_string()))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Only PEM stores are read: a declared type other than PEM, or a Java store's file extension, is refused.
fn check_pem(path: &Path, declared: Option<String>, what: &str) -> Result<(), TlsError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let kind = declared.map(|t| t.to_ascii_uppercase()).or_else(|| match extension.as_deref() {
        Some("jks") => Some("JKS".into()),
        Some("p12" | "pfx") => Some("PKCS12".into()),
        Some("bcfks") => Some("BCFKS".into()),
        _ => None,
    });
    match kind.as_deref() {
        None | Some("PEM") => Ok(()),
        Some(other) => Err(TlsError(format!(
            "{what}.type {other} is not supported; convert the store to PEM and set {what}.type=PEM"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Property;

    fn config(keys: &[(&str, &str)]) -> ServerConfig {
        let mut config = ServerConfig::with_data_dir("/tmp/unused");
        for (key, value) in keys {
            config.other.insert((*key).into(), Property { key: (*key).into(), value: (*value).into(), line: 0 });
        }
        config
    }

    #[test]
    fn settings_follow_zookeeper_keys_and_defaults() {
        let settings = TlsSettings::from_config(&config(&[
            ("ssl.keyStore.location", "k.pem"),
            ("ssl.trustStore.location", "t.pem"),
        ]))
        .unwrap();
        assert_eq!(settings.client_auth, ClientAuth::Need, "ZooKeeper requires client certificates by default");
        let settings = TlsSettings::from_config(&config(&[
            ("zookeeper.ssl.keyStore.location", "k.pem"),
            ("ssl.clientAuth", "none"),
        ]))
        .unwrap();
        assert_eq!((settings.client_auth, settings.trust_store), (ClientAuth::None, None));
    }

    #[test]
    fn unusable_settings_are_clear_errors() {
        let missing = TlsSettings::from_config(&config(&[])).unwrap_err();
        assert!(missing.0.contains("ssl.keyStore.location"), "{missing}");
        let jks = TlsSettings::from_config(&config(&[("ssl.keyStore.location", "k.jks"), ("ssl.clientAuth", "none")]));
        assert!(jks.unwrap_err().0.contains("JKS"));
        let no_trust = TlsSettings::from_config(&config(&[("ssl.keyStore.location", "k.pem")])).unwrap_err();
        assert!(no_trust.0.contains("ssl.trustStore.location"), "{no_trust}");
        let bad_auth =
            TlsSettings::from_config(&config(&[("ssl.keyStore.location", "k.pem"), ("ssl.clientAuth", "x")]));
        assert!(bad_auth.is_err());
        let unreadable =
            TlsSettings { key_store: "/nonexistent.pem".into(), trust_store: None, client_auth: ClientAuth::None };
        assert!(unreadable.acceptor().is_err());
    }
}
