//! The server under test. The suite is written against [`TestServer`].
//!
//! The suite is built twice: `suite_apache` runs it against Apache ZooKeeper 3.8 (the Debian package)
//! and `suite_zk_server` against `zk_server::testing::Server`. When Apache ZooKeeper cannot be started
//! because Java or the jar is missing, its tests print `SKIPPED: ...` and pass, unless
//! `ZK_RS_REQUIRE_ORACLE=1`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use zk_testkit::ApacheServer;

/// A ZooKeeper-protocol server the suite can talk to and bounce.
pub trait TestServer: Send + Sync {
    /// Which implementation this is (for messages).
    fn name(&self) -> &'static str;
    /// The client address.
    fn addr(&self) -> SocketAddr;
    /// `host:port` for a connect string.
    fn connect_string(&self) -> String {
        self.addr().to_string()
    }
    /// Kills the server (SIGKILL).
    fn stop(&self);
    /// Starts it again on the same port and data dir.
    fn restart(&self);
}

/// The server tick used by the suite: sessions may be as short as 2 ticks.
pub const TICK_MS: u64 = 200;

/// PEM files for a TLS server: `key_store` holds the private key and certificate chain,
/// `trust_store` the CA.
pub struct TlsFiles {
    pub key_store: PathBuf,
    pub trust_store: PathBuf,
}

/// Apache ZooKeeper, standalone, started by `zk_testkit` (which also kills it when the test process
/// goes away, so the shared server does not outlive the suite).
pub struct ApacheZk {
    addr: SocketAddr,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    secure_addr: Option<SocketAddr>,
    server: Mutex<ApacheServer>,
}

impl ApacheZk {
    /// Starts a server on a free loopback port with a fresh data dir, or `None` (after printing
    /// `SKIPPED`) when it cannot run here. Panics instead when `ZK_RS_REQUIRE_ORACLE=1`.
    pub fn start_or_skip(test: &str) -> Option<ApacheZk> {
        ApacheZk::start_with(test, None)
    }

    /// Like [`ApacheZk::start_or_skip`], for a server that also listens with TLS (Netty connection
    /// factory) on a second port.
    pub fn start_with(test: &str, tls: Option<&TlsFiles>) -> Option<ApacheZk> {
        let mut builder = ApacheServer::builder()
            .tick_time(TICK_MS as u32)
            .config("minSessionTimeout", (2 * TICK_MS).to_string())
            .config("maxSessionTimeout", "60000")
            .system_property("znode.container.checkIntervalMs", "100");
        let mut secure_addr = None;
        if let Some(files) = tls {
            let secure = zk_testkit::free_port();
            builder = builder
                .config("secureClientPort", secure.to_string())
                .config("secureClientPortAddress", "127.0.0.1")
                .config("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
                .config("ssl.keyStore.location", files.key_store.display().to_string())
                .config("ssl.keyStore.type", "PEM")
                .config("ssl.trustStore.location", files.trust_store.display().to_string())
                .config("ssl.trustStore.type", "PEM")
                .config("ssl.clientAuth", "none");
            secure_addr = Some(SocketAddr::from(([127, 0, 0, 1], secure)));
        }
        let server = builder.start_or_skip(test)?;
        Some(ApacheZk { addr: server.addr(), secure_addr, server: Mutex::new(server) })
    }

    /// The TLS client address, if the server has one.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure_addr
    }
}

impl TestServer for ApacheZk {
    fn name(&self) -> &'static str {
        "apache-zookeeper-3.8"
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn stop(&self) {
        self.server.lock().unwrap().stop();
    }

    fn restart(&self) {
        self.server.lock().unwrap().restart();
    }
}

/// Starts a fresh server of the selected kind, or `None` (after printing `SKIPPED`) when it cannot
/// run here. Panics instead when `ZK_RS_REQUIRE_ORACLE=1`.
pub fn start(test: &str) -> Option<Arc<dyn TestServer>> {
    match crate::SERVER_KIND {
        "apache" => ApacheZk::start_or_skip(test).map(|server| Arc::new(server) as Arc<dyn TestServer>),
        _ => Some(Arc::new(ZkRs::start())),
    }
}

/// One server shared by the tests that do not stop it (each works under its own path).
pub fn shared(test: &str) -> Option<Arc<dyn TestServer>> {
    static SHARED: OnceLock<Option<Arc<dyn TestServer>>> = OnceLock::new();
    let server = SHARED.get_or_init(|| start("shared server"));
    if server.is_none() {
        zk_testkit::apache::skip(test, "the shared server did not start (see its SKIPPED line)");
    }
    server.clone()
}

/// zk-server (`zk_server::testing::Server`) in this process, on a runtime of its own so that it
/// outlives each test's runtime. Stopping it is a clean shutdown; its data and port survive a restart.
pub struct ZkRs {
    addr: SocketAddr,
    commands: Mutex<std::sync::mpsc::Sender<(bool, std::sync::mpsc::Sender<()>)>>,
}

impl ZkRs {
    /// Starts a server on a free loopback port with a fresh data dir.
    pub fn start() -> ZkRs {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (commands, requests) = std::sync::mpsc::channel::<(bool, std::sync::mpsc::Sender<()>)>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let mut server = zk_server::testing::Server::builder()
                    .tick_time(TICK_MS as i32)
                    .max_session_timeout(60_000)
                    .container_check_interval_ms(100)
                    .start()
                    .await
                    .expect("start zk-server");
                ready_tx.send(server.addr()).unwrap();
                // `true` restarts, `false` stops; the loop ends when the handle is dropped.
                while let Ok((restart, done)) = tokio::task::block_in_place(|| requests.recv()) {
                    server.stop().await;
                    if restart {
                        server.restart().await.expect("restart zk-server");
                    }
                    let _ = done.send(());
                }
                server.stop().await;
            });
        });
        let addr = ready_rx.recv().expect("zk-server started");
        ZkRs { addr, commands: Mutex::new(commands) }
    }

    fn command(&self, restart: bool) {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        if self.commands.lock().unwrap().send((restart, done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }
}

impl TestServer for ZkRs {
    fn name(&self) -> &'static str {
        "zk-server"
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn stop(&self) {
        self.command(false);
    }

    fn restart(&self) {
        self.command(true);
    }
}
