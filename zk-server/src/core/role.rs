//! The server's part in its ensemble, and the changes of state between terms: a new role, a new epoch,
//! a whole new state after a snapshot sync.

use std::collections::HashMap;

use tracing::info;

use super::{Now, ServerCore};
use crate::session::SessionTracker;
use crate::tree::DataTree;
use crate::watch::WatchManager;

/// What this server is in its ensemble (ZooKeeper's `ZooKeeperServer` subclasses: the standalone
/// `ZooKeeperServer`, `LeaderZooKeeperServer`, `FollowerZooKeeperServer`, `ObserverZooKeeperServer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// No ensemble: writes are prepared here and committed once durable.
    #[default]
    Standalone,
    /// The ensemble's leader: prepares every write (its own clients' and those learners forward),
    /// proposes them through Zab and alone expires sessions and reaps containers.
    Leader,
    /// A voting learner: forwards writes to the leader, applies what the leader commits.
    Follower,
    /// A non-voting learner; to the core the same as a follower.
    Observer,
    /// A member cut off from a quorum, serving read-only clients while it looks for a leader
    /// (`readonlymode.enabled`, ZooKeeper's `ReadOnlyZooKeeperServer`): reads come from the local
    /// tree, writes and syncs are refused with `NotReadOnly`, sessions are local to this server and
    /// nothing is logged (see `core/read_only.rs`).
    ReadOnly,
}

impl Role {
    /// Whether the server forwards writes to a leader (`Learner`).
    pub fn is_learner(self) -> bool {
        matches!(self, Role::Follower | Role::Observer)
    }

    /// The mode `srvr`, `stat` and `mntr` (`zk_server_state`) print (`ServerState`, lower-case).
    pub fn mode(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Observer => "observer",
            Role::ReadOnly => "read-only",
        }
    }
}

/// What the Zab layer knows about the ensemble, for `mntr` and the metrics (set by the ensemble's
/// driver; the core has no part in it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuorumFacts {
    /// `peer_state`: the server state and the Zab phase, e.g. `leading - broadcast`.
    pub peer_state: String,
    /// `quorum_size`: the number of voting members.
    pub quorum_size: usize,
    /// Leader only: connected learners, synced voters (`synced_followers`), synced non-voting followers,
    /// synced observers, and syncs waiting for commits (`pending_syncs`).
    pub leader: Option<LeaderFacts>,
}

/// A leader's counts of its learners (see [`QuorumFacts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaderFacts {
    /// `learners`.
    pub learners: usize,
    /// `synced_followers`.
    pub synced_followers: usize,
    /// `synced_non_voting_followers`.
    pub synced_non_voting_followers: usize,
    /// `synced_observers`.
    pub synced_observers: usize,
    /// `pending_syncs`.
    pub pending_syncs: usize,
}

impl ServerCore {
    /// Updates what `mntr` reports of the ensemble.
    pub fn set_quorum_facts(&mut self, facts: Option<QuorumFacts>) {
        self.quorum = facts;
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// Changes the role (after an election). As ZooKeeper, which replaces its `ZooKeeperServer` on a
    /// change of state, a change closes every client connection (clients reconnect, to this server or
    /// another), drops the work of the old role (txns proposed but not committed, requests forwarded
    /// but not answered, pending outputs) and rewinds to the committed state: what the new leader
    /// commits arrives again through [`ServerCore::apply_committed`] or [`ServerCore::reset`]. Session
    /// expiry restarts from the next [`ServerCore::tick`], each session getting its full timeout, as a
    /// new leader's `SessionTrackerImpl` gives them. Setting the current role again changes nothing.
    pub fn set_role(&mut self, role: Role) {
        if role == self.config.role {
            return;
        }
        info!(from = self.config.role.mode(), to = role.mode(), "role change");
        self.config.role = role;
        self.drop_connections();
        // Read-only sessions live only as long as the read-only server (`ReadOnlyZooKeeperServer`).
        self.local_sessions = None;
        self.in_flight.clear();
        self.outputs.clear();
        self.spec.reset();
        self.last_zxid = self.tree.last_processed_zxid();
        // Closing marks belonged to closeSession txns that may never commit now: start the tracker
        // over from the committed sessions (their expiry is set at the next tick).
        self.sessions = SessionTracker::restore(
            self.config.tick_time,
            self.sessions.next_session_id(),
            self.sessions.sessions_with_timeouts(),
            0,
        );
        self.restart_expiry = true;
    }

    /// A leader's new epoch (`Leader.lead` after `getEpochToPropose`): the next txn gets zxid
    /// `(epoch << 32) + 1`. Called between terms, with nothing in flight.
    pub fn start_epoch(&mut self, epoch: i64) {
        info!(epoch, "new epoch");
        self.last_zxid = epoch << 32;
        if self.in_flight.is_empty() {
            self.spec.reset();
        }
    }

    /// Replaces the whole state: the tree and the sessions `(id, timeout)` of a snapshot (after a SNAP
    /// sync from the leader, or a reload from disk), as ZooKeeper's `ZKDatabase` is replaced. Callers
    /// only call this while not serving (between terms): every connection is dropped, with whatever
    /// was in flight or forwarded. Session ids handed out later keep counting from where they were.
    pub fn reset(&mut self, tree: DataTree, sessions: &[(i64, i32)], now: Now) {
        info!(zxid = format_args!("{:#x}", tree.last_processed_zxid()), "state replaced");
        self.drop_connections();
        self.in_flight.clear();
        self.outputs.clear();
        self.last_zxid = tree.last_processed_zxid();
        self.spec.reset();
        self.tree = tree;
        self.note_tree_config();
        self.sessions = SessionTracker::restore(
            self.config.tick_time,
            self.sessions.next_session_id(),
            sessions.iter().copied(),
            now.mono_ms,
        );
        self.restart_expiry = false;
    }

    /// Closes every connection and forgets whatever they waited for.
    fn drop_connections(&mut self) {
        for conn in self.conns.values() {
            conn.close();
        }
        self.conns.clear();
        self.session_conn.clear();
        self.watches = WatchManager::new();
        self.touched = HashMap::new();
        self.pending_revalidations.clear();
        self.pending_syncs.clear();
    }
}
