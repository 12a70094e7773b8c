//! The server's metrics, one list for every way they are read: `mntr`, the AdminServer's `monitor`
//! command and the Prometheus endpoint.

use std::fmt;

use super::four_letter::{java_double, VERSION};
use super::{Now, ServerCore};

/// One metric value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A count or gauge.
    Int(i64),
    /// A mean.
    Float(f64),
    /// Text (the version, the server state).
    Text(String),
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricValue::Int(v) => write!(f, "{v}"),
            MetricValue::Float(v) => f.write_str(&java_double(*v)),
            MetricValue::Text(v) => f.write_str(v),
        }
    }
}

impl From<&MetricValue> for serde_json::Value {
    fn from(value: &MetricValue) -> serde_json::Value {
        match value {
            MetricValue::Int(v) => (*v).into(),
            MetricValue::Float(v) => (*v).into(),
            MetricValue::Text(v) => v.as_str().into(),
        }
    }
}

/// Facts about the server process the driver reads from the OS (Unix only in ZooKeeper too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessFacts {
    /// `open_file_descriptor_count`.
    pub open_file_descriptors: i64,
    /// `max_file_descriptor_count` (the soft limit).
    pub max_file_descriptors: i64,
}

fn int(value: impl TryInto<i64>) -> MetricValue {
    MetricValue::Int(value.try_into().unwrap_or(i64::MAX))
}

impl ServerCore {
    /// Updates the process facts the metrics report (the driver calls it before answering).
    pub fn set_process_facts(&mut self, facts: Option<ProcessFacts>) {
        self.process = facts;
    }

    /// Every metric, named as ZooKeeper's `mntr` names them (without the `zk_` prefix).
    pub fn metrics(&self, now: Now) -> Vec<(&'static str, MetricValue)> {
        let stats = &self.stats;
        let watches = self.watches.summary();
        let mut metrics = vec![
            ("version", MetricValue::Text(VERSION.to_owned())),
            ("server_state", MetricValue::Text(self.config.role.mode().to_owned())),
            ("ephemerals_count", int(self.tree.ephemerals_count())),
            ("num_alive_connections", int(self.conns.len())),
            ("avg_latency", MetricValue::Float(stats.avg_latency())),
            ("min_latency", int(stats.min_latency())),
            ("max_latency", int(stats.max_latency())),
            ("outstanding_requests", int(self.outstanding())),
            ("znode_count", int(self.tree.node_count())),
            ("global_sessions", int(self.sessions.len())),
            ("local_sessions", int(self.local_session_count())),
            ("watch_count", int(watches.total_watches)),
            ("approximate_data_size", int(self.tree.approximate_data_size())),
            ("packets_sent", int(stats.packets_sent)),
            ("packets_received", int(stats.packets_received)),
            ("uptime", int(now.mono_ms - stats.start_ms)),
            ("auth_failed_count", int(stats.auth_failures)),
            ("connection_request_count", int(stats.connections_accepted)),
            ("connection_revalidate_count", int(stats.revalidations)),
            ("commit_count", int(stats.commits)),
            ("stale_sessions_expired", int(stats.expired_sessions)),
            ("watch_events_sent", int(stats.watch_events)),
            ("last_proposal_size", int(0)),
            ("digest_mismatches_count", int(0)),
        ];
        if self.config.role == super::Role::Leader {
            // The leader's gauges (`LeaderZooKeeperServer.registerMetrics`) that the core knows.
            let sizes = stats.proposal_sizes;
            metrics.retain(|(key, _)| *key != "last_proposal_size");
            metrics.push(("last_proposal_size", int(sizes.last)));
            metrics.push(("max_proposal_size", int(sizes.max)));
            metrics.push(("min_proposal_size", int(sizes.min)));
        }
        if let Some(process) = self.process {
            metrics.push(("open_file_descriptor_count", int(process.open_file_descriptors)));
            metrics.push(("max_file_descriptor_count", int(process.max_file_descriptors)));
        }
        if let Some(quorum) = &self.quorum {
            metrics.push(("peer_state", MetricValue::Text(quorum.peer_state.clone())));
            metrics.push(("quorum_size", int(quorum.quorum_size)));
            if let Some(leader) = quorum.leader {
                metrics.push(("learners", int(leader.learners)));
                metrics.push(("synced_followers", int(leader.synced_followers)));
                metrics.push(("synced_non_voting_followers", int(leader.synced_non_voting_followers)));
                metrics.push(("synced_observers", int(leader.synced_observers)));
                metrics.push(("pending_syncs", int(leader.pending_syncs)));
            }
        }
        metrics
    }
}
