//! The leader's view of one learner connection (ZooKeeper's `LearnerHandler`): where it is in
//! `LearnerHandler.run`, what it told us, and when we last heard from it.

use std::time::Instant;

use super::learner::LearnerKind;
use super::{LinkId, ZabPhase};

/// Where one learner connection is in `LearnerHandler.run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Connected; waiting for FOLLOWERINFO / OBSERVERINFO.
    Connected,
    /// Info received; the epoch is not chosen yet (`getEpochToPropose` blocks).
    AwaitingEpoch,
    /// LEADERINFO sent; waiting for ACKEPOCH.
    EpochSent,
    /// ACKEPOCH received; waiting for the quorum (`waitForEpochAck` blocks).
    EpochAcked,
    /// The sync stream and NEWLEADER are queued; waiting for the NEWLEADER ack. Live proposals flow.
    Syncing,
    /// NEWLEADER acked; waiting for the leader's quorum (`waitForNewLeaderAck` blocks).
    AwaitingUpToDate,
    /// UPTODATE sent: the handler's main loop.
    Broadcast,
}

impl Stage {
    /// Whether live proposals/commits are forwarded (`startForwarding` has run).
    pub(super) fn forwarding(self) -> bool {
        matches!(self, Stage::Syncing | Stage::AwaitingUpToDate | Stage::Broadcast)
    }

    pub(super) fn phase(self) -> ZabPhase {
        match self {
            Stage::Connected | Stage::AwaitingEpoch | Stage::EpochSent | Stage::EpochAcked => ZabPhase::Discovery,
            Stage::Syncing | Stage::AwaitingUpToDate => ZabPhase::Synchronization,
            Stage::Broadcast => ZabPhase::Broadcast,
        }
    }
}

#[derive(Debug)]
pub(super) struct LearnerLink {
    pub(super) sid: Option<i64>,
    pub(super) kind: LearnerKind,
    pub(super) stage: Stage,
    pub(super) last_heard: Instant,
    pub(super) peer_last_zxid: i64,
}

/// One learner connection as `mntr`/`stat` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerSummary {
    /// The connection.
    pub link: LinkId,
    /// The learner's sid, once it sent FOLLOWERINFO / OBSERVERINFO.
    pub sid: Option<i64>,
    /// Follower or observer.
    pub kind: LearnerKind,
    /// Where its handler is.
    pub phase: ZabPhase,
}
