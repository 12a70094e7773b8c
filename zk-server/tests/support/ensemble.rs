//! An ensemble of `zk-server` processes on loopback ports, each member with its own data directory and
//! `myid`, started from the same `server.N` list (the files an Apache ZooKeeper ensemble would use).

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{free_port, ServerProcess};

/// One member's files.
#[derive(Debug)]
pub struct Member {
    pub data_dir: PathBuf,
    pub config: String,
    pub client_port: u16,
}

/// The members and their processes (`None` while a member is down).
#[derive(Debug)]
pub struct EnsembleProcesses {
    pub members: Vec<Member>,
    pub servers: Vec<Option<ServerProcess>>,
}

impl EnsembleProcesses {
    /// Writes the configurations of `n` members under `root` (tickTime 200 ms, initLimit 10, syncLimit 5)
    /// and starts them all; returns once one leads and the others follow.
    pub fn start(root: &Path, n: usize) -> EnsembleProcesses {
        let ports: Vec<(u16, u16, u16)> = (0..n).map(|_| (free_port(), free_port(), free_port())).collect();
        let servers: String = ports
            .iter()
            .enumerate()
            .map(|(i, (q, e, c))| format!("server.{}=127.0.0.1:{q}:{e};127.0.0.1:{c}\n", i + 1))
            .collect();
        let members: Vec<Member> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, _, client_port))| {
                let data_dir = root.join(format!("server-{}", i + 1));
                fs::create_dir_all(&data_dir).unwrap();
                fs::write(data_dir.join("myid"), format!("{}\n", i + 1)).unwrap();
                let config = format!(
                    "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir={}\n4lw.commands.whitelist=*\n\
                     maxClientCnxns=0\npreAllocSize=1024\nadmin.enableServer=false\n{servers}",
                    data_dir.display()
                );
                Member { data_dir, config, client_port: *client_port }
            })
            .collect();
        let servers = members.iter().map(|m| Some(Self::spawn(m))).collect();
        let ensemble = EnsembleProcesses { members, servers };
        ensemble.wait_for_leader(Duration::from_secs(60));
        ensemble
    }

    fn spawn(member: &Member) -> ServerProcess {
        ServerProcess::spawn_with_config(&member.data_dir, &member.config, member.client_port)
    }

    /// The client addresses, in member order.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.members.iter().map(|m| SocketAddr::from(([127, 0, 0, 1], m.client_port))).collect()
    }

    /// Every member's client address, comma-separated.
    pub fn connect_string(&self) -> String {
        self.addrs().iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }

    /// SIGKILLs member `i` (0-based).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut server) = self.servers[i].take() {
            server.kill();
        }
    }

    /// Starts member `i` again on its data.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.servers[i] = Some(Self::spawn(&self.members[i]));
    }

    /// Waits until one running member says it leads and every other running member serves; returns
    /// the leader's index.
    pub fn wait_for_leader(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let modes: Vec<Option<String>> =
                self.servers.iter().map(|s| s.as_ref().and_then(ServerProcess::mode)).collect();
            let leaders: Vec<usize> = (0..modes.len()).filter(|i| modes[*i].as_deref() == Some("leader")).collect();
            let all_up = self.servers.iter().zip(&modes).all(|(s, m)| s.is_none() || m.is_some());
            if leaders.len() == 1 && all_up {
                return leaders[0];
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = self.servers.iter().flatten().map(ServerProcess::log_text).collect();
                panic!("no ensemble within {timeout:?}: {modes:?}\n{}", logs.join("\n----\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every member's log, for failure messages.
    pub fn logs(&self) -> String {
        self.servers.iter().flatten().map(ServerProcess::log_text).collect::<Vec<_>>().join("\n----\n")
    }
}
