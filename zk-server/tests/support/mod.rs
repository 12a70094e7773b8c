//! Shared by the integration tests that run the `zk-server` binary: starting and killing it, oracle
//! tools (skipped unless `ZK_RS_REQUIRE_ORACLE=1`), and a small blocking client built on `zk-proto`.
#![allow(dead_code)]

pub mod ensemble;
pub mod raw_client;

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The binary under test.
pub const ZK_SERVER: &str = env!("CARGO_BIN_EXE_zk-server");

// Each test binary uses its own part of this module (hence also `dead_code` above).
#[allow(unused_imports)]
pub use zk_testkit::{apache::skip, free_port};

/// `Some(reason)` if the file at `path` (a client tool) is missing. Call [`skip`] with it.
pub fn missing_file(path: &str) -> Option<String> {
    (!Path::new(path).exists()).then(|| format!("{path} not installed (scripts/install-apache-zk.sh)"))
}

/// The `zoo.cfg` options of a test server.
#[derive(Debug, Clone)]
pub struct Options {
    pub snap_count: u32,
    pub extended_types: bool,
    pub tick_time: u32,
    /// `preAllocSize` in KiB: how far the txn log is extended (with zeros) at a time.
    pub prealloc_kib: u32,
    /// More `zoo.cfg` lines.
    pub extra: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options { snap_count: 100_000, extended_types: true, tick_time: 2000, prealloc_kib: 1024, extra: "" }
    }
}

/// A `zk-server` process on a loopback port, killed when dropped. Its data directory outlives it, so a
/// test can kill it and start another on the same data.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub log: PathBuf,
}

impl ServerProcess {
    /// Writes a `zoo.cfg` beside `data_dir` and starts the binary on it; returns once it serves.
    pub fn start(data_dir: &Path, options: &Options) -> ServerProcess {
        Self::start_on(data_dir, options, free_port())
    }

    /// [`ServerProcess::start`] on a given port (e.g. the port of a killed server, for its clients).
    pub fn start_on(data_dir: &Path, options: &Options, port: u16) -> ServerProcess {
        let mut server = Self::spawn(data_dir, options, port);
        server.wait_serving();
        server
    }

    /// Starts the binary without waiting for it to serve.
    pub fn spawn(data_dir: &Path, options: &Options, port: u16) -> ServerProcess {
        let config = format!(
            "tickTime={}\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nsnapCount={}\n\
             extendedTypesEnabled={}\n4lw.commands.whitelist=*\nmaxClientCnxns=0\npreAllocSize={}\n{}\n",
            options.tick_time,
            data_dir.display(),
            options.snap_count,
            options.extended_types,
            options.prealloc_kib,
            options.extra,
        );
        Self::spawn_with_config(data_dir, &config, port)
    }

    /// Starts the binary on a `zoo.cfg` of the given text (its `dataDir` must be `data_dir`; for an
    /// ensemble member, write `data_dir/myid` first) without waiting for it to serve.
    pub fn spawn_with_config(data_dir: &Path, config: &str, port: u16) -> ServerProcess {
        fs::create_dir_all(data_dir).unwrap();
        let root = data_dir.parent().unwrap();
        let cfg = root.join(format!("zoo-{port}.cfg"));
        fs::write(&cfg, config).unwrap();
        // One log per start: a restart on the same port must not overwrite the log of the last run.
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let log = root.join(format!("server-{port}-{}.log", STARTS.fetch_add(1, Ordering::Relaxed)));
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(ZK_SERVER)
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        ServerProcess { child, addr: SocketAddr::from(([127, 0, 0, 1], port)), data_dir: data_dir.into(), log }
    }

    /// Waits until the client port accepts connections (panics after 30 s or if the process exits).
    pub fn wait_serving(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("zk-server exited with {status} before serving:\n{}", self.log_text());
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(Instant::now() < deadline, "zk-server did not serve within 30 s:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `host:port` for a client.
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }

    /// What the server logged so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no final sync.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The answer to a four-letter word (empty if the server does not answer).
    pub fn four_letter(&self, word: &str) -> String {
        use std::io::{Read, Write};
        let Ok(mut s) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)) else {
            return String::new();
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut out = String::new();
        if s.write_all(word.as_bytes()).is_ok() {
            let _ = s.read_to_string(&mut out);
        }
        out
    }

    /// The `Mode:` line of `srvr` (`leader`, `follower`, `observer`, `standalone`), if it serves.
    pub fn mode(&self) -> Option<String> {
        self.four_letter("srvr").lines().find_map(|l| l.strip_prefix("Mode: ").map(str::to_owned))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
