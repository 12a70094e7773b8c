//! An in-process ensemble for tests: N servers on ephemeral loopback ports, each with its own
//! temporary data directory, which a test can kill, restart and partition.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! let mut ensemble = zk_server::testing::Ensemble::start(3).await?; // returns once all serve
//! let connect = ensemble.connect_string(); // "127.0.0.1:a,127.0.0.1:b,127.0.0.1:c"
//! # let _ = connect;
//! let leader = ensemble.leader().expect("a leader");
//! ensemble.kill(leader).await; // the others elect a new leader
//! let new_leader = ensemble.wait_for_leader(Duration::from_secs(10)).await?;
//! ensemble.restart(leader).await?; // rejoins as a follower
//! ensemble.partition(&[new_leader], &ensemble.ids_except(&[new_leader])); // the majority side re-elects
//! ensemble.heal();
//! # Ok(()) }
//! ```
//!
//! `kill` stops a server's tasks in this process: its connections drop at once, but what it logged is
//! kept (an in-process server cannot lose its page cache). Tests that need a real crash run the
//! `zk-server` binary and send it SIGKILL.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use tokio::time::Instant;

use super::to_io;
use crate::config::ServerConfig;
use crate::runtime::{self, PeerState, PeerStatus, RunningServer};

/// Options for an [`Ensemble`].
#[derive(Debug, Clone)]
pub struct EnsembleBuilder {
    voters: usize,
    observers: usize,
    standby: usize,
    tick_time: i32,
    init_limit: i32,
    sync_limit: i32,
    snap_count: i32,
    extra: Vec<(String, String)>,
}

impl Default for EnsembleBuilder {
    fn default() -> Self {
        EnsembleBuilder {
            voters: 3,
            observers: 0,
            standby: 0,
            tick_time: 100,
            init_limit: 20,
            sync_limit: 10,
            snap_count: 100_000,
            extra: Vec::new(),
        }
    }
}

impl EnsembleBuilder {
    /// Voting members (default 3).
    pub fn voters(mut self, n: usize) -> Self {
        self.voters = n;
        self
    }

    /// Observers, numbered after the voters (default 0).
    pub fn observers(mut self, n: usize) -> Self {
        self.observers = n;
        self
    }

    /// Servers outside the initial membership, numbered after the observers (default 0), for
    /// `reconfig` tests: each is configured with the initial members plus itself as a participant (as
    /// ZooKeeper's docs start a joining server), while the initial members do not know it. Until a
    /// reconfig adds it, such a server follows the leader without a vote.
    pub fn standby(mut self, n: usize) -> Self {
        self.standby = n;
        self
    }

    /// `tickTime` in ms (default 100).
    pub fn tick_time(mut self, ms: i32) -> Self {
        self.tick_time = ms;
        self
    }

    /// `initLimit` and `syncLimit` in ticks (default 20 and 10).
    pub fn limits(mut self, init_limit: i32, sync_limit: i32) -> Self {
        self.init_limit = init_limit;
        self.sync_limit = sync_limit;
        self
    }

    /// `snapCount` (default 100000).
    pub fn snap_count(mut self, count: i32) -> Self {
        self.snap_count = count;
        self
    }

    /// Any other zoo.cfg line, for every server.
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.extra.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts every server and waits (up to 30 s) until a leader serves and every server follows it.
    pub async fn start(self) -> io::Result<Ensemble> {
        let members_count = self.voters + self.observers;
        let count = members_count + self.standby;
        let ports = free_ports(count * 3)?;
        let mut members = String::new();
        let mut lines = Vec::new();
        for i in 0..count {
            let id = i + 1;
            let (quorum, election, client) = (ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]);
            let kind = if (self.voters..members_count).contains(&i) { ":observer" } else { "" };
            let line = format!("server.{id}=127.0.0.1:{quorum}:{election}{kind};127.0.0.1:{client}\n");
            if i < members_count {
                members.push_str(&line);
            }
            lines.push(line);
        }
        let mut nodes = BTreeMap::new();
        for i in 0..count {
            let id = (i + 1) as i64;
            let dir = tempfile::Builder::new().prefix(&format!("zk-ensemble-{id}-")).tempdir()?;
            let mut text = format!(
                "tickTime={}\ninitLimit={}\nsyncLimit={}\nsnapCount={}\ndataDir={}\npreAllocSize=1024\n\
                 4lw.commands.whitelist=*\nadmin.enableServer=false\nmaxClientCnxns=0\n",
                self.tick_time,
                self.init_limit,
                self.sync_limit,
                self.snap_count,
                dir.path().display()
            );
            for (key, value) in &self.extra {
                let _ = writeln!(text, "{key}={value}");
            }
            if (self.voters..members_count).contains(&i) {
                text.push_str("peerType=observer\n");
            }
            text.push_str(&members);
            if i >= members_count {
                text.push_str(&lines[i]);
            }
            let config = ServerConfig::from_parts(&text, Some(&id.to_string()), None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            let client = SocketAddr::from(([127, 0, 0, 1], ports[3 * i + 2]));
            nodes.insert(id, Node { config, client, running: None, _dir: dir });
        }
        let mut ensemble = Ensemble { nodes, blocked: BTreeMap::new() };
        for id in ensemble.ids() {
            ensemble.restart(id).await?;
        }
        ensemble.wait_for_quorum(Duration::from_secs(30)).await?;
        Ok(ensemble)
    }
}

/// Reserves `n` distinct free loopback ports (released again for the servers to bind).
fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..n).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<io::Result<Vec<_>>>()?;
    listeners.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

#[derive(Debug)]
struct Node {
    config: ServerConfig,
    client: SocketAddr,
    running: Option<RunningServer>,
    _dir: tempfile::TempDir,
}

/// Servers of one ensemble running in this process (see the module docs).
#[derive(Debug)]
pub struct Ensemble {
    nodes: BTreeMap<i64, Node>,
    /// For each server, the servers it is cut off from.
    blocked: BTreeMap<i64, HashSet<i64>>,
}

impl Ensemble {
    /// Starts `voters` voting servers with the default options and waits until they all serve.
    pub async fn start(voters: usize) -> io::Result<Ensemble> {
        EnsembleBuilder::default().voters(voters).start().await
    }

    /// Options for an ensemble.
    pub fn builder() -> EnsembleBuilder {
        EnsembleBuilder::default()
    }

    /// Every server id (1..=N).
    pub fn ids(&self) -> Vec<i64> {
        self.nodes.keys().copied().collect()
    }

    /// Every server id but these.
    pub fn ids_except(&self, except: &[i64]) -> Vec<i64> {
        self.nodes.keys().copied().filter(|id| !except.contains(id)).collect()
    }

    /// The client address of server `id`.
    pub fn client_addr(&self, id: i64) -> SocketAddr {
        self.nodes[&id].client
    }

    /// Every server's client address, comma-separated, for a client's connect string.
    pub fn connect_string(&self) -> String {
        self.nodes.values().map(|n| n.client.to_string()).collect::<Vec<_>>().join(",")
    }

    /// The `server.N=...` line of server `id` as its own config has it (e.g. for a `reconfig` adding it).
    pub fn server_spec(&self, id: i64) -> Option<String> {
        let server = self.nodes.get(&id)?.config.quorum.servers.get(&id)?;
        Some(format!("server.{id}={}", server.config_string()))
    }

    /// The state of server `id` (`None` when it is not running).
    pub fn status(&self, id: i64) -> Option<PeerStatus> {
        self.nodes.get(&id)?.running.as_ref().map(RunningServer::status)
    }

    /// The data directory of server `id`.
    pub fn data_dir(&self, id: i64) -> &std::path::Path {
        &self.nodes[&id].config.data_dir
    }

    /// The running server that leads and serves, if any (with several during a partition, the one of the
    /// highest epoch).
    pub fn leader(&self) -> Option<i64> {
        self.nodes
            .keys()
            .filter_map(|id| Some((*id, self.status(*id)?)))
            .filter(|(_, s)| s.state == PeerState::Leading && s.serving)
            .max_by_key(|(_, s)| s.epoch)
            .map(|(id, _)| id)
    }

    /// Waits until a leader serves; returns it.
    pub async fn wait_for_leader(&self, timeout: Duration) -> io::Result<i64> {
        self.wait_until(timeout, "no leader", |e| e.leader()).await
    }

    /// Waits until one of `ids` leads and serves; returns it.
    pub async fn wait_for_leader_among(&self, ids: &[i64], timeout: Duration) -> io::Result<i64> {
        self.wait_until(timeout, "no leader among them", |e| {
            ids.iter().copied().find(|id| e.status(*id).is_some_and(|s| s.state == PeerState::Leading && s.serving))
        })
        .await
    }

    /// Waits until server `id` serves read-only clients (a member with `readonlymode.enabled` that has
    /// been LOOKING for a while, e.g. cut off from the quorum by [`Self::partition`]).
    pub async fn wait_for_read_only(&self, id: i64, timeout: Duration) -> io::Result<()> {
        self.wait_until(timeout, "not serving read-only", |e| e.status(id).is_some_and(|s| s.read_only).then_some(()))
            .await
    }

    /// Waits until a leader serves and every running server that is not cut off from it serves too;
    /// returns the leader.
    pub async fn wait_for_quorum(&self, timeout: Duration) -> io::Result<i64> {
        self.wait_until(timeout, "not every running server serves", |e| {
            let leader = e.leader()?;
            let reachable = |id: &i64| !e.blocked.get(&leader).is_some_and(|b| b.contains(id));
            e.nodes
                .keys()
                .filter(|id| reachable(id))
                .all(|id| e.status(*id).is_none_or(|s| s.serving && s.leader == Some(leader)))
                .then_some(leader)
        })
        .await
    }

    /// Waits until one of `ids` leads and serves and every other of `ids` serves as its follower or
    /// observer (servers outside `ids` are not looked at, e.g. one a reconfig removed); returns the
    /// leader.
    pub async fn wait_for_quorum_among(&self, ids: &[i64], timeout: Duration) -> io::Result<i64> {
        self.wait_until(timeout, "not every one of them serves", |e| {
            let leader = ids
                .iter()
                .copied()
                .find(|id| e.status(*id).is_some_and(|s| s.state == PeerState::Leading && s.serving))?;
            ids.iter().all(|id| e.status(*id).is_some_and(|s| s.serving && s.leader == Some(leader))).then_some(leader)
        })
        .await
    }

    async fn wait_until<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut check: impl FnMut(&Ensemble) -> Option<T>,
    ) -> io::Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = check(self) {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                let states: Vec<_> = self.ids().into_iter().map(|id| (id, self.status(id))).collect();
                return Err(io::Error::new(io::ErrorKind::TimedOut, format!("{what} after {timeout:?}: {states:?}")));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops server `id` (its clients are disconnected; its data stays).
    pub async fn kill(&mut self, id: i64) {
        if let Some(running) = self.nodes.get_mut(&id).and_then(|n| n.running.take()) {
            running.shutdown().await;
        }
    }

    /// Starts server `id` again (stopping it first if it runs), with its data and ports.
    pub async fn restart(&mut self, id: i64) -> io::Result<()> {
        self.kill(id).await;
        let node = self.nodes.get_mut(&id).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such server"))?;
        // The ports were free a moment ago; another process may grab one meanwhile, so retry a little.
        let mut attempts = 0;
        let running = loop {
            match runtime::start(node.config.clone()).await {
                Ok(running) => break running,
                Err(err) if attempts < 20 => {
                    attempts += 1;
                    tracing::debug!(%err, id, "start failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => return Err(to_io(err)),
            }
        };
        if let Some(blocked) = self.blocked.get(&id) {
            running.block_peers(blocked.clone());
        }
        node.running = Some(running);
        Ok(())
    }

    /// Cuts every link between the servers of `a` and those of `b` (both ways), until [`Self::heal`].
    /// Clients can still reach every server.
    pub fn partition(&mut self, a: &[i64], b: &[i64]) {
        for (side, other) in [(a, b), (b, a)] {
            for id in side {
                self.blocked.entry(*id).or_default().extend(other.iter().copied());
            }
        }
        self.apply_blocks();
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        for blocked in self.blocked.values_mut() {
            blocked.clear();
        }
        self.apply_blocks();
        self.blocked.clear();
    }

    fn apply_blocks(&self) {
        for (id, node) in &self.nodes {
            if let Some(running) = &node.running {
                running.block_peers(self.blocked.get(id).cloned().unwrap_or_default());
            }
        }
    }

    /// Stops every server.
    pub async fn stop(mut self) {
        for id in self.ids() {
            self.kill(id).await;
        }
    }
}
