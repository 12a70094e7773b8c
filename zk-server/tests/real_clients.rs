//! Real third-party ZooKeeper clients against the `zk-server` binary: Apache ZooKeeper 3.8's Java
//! `zkCli.sh` and C `cli_mt`, and Python's kazoo. Each test starts the binary on a free loopback port
//! and checks what the client printed (or, for kazoo, the asserts of `real_clients/kazoo_smoke.py`).
//!
//! Without a client installed, the test prints `SKIPPED: ...` and passes, unless
//! `ZK_RS_REQUIRE_ORACLE=1` (CI), which makes it fail. `scripts/install-apache-zk.sh` installs them.

mod support;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use support::ensemble::EnsembleProcesses;
use support::{missing_file, skip, Options, ServerProcess};

const ZKCLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";
const CLI_MT: &str = "/usr/lib/zookeeper/bin/cli_mt";

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real_clients")
}

/// Runs `command` with `stdin` as its input, stdout and stderr interleaved in one file (so that
/// error lines keep their place among data lines), killing it after `timeout`.
fn run(mut command: Command, stdin: &str, timeout: Duration, out_file: &Path) -> (Option<ExitStatus>, String) {
    let out = fs::File::create(out_file).unwrap();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, fs::read_to_string(out_file).unwrap_or_default())
}

/// The first of `expected` that does not appear in `output` after the ones before it.
fn first_missing<'a>(output: &str, expected: &'a [String]) -> Option<&'a str> {
    let mut pos = 0;
    for text in expected {
        match output[pos..].find(text.as_str()) {
            Some(found) => pos += found + text.len(),
            None => return Some(text),
        }
    }
    None
}

/// A section of `zkcli_script.txt`: the commands of one zkCli process and the lines it must print.
#[derive(Debug, Default)]
struct Session {
    commands: Vec<String>,
    expected: Vec<String>,
}

fn parse_script(text: &str, root: &str) -> Vec<Session> {
    let mut sessions = vec![Session::default()];
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("--- new session") {
            sessions.push(Session::default());
        } else if let Some(expected) = line.strip_prefix("> ") {
            sessions.last_mut().unwrap().expected.push(expected.replace('@', root));
        } else {
            sessions.last_mut().unwrap().commands.push(line.replace('@', root));
        }
    }
    sessions
}

#[test]
fn zkcli_command_script() {
    if let Some(reason) = missing_file(ZKCLI) {
        return skip("zkcli_command_script", &format!("zkCli.sh: {reason}"));
    }
    let java = Command::new("java").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !java.is_ok_and(|s| s.success()) {
        return skip("zkcli_command_script", "java not installed");
    }
    let root = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&root.path().join("data"), &Options::default());
    let script = fs::read_to_string(scripts_dir().join("zkcli_script.txt")).unwrap();
    // zkCli runs its first command without waiting for the session; on a loaded machine that can fail
    // with ConnectionLoss, so a whole attempt is retried (on a fresh root) in that case only.
    for attempt in 0.. {
        let znode = format!("/zkcli-{attempt}");
        let mut connection_loss = false;
        for (i, session) in parse_script(&script, &znode).iter().enumerate() {
            let mut command = Command::new(ZKCLI);
            command.arg("-server").arg(server.connect_string());
            let input = format!("{}\nquit\n", session.commands.join("\n"));
            let out_file = root.path().join(format!("zkcli-{attempt}-{i}.out"));
            let (status, output) = run(command, &input, Duration::from_secs(120), &out_file);
            assert!(status.is_some(), "zkCli did not finish within 120 s:\n{output}");
            if let Some(missing) = first_missing(&output, &session.expected) {
                if output.contains("ConnectionLoss") && attempt < 2 {
                    connection_loss = true;
                    break;
                }
                panic!(
                    "zkCli session {i}: expected {missing:?} (in order) in:\n{output}\nserver log:\n{}",
                    server.log_text()
                );
            }
        }
        if !connection_loss {
            break;
        }
    }
}

fn has_kazoo() -> bool {
    Command::new("python3")
        .args(["-c", "import kazoo"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// kazoo's connection thread logs these (and carries on) when a reply breaks the protocol, e.g. a reply
/// out of request order.
fn kazoo_choked(output: &str) -> bool {
    output.contains("Unhandled exception in connection loop") || output.contains("xids do not match")
}

#[test]
fn kazoo_smoke() {
    if !has_kazoo() {
        return skip("kazoo_smoke", "python3 with kazoo not installed");
    }
    let root = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&root.path().join("data"), &Options::default());
    let mut command = Command::new("python3");
    command.arg(scripts_dir().join("kazoo_smoke.py")).arg(server.connect_string()).arg("/kazoo");
    let (status, output) = run(command, "", Duration::from_secs(180), &root.path().join("kazoo.out"));
    let steps = [
        "crud",
        "data_watch",
        "children_watch",
        "one_shot_watch",
        "lock",
        "transaction",
        "ephemerals_and_acl",
        "recipes",
    ];
    let mut expected: Vec<String> = steps.iter().map(|s| format!("OK {s}\n")).collect();
    expected.push("ALL OK\n".into());
    let missing = first_missing(&output, &expected);
    assert!(
        status.is_some_and(|s| s.success()) && missing.is_none() && !kazoo_choked(&output),
        "kazoo_smoke.py failed ({status:?}, missing {missing:?}):\n{output}\nserver log:\n{}",
        server.log_text()
    );
}

#[test]
fn kazoo_against_an_ensemble() {
    if !has_kazoo() {
        return skip("kazoo_against_an_ensemble", "python3 with kazoo not installed");
    }
    let root = tempfile::tempdir().unwrap();
    let ensemble = EnsembleProcesses::start(root.path(), 3);
    let mut command = Command::new("python3");
    command.arg(scripts_dir().join("kazoo_ensemble.py")).arg(ensemble.connect_string());
    let (status, output) = run(command, "", Duration::from_secs(180), &root.path().join("kazoo.out"));
    let steps = ["modes", "replicated_create", "cross_server_watch", "global_ephemerals", "transaction"];
    let mut expected: Vec<String> = steps.iter().map(|s| format!("OK {s}\n")).collect();
    expected.push("ALL OK\n".into());
    let missing = first_missing(&output, &expected);
    assert!(
        status.is_some_and(|s| s.success()) && missing.is_none() && !kazoo_choked(&output),
        "kazoo_ensemble.py failed ({status:?}, missing {missing:?}):\n{output}\nserver logs:\n{}",
        ensemble.logs()
    );
}

#[test]
fn c_client_cli_mt() {
    if let Some(reason) = missing_file(CLI_MT) {
        return skip("c_client_cli_mt", &format!("cli_mt: {reason}"));
    }
    let root = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&root.path().join("data"), &Options::default());
    // (command, lines it must print in order). `cli_mt -c` runs one command per process.
    let steps: [(&str, &[&str]); 10] = [
        ("create /cmt", &["[/cmt]: rc = 0", "name = /cmt"]),
        ("create /cmt", &["[/cmt]: rc = -110"]),
        ("set /cmt hello", &["/cmt: rc = 0", "version=1"]),
        ("get /cmt", &["/cmt: rc = 0", "value_len = 5", "hello", "version=1"]),
        ("create +s /cmt/seq-", &["rc = 0", "name = /cmt/seq-0000000000"]),
        ("ls /", &["/: rc = 0", "\tcmt\n", "\tzookeeper\n"]),
        ("ls /cmt", &["/cmt: rc = 0", "\tseq-0000000000\n"]),
        ("delete /cmt/seq-0000000000", &["/cmt/seq-0000000000: rc = 0"]),
        ("delete /cmt", &["/cmt: rc = 0"]),
        ("get /cmt", &["/cmt: rc = -101"]),
    ];
    for (i, (cmd, expected)) in steps.iter().enumerate() {
        let mut command = Command::new(CLI_MT);
        command.arg("-h").arg(server.connect_string()).arg("-c").arg(cmd);
        let out_file = root.path().join(format!("cli_mt-{i}.out"));
        let (status, output) = run(command, "", Duration::from_secs(20), &out_file);
        assert!(status.is_some(), "cli_mt -c {cmd:?} did not finish within 20 s:\n{output}");
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        if let Some(missing) = first_missing(&output, &expected) {
            panic!(
                "cli_mt -c {cmd:?}: expected {missing:?} (in order) in:\n{output}\nserver log:\n{}",
                server.log_text()
            );
        }
    }
}

/// kazoo keeps its session, ephemerals and watches across a SIGKILL and restart of the server.
#[test]
fn kazoo_resumes_its_session_after_a_server_restart() {
    use std::io::{BufRead, BufReader};
    if !has_kazoo() {
        return skip("kazoo_resumes_its_session_after_a_server_restart", "python3 with kazoo not installed");
    }
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let mut server = ServerProcess::start(&data, &Options::default());
    let mut child = Command::new("python3")
        .arg(scripts_dir().join("kazoo_restart.py"))
        .arg(server.connect_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    if line != "READY\n" {
        let _ = child.kill();
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
        panic!("kazoo_restart.py did not get ready: {line:?}\n{err}");
    }
    server.kill();
    let server = ServerProcess::start_on(&data, &Options::default(), server.addr.port());
    writeln!(child.stdin.as_mut().unwrap(), "go").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && rest.contains("ALL OK") && !kazoo_choked(&String::from_utf8_lossy(&output.stderr)),
        "kazoo_restart.py failed ({}):\n{rest}\n{}\nserver log:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        server.log_text()
    );
}
