//! How the leader brings one learner up to date (`LearnerHandler.syncFollower` and
//! `queueCommittedProposals`): a pure decision over the learner's last zxid and the leader's
//! in-memory committed log.

use super::epoch_of;

/// The sync stream the leader sends a learner before NEWLEADER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPlan {
    /// DIFF(last committed) — or, when `trunc` is set, TRUNC(trunc) instead (the learner holds txns the
    /// leader does not, after the common point `trunc`) — followed by a PROPOSAL + COMMIT pair for every
    /// committed-log entry from index `from` on.
    Diff {
        /// TRUNC to this zxid instead of the DIFF packet.
        trunc: Option<i64>,
        /// The index in the committed log of the first txn to send.
        from: usize,
    },
    /// TRUNC to the leader's last committed zxid: the learner is ahead.
    Trunc(i64),
    /// SNAP: a serialized snapshot of the leader's state.
    Snap,
}

/// Chooses the sync for a learner whose last logged zxid is `peer_last_zxid`, given the leader's last
/// processed (committed) zxid and the zxids of its in-memory committed log (ascending, ending at
/// `last_processed` when not empty). Mirrors `LearnerHandler.syncFollower` without on-disk txn-log
/// sync: equal → empty DIFF; ahead of the log (and not a bare new-epoch zxid) → TRUNC; inside the log
/// → DIFF (TRUNC first to the common point, never across an epoch boundary — then SNAP); else SNAP.
pub fn plan_sync(peer_last_zxid: i64, last_processed: i64, committed: &[i64]) -> SyncPlan {
    let (min, max) = match (committed.first(), committed.last()) {
        (Some(min), Some(max)) => (*min, *max),
        // `syncFollower`: an empty committed log counts as [lastProcessed, lastProcessed].
        _ => (last_processed, last_processed),
    };
    let peer_new_epoch_zxid = super::counter_of(peer_last_zxid) == 0;
    if peer_last_zxid == last_processed {
        return SyncPlan::Diff { trunc: None, from: committed.len() };
    }
    if peer_last_zxid > max && !peer_new_epoch_zxid {
        return SyncPlan::Trunc(max);
    }
    if peer_last_zxid < min || peer_last_zxid > max || committed.is_empty() {
        return SyncPlan::Snap;
    }
    // `queueCommittedProposals`.
    let mut prev = -1;
    for (index, zxid) in committed.iter().copied().enumerate() {
        if zxid < peer_last_zxid {
            prev = zxid;
            continue;
        }
        if zxid == peer_last_zxid {
            return SyncPlan::Diff { trunc: None, from: index + 1 };
        }
        if peer_new_epoch_zxid {
            return SyncPlan::Diff { trunc: None, from: index };
        }
        // The peer holds txns after `prev` that we lack.
        if epoch_of(zxid) != epoch_of(peer_last_zxid) || prev < 0 {
            // "Cannot send TRUNC to peer: peer zxid is from different epoch".
            return SyncPlan::Snap;
        }
        return SyncPlan::Diff { trunc: Some(prev), from: index };
    }
    if peer_new_epoch_zxid {
        return SyncPlan::Diff { trunc: None, from: committed.len() };
    }
    SyncPlan::Snap
}

#[cfg(test)]
mod tests {
    use super::super::make_zxid;
    use super::*;

    fn z(epoch: i64, counter: i64) -> i64 {
        make_zxid(epoch, counter)
    }

    #[test]
    fn equal_is_an_empty_diff() {
        let log = [z(1, 1), z(1, 2)];
        assert_eq!(plan_sync(z(1, 2), z(1, 2), &log), SyncPlan::Diff { trunc: None, from: 2 });
        assert_eq!(plan_sync(0, 0, &[]), SyncPlan::Diff { trunc: None, from: 0 });
    }

    #[test]
    fn ahead_of_the_log_is_a_trunc() {
        let log = [z(1, 1), z(1, 2)];
        assert_eq!(plan_sync(z(1, 5), z(1, 2), &log), SyncPlan::Trunc(z(1, 2)));
        // ZooKeeper truncates even across epochs here: the learner holds an uncommitted later epoch.
        assert_eq!(plan_sync(z(2, 1), z(1, 2), &log), SyncPlan::Trunc(z(1, 2)));
        // An empty committed log stands for [lastProcessed, lastProcessed].
        assert_eq!(plan_sync(z(1, 9), z(1, 4), &[]), SyncPlan::Trunc(z(1, 4)));
    }

    #[test]
    fn inside_the_log_is_a_diff_of_the_later_txns() {
        let log = [z(1, 1), z(1, 2), z(1, 3), z(2, 1)];
        assert_eq!(plan_sync(z(1, 2), z(2, 1), &log), SyncPlan::Diff { trunc: None, from: 2 });
        assert_eq!(plan_sync(z(1, 1), z(2, 1), &log), SyncPlan::Diff { trunc: None, from: 1 });
    }

    #[test]
    fn divergent_peer_is_truncated_within_an_epoch_and_snapped_across() {
        // A gap in our log: the peer holds (1,3) that we do not; the common point is (1,2).
        let log = [z(1, 1), z(1, 2), z(1, 4)];
        assert_eq!(plan_sync(z(1, 3), z(1, 4), &log), SyncPlan::Diff { trunc: Some(z(1, 2)), from: 2 });
        // The peer holds (1,3) and our next txn is of epoch 2: never TRUNC across the boundary.
        let log = [z(1, 1), z(1, 2), z(2, 1), z(2, 2)];
        assert_eq!(plan_sync(z(1, 3), z(2, 2), &log), SyncPlan::Snap);
    }

    #[test]
    fn older_than_the_log_or_empty_log_is_a_snap() {
        let log = [z(1, 5), z(1, 6)];
        assert_eq!(plan_sync(z(1, 2), z(1, 6), &log), SyncPlan::Snap);
        assert_eq!(plan_sync(0, z(1, 6), &log), SyncPlan::Snap);
        assert_eq!(plan_sync(z(1, 2), z(1, 6), &[]), SyncPlan::Snap);
    }

    #[test]
    fn new_epoch_zxid_peer_gets_a_diff_from_its_position() {
        let log = [z(1, 1), z(2, 1), z(2, 2)];
        assert_eq!(plan_sync(z(2, 0), z(2, 2), &log), SyncPlan::Diff { trunc: None, from: 1 });
    }
}
