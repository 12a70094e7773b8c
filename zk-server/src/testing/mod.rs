//! In-process servers for tests: a standalone server on an ephemeral loopback port with a temporary
//! data directory, which a test can stop and restart (keeping its data and its port).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let mut server = zk_server::testing::Server::start().await?;
//! let connect = server.connect_string(); // "127.0.0.1:<port>"
//! # let _ = connect;
//! server.restart().await?; // same port, same data
//! server.stop().await;
//! # Ok(()) }
//! ```

mod ensemble;

pub use ensemble::{Ensemble, EnsembleBuilder};

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use crate::config::{FourLetterWords, HostPort, PrometheusConfig, Property, ServerConfig};
use crate::runtime::{self, RunningServer, StartError};

/// Options for a test [`Server`].
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    tick_time: i32,
    extended_types: bool,
    snap_count: i32,
    port: u16,
    container_check_interval_ms: Option<u64>,
    max_session_timeout: Option<i32>,
    tls: Vec<(String, String)>,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            tick_time: 200,
            extended_types: true,
            snap_count: 100_000,
            port: 0,
            container_check_interval_ms: None,
            max_session_timeout: None,
            tls: Vec::new(),
        }
    }
}

impl ServerBuilder {
    /// `tickTime` in ms (default 200, so sessions may time out in 400 ms..4 s).
    pub fn tick_time(mut self, ms: i32) -> Self {
        self.tick_time = ms;
        self
    }

    /// TTL nodes (default on).
    pub fn extended_types(mut self, enabled: bool) -> Self {
        self.extended_types = enabled;
        self
    }

    /// Txns between snapshots (default 100000).
    pub fn snap_count(mut self, count: i32) -> Self {
        self.snap_count = count;
        self
    }

    /// `maxSessionTimeout` in ms (default 20 ticks).
    pub fn max_session_timeout(mut self, ms: i32) -> Self {
        self.max_session_timeout = Some(ms);
        self
    }

    /// Also listen with TLS on an ephemeral secure port ([`Server::secure_addr`]): `key_store` is a PEM file
    /// with the server's key and certificate chain, `trust_store` PEM CA certificates for client
    /// certificates, `client_auth` ZooKeeper's `ssl.clientAuth` (`none`, `want`, `need`).
    pub fn tls(mut self, key_store: &Path, trust_store: Option<&Path>, client_auth: &str) -> Self {
        self.tls = vec![
            ("ssl.keyStore.location".into(), key_store.display().to_string()),
            ("ssl.clientAuth".into(), client_auth.into()),
        ];
        if let Some(trust) = trust_store {
            self.tls.push(("ssl.trustStore.location".into(), trust.display().to_string()));
        }
        self
    }

    /// A fixed client port (default: an ephemeral one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How often empty containers and expired TTL nodes are reaped (`znode.container.checkIntervalMs`,
    /// default 60000 ms).
    pub fn container_check_interval_ms(mut self, ms: u64) -> Self {
        self.container_check_interval_ms = Some(ms);
        self
    }

    /// Starts the server.
    pub async fn start(self) -> io::Result<Server> {
        let data_dir = tempfile::Builder::new().prefix("zk-server-test").tempdir()?;
        let mut config = ServerConfig::with_data_dir(data_dir.path());
        config.tick_time = self.tick_time;
        config.min_session_timeout = 2 * self.tick_time;
        config.max_session_timeout = self.max_session_timeout.unwrap_or(20 * self.tick_time);
        config.client_address = Some(HostPort::new("127.0.0.1", self.port));
        config.extended_types_enabled = self.extended_types;
        config.snap_count = self.snap_count;
        config.max_client_cnxns = 0;
        config.pre_alloc_size_kib = 1024;
        config.four_letter_words = FourLetterWords::new(Some("*"), false);
        config.admin.address = "127.0.0.1".to_owned();
        config.admin.port = 0;
        config.metrics.prometheus =
            Some(PrometheusConfig { host: "127.0.0.1".to_owned(), port: 0, export_jvm_info: false });
        if let Some(ms) = self.container_check_interval_ms {
            let key = "znode.container.checkIntervalMs".to_owned();
            config.other.insert(key.clone(), Property { key, value: ms.to_string(), line: 0 });
        }
        if !self.tls.is_empty() {
            config.secure_client_address = Some(HostPort::new("127.0.0.1", 0));
            for (key, value) in self.tls {
                config.other.insert(key.clone(), Property { key, value, line: 0 });
            }
        }
        let running = runtime::start(config.clone()).await.map_err(to_io)?;
        let addr = running.local_addr();
        // Restarts reuse the ports the first start got.
        config.client_address = Some(HostPort::new("127.0.0.1", addr.port()));
        if let Some(secure) = running.secure_addr() {
            config.secure_client_address = Some(HostPort::new("127.0.0.1", secure.port()));
        }
        Ok(Server { config, running: Some(running), addr, _data_dir: data_dir })
    }
}

pub(crate) fn to_io(err: StartError) -> io::Error {
    io::Error::other(err.to_string())
}

/// A standalone server running in this process (see the module docs).
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    running: Option<RunningServer>,
    addr: SocketAddr,
    _data_dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server with the default test options.
    pub async fn start() -> io::Result<Server> {
        ServerBuilder::default().start().await
    }

    /// Options for a test server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The client address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TLS client address, when started with [`ServerBuilder::tls`].
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().and_then(RunningServer::secure_addr)
    }

    /// The AdminServer's address (`/commands/...`).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().and_then(RunningServer::admin_addr)
    }

    /// The Prometheus endpoint's address (`/metrics`).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().and_then(RunningServer::metrics_addr)
    }

    /// `host:port` for a client.
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// The data directory (removed when the server is dropped).
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Whether the server is running.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops the server (connections drop; data stays).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// Stops (if running) and starts again on the same port with the same data.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.stop().await;
        let running = runtime::start(self.config.clone()).await.map_err(to_io)?;
        self.addr = running.local_addr();
        self.running = Some(running);
        Ok(())
    }
}
