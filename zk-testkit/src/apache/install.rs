//! Where Apache ZooKeeper is installed: `java`, the jars of the class path and `zkCli.sh`.
//!
//! `java` is `$JAVA_HOME/bin/java` when that exists, else the one on the `PATH`; it must answer
//! `java -version`. The jars come from Debian's `zookeeper` package, in `/usr/share/java` unless
//! `ZK_JAVA_DIR` names another directory; `zkCli.sh` from `zookeeper-bin`. Both packages are installed
//! by `scripts/install-apache-zk.sh`. The search runs once per test process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The jars (in the Java directory) a server needs.
const JARS: [&str; 4] = ["zookeeper.jar", "netty-codec.jar", "netty-resolver.jar", "slf4j-simple.jar"];
/// Optional jars added to the class path when present (Debian's `zookeeper.jar` also names them in its
/// manifest's `Class-Path`).
const OPTIONAL_JARS: [&str; 6] = [
    "zookeeper-jute.jar",
    "slf4j-api.jar",
    "netty-handler.jar",
    "netty-transport.jar",
    "netty-buffer.jar",
    "netty-common.jar",
];
/// The command-line client of Debian's `zookeeper-bin`.
const ZK_CLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";

/// Where java, the jars and `zkCli.sh` are.
#[derive(Debug)]
pub(super) struct Installation {
    pub(super) java: PathBuf,
    jars: Vec<PathBuf>,
    cli: Option<PathBuf>,
}

impl Installation {
    /// The installation, or why there is none (looked up on the first call only).
    pub(super) fn get() -> Result<&'static Installation, String> {
        static FOUND: OnceLock<Result<Installation, String>> = OnceLock::new();
        FOUND.get_or_init(Installation::find).as_ref().map_err(Clone::clone)
    }

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
        let cli = Some(PathBuf::from(ZK_CLI)).filter(|path| path.exists());
        Ok(Installation { java, jars, cli })
    }

    /// The `-cp` argument.
    pub(super) fn class_path(&self) -> String {
        self.jars.iter().map(|jar| jar.display().to_string()).collect::<Vec<_>>().join(":")
    }

    /// `zkCli.sh`, or why it cannot be run.
    pub(super) fn cli(&self) -> Result<&Path, String> {
        self.cli.as_deref().ok_or_else(|| format!("{ZK_CLI} not found"))
    }
}
