//! The JVM of one server run: a child process in a process group of its own, with its output appended
//! to the server's log.
//!
//! A watchdog shell joins the group and kills it when the test process goes away, so that no server
//! outlives its test binary, even one held in a `static` (never dropped) or left behind by a test
//! process that was killed. Killing the [`Jvm`] (or dropping it) kills the whole group with `SIGKILL`
//! and reaps both processes.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

/// Polls the test process (the watchdog's parent) and kills the group (`$1`) once it is gone. (dash's
/// `kill` takes no `--`: a negative pid names the group.)
const WATCHDOG: &str = r#"while kill -0 "$PPID" 2>/dev/null; do sleep 0.5; done; kill -9 "-$1""#;

/// A running JVM and its watchdog, killed on drop.
#[derive(Debug)]
pub(super) struct Jvm {
    java: Child,
    watchdog: Option<Child>,
}

impl Jvm {
    /// Starts `java args...`, appending its stdout and stderr to `log`.
    pub(super) fn spawn(java: &Path, args: &[String], log: &Path) -> Result<Jvm, String> {
        let file =
            OpenOptions::new().create(true).append(true).open(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let stderr = file.try_clone().map_err(|e| format!("{}: {e}", log.display()))?;
        let java = Command::new(java)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("{}: {e}", java.display()))?;
        let mut jvm = Jvm { java, watchdog: None };
        let group = jvm.java.id();
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("zk-watchdog")
            .arg(group.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(i32::try_from(group).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("watchdog: {e}"))?;
        jvm.watchdog = Some(watchdog);
        Ok(jvm)
    }

    /// The JVM's exit status, if it has exited.
    pub(super) fn exited(&mut self) -> Option<ExitStatus> {
        self.java.try_wait().ok().flatten()
    }

    /// Kills the process group and waits for the JVM and the watchdog to be gone: the client port is
    /// free again and no file of the server is written any more.
    pub(super) fn kill(self) {
        drop(self);
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        // While the watchdog is alive (or unreaped) the group, named after the JVM's pid, is ours.
        if self.watchdog.is_some() {
            let group = format!("-{}", self.java.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        }
        // Without `kill`, or without a watchdog, the group kill did nothing: kill each child anyway.
        for child in std::iter::once(&mut self.java).chain(self.watchdog.as_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
