//! TLS against the secure client port of either server (Apache ZooKeeper's Netty factory, zk-server's
//! rustls listener), with PEM key and trust stores; client certificates against zk-server.
#![cfg(feature = "tls")]

use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use zk_client::rustls::{self, RootCertStore};
use zk_client::{Client, CreateOptions, Error};

use crate::server::{ApacheZk, TlsFiles};

/// A CA and a server certificate for 127.0.0.1 / localhost, written as PEM files.
fn certificates(dir: &std::path::Path) -> (TlsFiles, rcgen::Certificate, Issuer<'static, KeyPair>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params.clone(), ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &issuer).unwrap();
    let files = TlsFiles { key_store: dir.join("server.pem"), trust_store: dir.join("ca.pem") };
    std::fs::write(&files.key_store, format!("{}{}", key.serialize_pem(), cert.pem())).unwrap();
    std::fs::write(&files.trust_store, ca.pem()).unwrap();
    (files, ca, issuer)
}

fn client_config(ca: &rcgen::Certificate) -> Arc<rustls::ClientConfig> {
    client_config_with(ca, None)
}

/// A config trusting `ca`, presenting `identity` (a certificate chain and its key) when given.
fn client_config_with(
    ca: &rcgen::Certificate,
    identity: Option<(Vec<rustls::pki_types::CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>)>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// A client certificate signed by `issuer`'s CA, as rustls wants it.
fn client_cert(
    issuer: &Issuer<'static, KeyPair>,
) -> (Vec<rustls::pki_types::CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["client".to_owned()]).unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    (vec![cert.der().clone()], der.into())
}

/// A server of the suite's kind listening with TLS; `None` when it cannot run here (Apache missing).
async fn secure_server(test: &str, files: TlsFiles, client_auth: &str) -> Option<(SecureServer, std::net::SocketAddr)> {
    if crate::SERVER_KIND == "apache" {
        let test = test.to_owned();
        let server = tokio::task::spawn_blocking(move || ApacheZk::start_with(&test, Some(&files))).await.unwrap()?;
        let secure = server.secure_addr().unwrap();
        return Some((SecureServer::Apache(Box::new(server)), secure));
    }
    let server = zk_server::testing::Server::builder()
        .tls(&files.key_store, Some(&files.trust_store), client_auth)
        .start()
        .await
        .unwrap();
    let secure = server.secure_addr().unwrap();
    Some((SecureServer::ZkRs(Box::new(server)), secure))
}

enum SecureServer {
    Apache(#[allow(dead_code)] Box<ApacheZk>),
    ZkRs(#[allow(dead_code)] Box<zk_server::testing::Server>),
}

#[tokio::test]
async fn tls_connection_to_the_secure_port() {
    let dir = tempfile::tempdir().unwrap();
    let (files, ca, _) = certificates(dir.path());
    let Some((_server, secure)) = secure_server("tls_connection_to_the_secure_port", files, "none").await else {
        return;
    };

    let zk = Client::builder().with_tls(client_config(&ca)).connect(&secure.to_string()).await.unwrap();
    let (path, _) = zk.create("/over-tls", b"secret", &CreateOptions::ephemeral()).await.unwrap();
    assert_eq!(&zk.get_data(&path).await.unwrap().0[..], b"secret");

    // A client that does not trust the server's CA never gets a session.
    let elsewhere = tempfile::tempdir().unwrap();
    let (_, other_ca, _) = certificates(elsewhere.path());
    let untrusting = Client::builder()
        .with_tls(client_config(&other_ca))
        .with_establish_timeout(Duration::from_secs(2))
        .connect(&secure.to_string())
        .await;
    assert_eq!(untrusting.err(), Some(Error::Timeout));
    // Nor does a plain-text client on the secure port.
    let plain = Client::builder().with_establish_timeout(Duration::from_secs(2)).connect(&secure.to_string()).await;
    assert!(plain.is_err());
    zk.close().await.unwrap();
}

#[tokio::test]
async fn tls_client_certificates_are_required_when_asked() {
    if crate::SERVER_KIND == "apache" {
        return; // The Apache fixture runs with ssl.clientAuth=none.
    }
    let dir = tempfile::tempdir().unwrap();
    let (files, ca, issuer) = certificates(dir.path());
    let Some((_server, secure)) = secure_server("tls_client_certificates", files, "need").await else { return };
    let without = Client::builder()
        .with_tls(client_config(&ca))
        .with_establish_timeout(Duration::from_secs(2))
        .connect(&secure.to_string())
        .await;
    assert_eq!(without.err(), Some(Error::Timeout));

    let config = client_config_with(&ca, Some(client_cert(&issuer)));
    let zk = Client::builder().with_tls(config).connect(&secure.to_string()).await.unwrap();
    zk.create("/with-client-cert", b"", &CreateOptions::ephemeral()).await.unwrap();
    zk.close().await.unwrap();
}
