//! Apache ZooKeeper for tests: the oracle that zk-rs is compared against.
//!
//! [`ApacheServerBuilder::start_or_skip`] finds `java` and the ZooKeeper jars (Debian's `zookeeper`
//! package, installed by `scripts/install-apache-zk.sh`; `JAVA_HOME` and `ZK_JAVA_DIR` override where
//! they are), writes a `zoo.cfg` into a temporary directory of the server's own, starts the JVM and
//! waits until it serves. By default the server is standalone (`ZooKeeperServerMain`) on a free
//! loopback port with a fresh data directory in that temporary directory; the builder can also give it
//!
//! - a data directory of the test's ([`ApacheServerBuilder::data_dir`], e.g. one written by
//!   `zk_server::persist`), a fixed port ([`ApacheServerBuilder::port`]) and any other `zoo.cfg` line
//!   ([`ApacheServerBuilder::config`]),
//! - a place in an [`Ensemble`] ([`ApacheServerBuilder::quorum_member`]): `QuorumPeerMain` with the
//!   ensemble's `server.N=` lines and a `myid` file.
//!
//! The server runs with extended types (TTL nodes) on, every four-letter word enabled and the
//! AdminServer off. [`ApacheServer::stop`] and [`ApacheServer::restart`] bounce it on the same port and
//! data directory; dropping it kills its process group. A watchdog also kills it when the test process
//! goes away, so that a server held in a `static` does not outlive the tests. The JVM's output goes to
//! a log that [`ApacheServer::log`] returns, for failure messages.
//!
//! When Apache ZooKeeper is not installed the test is skipped (a `SKIPPED:` line on stderr), unless
//! `ZK_RS_REQUIRE_ORACLE=1`, which turns the skip into a panic (for CI); see [`skip`].

pub mod ensemble;
mod install;
mod process;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub use ensemble::{Ensemble, Member};
use install::Installation;
use process::Jvm;

/// How long a server may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How often `zkCli.sh` is run when its command fails with ConnectionLoss.
const CLI_ATTEMPTS: usize = 5;

/// Options for an [`ApacheServer`].
#[derive(Debug, Clone)]
pub struct ApacheServerBuilder {
    tick_time: u32,
    port: Option<u16>,
    data_dir: Option<PathBuf>,
    config: Vec<(String, String)>,
    properties: Vec<(String, String)>,
    quorum: Option<(Ensemble, u64)>,
    cli: bool,
}

impl Default for ApacheServerBuilder {
    fn default() -> Self {
        ApacheServerBuilder {
            tick_time: 2000,
            port: None,
            data_dir: None,
            config: Vec::new(),
            properties: Vec::new(),
            quorum: None,
            cli: false,
        }
    }
}

impl ApacheServerBuilder {
    /// `tickTime` in ms (default 2000, ZooKeeper's default). Session timeouts are bounded by 2 and 20
    /// ticks unless `minSessionTimeout` / `maxSessionTimeout` are [configured](Self::config).
    pub fn tick_time(mut self, ms: u32) -> Self {
        self.tick_time = ms;
        self
    }

    /// Adds a JVM system property (`-Dkey=value`), e.g. `znode.container.checkIntervalMs`.
    pub fn system_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// Adds a `key=value` line to `zoo.cfg`, after the launcher's own lines (`tickTime`, `dataDir`,
    /// `clientPort`, `clientPortAddress=127.0.0.1`, `maxClientCnxns=0`, and `initLimit=10`,
    /// `syncLimit=5` for a quorum member): ZooKeeper keeps the last value of a key, so this also
    /// overrides those.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }

    /// Serves clients on this loopback port instead of a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Keeps the database in `dir` (created if missing, left in place afterwards) instead of a fresh
    /// temporary directory: e.g. a dataDir written by `zk_server::persist`, read back after the server
    /// is stopped.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Runs the server as member `id` of `ensemble`: `QuorumPeerMain` on the member's client port, with
    /// every member's `server.N=` line and `id` in the data directory's `myid`.
    ///
    /// A member cannot serve before a quorum of the ensemble is up, and its leader election starts as
    /// soon as its client port listens, so [`start_or_skip`](Self::start_or_skip) does not wait for
    /// it: poll [`ApacheServer::mode`] instead.
    pub fn quorum_member(mut self, ensemble: &Ensemble, id: u64) -> Self {
        self.port = Some(ensemble.member(id).client_port);
        self.quorum = Some((ensemble.clone(), id));
        self
    }

    /// The test runs `zkCli.sh` ([`ApacheServer::cli`]): skip it when that is missing too.
    pub fn zk_cli(mut self) -> Self {
        self.cli = true;
        self
    }

    /// Starts the server, or returns `None` (after printing `SKIPPED: <test_name>: ...`) when Apache
    /// ZooKeeper is not installed. Panics instead of skipping when `ZK_RS_REQUIRE_ORACLE=1`, and when
    /// an installed server fails to start.
    pub fn start_or_skip(self, test_name: &str) -> Option<ApacheServer> {
        let found =
            Installation::get().and_then(|install| if self.cli { install.cli().map(|_| install) } else { Ok(install) });
        let install = match found {
            Ok(install) => install,
            Err(why) => {
                skip(test_name, &format!("Apache ZooKeeper not installed (scripts/install-apache-zk.sh): {why}"));
                return None;
            }
        };
        match self.start(install) {
            Ok(server) => Some(server),
            Err(err) => panic!("{test_name}: Apache ZooKeeper did not start: {err}"),
        }
    }

    fn start(self, install: &'static Installation) -> Result<ApacheServer, String> {
        let home = tempfile::Builder::new().prefix("apache-zk-test").tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let data_dir = self.data_dir.clone().unwrap_or_else(|| home.path().join("data"));
        std::fs::create_dir_all(&data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
        let port = self.port.unwrap_or_else(crate::free_port);
        let config = home.path().join("zoo.cfg");
        std::fs::write(&config, self.zoo_cfg(&data_dir, port)).map_err(|e| format!("{}: {e}", config.display()))?;
        let main = match &self.quorum {
            Some((_, id)) => {
                let myid = data_dir.join("myid");
                std::fs::write(&myid, format!("{id}\n")).map_err(|e| format!("{}: {e}", myid.display()))?;
                "org.apache.zookeeper.server.quorum.QuorumPeerMain"
            }
            None => "org.apache.zookeeper.server.ZooKeeperServerMain",
        };
        let mut args: Vec<String> = [
            "-Dzookeeper.extendedTypesEnabled=true",
            "-Dzookeeper.4lw.commands.whitelist=*",
            "-Dzookeeper.admin.enableServer=false",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Xmx256m",
            "-XX:+UseSerialGC",
        ]
        .map(String::from)
        .into();
        args.extend(self.properties.iter().map(|(key, value)| format!("-D{key}={value}")));
        args.extend(["-cp".into(), install.class_path(), main.into(), config.display().to_string()]);
        let mut server = ApacheServer {
            jvm: None,
            install,
            args,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            standalone: self.quorum.is_none(),
            log: home.path().join("server.log"),
            data_dir,
            _home: home,
        };
        server.run()?;
        Ok(server)
    }

    fn zoo_cfg(&self, data_dir: &Path, port: u16) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "tickTime={}", self.tick_time);
        let _ = writeln!(text, "dataDir={}", data_dir.display());
        let _ = writeln!(text, "clientPort={port}");
        let _ = writeln!(text, "clientPortAddress=127.0.0.1");
        let _ = writeln!(text, "maxClientCnxns=0");
        if let Some((ensemble, _)) = &self.quorum {
            let _ = writeln!(text, "initLimit=10");
            let _ = writeln!(text, "syncLimit=5");
            text.push_str(&ensemble.server_lines());
        }
        for (key, value) in &self.config {
            let _ = writeln!(text, "{key}={value}");
        }
        text
    }
}

/// Skips the test `test_name` because the oracle cannot run here (`why`): prints `SKIPPED: <test_name>:
/// <why>` straight to the process's stderr (libtest would swallow an `eprintln!` of a passing test), or
/// panics when `ZK_RS_REQUIRE_ORACLE=1`. The caller then returns from the test.
pub fn skip(test_name: &str, why: &str) {
    use std::io::Write as _;
    if std::env::var("ZK_RS_REQUIRE_ORACLE").is_ok_and(|v| v == "1") {
        panic!("{test_name}: the Apache ZooKeeper oracle is required (ZK_RS_REQUIRE_ORACLE=1): {why}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test_name}: {why}");
}

/// An Apache ZooKeeper, killed on drop.
#[derive(Debug)]
pub struct ApacheServer {
    /// `None` while stopped.
    jvm: Option<Jvm>,
    install: &'static Installation,
    /// The JVM's arguments.
    args: Vec<String>,
    addr: SocketAddr,
    standalone: bool,
    log: PathBuf,
    data_dir: PathBuf,
    /// Holds `zoo.cfg`, the log and (unless the test gave one) the data directory.
    _home: tempfile::TempDir,
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

    /// The data directory (`dataDir`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's log so far, across restarts (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `Mode:` of the `srvr` four-letter word (`standalone`, `leader`, `follower`, ...), or `None`
    /// while the server does not serve.
    pub fn mode(&self) -> Option<String> {
        let srvr = crate::four_letter(self.addr, "srvr", Duration::from_secs(2)).ok()?;
        srvr.lines().find_map(|line| line.strip_prefix("Mode: ").map(str::to_owned))
    }

    /// Kills the server (`SIGKILL`, no clean shutdown) and waits until it is gone. Does nothing when it
    /// is stopped already.
    pub fn stop(&mut self) {
        if let Some(jvm) = self.jvm.take() {
            jvm.kill();
        }
    }

    /// Stops the server if it runs, then starts it again on the same port, configuration and data
    /// directory, and waits as [`ApacheServerBuilder::start_or_skip`] does. Panics if it does not start.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(err) = self.run() {
            panic!("Apache ZooKeeper did not restart: {err}");
        }
    }

    /// Runs one `zkCli.sh -server <addr> <args>` command and returns its stdout and stderr. zkCli runs
    /// the command without waiting for its session, so on a loaded machine it can fail with
    /// ConnectionLoss: those are retried. Needs [`ApacheServerBuilder::zk_cli`].
    pub fn cli(&self, args: &[&str]) -> String {
        let cli = self.install.cli().unwrap_or_else(|why| panic!("zkCli.sh: {why}"));
        let mut output = String::new();
        for _ in 0..CLI_ATTEMPTS {
            let out = Command::new(cli)
                .arg("-server")
                .arg(self.connect_string())
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", cli.display()));
            output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            if !output.contains("ConnectionLoss") {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        output
    }

    /// Spawns the JVM and, for a standalone server, waits until it serves; kills it again if it does not.
    fn run(&mut self) -> Result<(), String> {
        self.jvm = Some(Jvm::spawn(&self.install.java, &self.args, &self.log)?);
        let waited = if self.standalone { self.wait_serving() } else { Ok(()) };
        if waited.is_err() {
            self.stop();
        }
        waited
    }

    /// Waits until `ruok` answers `imok` and `srvr` reports a serving standalone server (`ruok`
    /// answers while the database is still loading).
    fn wait_serving(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let timeout = Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Some(status) = self.jvm.as_mut().and_then(Jvm::exited) {
                return Err(format!("exited with {status}:\n{}", self.log()));
            }
            let ruok = crate::four_letter(self.addr, "ruok", timeout).unwrap_or_default();
            if ruok == "imok" && self.mode().as_deref() == Some("standalone") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("not serving on {} after {START_TIMEOUT:?}:\n{}", self.addr, self.log()))
    }
}

impl Drop for ApacheServer {
    fn drop(&mut self) {
        self.stop();
    }
}
