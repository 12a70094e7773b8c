//! Zab, the ZooKeeper atomic broadcast protocol, as sans-IO state machines: one per role and per term,
//! as ZooKeeper creates a `Leader` (with one `LearnerHandler` per learner connection) or a
//! `Follower`/`Observer` object each time `QuorumPeer` leaves election.
//!
//! * [`Leader`] mirrors `Leader.lead` and `LearnerHandler.run`/`syncFollower`: discovery (FOLLOWERINFO,
//!   LEADERINFO, ACKEPOCH), synchronization (DIFF / TRUNC / SNAP, NEWLEADER, UPTODATE) and broadcast
//!   (PROPOSAL, ACK, COMMIT, INFORM, PING, REQUEST, REVALIDATE, SYNC).
//! * [`Learner`] mirrors `Learner.syncWithLeader`, `Follower.followLeader`/`processPacket` and
//!   `Observer.observeLeader`.
//!
//! Nothing here touches a socket, a clock, a file or a task. Every input carries `now`; outputs
//! ([`LeaderOutput`], [`LearnerOutput`]) are pulled with `poll_output`, and the next timer with
//! `poll_timeout`. The shell owns the TCP links, the txn log and the data tree. When a term ends the
//! state machine emits `Shutdown` once and ignores every later input; the shell then goes back to
//! leader election.
//!
//! Connection contract: the leader's shell calls [`Leader::link_up`] for each accepted quorum-port
//! connection and [`Leader::link_down`] when one drops; after a `Close` output it closes that connection
//! and feeds nothing more from it. A learner's shell calls [`Learner::connected`] once connected and
//! [`Learner::disconnected`] if the connection drops (the term then ends). On `Shutdown` the shell closes
//! every connection of the term. A SNAP packet is followed on the stream by the snapshot body: the
//! leader's shell writes it on `SendSnapshot`, the learner's shell reads it and hands it to
//! [`Learner::handle_snapshot`].
//!
//! Durability contract: `PersistedState::last_logged_zxid` and a new leader's `history` describe the
//! durable log (the shell flushes its log before electing, as ZooKeeper's `SyncRequestProcessor`
//! flushes on shutdown); `Persist*Epoch` outputs must be durable before the shell feeds the next
//! input, and so must an `InstallSnapshot` or a `Truncate`.

mod handler;
mod leader;
#[cfg(test)]
mod leader_tests;
mod learner;
#[cfg(test)]
mod learner_tests;
mod output;
mod sync;
#[cfg(test)]
mod test_support;
mod wire;

use std::time::Duration;

use bytes::Bytes;

use crate::election::QuorumVerifier;

pub use handler::LearnerSummary;
pub use leader::Leader;
pub use learner::{Learner, LearnerKind};
pub use output::{LeaderOutput, LearnerOutput};
pub use sync::{plan_sync, SyncPlan};
pub use wire::{
    decode_ping_sessions, decode_request, decode_revalidate_reply, decode_revalidate_request, encode_ping_sessions,
    encode_request, encode_revalidate_reply, encode_revalidate_request, ForwardedRequest,
};

/// The protocol version a Zab 1.0 leader announces in LEADERINFO and learners send in `LearnerInfo`
/// (`0x10000`).
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// The in-memory committed log ZooKeeper keeps for DIFF syncs (`zookeeper.commitLogCount` default).
pub const DEFAULT_COMMIT_LOG_COUNT: usize = 500;

/// A learner connection on the leader's quorum port, named by the shell.
pub type LinkId = u64;

/// Static settings of one server's Zab terms.
#[derive(Debug, Clone)]
pub struct ZabConfig {
    /// This server's id (`myid`).
    pub my_id: i64,
    /// The membership: voters and observers.
    pub verifier: QuorumVerifier,
    /// `tickTime`.
    pub tick: Duration,
    /// `initLimit`: ticks allowed for each discovery / synchronization wait.
    pub init_limit: u32,
    /// `syncLimit`: ticks a peer may stay silent during broadcast.
    pub sync_limit: u32,
    /// The quorum config text sent in NEWLEADER (`QuorumConfig::config_string()`).
    pub config_text: Bytes,
    /// How many committed txns the leader keeps in memory for DIFF syncs ([`DEFAULT_COMMIT_LOG_COUNT`]).
    pub commit_log_count: usize,
}

impl ZabConfig {
    /// `initLimit × tickTime`.
    pub fn init_timeout(&self) -> Duration {
        self.tick.saturating_mul(self.init_limit)
    }

    /// `syncLimit × tickTime`.
    pub fn sync_timeout(&self) -> Duration {
        self.tick.saturating_mul(self.sync_limit)
    }
}

/// What a server keeps on disk across terms: the `acceptedEpoch` and `currentEpoch` files and the last
/// zxid of its (durable) txn log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PersistedState {
    /// The last epoch this server accepted in a LEADERINFO (`QuorumPeer.getAcceptedEpoch`).
    pub accepted_epoch: i64,
    /// The epoch of the last leader this server acked NEWLEADER for (`QuorumPeer.getCurrentEpoch`).
    pub current_epoch: i64,
    /// The last zxid in the log (`ZKDatabase.getDataTreeLastProcessedZxid` after loading).
    pub last_logged_zxid: i64,
}

/// The Zab phase of a term, as ZooKeeper's `QuorumPeer.ZabState` (without ELECTION, which is the
/// shell's business).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZabPhase {
    /// Epoch agreement (FOLLOWERINFO / LEADERINFO / ACKEPOCH).
    Discovery,
    /// Bringing learners up to date (DIFF / TRUNC / SNAP up to NEWLEADER and UPTODATE).
    Synchronization,
    /// Serving: proposals, acks and commits.
    Broadcast,
}

impl ZabPhase {
    /// The lower-case name `mntr` uses (`zk_peer_state` suffix).
    pub fn name(self) -> &'static str {
        match self {
            ZabPhase::Discovery => "discovery",
            ZabPhase::Synchronization => "synchronization",
            ZabPhase::Broadcast => "broadcast",
        }
    }
}

/// Why [`Leader::propose`] refused a txn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZabError {
    /// The leader is not (or no longer) in broadcast.
    #[error("not leading in broadcast")]
    NotBroadcasting,
    /// The txn's zxid does not follow the last proposed one.
    #[error("zxid {got:#x} does not follow the last proposed {last:#x}")]
    NonConsecutiveZxid {
        /// The last proposed zxid.
        last: i64,
        /// The refused zxid.
        got: i64,
    },
    /// The zxid counter reached 0xFFFFFFFF: the leader shuts down so that a new epoch starts
    /// (ZOOKEEPER-1277, `XidRolloverException`).
    #[error("zxid counter rolled over at {0:#x}")]
    ZxidRollover(i64),
}

/// The epoch half of a zxid (`ZxidUtils.getEpochFromZxid`).
pub fn epoch_of(zxid: i64) -> i64 {
    zxid >> 32
}

/// The counter half of a zxid (`ZxidUtils.getCounterFromZxid`).
pub fn counter_of(zxid: i64) -> i64 {
    zxid & 0xFFFF_FFFF
}

/// `epoch << 32 | counter` (`ZxidUtils.makeZxid`).
pub fn make_zxid(epoch: i64, counter: i64) -> i64 {
    (epoch << 32) | (counter & 0xFFFF_FFFF)
}
