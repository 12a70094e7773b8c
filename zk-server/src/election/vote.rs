//! Votes and their order (`Vote.java`, `FastLeaderElection.totalOrderPredicate`).

use bytes::Bytes;
use zk_proto::{server_state, Notification};

/// What a server is doing (`QuorumPeer.ServerState`), with its wire value in notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Electing a leader.
    Looking,
    /// Following a leader.
    Following,
    /// Leading.
    Leading,
    /// Observing (a non-voting learner).
    Observing,
}

impl ServerState {
    /// The wire value ([`server_state`]).
    pub fn to_wire(self) -> i32 {
        match self {
            ServerState::Looking => server_state::LOOKING,
            ServerState::Following => server_state::FOLLOWING,
            ServerState::Leading => server_state::LEADING,
            ServerState::Observing => server_state::OBSERVING,
        }
    }

    /// The state for a wire value; `None` for unknown values (which ZooKeeper's `WorkerReceiver` skips).
    pub fn from_wire(value: i32) -> Option<ServerState> {
        match value {
            server_state::LOOKING => Some(ServerState::Looking),
            server_state::FOLLOWING => Some(ServerState::Following),
            server_state::LEADING => Some(ServerState::Leading),
            server_state::OBSERVING => Some(ServerState::Observing),
            _ => None,
        }
    }
}

/// A vote: a proposed leader with its last zxid and epoch, the round it was cast in, and the
/// caster's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vote {
    /// The proposed leader's id.
    pub leader: i64,
    /// The proposed leader's last logged zxid.
    pub zxid: i64,
    /// The election round (logical clock) the vote was cast in.
    pub election_epoch: i64,
    /// The proposed leader's current epoch.
    pub peer_epoch: i64,
    /// The caster's state.
    pub state: ServerState,
    /// The notification format version it came in (0 when built locally, as in `Vote`'s short
    /// constructors).
    pub version: i32,
}

impl Vote {
    /// A vote cast while LOOKING, version 0 (`new Vote(id, zxid, electionEpoch, peerEpoch)`).
    pub fn looking(leader: i64, zxid: i64, election_epoch: i64, peer_epoch: i64) -> Vote {
        Vote { leader, zxid, election_epoch, peer_epoch, state: ServerState::Looking, version: 0 }
    }

    /// `Vote.equals`: when either side is LOOKING, leader, zxid, round and epoch must all match.
    /// Between votes of servers out of election the zxid and round are skipped (ZOOKEEPER-1805), and the
    /// epoch too when exactly one side is a version-0 vote (mixed-version ensembles, ZOOKEEPER-1732).
    pub fn same_as(&self, other: &Vote) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            self.leader == other.leader
                && self.zxid == other.zxid
                && self.election_epoch == other.election_epoch
                && self.peer_epoch == other.peer_epoch
        } else if (self.version > 0) ^ (other.version > 0) {
            self.leader == other.leader
        } else {
            self.leader == other.leader && self.peer_epoch == other.peer_epoch
        }
    }

    /// Reads a received notification; `None` when its state is unknown.
    pub fn from_notification(n: &Notification) -> Option<Vote> {
        Some(Vote {
            leader: n.leader,
            zxid: n.zxid,
            election_epoch: n.election_epoch,
            peer_epoch: n.peer_epoch,
            state: ServerState::from_wire(n.state)?,
            version: n.version,
        })
    }

    /// The notification carrying this vote in the current format (version 2 with `config`, the
    /// sender's quorum config text), sent with the sender state `state` (`buildMsg`).
    pub fn to_notification(&self, state: ServerState, config: Bytes) -> Notification {
        Notification {
            state: state.to_wire(),
            leader: self.leader,
            zxid: self.zxid,
            election_epoch: self.election_epoch,
            peer_epoch: self.peer_epoch,
            version: Notification::CURRENT_VERSION,
            config: Some(config),
        }
    }
}

/// `FastLeaderElection.totalOrderPredicate`: whether the candidate `(new_id, new_zxid, new_epoch)`
/// beats `(cur_id, cur_zxid, cur_epoch)`. A candidate of weight 0 never wins; otherwise a higher epoch
/// wins, then a higher zxid, then a higher server id.
pub fn total_order_predicate(
    new_weight: i64,
    (new_id, new_zxid, new_epoch): (i64, i64, i64),
    (cur_id, cur_zxid, cur_epoch): (i64, i64, i64),
) -> bool {
    if new_weight == 0 {
        return false;
    }
    (new_epoch, new_zxid, new_id) > (cur_epoch, cur_zxid, cur_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::Jute;

    #[test]
    fn order_is_epoch_then_zxid_then_sid() {
        assert!(total_order_predicate(1, (1, 0, 2), (3, 100, 1)));
        assert!(!total_order_predicate(1, (3, 100, 1), (1, 0, 2)));
        assert!(total_order_predicate(1, (1, 6, 1), (3, 5, 1)));
        assert!(total_order_predicate(1, (3, 5, 1), (2, 5, 1)));
        assert!(!total_order_predicate(1, (2, 5, 1), (2, 5, 1)));
        assert!(!total_order_predicate(0, (9, 9, 9), (1, 0, 0)));
        // Observers' initial votes (Long.MIN_VALUE) lose to everything.
        assert!(total_order_predicate(1, (1, -1, 0), (i64::MIN, i64::MIN, i64::MIN)));
    }

    #[test]
    fn equality_rules() {
        let a = Vote::looking(1, 5, 2, 1);
        assert!(a.same_as(&a));
        assert!(!a.same_as(&Vote { zxid: 6, ..a }));
        assert!(!a.same_as(&Vote { election_epoch: 3, ..a }));
        let f = Vote { state: ServerState::Following, version: 2, ..a };
        // Out of election: zxid and round are ignored.
        assert!(f.same_as(&Vote { zxid: 9, election_epoch: 7, state: ServerState::Leading, ..f }));
        assert!(!f.same_as(&Vote { peer_epoch: 2, ..f }));
        // Mixed versions: only the leader id.
        assert!(f.same_as(&Vote { peer_epoch: 2, version: 0, ..f }));
        // LOOKING on one side: everything.
        assert!(!f.same_as(&Vote { zxid: 9, ..a }));
        assert!(f.same_as(&a));
    }

    #[test]
    fn notification_round_trip() {
        let v = Vote { state: ServerState::Leading, version: 2, ..Vote::looking(3, 0x2_0000_0004, 7, 2) };
        let config = Bytes::from_static(b"server.3=h:1:2:participant\nversion=0");
        let n = v.to_notification(ServerState::Leading, config.clone());
        let wire = Notification::from_bytes(n.to_bytes()).unwrap();
        assert_eq!(wire.to_bytes().len(), 44 + config.len());
        assert_eq!(Vote::from_notification(&wire), Some(v));
        assert_eq!(Vote::from_notification(&Notification { state: 9, ..wire }), None);
    }
}
