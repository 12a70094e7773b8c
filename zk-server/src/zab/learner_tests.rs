//! `Learner` behaviour, one test per rule of `Learner.syncWithLeader` / `Follower` / `Observer`.

use std::time::Instant;

use bytes::Bytes;
use zk_proto::{Jute, LearnerInfo, OpCode, PacketType};

use super::test_support::*;
use super::wire::{decode_int, decode_ping_sessions, decode_request, encode_revalidate_reply};
use super::*;

fn follower(st: PersistedState, t0: Instant) -> Learner {
    let mut learner = Learner::new(config(2), 1, LearnerKind::Follower, st, t0);
    learner.connected(t0);
    learner_outputs(&mut learner);
    learner
}

/// A follower at `st` that accepted epoch `epoch` and got the sync mode packet `mode`.
fn syncing(st: PersistedState, epoch: i64, mode: zk_proto::QuorumPacket, t0: Instant) -> Learner {
    let mut learner = follower(st, t0);
    learner.handle_packet(packet(PacketType::LeaderInfo, z(epoch, 0), Some(wire::encode_int(PROTOCOL_VERSION))), t0);
    learner.handle_packet(mode, t0);
    learner_outputs(&mut learner);
    learner
}

/// A follower in broadcast in epoch 1, outputs drained.
fn serving(t0: Instant) -> Learner {
    let mut learner = syncing(state(0, 0, 0), 1, packet(PacketType::Diff, 0, None), t0);
    learner.handle_packet(packet(PacketType::NewLeader, z(1, 0), None), t0);
    learner.handle_packet(packet(PacketType::UpToDate, -1, None), t0);
    assert_eq!(learner.phase(), ZabPhase::Broadcast);
    learner_outputs(&mut learner);
    learner
}

#[test]
fn connected_introduces_the_learner() {
    let t0 = Instant::now();
    for (kind, packet_type) in
        [(LearnerKind::Follower, PacketType::FollowerInfo), (LearnerKind::Observer, PacketType::ObserverInfo)]
    {
        let mut learner = Learner::new(config(4), 1, kind, state(3, 2, z(2, 9)), t0);
        assert!(learner_outputs(&mut learner).is_empty());
        learner.connected(t0);
        let sent = learner_sent(&learner_outputs(&mut learner));
        assert_eq!(shapes(&sent), vec![(packet_type, z(3, 0))]);
        let info = LearnerInfo::from_bytes(sent[0].data.clone().unwrap()).unwrap();
        assert_eq!((info.server_id, info.protocol_version), (4, PROTOCOL_VERSION));
        assert_eq!(learner.phase(), ZabPhase::Discovery);
    }
}

#[test]
fn leader_info_is_acked_by_epoch() {
    let t0 = Instant::now();
    let info = |epoch| packet(PacketType::LeaderInfo, z(epoch, 0), Some(wire::encode_int(PROTOCOL_VERSION)));
    // A newer epoch: persist it and report our current epoch.
    let mut learner = follower(state(3, 2, z(2, 9)), t0);
    learner.handle_packet(info(4), t0);
    let out = learner_outputs(&mut learner);
    assert_eq!(out[0], LearnerOutput::PersistAcceptedEpoch(4));
    let sent = learner_sent(&out);
    assert_eq!(shapes(&sent), vec![(PacketType::AckEpoch, z(2, 9))]);
    assert_eq!(decode_int(sent[0].data.as_ref()), Some(2));
    assert_eq!(learner.phase(), ZabPhase::Synchronization);
    // The epoch we already accepted: -1.
    let mut learner = follower(state(3, 2, z(2, 9)), t0);
    learner.handle_packet(info(3), t0);
    let out = learner_outputs(&mut learner);
    assert_eq!(out.len(), 1);
    assert_eq!(decode_int(learner_sent(&out)[0].data.as_ref()), Some(-1));
    // An older epoch: this term is over.
    let mut learner = follower(state(3, 2, z(2, 9)), t0);
    learner.handle_packet(info(2), t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
}

#[test]
fn diff_sync_logs_applies_and_acks_newleader_once_durable() {
    let t0 = Instant::now();
    let mut learner = syncing(state(1, 1, z(1, 3)), 2, packet(PacketType::Diff, z(1, 5), None), t0);
    for c in 4..=5 {
        learner.handle_packet(proposal(&txn(z(1, c))), t0);
        learner.handle_packet(packet(PacketType::Commit, z(1, c), None), t0);
    }
    learner.handle_packet(proposal(&txn(z(2, 1))), t0);
    learner.handle_packet(packet(PacketType::NewLeader, z(2, 0), Some(Bytes::from_static(b"cfg"))), t0);
    assert_eq!(
        learner_outputs(&mut learner),
        vec![
            LearnerOutput::Log(txn(z(1, 4))),
            LearnerOutput::Apply(txn(z(1, 4))),
            LearnerOutput::Log(txn(z(1, 5))),
            LearnerOutput::Apply(txn(z(1, 5))),
            LearnerOutput::Log(txn(z(2, 1))),
        ]
    );
    // Not durable up to (2,1) yet: no ack.
    learner.logged(z(1, 5), t0);
    assert!(learner_outputs(&mut learner).is_empty());
    learner.logged(z(2, 1), t0);
    let out = learner_outputs(&mut learner);
    assert_eq!(out[0], LearnerOutput::PersistCurrentEpoch(2));
    // NEWLEADER ack first, then the acks of logged proposals.
    assert_eq!(
        shapes(&learner_sent(&out)),
        vec![
            (PacketType::Ack, z(2, 0)),
            (PacketType::Ack, z(1, 4)),
            (PacketType::Ack, z(1, 5)),
            (PacketType::Ack, z(2, 1))
        ]
    );
    learner.handle_packet(packet(PacketType::UpToDate, -1, None), t0);
    let out = learner_outputs(&mut learner);
    assert_eq!(out[0], LearnerOutput::UpToDate);
    assert_eq!(shapes(&learner_sent(&out)), vec![(PacketType::Ack, z(2, 0))]);
    assert_eq!(learner.phase(), ZabPhase::Broadcast);
    // The outstanding proposal from the sync commits in broadcast.
    learner.handle_packet(packet(PacketType::Commit, z(2, 1), None), t0);
    assert_eq!(learner_outputs(&mut learner), vec![LearnerOutput::Apply(txn(z(2, 1)))]);
}

#[test]
fn trunc_and_snap_syncs() {
    let t0 = Instant::now();
    let mut learner = follower(state(1, 1, z(1, 9)), t0);
    learner.handle_packet(packet(PacketType::LeaderInfo, z(2, 0), Some(wire::encode_int(PROTOCOL_VERSION))), t0);
    learner.handle_packet(packet(PacketType::Trunc, z(1, 5), None), t0);
    learner.handle_packet(packet(PacketType::NewLeader, z(2, 0), None), t0);
    let out = learner_outputs(&mut learner);
    assert!(out.contains(&LearnerOutput::Truncate(z(1, 5))));
    assert_eq!(shapes(&learner_sent(&out)).last(), Some(&(PacketType::Ack, z(2, 0))));
    assert_eq!(learner.persisted_state().last_logged_zxid, z(1, 5));

    let mut learner = syncing(state(1, 1, z(1, 2)), 2, packet(PacketType::Snap, z(1, 9), None), t0);
    // Packets before the snapshot body are a protocol error.
    let mut early = syncing(state(1, 1, z(1, 2)), 2, packet(PacketType::Snap, z(1, 9), None), t0);
    early.handle_packet(packet(PacketType::NewLeader, z(2, 0), None), t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut early)));
    learner.handle_snapshot(Bytes::from_static(b"tree"), t0);
    learner.handle_packet(packet(PacketType::NewLeader, z(2, 0), None), t0);
    let out = learner_outputs(&mut learner);
    assert_eq!(out[0], LearnerOutput::InstallSnapshot { zxid: z(1, 9), body: Bytes::from_static(b"tree") });
    assert_eq!(shapes(&learner_sent(&out)), vec![(PacketType::Ack, z(2, 0))]);
    // A snapshot body out of place ends the term.
    let mut learner = serving(t0);
    learner.handle_snapshot(Bytes::from_static(b"tree"), t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
}

#[test]
fn broadcast_proposals_are_acked_when_durable_and_committed_in_order() {
    let t0 = Instant::now();
    let mut learner = serving(t0);
    learner.handle_packet(proposal(&txn(z(1, 1))), t0);
    learner.handle_packet(proposal(&txn(z(1, 2))), t0);
    let out = learner_outputs(&mut learner);
    assert_eq!(out, vec![LearnerOutput::Log(txn(z(1, 1))), LearnerOutput::Log(txn(z(1, 2)))]);
    learner.logged(z(1, 1), t0);
    assert_eq!(shapes(&learner_sent(&learner_outputs(&mut learner))), vec![(PacketType::Ack, z(1, 1))]);
    learner.handle_packet(packet(PacketType::Commit, z(1, 1), None), t0);
    assert_eq!(learner_outputs(&mut learner), vec![LearnerOutput::Apply(txn(z(1, 1)))]);
    // Committing anything but the head of the pending queue ends the term.
    learner.handle_packet(packet(PacketType::Commit, z(1, 3), None), t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
    let mut learner = serving(t0);
    learner.handle_packet(packet(PacketType::Commit, z(1, 1), None), t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
}

#[test]
fn observer_applies_informs_and_never_acks() {
    let t0 = Instant::now();
    let mut learner = Learner::new(config(4), 1, LearnerKind::Observer, state(0, 0, 0), t0);
    learner.connected(t0);
    learner.handle_packet(packet(PacketType::LeaderInfo, z(1, 0), Some(wire::encode_int(PROTOCOL_VERSION))), t0);
    learner.handle_packet(packet(PacketType::Diff, 0, None), t0);
    learner.handle_packet(packet(PacketType::NewLeader, z(1, 0), None), t0);
    learner.handle_packet(packet(PacketType::UpToDate, -1, None), t0);
    learner_outputs(&mut learner);
    let mut inform = proposal(&txn(z(1, 1)));
    inform.packet_type = PacketType::Inform.code();
    learner.handle_packet(inform, t0);
    learner.logged(z(1, 1), t0);
    assert_eq!(
        learner_outputs(&mut learner),
        vec![LearnerOutput::Log(txn(z(1, 1))), LearnerOutput::Apply(txn(z(1, 1)))]
    );
}

#[test]
fn ping_replies_carry_touched_sessions() {
    let t0 = Instant::now();
    let mut learner = serving(t0);
    learner.touch(5, 3000);
    learner.touch(6, 4000);
    learner.touch(5, 3000);
    learner.handle_packet(packet(PacketType::Ping, z(1, 4), None), t0);
    let sent = learner_sent(&learner_outputs(&mut learner));
    assert_eq!(shapes(&sent), vec![(PacketType::Ping, z(1, 4))]);
    assert_eq!(decode_ping_sessions(sent[0].data.as_ref()), Some(vec![(5, 3000), (6, 4000)]));
    learner.handle_packet(packet(PacketType::Ping, z(1, 4), None), t0);
    let sent = learner_sent(&learner_outputs(&mut learner));
    assert_eq!(decode_ping_sessions(sent[0].data.as_ref()), Some(vec![]));
}

#[test]
fn requests_are_held_until_uptodate_and_sync_revalidate_complete() {
    let t0 = Instant::now();
    let mut learner = syncing(state(0, 0, 0), 1, packet(PacketType::Diff, 0, None), t0);
    learner.forward(9, 1, OpCode::Sync.code(), Bytes::new(), Vec::new());
    learner.revalidate(9, 4000);
    assert!(learner_outputs(&mut learner).is_empty());
    learner.handle_packet(packet(PacketType::NewLeader, z(1, 0), None), t0);
    learner.handle_packet(packet(PacketType::UpToDate, -1, None), t0);
    let sent = learner_sent(&learner_outputs(&mut learner));
    assert_eq!(
        shapes(&sent),
        vec![
            (PacketType::Ack, z(1, 0)),
            (PacketType::Ack, z(1, 0)),
            (PacketType::Request, -1),
            (PacketType::Revalidate, -1)
        ]
    );
    let req = decode_request(sent[2].data.as_ref(), sent[2].authinfo.as_ref()).unwrap();
    assert_eq!((req.session_id, req.cxid, req.op_code), (9, 1, OpCode::Sync.code()));
    learner.handle_packet(packet(PacketType::Sync, 0, None), t0);
    learner.handle_packet(packet(PacketType::Revalidate, -1, Some(encode_revalidate_reply(9, false))), t0);
    assert_eq!(
        learner_outputs(&mut learner),
        vec![LearnerOutput::SyncDone, LearnerOutput::Revalidated { session_id: 9, valid: false }]
    );
}

#[test]
fn leader_silence_ends_the_term() {
    let t0 = Instant::now();
    // Before UPTODATE: initLimit ticks.
    let mut learner = follower(state(0, 0, 0), t0);
    assert_eq!(learner.poll_timeout(), Some(t0 + ms(1000)));
    learner.handle_timeout(t0 + ms(999));
    assert!(learner_outputs(&mut learner).is_empty());
    learner.handle_timeout(t0 + ms(1000));
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
    assert_eq!(learner.poll_timeout(), None);
    // In broadcast: syncLimit ticks since the last packet.
    let mut learner = serving(t0);
    learner.handle_packet(packet(PacketType::Ping, 0, None), t0 + ms(300));
    assert_eq!(learner.poll_timeout(), Some(t0 + ms(800)));
    learner.handle_timeout(t0 + ms(800));
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
    // A lost connection ends it at once.
    let mut learner = serving(t0);
    learner.disconnected(t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
}

#[test]
fn hostile_packets_end_the_term_without_panicking() {
    let t0 = Instant::now();
    let garbage = Some(Bytes::from_static(&[1, 2, 3]));
    let cases = [
        packet(PacketType::Proposal, z(1, 1), garbage.clone()),
        proposal(&txn(z(1, 1))).with_zxid(z(1, 2)),
        packet(PacketType::Revalidate, -1, garbage),
        zk_proto::QuorumPacket { packet_type: 77, zxid: 0, data: None, authinfo: None },
    ];
    for p in cases {
        let mut learner = serving(t0);
        learner.handle_packet(p.clone(), t0);
        assert!(is_shutdown_learner(&learner_outputs(&mut learner)), "{p:?}");
    }
    let mut learner = follower(state(0, 0, 0), t0);
    learner.handle_packet(packet(PacketType::LeaderInfo, z(1, 0), None), t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
    let mut learner = follower(state(0, 0, 0), t0);
    learner.handle_packet(packet(PacketType::Diff, 0, None), t0);
    assert!(is_shutdown_learner(&learner_outputs(&mut learner)));
}

trait WithZxid {
    fn with_zxid(self, zxid: i64) -> Self;
}

impl WithZxid for zk_proto::QuorumPacket {
    fn with_zxid(mut self, zxid: i64) -> Self {
        self.zxid = zxid;
        self
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_packets_never_panic(packets in proptest::collection::vec(
        (-2i32..22, proptest::num::i64::ANY, proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 0..60))),
        0..30,
    )) {
        let t0 = Instant::now();
        let mut learners = [follower(state(0, 0, 0), t0), serving(t0)];
        for (kind, zxid, data) in packets {
            for learner in &mut learners {
                let p = zk_proto::QuorumPacket { packet_type: kind, zxid, data: data.clone().map(Bytes::from), authinfo: None };
                learner.handle_packet(p, t0);
                learner.logged(zxid, t0);
                learner_outputs(learner);
            }
        }
    }
}
