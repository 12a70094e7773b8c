//! Four-letter-word answers, in Apache ZooKeeper's text formats (tools parse them).

use std::fmt::Write as _;

use super::{Now, ServerCore};

/// The version string servers report (`srvr`, `stat`, `mntr`, `envi`): ZooKeeper's protocol version
/// this server implements, then ours.
pub const VERSION: &str = concat!("3.9.5-zk-rs-", env!("CARGO_PKG_VERSION"), ", built on 1970-01-01 00:00 UTC");

/// What the driver knows that the core does not: host, configuration and disk facts.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// The `conf` answer.
    pub conf: String,
    /// The `envi` answer.
    pub envi: String,
    /// The `dirs` answer.
    pub dirs: String,
}

impl ServerCore {
    /// Answers a four-letter word. `whitelisted` is whether the configuration enables it.
    pub fn four_letter(&mut self, command: &str, whitelisted: bool, host: &HostFacts, now: Now) -> String {
        if !whitelisted {
            return format!("{command} is not executed because it is not in the whitelist.\n");
        }
        match command {
            "ruok" => "imok".to_owned(),
            // `IsReadOnlyCommand`: "ro" while a `ReadOnlyZooKeeperServer` serves.
            "isro" => (if self.is_read_only() { "ro" } else { "rw" }).to_owned(),
            "srvr" => self.server_summary(false),
            "stat" => self.server_summary(true),
            "cons" => self.connections_text(),
            "crst" => {
                for conn in self.conns.values_mut() {
                    conn.stats = Default::default();
                }
                "Connection stats reset.\n".to_owned()
            }
            "srst" => {
                self.stats.reset(now.mono_ms);
                "Server stats reset.\n".to_owned()
            }
            "wchs" => {
                let summary = self.watches.summary();
                format!(
                    "{} connections watching {} paths\nTotal watches:{}\n",
                    summary.watchers, summary.paths, summary.total_watches
                )
            }
            "wchc" => {
                let mut out = String::new();
                for (conn, paths) in self.watches.paths_by_watcher() {
                    let _ = writeln!(out, "0x{:x}", self.conns.get(&conn).map_or(0, |c| c.session_id));
                    for path in paths {
                        let _ = writeln!(out, "\t{path}");
                    }
                }
                out.push('\n');
                out
            }
            "wchp" => {
                let mut out = String::new();
                for (path, conns) in self.watches.watchers_by_path() {
                    let _ = writeln!(out, "{path}");
                    for conn in conns {
                        let _ = writeln!(out, "\t0x{:x}", self.conns.get(&conn).map_or(0, |c| c.session_id));
                    }
                }
                out.push('\n');
                out
            }
            "dump" => self.dump_text(now),
            "mntr" => self.monitor_text(now),
            "conf" => host.conf.clone(),
            "envi" => host.envi.clone(),
            "dirs" => host.dirs.clone(),
            "gtmk" | "stmk" => "0".to_owned(),
            "hash" => format!("{:x}: {}\n", self.tree.last_processed_zxid(), self.tree.digest()),
            other => format!("{other} is not a known command.\n"),
        }
    }

    /// Requests in the pipeline: txns in flight, and on a learner what waits for the leader.
    pub(super) fn outstanding(&self) -> usize {
        let forwarded = self
            .conns
            .values()
            .flat_map(|c| &c.pending)
            .filter(|p| matches!(p, super::conn::Pending::Forwarded { .. } | super::conn::Pending::Sync { .. }));
        self.in_flight.len() + forwarded.count()
    }

    fn server_summary(&self, with_clients: bool) -> String {
        let mut out = format!("Zookeeper version: {VERSION}\n");
        if with_clients {
            out.push_str("Clients:\n");
            out.push_str(&self.connections_brief());
            out.push('\n');
        }
        let stats = &self.stats;
        let _ = write!(
            out,
            "Latency min/avg/max: {}/{}/{}\nReceived: {}\nSent: {}\nConnections: {}\nOutstanding: {}\nZxid: 0x{:x}\nMode: {}\nNode count: {}\n",
            stats.min_latency(),
            java_double(stats.avg_latency()),
            stats.max_latency(),
            stats.packets_received,
            stats.packets_sent,
            self.conns.len(),
            self.outstanding(),
            self.tree.last_processed_zxid(),
            self.config.role.mode(),
            self.tree.node_count(),
        );
        if self.config.role == super::Role::Leader {
            let _ = writeln!(out, "Proposal sizes last/min/max: {}", self.stats.proposal_sizes);
        }
        out
    }

    fn connections_brief(&self) -> String {
        let mut out = String::new();
        let mut conns: Vec<_> = self.conns.values().collect();
        conns.sort_by_key(|c| c.peer);
        for conn in conns {
            let _ = writeln!(
                out,
                " /{}[1](queued={},recved={},sent={})",
                conn.peer,
                conn.pending.len(),
                conn.stats.received,
                conn.stats.sent
            );
        }
        out
    }

    fn connections_text(&self) -> String {
        let mut out = String::new();
        let mut conns: Vec<_> = self.conns.values().collect();
        conns.sort_by_key(|c| c.peer);
        for conn in conns {
            let s = &conn.stats;
            let avg = if s.replies == 0 { 0 } else { s.total_latency_ms / s.replies as i64 };
            let _ = writeln!(
                out,
                " /{}[1](queued={},recved={},sent={},sid=0x{:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={})",
                conn.peer,
                conn.pending.len(),
                s.received,
                s.sent,
                conn.session_id,
                if s.last_op.is_empty() { "NA" } else { s.last_op },
                conn.established_ms,
                conn.timeout,
                s.last_cxid,
                s.last_zxid,
                s.last_response_ms,
                s.last_latency_ms,
                s.min_latency_ms.unwrap_or(0),
                avg,
                s.max_latency_ms,
            );
        }
        out.push('\n');
        out
    }

    fn dump_text(&self, now: Now) -> String {
        let mut out = String::from("SessionTracker dump:\n");
        if self.config.role.is_learner() {
            // `LearnerSessionTracker.dumpSessions`: a learner expires nothing, it lists the sessions.
            let sessions = self.sessions.sessions_with_timeouts();
            let _ = writeln!(out, "Global Sessions({}):", sessions.len());
            for (id, timeout) in sessions {
                let _ = writeln!(out, "0x{id:x}\t{timeout}ms");
            }
        } else {
            // Expiry times are monotonic; show them as wall-clock ms for the reader.
            let offset = now.wall_ms - now.mono_ms;
            out.push_str(&self.sessions.dump(|t| format!("{}", t + offset)));
        }
        let sessions: Vec<i64> = self.tree.sessions_with_ephemerals().collect();
        let _ = writeln!(out, "ephemeral nodes dump:\nSessions with Ephemerals ({}):", sessions.len());
        for session in sessions {
            let _ = writeln!(out, "0x{session:x}:");
            for path in self.tree.ephemerals(session) {
                let _ = writeln!(out, "\t{path}");
            }
        }
        let _ = writeln!(out, "Connections dump:\nConnections Sets (1)/({}):", self.conns.len());
        for conn in self.conns.values() {
            let _ = writeln!(out, "\tip: /{} sessionId: 0x{:x}", conn.peer, conn.session_id);
        }
        out
    }

    fn monitor_text(&self, now: Now) -> String {
        let mut out = String::new();
        for (key, value) in self.metrics(now) {
            let _ = writeln!(out, "zk_{key}\t{value}");
        }
        out
    }
}

/// Formats like Java's `Double.toString` for the values ZooKeeper prints (`0.0`, `61.25`).
pub(super) fn java_double(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}
