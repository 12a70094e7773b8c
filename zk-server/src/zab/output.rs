//! What the state machines ask their shell to do: [`LeaderOutput`] and [`LearnerOutput`], pulled with
//! `poll_output` in order.

use bytes::Bytes;
use zk_proto::{Id, QuorumPacket, TxnEntry};

use super::LinkId;

/// What the leader asks its shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum LeaderOutput {
    /// Write `packet` on the learner connection `link`.
    Send {
        /// The connection.
        link: LinkId,
        /// The packet.
        packet: QuorumPacket,
    },
    /// Right after the SNAP packet just sent on `link`: write the serialized committed state, which is
    /// exactly at `zxid` at this point of the output stream (the shell applies `Commit`s in output
    /// order), then the "BenWasHere" signature.
    SendSnapshot {
        /// The connection.
        link: LinkId,
        /// The zxid the snapshot is at.
        zxid: i64,
    },
    /// Close the learner connection `link` (its `LearnerHandler` died); no further input for it.
    Close {
        /// The connection.
        link: LinkId,
    },
    /// Durably write the `acceptedEpoch` file.
    PersistAcceptedEpoch(i64),
    /// Durably write the `currentEpoch` file.
    PersistCurrentEpoch(i64),
    /// A quorum acked NEWLEADER: start serving; the core continues zxids from `epoch << 32`.
    Established {
        /// The new epoch.
        epoch: i64,
    },
    /// Every proposal up to this zxid is committed, in order: apply it to the core. Txns of the history
    /// the leader started with are already applied and get no `Commit`.
    Commit(i64),
    /// A learner forwarded a client request (not emitted for `sync`, which the leader answers itself).
    Forwarded {
        /// The connection it came on.
        link: LinkId,
        /// The client's session.
        session_id: i64,
        /// The request's xid.
        cxid: i32,
        /// The op code.
        op_code: i32,
        /// The request record bytes.
        body: Bytes,
        /// The client's auth ids.
        authinfo: Vec<Id>,
    },
    /// Sessions a learner reported active in its PING reply: (session id, timeout ms).
    TouchSessions(Vec<(i64, i32)>),
    /// REVALIDATE from a learner; answer with [`super::Leader::revalidated`].
    Revalidate {
        /// The connection to answer on.
        link: LinkId,
        /// The session.
        session_id: i64,
        /// The session timeout the learner proposes.
        timeout: i32,
    },
    /// The term is over (go back to election); every later input is ignored.
    Shutdown {
        /// Why.
        reason: String,
    },
}

/// What a learner asks its shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum LearnerOutput {
    /// Write this packet to the leader.
    Send(QuorumPacket),
    /// Durably write the `acceptedEpoch` file.
    PersistAcceptedEpoch(i64),
    /// Durably write the `currentEpoch` file.
    PersistCurrentEpoch(i64),
    /// TRUNC: truncate the log to `zxid` (dropping unwritten appends after it; no `logged` for them) and
    /// reload the state from disk.
    Truncate(i64),
    /// SNAP: replace the state by this snapshot (at `zxid`) and persist it; the log restarts after it.
    InstallSnapshot {
        /// The zxid the snapshot is at.
        zxid: i64,
        /// The serialized state, opaque here.
        body: Bytes,
    },
    /// Append to the log; call [`super::Learner::logged`] once durable.
    Log(TxnEntry),
    /// Committed: apply to the state (zxid order).
    Apply(TxnEntry),
    /// UPTODATE: start serving clients.
    UpToDate,
    /// A forwarded sync completed (SYNC from the leader), oldest first.
    SyncDone,
    /// The leader's answer to [`super::Learner::revalidate`].
    Revalidated {
        /// The session.
        session_id: i64,
        /// Whether the session is still valid.
        valid: bool,
    },
    /// The term is over (go back to election); every later input is ignored.
    Shutdown {
        /// Why.
        reason: String,
    },
}
