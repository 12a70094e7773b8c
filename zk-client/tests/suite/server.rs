//! The server under test. The suite is written against [`TestServer`].
//!
//! The suite is built twice: `suite_apache` runs it against Apache ZooKeeper 3.8 (the Debian package)
//! and `suite_zk_server` against `zk_server::testing::Server`. When Apache ZooKeeper cannot be started
//! because Java or the jar is missing, its tests print `SKIPPED: ...` and pass, unless
//! `ZK_RS_REQUIRE_ORACLE=1`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

const JARS: &[&str] = &[
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/netty-codec.jar",
    "/usr/share/java/netty-resolver.jar",
    "/usr/share/java/netty-handler.jar",
    "/usr/share/java/netty-transport.jar",
    "/usr/share/java/netty-buffer.jar",
    "/usr/share/java/netty-common.jar",
    "/usr/share/java/slf4j-simple.jar",
];

/// PEM files for a TLS server: `key_store` holds the private key and certificate chain,
/// `trust_store` the CA.
pub struct TlsFiles {
    pub key_store: PathBuf,
    pub trust_store: PathBuf,
}

/// Apache ZooKeeper, standalone, as a child JVM in its own process group. A watchdog shell kills the
/// JVM when the test process goes away, so no server outlives the suite.
pub struct ApacheZk {
    addr: SocketAddr,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    secure_addr: Option<SocketAddr>,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl ApacheZk {
    /// Why Apache ZooKeeper cannot run here, if it cannot.
    pub fn unavailable() -> Option<String> {
        if Command::new("java").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            return Some("java is not installed".into());
        }
        JARS.iter().find(|jar| !Path::new(jar).exists()).map(|jar| format!("{jar} is missing"))
    }

    /// Starts a server on a free loopback port with a fresh data dir.
    pub fn start() -> ApacheZk {
        ApacheZk::start_with(None)
    }

    /// Starts a server that also listens with TLS (Netty connection factory) on a second port.
    pub fn start_with(tls: Option<&TlsFiles>) -> ApacheZk {
        let free_port = || TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = format!(
            "tickTime={TICK_MS}\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             minSessionTimeout={}\nmaxSessionTimeout=60000\nmaxClientCnxns=0\n",
            dir.path().join("data").display(),
            2 * TICK_MS
        );
        let secure_addr = tls.map(|files| {
            let secure = free_port();
            cfg.push_str(&format!(
                "secureClientPort={secure}\nsecureClientPortAddress=127.0.0.1\n\
                 serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n\
                 ssl.keyStore.location={}\nssl.keyStore.type=PEM\n\
                 ssl.trustStore.location={}\nssl.trustStore.type=PEM\nssl.clientAuth=none\n",
                files.key_store.display(),
                files.trust_store.display()
            ));
            SocketAddr::from(([127, 0, 0, 1], secure))
        });
        std::fs::write(dir.path().join("zoo.cfg"), cfg).unwrap();
        let server =
            ApacheZk { addr: SocketAddr::from(([127, 0, 0, 1], port)), secure_addr, dir, child: Mutex::new(None) };
        server.spawn();
        server
    }

    /// The TLS client address, if the server has one.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure_addr
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn spawn(&self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        let script = r#"java "$@" & j=$!
            trap 'kill -9 $j 2>/dev/null; exit 0' TERM INT
            while kill -0 "$PPID" 2>/dev/null && kill -0 "$j" 2>/dev/null; do sleep 0.5; done
            kill -9 "$j" 2>/dev/null"#;
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("zk-watchdog")
            .args([
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-Dzookeeper.4lw.commands.whitelist=*",
                "-Dzookeeper.admin.enableServer=false",
                "-Dzookeeper.extendedTypesEnabled=true",
                "-Dznode.container.checkIntervalMs=100",
                "-cp",
                &JARS.join(":"),
                "org.apache.zookeeper.server.ZooKeeperServerMain",
            ])
            .arg(self.dir.path().join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("spawn java");
        *self.child.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if four_letter(self.addr, "ruok").as_deref() == Some("imok") {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        self.stop();
        panic!("Apache ZooKeeper did not answer ruok on {}; log:\n{log}", self.addr);
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
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-9", "--", &group]).status();
            let _ = child.wait();
            // The JVM dies a little after its watchdog: wait until the port is free again, so a
            // restart cannot mistake the dying server for the new one.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline
                && TcpStream::connect_timeout(&self.addr, Duration::from_millis(100)).is_ok()
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn restart(&self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for ApacheZk {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends a four-letter word and returns the answer.
pub fn four_letter(addr: SocketAddr, word: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(word.as_bytes()).ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Prints a `SKIPPED` line straight to stderr (not through the test harness's output capture).
pub fn skipped(what: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

/// Whether Apache ZooKeeper can run here; prints `SKIPPED` (or panics when it is required) if not.
pub fn apache_available(test: &str) -> bool {
    let Some(why) = ApacheZk::unavailable() else { return true };
    if std::env::var("ZK_RS_REQUIRE_ORACLE").as_deref() == Ok("1") {
        panic!("{test}: Apache ZooKeeper is required (ZK_RS_REQUIRE_ORACLE=1) but {why}");
    }
    skipped(&format!("{test}: Apache ZooKeeper unavailable: {why}"));
    false
}

/// Starts a fresh server of the selected kind, or `None` (after printing `SKIPPED`) when it cannot
/// run here. Panics instead when `ZK_RS_REQUIRE_ORACLE=1`.
pub fn start(test: &str) -> Option<Arc<dyn TestServer>> {
    match crate::SERVER_KIND {
        "apache" => apache_available(test).then(|| Arc::new(ApacheZk::start()) as Arc<dyn TestServer>),
        _ => Some(Arc::new(ZkRs::start())),
    }
}

/// One server shared by the tests that do not stop it (each works under its own path).
pub fn shared(test: &str) -> Option<Arc<dyn TestServer>> {
    static SHARED: OnceLock<Option<Arc<dyn TestServer>>> = OnceLock::new();
    let server = SHARED.get_or_init(|| start("shared server"));
    if server.is_none() {
        skipped(test);
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
