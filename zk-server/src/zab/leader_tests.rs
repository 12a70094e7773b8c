//! `Leader` behaviour, one test per rule of `Leader.lead` / `LearnerHandler`.

use std::time::Instant;

use bytes::Bytes;
use zk_proto::{Id, OpCode, PacketType};

use super::test_support::*;
use super::wire::{decode_int, encode_ping_sessions, encode_request, encode_revalidate_request};
use super::*;

#[test]
fn discovery_waits_for_a_voter_quorum_and_proposes_max_accepted_plus_one() {
    let t0 = Instant::now();
    let mut leader = Leader::new(config(1), state(3, 3, z(3, 7)), Vec::new(), t0);
    assert_eq!(leader.phase(), ZabPhase::Discovery);
    // An observer alone does not make a quorum with the leader, but its accepted epoch still counts.
    leader.link_up(4, t0);
    leader.handle_packet(4, learner_info(PacketType::ObserverInfo, 4, 8), t0);
    assert_eq!(leader.epoch(), None);
    assert!(leader_outputs(&mut leader).is_empty());
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 5), t0);
    assert_eq!(leader.epoch(), Some(9));
    let out = leader_outputs(&mut leader);
    assert_eq!(out[0], LeaderOutput::PersistAcceptedEpoch(9));
    for link in [2, 4] {
        let sent = sent_on(&out, link);
        assert_eq!(shapes(&sent), vec![(PacketType::LeaderInfo, z(9, 0))]);
        assert_eq!(decode_int(sent[0].data.as_ref()), Some(PROTOCOL_VERSION));
    }
    // A late joiner gets LEADERINFO at once.
    leader.link_up(3, t0);
    leader.handle_packet(3, learner_info(PacketType::FollowerInfo, 3, 2), t0);
    assert_eq!(shapes(&sent_on(&leader_outputs(&mut leader), 3)), vec![(PacketType::LeaderInfo, z(9, 0))]);
}

#[test]
fn discovery_times_out_after_init_limit() {
    let t0 = Instant::now();
    let mut leader = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
    assert_eq!(leader.poll_timeout(), Some(t0 + ms(50)));
    leader.handle_timeout(t0 + ms(999));
    assert!(!leader.is_shut_down());
    leader.handle_timeout(t0 + ms(1000));
    assert!(is_shutdown_leader(&leader_outputs(&mut leader)));
    assert_eq!(leader.poll_timeout(), None);
}

#[test]
fn ack_epoch_quorum_and_the_more_recent_follower() {
    let t0 = Instant::now();
    let mut leader = Leader::new(config(1), state(2, 2, z(2, 5)), Vec::new(), t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 3), t0);
    assert_eq!(leader.epoch(), Some(4));
    // ACKEPOCH with -1 (already accepted this epoch) does not count.
    leader.handle_packet(2, ack_epoch(z(2, 5), -1), t0);
    assert_eq!(leader.phase(), ZabPhase::Discovery);

    // A follower with the same epoch and a higher zxid is ahead: the leader steps down.
    let mut leader = Leader::new(config(1), state(2, 2, z(2, 5)), Vec::new(), t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 2), t0);
    leader.handle_packet(2, ack_epoch(z(2, 6), 2), t0);
    assert!(is_shutdown_leader(&leader_outputs(&mut leader)));

    // Equal or behind: synchronization starts.
    let mut leader = Leader::new(config(1), state(2, 2, z(2, 5)), Vec::new(), t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 2), t0);
    leader.handle_packet(2, ack_epoch(z(2, 5), 2), t0);
    assert_eq!(leader.phase(), ZabPhase::Synchronization);
}

#[test]
fn full_handshake_reaches_broadcast() {
    let t0 = Instant::now();
    let mut leader = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 0), t0);
    leader.handle_packet(2, ack_epoch(0, 0), t0);
    let out = leader_outputs(&mut leader);
    let sent = sent_on(&out, 2);
    assert_eq!(
        shapes(&sent),
        vec![(PacketType::LeaderInfo, z(1, 0)), (PacketType::Diff, 0), (PacketType::NewLeader, z(1, 0))]
    );
    assert_eq!(sent[2].data.as_ref(), Some(&config(1).config_text));
    assert_eq!(leader.phase(), ZabPhase::Synchronization);
    leader.handle_packet(2, packet(PacketType::Ack, z(1, 0), None), t0);
    let out = leader_outputs(&mut leader);
    assert_eq!(out[0], LeaderOutput::PersistCurrentEpoch(1));
    assert_eq!(out[1], LeaderOutput::Established { epoch: 1 });
    assert_eq!(shapes(&sent_on(&out, 2)), vec![(PacketType::UpToDate, -1)]);
    assert_eq!(leader.phase(), ZabPhase::Broadcast);
    assert_eq!(leader.synced_followers(), 1);
    // A late joiner is synced at once and gets UPTODATE with its NEWLEADER ack.
    leader.link_up(3, t0);
    leader.handle_packet(3, learner_info(PacketType::FollowerInfo, 3, 0), t0);
    leader.handle_packet(3, ack_epoch(0, 0), t0);
    leader.handle_packet(3, packet(PacketType::Ack, z(1, 0), None), t0);
    let sent = sent_on(&leader_outputs(&mut leader), 3);
    assert_eq!(sent.last().map(|p| p.kind().unwrap()), Some(PacketType::UpToDate));
    assert_eq!(leader.synced_followers(), 2);
}

#[test]
fn newleader_quorum_times_out() {
    let t0 = Instant::now();
    let mut leader = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 0), t0 + ms(500));
    leader.handle_packet(2, ack_epoch(0, 0), t0 + ms(600));
    leader_outputs(&mut leader);
    leader.handle_packet(2, packet(PacketType::Ping, 0, None), t0 + ms(1500));
    leader.handle_timeout(t0 + ms(1599));
    assert!(!leader.is_shut_down());
    leader.handle_timeout(t0 + ms(1600));
    assert!(is_shutdown_leader(&leader_outputs(&mut leader)));
}

/// A leader with history (1,1)..(1,5) syncing one learner at `peer_zxid`.
fn sync_stream(peer_zxid: i64, kind: PacketType) -> Vec<LeaderOutput> {
    let t0 = Instant::now();
    let history: Vec<_> = (1..=5).map(|c| txn(z(1, c))).collect();
    let mut leader = Leader::new(config(1), state(1, 1, z(1, 5)), history, t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 1), t0);
    leader.link_up(4, t0);
    leader.handle_packet(4, learner_info(kind, 4, 1), t0);
    // Follower 2 completes the epoch quorum; learner 4 acks after it, as ZooKeeper checks "more
    // recent" learners only while the quorum forms.
    leader.handle_packet(2, ack_epoch(z(1, 5), 1), t0);
    leader.handle_packet(4, ack_epoch(peer_zxid, 1), t0);
    leader_outputs(&mut leader)
}

#[test]
fn sync_chooses_diff_trunc_or_snap() {
    for kind in [PacketType::FollowerInfo, PacketType::ObserverInfo] {
        let out = sync_stream(z(1, 3), kind);
        assert_eq!(
            shapes(&sent_on(&out, 4))[1..],
            [
                (PacketType::Diff, z(1, 5)),
                (PacketType::Proposal, z(1, 4)),
                (PacketType::Commit, z(1, 4)),
                (PacketType::Proposal, z(1, 5)),
                (PacketType::Commit, z(1, 5)),
                (PacketType::NewLeader, z(2, 0)),
            ]
        );
        let out = sync_stream(z(1, 7), kind);
        assert_eq!(shapes(&sent_on(&out, 4))[1..], [(PacketType::Trunc, z(1, 5)), (PacketType::NewLeader, z(2, 0))]);
        let out = sync_stream(0, kind);
        assert_eq!(shapes(&sent_on(&out, 4))[1..], [(PacketType::Snap, z(1, 5)), (PacketType::NewLeader, z(2, 0))]);
        let snap_at = out
            .iter()
            .position(|o| matches!(o, LeaderOutput::Send { link: 4, packet } if packet.kind() == Ok(PacketType::Snap)));
        assert_eq!(out[snap_at.unwrap() + 1], LeaderOutput::SendSnapshot { link: 4, zxid: z(1, 5) });
        // The in-sync follower gets an empty DIFF.
        assert_eq!(shapes(&sent_on(&out, 2))[1..], [(PacketType::Diff, z(1, 5)), (PacketType::NewLeader, z(2, 0))]);
    }
}

#[test]
fn commits_in_zxid_order_on_a_voter_quorum() {
    let t0 = Instant::now();
    let mut leader = established_leader(t0);
    for c in 1..=2 {
        leader.propose(txn(z(1, c)), t0).unwrap();
    }
    let out = leader_outputs(&mut leader);
    // PROPOSALs go to followers only.
    assert_eq!(shapes(&sent_on(&out, 2)), vec![(PacketType::Proposal, z(1, 1)), (PacketType::Proposal, z(1, 2))]);
    assert!(sent_on(&out, 4).is_empty());
    // The leader's own durable log and one follower's ack of the second txn: the first lacks a quorum.
    leader.logged(z(1, 2), t0);
    leader.handle_packet(2, packet(PacketType::Ack, z(1, 2), None), t0);
    assert!(leader_outputs(&mut leader).is_empty());
    // The observer's acks never count.
    leader.handle_packet(4, packet(PacketType::Ack, z(1, 1), None), t0);
    assert!(leader_outputs(&mut leader).is_empty());
    leader.handle_packet(3, packet(PacketType::Ack, z(1, 1), None), t0);
    let out = leader_outputs(&mut leader);
    let commits: Vec<_> = out.iter().filter(|o| matches!(o, LeaderOutput::Commit(_))).cloned().collect();
    assert_eq!(commits, vec![LeaderOutput::Commit(z(1, 1)), LeaderOutput::Commit(z(1, 2))]);
    assert_eq!(shapes(&sent_on(&out, 2)), vec![(PacketType::Commit, z(1, 1)), (PacketType::Commit, z(1, 2))]);
    let informs = sent_on(&out, 4);
    assert_eq!(shapes(&informs), vec![(PacketType::Inform, z(1, 1)), (PacketType::Inform, z(1, 2))]);
    assert_eq!(informs[0], proposal(&txn(z(1, 1))).with_type(PacketType::Inform));
    assert_eq!(leader.last_committed(), z(1, 2));
    // Late or duplicate acks are ignored.
    leader.handle_packet(3, packet(PacketType::Ack, z(1, 2), None), t0);
    assert!(leader_outputs(&mut leader).is_empty());
}

trait WithType {
    fn with_type(self, kind: PacketType) -> Self;
}

impl WithType for zk_proto::QuorumPacket {
    fn with_type(mut self, kind: PacketType) -> Self {
        self.packet_type = kind.code();
        self
    }
}

#[test]
fn syncing_learner_gets_outstanding_proposals_then_live_traffic() {
    let t0 = Instant::now();
    let mut leader = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, learner_info(PacketType::FollowerInfo, 2, 0), t0);
    leader.handle_packet(2, ack_epoch(0, 0), t0);
    leader.handle_packet(2, packet(PacketType::Ack, z(1, 0), None), t0);
    leader.propose(txn(z(1, 1)), t0).unwrap();
    leader_outputs(&mut leader);
    leader.link_up(3, t0);
    leader.handle_packet(3, learner_info(PacketType::FollowerInfo, 3, 0), t0);
    leader.handle_packet(3, ack_epoch(0, 0), t0);
    assert_eq!(
        shapes(&sent_on(&leader_outputs(&mut leader), 3))[1..],
        [(PacketType::Diff, 0), (PacketType::Proposal, z(1, 1)), (PacketType::NewLeader, z(1, 0))]
    );
    // Commits flow to it while it syncs; its ack counts once it acked NEWLEADER.
    leader.logged(z(1, 1), t0);
    leader.handle_packet(3, packet(PacketType::Ack, z(1, 0), None), t0);
    leader.handle_packet(3, packet(PacketType::Ack, z(1, 1), None), t0);
    let out = leader_outputs(&mut leader);
    assert!(out.contains(&LeaderOutput::Commit(z(1, 1))));
    assert_eq!(shapes(&sent_on(&out, 3)), vec![(PacketType::UpToDate, -1), (PacketType::Commit, z(1, 1))]);
}

#[test]
fn propose_refuses_outside_broadcast_gaps_and_counter_rollover() {
    let t0 = Instant::now();
    let mut leader = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
    assert_eq!(leader.propose(txn(z(1, 1)), t0), Err(ZabError::NotBroadcasting));
    let mut leader = established_leader(t0);
    assert_eq!(leader.propose(txn(z(1, 2)), t0), Err(ZabError::NonConsecutiveZxid { last: z(1, 0), got: z(1, 2) }));
    assert_eq!(leader.propose(txn(z(1, 0xFFFF_FFFF)), t0), Err(ZabError::ZxidRollover(z(1, 0xFFFF_FFFF))));
    assert!(is_shutdown_leader(&leader_outputs(&mut leader)));
    assert_eq!(leader.propose(txn(z(1, 1)), t0), Err(ZabError::NotBroadcasting));
}

#[test]
fn pings_touches_and_the_synced_quorum_check() {
    let t0 = Instant::now();
    let mut leader = established_leader(t0);
    leader.propose(txn(z(1, 1)), t0).unwrap();
    leader_outputs(&mut leader);
    let next = leader.poll_timeout().unwrap();
    assert_eq!(next, t0 + ms(50));
    leader.handle_timeout(next);
    let out = leader_outputs(&mut leader);
    for link in 2..=4 {
        assert_eq!(shapes(&sent_on(&out, link)), vec![(PacketType::Ping, z(1, 1))]);
    }
    let touches = encode_ping_sessions(&[(11, 3000), (12, 4000)]);
    leader.handle_packet(2, packet(PacketType::Ping, z(1, 1), Some(touches)), t0 + ms(60));
    assert_eq!(leader_outputs(&mut leader), vec![LeaderOutput::TouchSessions(vec![(11, 3000), (12, 4000)])]);
    // Follower 2 keeps answering, follower 3 goes silent: the leader and 2 are still a quorum.
    let mut at = next;
    while at < t0 + ms(1000) {
        at += ms(50);
        leader.handle_packet(2, packet(PacketType::Ping, z(1, 1), None), at);
        leader.handle_timeout(at);
    }
    let out = leader_outputs(&mut leader);
    assert!(!is_shutdown_leader(&out));
    // Follower 3's link was closed for silence after syncLimit.
    assert!(out.contains(&LeaderOutput::Close { link: 3 }));
    // Now 2 goes silent too: at a tick after syncLimit, no quorum is synced.
    while !leader.is_shut_down() && at < t0 + ms(3000) {
        at += ms(50);
        leader.handle_timeout(at);
    }
    assert!(at <= t0 + ms(1000 + 600), "stepped down at {:?}", at - t0);
    let out = leader_outputs(&mut leader);
    assert!(matches!(out.last(), Some(LeaderOutput::Shutdown { reason }) if reason.contains("synced")));
}

#[test]
fn forwarded_requests_revalidation_and_sync() {
    let t0 = Instant::now();
    let mut leader = established_leader(t0);
    let ids = vec![Id { scheme: "digest".into(), id: "u:p".into() }];
    let mut request = packet(PacketType::Request, -1, Some(encode_request(0x55, 3, OpCode::SetData.code(), b"rec")));
    request.authinfo = Some(ids.clone());
    leader.handle_packet(2, request, t0);
    assert_eq!(
        leader_outputs(&mut leader),
        vec![LeaderOutput::Forwarded {
            link: 2,
            session_id: 0x55,
            cxid: 3,
            op_code: OpCode::SetData.code(),
            body: Bytes::from_static(b"rec"),
            authinfo: ids,
        }]
    );
    // A sync with nothing outstanding is answered at once.
    let sync = packet(PacketType::Request, -1, Some(encode_request(0x55, 4, OpCode::Sync.code(), b"")));
    leader.handle_packet(2, sync.clone(), t0);
    assert_eq!(shapes(&sent_on(&leader_outputs(&mut leader), 2)), vec![(PacketType::Sync, 0)]);
    // With a proposal outstanding, only once it commits.
    leader.propose(txn(z(1, 1)), t0).unwrap();
    leader_outputs(&mut leader);
    leader.handle_packet(3, sync, t0);
    assert!(sent_on(&leader_outputs(&mut leader), 3).is_empty());
    leader.logged(z(1, 1), t0);
    leader.handle_packet(2, packet(PacketType::Ack, z(1, 1), None), t0);
    assert_eq!(
        shapes(&sent_on(&leader_outputs(&mut leader), 3)),
        vec![(PacketType::Commit, z(1, 1)), (PacketType::Sync, 0)]
    );
    // REVALIDATE round trip.
    leader.handle_packet(4, packet(PacketType::Revalidate, -1, Some(encode_revalidate_request(0x77, 5000))), t0);
    assert_eq!(
        leader_outputs(&mut leader),
        vec![LeaderOutput::Revalidate { link: 4, session_id: 0x77, timeout: 5000 }]
    );
    leader.revalidated(4, 0x77, true);
    let reply = sent_on(&leader_outputs(&mut leader), 4);
    assert_eq!(reply[0].data, Some(wire::encode_revalidate_reply(0x77, true)));
}

#[test]
fn malformed_or_unexpected_packets_close_the_link() {
    let t0 = Instant::now();
    let bad = [
        packet(PacketType::Request, -1, Some(Bytes::from_static(&[0; 15]))),
        packet(PacketType::Ping, 0, Some(Bytes::from_static(&[0; 13]))),
        packet(PacketType::Revalidate, -1, None),
        zk_proto::QuorumPacket { packet_type: 99, zxid: 0, data: None, authinfo: None },
        packet(PacketType::Proposal, 5, None),
    ];
    for p in bad {
        let mut leader = established_leader(t0);
        leader.handle_packet(2, p.clone(), t0);
        assert_eq!(leader_outputs(&mut leader), vec![LeaderOutput::Close { link: 2 }], "{p:?}");
        leader.handle_packet(2, p, t0);
        assert!(leader_outputs(&mut leader).is_empty());
        assert!(!leader.is_shut_down());
    }
    let mut leader = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
    leader.link_up(2, t0);
    leader.handle_packet(2, packet(PacketType::FollowerInfo, 0, Some(Bytes::from_static(&[0; 4]))), t0);
    assert_eq!(leader_outputs(&mut leader), vec![LeaderOutput::Close { link: 2 }]);
    leader.link_up(3, t0);
    leader.handle_packet(3, learner_info(PacketType::FollowerInfo, 1, 0), t0);
    assert_eq!(leader_outputs(&mut leader), vec![LeaderOutput::Close { link: 3 }]);
}

proptest::proptest! {
    #[test]
    fn arbitrary_packets_never_panic(packets in proptest::collection::vec(
        (0u64..5, -2i32..22, proptest::num::i64::ANY, proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 0..40))),
        0..40,
    )) {
        let t0 = Instant::now();
        let mut fresh = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
        for link in 0..5 {
            fresh.link_up(link, t0);
        }
        let mut leaders = [fresh, established_leader(t0)];
        for (link, kind, zxid, data) in packets {
            for leader in &mut leaders {
                let p = zk_proto::QuorumPacket { packet_type: kind, zxid, data: data.clone().map(Bytes::from), authinfo: None };
                leader.handle_packet(link, p, t0);
                leader_outputs(leader);
            }
        }
    }
}

#[test]
fn a_resynced_follower_acks_again_before_its_old_acks_count() {
    let t0 = Instant::now();
    let mut leader = established_leader(t0);
    leader.propose(txn(z(1, 1)), t0).unwrap();
    // Follower 2 logged and acked (1,1), but our own disk is slow: not committed yet.
    leader.handle_packet(2, packet(PacketType::Ack, z(1, 1), None), t0);
    // Follower 2 reconnects; it is ahead of our last commit, so it is truncated to (1,0).
    leader.link_up(5, t0);
    leader.handle_packet(5, learner_info(PacketType::FollowerInfo, 2, 1), t0);
    leader.handle_packet(5, ack_epoch(z(1, 1), 1), t0);
    let out = leader_outputs(&mut leader);
    assert!(out.contains(&LeaderOutput::Close { link: 2 }));
    assert_eq!(
        shapes(&sent_on(&out, 5))[1..],
        [(PacketType::Trunc, 0), (PacketType::Proposal, z(1, 1)), (PacketType::NewLeader, z(1, 0))]
    );
    // Its old ack no longer counts: our own ack alone is no quorum.
    leader.logged(z(1, 1), t0);
    assert!(!leader_outputs(&mut leader).contains(&LeaderOutput::Commit(z(1, 1))));
    leader.handle_packet(5, packet(PacketType::Ack, z(1, 0), None), t0);
    leader.handle_packet(5, packet(PacketType::Ack, z(1, 1), None), t0);
    assert!(leader_outputs(&mut leader).contains(&LeaderOutput::Commit(z(1, 1))));
}
