//! TLS against Apache ZooKeeper's secure client port (Netty, PEM key and trust stores).
#![cfg(feature = "tls")]

use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use zk_client::rustls::{self, RootCertStore};
use zk_client::{Client, CreateOptions, Error};

use crate::server::{apache_available, ApacheZk, TlsFiles};

/// A CA and a server certificate for 127.0.0.1 / localhost, written as PEM files.
fn certificates(dir: &std::path::Path) -> (TlsFiles, rcgen::Certificate) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &issuer).unwrap();
    let files = TlsFiles { key_store: dir.join("server.pem"), trust_store: dir.join("ca.pem") };
    std::fs::write(&files.key_store, format!("{}{}", key.serialize_pem(), cert.pem())).unwrap();
    std::fs::write(&files.trust_store, ca.pem()).unwrap();
    (files, ca)
}

fn client_config(ca: &rcgen::Certificate) -> Arc<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

#[tokio::test]
async fn tls_connection_to_the_secure_port() {
    if !apache_available("tls_connection_to_the_secure_port") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (files, ca) = certificates(dir.path());
    let server = tokio::task::spawn_blocking(move || ApacheZk::start_with(Some(&files))).await.unwrap();
    let secure = server.secure_addr().unwrap();

    let zk = Client::builder().with_tls(client_config(&ca)).connect(&secure.to_string()).await.unwrap();
    let (path, _) = zk.create("/over-tls", b"secret", &CreateOptions::ephemeral()).await.unwrap();
    assert_eq!(&zk.get_data(&path).await.unwrap().0[..], b"secret");

    // A client that does not trust the server's CA never gets a session.
    let elsewhere = tempfile::tempdir().unwrap();
    let (_, other_ca) = certificates(elsewhere.path());
    let untrusting = Client::builder()
        .with_tls(client_config(&other_ca))
        .with_establish_timeout(Duration::from_secs(2))
        .connect(&secure.to_string())
        .await;
    assert_eq!(untrusting.err(), Some(Error::Timeout));
    zk.close().await.unwrap();
}
