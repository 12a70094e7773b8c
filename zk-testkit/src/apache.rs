//! A standalone Apache ZooKeeper server for tests: the oracle that zk-rs is compared against.
//!
//! [`ApacheServer::start_or_skip`] finds `java` and the ZooKeeper jars (Debian's `zookeeper` package,
//! `/usr/share/java/zookeeper.jar`, installed by `scripts/install-apache-zk.sh`; the directory can be
//! overridden with `ZK_JAVA_DIR`), writes a `zoo.cfg` into a temporary data directory, starts
//! `ZooKeeperServerMain` on a free loopback port and waits until it serves. The process is killed when
//! the [`ApacheServer`] is dropped.
//!
//! The server runs with extended types (TTL nodes) on, every four-letter word enabled and the
//! AdminServer off. When Apache ZooKeeper is not installed the test is skipped (a `SKIPPED:` line on
//! stderr), unless `ZK_RS_REQUIRE_ORACLE=1`, which turns the skip into a panic (for CI).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The jars (in the Java directory) a standalone server needs.
const JARS: [&str; 4] = ["zookeeper.jar", "netty-codec.jar", "netty-resolver.jar", "slf4j-simple.jar"];
/// Optional jars added to the class path when present.
const OPTIONAL_JARS: [&str; 2] = ["zookeeper-jute.jar", "slf4j-api.jar"];
/// How long a server may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Options for an [`ApacheServer`].
#[derive(Debug, Clone)]
pub struct ApacheServerBuilder {
    tick_time: u32,
    properties: Vec<(String, String)>,
}

impl Default for ApacheServerBuilder {
    fn default() -> Self {
        ApacheServerBuilder { tick_time: 2000, properties: Vec::new() }
    }
}

impl ApacheServerBuilder {
    /// `tickTime` in ms (default 2000, ZooKeeper's default). Session timeouts are bounded by 2 and 20
    /// ticks.
    pub fn tick_time(mut self, ms: u32) -> Self {
        self.tick_time = ms;
        self
    }

    /// Adds a JVM system property (`-Dkey=value`), e.g. `znode.container.checkIntervalMs`.
    pub fn system_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// Starts the server, or returns `None` (after printing `SKIPPED: <test_name>: ...`) when Apache
    /// ZooKeeper is not installed. Panics instead of skipping when `ZK_RS_REQUIRE_ORACLE=1`, and when
    /// an installed server fails to start.
    pub fn start_or_skip(self, test_name: &str) -> Option<ApacheServer> {
        let install = match Installation::find() {
            Ok(install) => install,
            Err(why) => {
                let message =
                    format!("SKIPPED: {test_name}: Apache ZooKeeper not installed (scripts/install-apache-zk.sh)");
                if std::env::var("ZK_RS_REQUIRE_ORACLE").is_ok_and(|v| v == "1") {
                    panic!("{message}: {why}");
                }
                eprintln!("{message}: {why}");
                return None;
            }
        };
        match self.start(&install) {
            Ok(server) => Some(server),
            Err(err) => panic!("{test_name}: Apache ZooKeeper did not start: {err}"),
        }
    }

    fn start(self, install: &Installation) -> Result<ApacheServer, String> {
        let data_dir =
            tempfile::Builder::new().prefix("apache-zk-test").tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let port = crate::free_port();
        let config = data_dir.path().join("zoo.cfg");
        let mut text = String::new();
        let _ = writeln!(text, "tickTime={}", self.tick_time);
        let _ = writeln!(text, "dataDir={}", data_dir.path().join("data").display());
        let _ = writeln!(text, "clientPort={port}");
        let _ = writeln!(text, "clientPortAddress=127.0.0.1");
        let _ = writeln!(text, "maxClientCnxns=0");
        std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
        let log_path = data_dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let stderr = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(&install.java);
        command
            .arg("-Dzookeeper.extendedTypesEnabled=true")
            .arg("-Dzookeeper.4lw.commands.whitelist=*")
            .arg("-Dzookeeper.admin.enableServer=false")
            .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
            .arg("-Xmx256m");
        for (key, value) in &self.properties {
            command.arg(format!("-D{key}={value}"));
        }
        command
            .arg("-cp")
            .arg(install.class_path())
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr);
        let child = command.spawn().map_err(|e| format!("{}: {e}", install.java.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = ApacheServer { child, addr, log: log_path, _data_dir: data_dir };
        server.wait_serving()?;
        Ok(server)
    }
}

/// Where java and the jars are.
struct Installation {
    java: PathBuf,
    jars: Vec<PathBuf>,
}

impl Installation {
    fn find() -> Result<Installation, String> {
        let java = match std::env::var_os("JAVA_HOME") {
            Some(home) if Path::new(&home).join("bin/java").exists() => Path::new(&home).join("bin/java"),
            _ => PathBuf::from("java"),
        };
        let works = Command::new(&java).arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !works.is_ok_and(|status| status.success()) {
            return Err(format!("{} not found", java.display()));
        }
        let dir = std::env::var_os("ZK_JAVA_DIR").map_or_else(|| PathBuf::from("/usr/share/java"), PathBuf::from);
        let mut jars = Vec::new();
        for jar in JARS {
            let path = dir.join(jar);
            if !path.exists() {
                return Err(format!("{} not found", path.display()));
            }
            jars.push(path);
        }
        jars.extend(OPTIONAL_JARS.iter().map(|jar| dir.join(jar)).filter(|path| path.exists()));
        Ok(Installation { java, jars })
    }

    fn class_path(&self) -> String {
        self.jars.iter().map(|jar| jar.display().to_string()).collect::<Vec<_>>().join(":")
    }
}

/// A running Apache ZooKeeper, killed on drop.
#[derive(Debug)]
pub struct ApacheServer {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _data_dir: tempfile::TempDir,
}

impl ApacheServer {
    /// Options for a server.
    pub fn builder() -> ApacheServerBuilder {
        ApacheServerBuilder::default()
    }

    /// Starts a server with the default options, or skips (see [`ApacheServerBuilder::start_or_skip`]).
    pub fn start_or_skip(test_name: &str) -> Option<ApacheServer> {
        ApacheServerBuilder::default().start_or_skip(test_name)
    }

    /// The client address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `host:port` for a client.
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `ruok` answers `imok` and `srvr` reports a serving standalone server (`ruok`
    /// answers while the database is still loading).
    fn wait_serving(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let timeout = Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}:\n{}", self.log()));
            }
            let ruok = crate::four_letter(self.addr, "ruok", timeout).unwrap_or_default();
            if ruok == "imok"
                && crate::four_letter(self.addr, "srvr", timeout).is_ok_and(|srvr| srvr.contains("Mode: standalone"))
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("not serving on {} after {START_TIMEOUT:?}:\n{}", self.addr, self.log()))
    }
}

impl Drop for ApacheServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
