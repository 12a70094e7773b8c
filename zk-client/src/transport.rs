//! Opening a connection to one server: TCP, optionally wrapped in TLS.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;

/// TLS settings: the rustls client config (roots, client certificate, ...).
#[cfg(feature = "tls")]
pub(crate) type TlsConfig = std::sync::Arc<tokio_rustls::rustls::ClientConfig>;

/// An open connection.
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// How to reach servers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Connector {
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsConfig>,
}

impl Connector {
    /// Connects to `host` (`name:port`), all within `timeout`.
    pub(crate) async fn connect(&self, host: &str, timeout: Duration) -> io::Result<Transport> {
        let open = async {
            let tcp = TcpStream::connect(host).await?;
            let _ = tcp.set_nodelay(true);
            #[cfg(feature = "tls")]
            if let Some(config) = &self.tls {
                let name = server_name(host)?;
                let tls = tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp).await?;
                return Ok(Transport::Tls(Box::new(tls)));
            }
            Ok(Transport::Plain(tcp))
        };
        tokio::time::timeout(timeout, open)
            .await
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")))
    }
}

/// The name a server's certificate must match: the host part of `host:port` (an IP or a DNS name).
#[cfg(feature = "tls")]
fn server_name(host: &str) -> io::Result<tokio_rustls::rustls::pki_types::ServerName<'static>> {
    let name = match host.rsplit_once(':') {
        Some((name, _)) => name,
        None => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    tokio_rustls::rustls::pki_types::ServerName::try_from(name.to_owned())
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;

    #[test]
    fn server_names_come_from_the_host_part() {
        assert_eq!(
            format!("{:?}", server_name("zk1.example:2181").unwrap()),
            format!("{:?}", server_name("zk1.example").unwrap())
        );
        assert!(matches!(
            server_name("[::1]:2181").unwrap(),
            tokio_rustls::rustls::pki_types::ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name("127.0.0.1:2181").unwrap(),
            tokio_rustls::rustls::pki_types::ServerName::IpAddress(_)
        ));
    }
}
