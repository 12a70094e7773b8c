//! The server core: a sans-IO state machine that owns the data tree, sessions and watches, and runs
//! ZooKeeper's request pipeline as explicit stages:
//!
//! ```text
//! connection ─► prep (validate, ACL, txn, zxid) ─► replicate (Output::Persist) ─► commit (apply,
//! watches, sessions) ─► reply
//! ```
//!
//! The driver feeds it events (`connect`, `request`, `closed`, `durable`, `tick`), each stamped with
//! [`Now`], sends the [`Output`]s it emits to the txn log, and calls [`ServerCore::durable`] once
//! txns are on disk. Nothing is applied, and no write is answered, before its txn is durable. Reads of
//! a connection wait behind that connection's earlier writes, so every client reads its own writes and
//! sees replies in request order. Watch notifications go out at commit, before any later reply.
//!
//! In an ensemble ([`Role`]) the same core plays either side of Zab, which a shell around it runs:
//!
//! * a **leader** prepares its own clients' writes and those learners forward
//!   ([`ServerCore::remote_request`]); its [`Output::Persist`] txns are proposals, and
//!   [`ServerCore::durable`] means "committed by a quorum". It alone expires sessions (learners report
//!   activity: [`ServerCore::touch_sessions`], [`ServerCore::revalidate`]) and reaps containers.
//! * a **learner** (follower or observer) prepares nothing: writes and syncs go out as
//!   [`Output::Forward`], new sessions as forwarded createSessions, reconnects as
//!   [`Output::Revalidate`]; the txns the leader commits come back through
//!   [`ServerCore::apply_committed`] and answer the waiting requests in each connection's order.

pub mod admin;
mod conn;
pub mod four_letter;
mod handshake;
mod leader;
mod learner;
mod membership;
mod metrics;
mod pipeline;
mod read_only;
mod reply;
mod role;
mod speculative;
pub mod stats;
mod tick;

#[cfg(test)]
mod ensemble_tests;
#[cfg(test)]
mod read_only_tests;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use zk_proto::{Id, TxnDigest, TxnEntry, TxnHeader};

use crate::acl::AuthConfig;
use crate::net::ConnId;
use crate::prep::Prepared;
use crate::session::{SessionTimeouts, SessionTracker};
use crate::tree::DataTree;
use crate::watch::WatchManager;

use conn::Conn;
pub use four_letter::{HostFacts, VERSION};
pub use metrics::{MetricValue, ProcessFacts};
pub use role::{LeaderFacts, QuorumFacts, Role};
use speculative::Speculative;
pub use stats::ServerStats;

/// The clocks an event is stamped with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// A monotonic clock in ms (session expiry, latencies).
    pub mono_ms: i64,
    /// The wall clock in ms since the Unix epoch (txn times: ctime/mtime).
    pub wall_ms: i64,
}

/// Settings of the core.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// This server's id (the top byte of session ids).
    pub server_id: i64,
    /// `tickTime` in ms.
    pub tick_time: i32,
    /// Session timeout bounds.
    pub timeouts: SessionTimeouts,
    /// ACL and auth settings.
    pub auth: AuthConfig,
    /// `zookeeper.extendedTypesEnabled`: TTL nodes.
    pub extended_types: bool,
    /// `reconfigEnabled`.
    pub reconfig_enabled: bool,
    /// `zookeeper.enforceQuota`: hard quotas refuse creates and setData.
    pub enforce_quota: bool,
    /// `zookeeper.digest.enabled`: txns carry the tree digest.
    pub digest_enabled: bool,
    /// `znode.container.checkIntervalMs`.
    pub container_check_interval_ms: i64,
    /// `znode.container.maxPerMinute`.
    pub container_max_per_minute: usize,
    /// The server's part in its ensemble (see [`Role`]); [`ServerCore::set_role`] changes it.
    pub role: Role,
}

/// Work for the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Standalone: append this txn to the log (in order) and call [`ServerCore::durable`] once it is
    /// synced. Leader: propose it through Zab and call [`ServerCore::durable`] once a quorum acked it.
    Persist(TxnEntry),
    /// Learner: send this local client request to the leader as a REQUEST packet (ZooKeeper's
    /// `Learner.request`). `body` is the request record's jute bytes (empty for a body that did not
    /// decode: the leader then answers `MarshallingError`); for `createSession` (-10) it is the
    /// negotiated timeout as a big-endian int, as ZooKeeper's follower builds it. `authinfo` holds the
    /// connection's auth ids. A forwarded `sync` (9) is completed by [`ServerCore::sync_done`] once
    /// the leader's SYNC comes back; every other request by the committed txn
    /// ([`ServerCore::apply_committed`]).
    Forward {
        /// The client's session.
        session_id: i64,
        /// The request's xid (the txn's cxid).
        cxid: i32,
        /// The request's opcode.
        op_code: i32,
        /// The request record as jute bytes.
        body: Bytes,
        /// The auth ids of the client connection.
        authinfo: Vec<Id>,
    },
    /// Learner: ask the leader whether a reconnecting session is valid (a REVALIDATE packet,
    /// ZooKeeper's `Learner.validateSession`); answer with [`ServerCore::revalidated`].
    Revalidate {
        /// The session the client resumes.
        session_id: i64,
        /// The timeout negotiated on this connection.
        timeout: i32,
    },
}

/// Who is waiting for an in-flight txn.
#[derive(Debug)]
enum Origin {
    /// A client request on this connection (`None` if the connection closed meanwhile).
    Client { conn: Option<ConnId>, xid: i32, received_ms: i64 },
    /// A new session; the connect response goes to this connection once the txn commits.
    Handshake { conn: Option<ConnId> },
    /// Internal: session expiry, container reaping.
    Internal,
    /// A learner's forwarded request (leader): the learner holding the connection replies.
    Learner,
}

#[derive(Debug)]
struct InFlight {
    entry: TxnEntry,
    origin: Origin,
}

/// The sans-IO server (see the module docs).
#[derive(Debug)]
pub struct ServerCore {
    config: CoreConfig,
    /// Committed state: what reads see.
    tree: DataTree,
    /// Committed state plus every in-flight txn: what preparation sees.
    spec: Speculative,
    sessions: SessionTracker,
    watches: WatchManager<ConnId>,
    conns: HashMap<ConnId, Conn>,
    /// The connection currently holding each session.
    session_conn: HashMap<i64, ConnId>,
    last_zxid: i64,
    in_flight: VecDeque<InFlight>,
    outputs: VecDeque<Output>,
    /// What `mntr` reports of the ensemble (`None` standalone).
    quorum: Option<QuorumFacts>,
    /// What `mntr` reports of the process (set by the driver).
    process: Option<ProcessFacts>,
    stats: ServerStats,
    next_container_check_ms: i64,
    /// Learner: sessions active since the last [`ServerCore::take_touched`], with their timeouts
    /// (`LearnerSessionTracker`'s touch table).
    touched: HashMap<i64, i32>,
    /// Learner: reconnects waiting for the leader's REVALIDATE answer, by session.
    pending_revalidations: HashMap<i64, ConnId>,
    /// Learner: forwarded syncs in the order they were sent (`FollowerZooKeeperServer.pendingSyncs`):
    /// the connection (`None` once closed) and the sync's id in that connection's queue.
    pending_syncs: VecDeque<(Option<ConnId>, u64)>,
    next_sync_id: u64,
    /// Session expiry restarts from the next tick: set when the role changes, since a new leader
    /// gives every session a full timeout from the start of its term, as ZooKeeper's new
    /// `SessionTrackerImpl` does.
    restart_expiry: bool,
    /// Read-only role: the sessions created on this server while read-only, which no other server
    /// knows (`LearnerSessionTracker`'s local sessions); `None` until the first one.
    local_sessions: Option<SessionTracker>,
    /// The ensemble's membership (`None` standalone; see [`ServerCore::set_membership`]).
    membership: Option<membership::Membership>,
}

impl ServerCore {
    /// A core over recovered state: the tree and sessions as of `tree.last_processed_zxid()`.
    pub fn new(config: CoreConfig, tree: DataTree, restored_sessions: &[(i64, i32)], now: Now) -> ServerCore {
        // ZooKeeper takes a monotonic clock with an arbitrary (in practice boot-time) origin; ours starts
        // at 0 with the server, which would hand out session id 0 ("no session") and reuse the ids of
        // restored sessions after a restart. The wall clock does neither.
        let first_id = crate::session::initial_session_id(config.server_id, now.wall_ms);
        let mut sessions = SessionTracker::new(config.tick_time, first_id, now.mono_ms);
        for &(id, timeout) in restored_sessions {
            sessions.track_session(id, timeout, now.mono_ms);
        }
        let last_zxid = tree.last_processed_zxid();
        ServerCore {
            next_container_check_ms: now.mono_ms + config.container_check_interval_ms,
            config,
            spec: Speculative::default(),
            tree,
            sessions,
            watches: WatchManager::new(),
            conns: HashMap::new(),
            session_conn: HashMap::new(),
            last_zxid,
            in_flight: VecDeque::new(),
            outputs: VecDeque::new(),
            quorum: None,
            process: None,
            stats: ServerStats::new(now.mono_ms),
            touched: HashMap::new(),
            pending_revalidations: HashMap::new(),
            pending_syncs: VecDeque::new(),
            next_sync_id: 0,
            restart_expiry: false,
            local_sessions: None,
            membership: None,
        }
    }

    /// The next output for the driver.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The committed tree.
    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    /// Live sessions and their timeouts (for snapshots).
    pub fn sessions(&self) -> Vec<(i64, i32)> {
        self.sessions.sessions_with_timeouts()
    }

    /// The zxid of the last txn handed out (committed or not).
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// Server statistics.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// Stamps, speculatively applies and queues a prepared txn; returns its zxid.
    fn propose(&mut self, session_id: i64, cxid: i32, prepared: Prepared, origin: Origin, now: Now) -> i64 {
        self.last_zxid += 1;
        let zxid = self.last_zxid;
        let header =
            TxnHeader { client_id: session_id, cxid, zxid, time: now.wall_ms, op_code: prepared.op_code.code() };
        let mut entry = TxnEntry { header, body: prepared.body, digest: None };
        let digest = self.spec.apply(&self.tree, &entry);
        if self.config.digest_enabled {
            entry.digest = Some(TxnDigest { version: crate::tree::DIGEST_VERSION, tree_digest: digest });
        }
        if self.config.role == Role::Leader {
            self.stats.proposal_sizes.record(zk_proto::Jute::encoded_len(&entry) as i64);
        }
        self.outputs.push_back(Output::Persist(entry.clone()));
        self.in_flight.push_back(InFlight { entry, origin });
        zxid
    }
}
