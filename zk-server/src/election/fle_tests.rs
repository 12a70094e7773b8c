//! One test per `FastLeaderElection` rule.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use zk_proto::{server_state, Notification};

use super::*;
use crate::config::{Properties, QuorumConfig};

const CONFIG: &str = "server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\nserver.4=h:7:8:observer\n";

fn fle_with(my_id: i64, text: &str) -> FastLeaderElection {
    let config = QuorumConfig::from_properties(&Properties::parse(text).unwrap(), false, false).unwrap();
    let verifier = QuorumVerifier::from_config(&config);
    FastLeaderElection::new(ElectionConfig::new(my_id, verifier, config.config_string()))
}

fn fle(my_id: i64) -> FastLeaderElection {
    fle_with(my_id, CONFIG)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn looking(leader: i64, zxid: i64, round: i64, epoch: i64) -> Notification {
    Vote::looking(leader, zxid, round, epoch).to_notification(ServerState::Looking, "version=0".into())
}

fn with_state(leader: i64, zxid: i64, round: i64, epoch: i64, state: ServerState) -> Notification {
    Vote::looking(leader, zxid, round, epoch).to_notification(state, "version=0".into())
}

fn recipients(out: &[(i64, Notification)]) -> BTreeSet<i64> {
    out.iter().map(|(to, _)| *to).collect()
}

#[test]
fn start_broadcasts_own_vote_to_the_other_voters() {
    let t0 = Instant::now();
    let mut f = fle(2);
    f.start(t0, 0x1_0000_0005, 1);
    let out = f.poll_messages();
    assert_eq!(recipients(&out), BTreeSet::from([1, 3]));
    for (_, n) in &out {
        assert_eq!((n.state, n.leader, n.zxid, n.election_epoch, n.peer_epoch), (0, 2, 0x1_0000_0005, 1, 1));
        assert_eq!(n.version, 2);
        assert!(n.config.as_ref().unwrap().starts_with(b"server.1=h:1:2:participant\n"));
    }
    assert_eq!(f.logical_clock(), 1);
    assert_eq!(f.poll_timeout(), Some(t0 + ms(200)));
    assert!(f.outcome().is_none());
}

#[test]
fn notification_timeout_doubles_up_to_the_maximum_and_resends() {
    let t0 = Instant::now();
    let mut f = fle(1);
    f.start(t0, 0, 0);
    f.poll_messages();
    let mut now = t0;
    let mut expected = 200;
    for _ in 0..12 {
        now = f.poll_timeout().unwrap();
        assert_eq!(now, f.poll_timeout().unwrap());
        f.handle_timeout(now - ms(1));
        assert!(f.poll_messages().is_empty(), "not before the deadline");
        f.handle_timeout(now);
        assert_eq!(recipients(&f.poll_messages()), BTreeSet::from([2, 3]));
        expected = (expected * 2).min(60_000);
        assert_eq!(f.poll_timeout(), Some(now + ms(expected)));
    }
    assert_eq!(expected, 60_000);
    // A received notification restarts the poll with the current (long) timeout.
    f.handle_notification(2, looking(2, 0, 0, 0), now + ms(5));
    assert_eq!(f.poll_timeout(), Some(now + ms(5) + ms(60_000)));
}

#[test]
fn higher_round_is_joined_and_the_better_vote_kept() {
    let t0 = Instant::now();
    let mut f = fle(3);
    f.start(t0, 10, 1);
    f.poll_messages();
    // Round 5 proposing server 1 with a lower zxid: we join round 5 but keep our own vote.
    f.handle_notification(1, looking(1, 5, 5, 1), t0);
    assert_eq!(f.logical_clock(), 5);
    assert_eq!(f.proposal(), Vote::looking(3, 10, 5, 1));
    let out = f.poll_messages();
    assert_eq!(recipients(&out), BTreeSet::from([1, 2]));
    assert!(out.iter().all(|(_, n)| n.election_epoch == 5 && n.leader == 3));
    // Round 7 proposing server 2 with a higher epoch: adopted.
    f.handle_notification(2, looking(2, 1, 7, 2), t0);
    assert_eq!(f.proposal(), Vote::looking(2, 1, 7, 2));
}

#[test]
fn lower_round_is_answered_and_otherwise_ignored() {
    let t0 = Instant::now();
    let mut f = fle(1);
    f.start(t0, 0, 0);
    f.handle_notification(2, looking(2, 0, 3, 0), t0); // join round 3 (server 2 wins on sid)
    f.poll_messages();
    f.handle_notification(3, looking(3, 99, 2, 9), t0);
    let out = f.poll_messages();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 3);
    assert_eq!((out[0].1.leader, out[0].1.election_epoch, out[0].1.state), (2, 3, server_state::LOOKING));
    assert_eq!(f.proposal(), Vote::looking(2, 0, 3, 0), "the stale vote is not adopted");
}

#[test]
fn same_round_better_vote_is_adopted_and_rebroadcast() {
    let t0 = Instant::now();
    let mut f = fle(1);
    f.start(t0, 7, 1);
    f.poll_messages();
    f.handle_notification(2, looking(2, 6, 1, 1), t0);
    assert!(f.poll_messages().is_empty(), "a worse vote changes nothing");
    f.handle_notification(3, looking(3, 8, 1, 1), t0);
    assert_eq!(f.proposal(), Vote::looking(3, 8, 1, 1));
    assert_eq!(recipients(&f.poll_messages()), BTreeSet::from([2, 3]));
}

#[test]
fn quorum_then_finalize_wait_then_decide() {
    let t0 = Instant::now();
    let mut f = fle(3);
    f.start(t0, 10, 1);
    f.handle_notification(1, looking(3, 10, 1, 1), t0 + ms(10));
    // Quorum {1, 3} for 3: wait finalizeWait before deciding.
    assert_eq!(f.poll_timeout(), Some(t0 + ms(210)));
    f.handle_timeout(t0 + ms(209));
    assert!(f.outcome().is_none());
    // A vote that does not beat ours is dropped and restarts the wait.
    f.handle_notification(2, looking(2, 1, 1, 1), t0 + ms(100));
    assert_eq!(f.poll_timeout(), Some(t0 + ms(300)));
    f.handle_timeout(t0 + ms(300));
    let r = f.outcome().unwrap();
    assert_eq!((r.leader, r.state, r.epoch, r.zxid, r.election_epoch), (3, ServerState::Leading, 1, 10, 1));
    assert_eq!(r.supporters, BTreeSet::from([1, 3]));
    assert_eq!(f.state(), ServerState::Leading);
    assert_eq!(f.poll_timeout(), None);
}

#[test]
fn better_vote_during_finalize_wait_cancels_it() {
    let t0 = Instant::now();
    let mut f = fle(1);
    f.start(t0, 5, 1);
    f.handle_notification(2, looking(1, 5, 1, 1), t0);
    assert_eq!(f.poll_timeout(), Some(t0 + ms(200)));
    f.handle_notification(3, looking(3, 6, 1, 1), t0 + ms(50));
    assert_eq!(f.proposal().leader, 3);
    // Now only {1, 3} vote for 3: a quorum again, so a new wait begins.
    assert_eq!(f.poll_timeout(), Some(t0 + ms(250)));
    f.handle_timeout(t0 + ms(250));
    assert_eq!(f.outcome().unwrap().state, ServerState::Following);
    assert_eq!(f.outcome().unwrap().leader, 3);
}

#[test]
fn established_leader_is_joined_only_when_it_reports_leading() {
    let t0 = Instant::now();
    let mut f = fle(1);
    f.start(t0, 0, 0);
    f.poll_messages();
    // Servers 2 and 3 decided 3 in round 4; 2's FOLLOWING alone is not enough (checkLeader).
    f.handle_notification(2, with_state(3, 0x2_0000_0000, 4, 2, ServerState::Following), t0);
    assert!(f.outcome().is_none());
    f.handle_notification(3, with_state(3, 0x2_0000_0000, 4, 2, ServerState::Leading), t0);
    let r = f.outcome().unwrap();
    assert_eq!((r.leader, r.state, r.election_epoch, r.epoch), (3, ServerState::Following, 4, 2));
    assert_eq!(f.logical_clock(), 4, "the round is taken from the established ensemble");
}

#[test]
fn followers_in_our_round_count_with_looking_votes() {
    let t0 = Instant::now();
    let mut f = fle(2);
    f.start(t0, 0, 0);
    f.handle_notification(3, with_state(2, 0, 1, 0, ServerState::Following), t0);
    // recvset: 2 (self, LOOKING for 2) and 3 (FOLLOWING 2): a quorum; checkLeader for ourselves holds
    // because the round matches.
    assert_eq!(f.outcome().unwrap().state, ServerState::Leading);
}

#[test]
fn observers_get_immediate_replies_and_never_vote() {
    let t0 = Instant::now();
    let mut voter = fle(1);
    voter.start(t0, 4, 1);
    voter.poll_messages();
    // An observer's (non-voter's) vote gets our current vote back at once and is not counted.
    voter.handle_notification(4, looking(i64::MIN, i64::MIN, 1, i64::MIN), t0);
    let out = voter.poll_messages();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0, out[0].1.leader, out[0].1.zxid, out[0].1.state), (4, 1, 4, server_state::LOOKING));

    let mut observer = fle(4);
    observer.start(t0, 100, 9);
    let out = observer.poll_messages();
    assert_eq!(recipients(&out), BTreeSet::from([1, 2, 3]));
    assert!(out.iter().all(|(_, n)| n.leader == i64::MIN && n.zxid == i64::MIN));
    observer.handle_notification(1, looking(2, 3, 1, 1), t0);
    observer.handle_notification(2, looking(2, 3, 1, 1), t0);
    observer.handle_timeout(t0 + ms(200));
    let r = observer.outcome().unwrap();
    assert_eq!((r.leader, r.state), (2, ServerState::Observing));
    // A vote for the observer itself is ignored (validVoter(n.leader)).
    let mut o2 = fle(4);
    o2.start(t0, 0, 0);
    o2.handle_notification(1, looking(4, 1, 1, 1), t0);
    assert_eq!(o2.proposal().leader, i64::MIN);
}

#[test]
fn decided_servers_answer_looking_peers_with_their_vote() {
    let t0 = Instant::now();
    let mut f = fle(3);
    f.start(t0, 10, 1);
    f.handle_notification(1, looking(3, 10, 1, 1), t0);
    f.handle_timeout(t0 + ms(200));
    f.poll_messages();
    f.handle_notification(2, looking(2, 0, 1, 0), t0 + ms(300));
    let out = f.poll_messages();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0, out[0].1.leader, out[0].1.election_epoch, out[0].1.state), (2, 3, 1, server_state::LEADING));
    // Non-LOOKING peers are not answered.
    f.handle_notification(1, with_state(3, 10, 1, 1, ServerState::Following), t0);
    assert!(f.poll_messages().is_empty());
    // The next election keeps the logical clock going.
    f.start(t0 + ms(400), 11, 1);
    assert_eq!(f.logical_clock(), 2);
    assert!(f.outcome().is_none());
}

#[test]
fn zero_weight_never_wins_and_minus_one_zxid_is_ignored() {
    let text = "server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\ngroup.1=1:2:3\nweight.3=0\n";
    let t0 = Instant::now();
    let mut f = fle_with(1, text);
    f.start(t0, 0, 0);
    f.handle_notification(3, looking(3, 100, 1, 5), t0);
    assert_eq!(f.proposal().leader, 1);
    f.handle_notification(2, looking(2, -1, 1, 5), t0);
    assert_eq!(f.proposal().leader, 1, "zxid -1 is ignored");
    let mut g = fle(1);
    g.start(t0, -1, 0);
    g.handle_notification(2, looking(2, 5, 1, 0), t0);
    assert_eq!(g.proposal().leader, 1, "a server with zxid -1 ignores LOOKING votes");
}

#[test]
fn hostile_notifications_are_dropped() {
    let t0 = Instant::now();
    let mut f = fle(1);
    f.start(t0, 0, 0);
    f.poll_messages();
    let mut n = looking(2, 0, 1, 0);
    n.state = 77;
    f.handle_notification(2, n, t0);
    f.handle_notification(2, looking(2, i64::MAX, i64::MAX, i64::MAX), t0);
    f.handle_notification(99, looking(99, 0, 1, 0), t0);
    assert_eq!(f.logical_clock(), i64::MAX);
    // Before the first start nothing is processed.
    let mut idle = fle(2);
    idle.handle_notification(1, looking(1, 0, 1, 0), t0);
    idle.handle_timeout(t0 + ms(1000));
    assert!(idle.poll_messages().is_empty());
}

#[test]
fn decision_paths_and_the_epoch_reported_after_zab() {
    let t0 = Instant::now();
    let mut f = fle(3);
    f.start(t0, 10, 1);
    f.handle_notification(1, looking(3, 10, 1, 1), t0);
    f.handle_timeout(t0 + ms(200));
    assert_eq!(f.outcome().unwrap().path, DecisionPath::Elected);
    // Zab settled epoch 2: LOOKING peers now hear it (QuorumPeer.updateElectionVote).
    f.update_election_vote(2);
    f.poll_messages();
    f.handle_notification(2, looking(2, 0, 1, 0), t0 + ms(300));
    let out = f.poll_messages();
    assert_eq!((out[0].1.leader, out[0].1.peer_epoch, out[0].1.zxid), (3, 2, 10));

    let mut g = fle(1);
    g.start(t0, 0, 0);
    g.handle_notification(2, with_state(3, 5, 1, 2, ServerState::Following), t0);
    g.handle_notification(3, with_state(3, 5, 1, 2, ServerState::Leading), t0);
    assert_eq!(g.outcome().unwrap().path, DecisionPath::Joined);
    assert_eq!(g.outcome().unwrap().supporters, BTreeSet::from([2, 3]));
}

mod fuzz {
    use proptest::prelude::*;
    use zk_proto::arbitrary::any_jute;

    use super::*;

    /// A notification from the network: any state value, small leader/round values mixed with extremes.
    fn hostile() -> impl Strategy<Value = Notification> {
        let small = prop_oneof![-2i64..6, Just(i64::MIN), Just(i64::MAX), any::<i64>()];
        (any_jute::<Notification>(), -1i32..5, small.clone(), small.clone(), small.clone(), small).prop_map(
            |(mut n, state, leader, zxid, round, epoch)| {
                n.state = state;
                n.leader = leader;
                n.zxid = zxid;
                n.election_epoch = round;
                n.peer_epoch = epoch;
                n
            },
        )
    }

    proptest! {
        /// Whatever arrives, nothing panics, the round never goes back (except to the round of an
        /// established leader this server joins), and a decision names a voter that a quorum of voters
        /// supported.
        #[test]
        fn hostile_input_keeps_invariants(
            my_id in 1i64..5,
            input in prop::collection::vec((-1i64..7, hostile(), 0u64..700), 0..40),
        ) {
            let t0 = Instant::now();
            let mut f = fle(my_id);
            f.start(t0, 3, 1);
            let mut now = t0;
            let mut round = f.logical_clock();
            for (from, n, advance) in input {
                now += ms(advance);
                f.handle_notification(from, n, now);
                f.handle_timeout(now);
                f.poll_messages();
                match f.outcome() {
                    // Joining an established leader adopts the round its quorum reported, as ZooKeeper's
                    // `logicalclock.set(n.electionEpoch)` does; that round may be lower than ours.
                    Some(r) if r.path == DecisionPath::Joined => {
                        prop_assert_eq!(f.logical_clock(), r.election_epoch)
                    }
                    _ => prop_assert!(f.logical_clock() >= round),
                }
                round = f.logical_clock();
                if let Some(r) = f.outcome() {
                    prop_assert!(f.verifier().is_voter(r.leader));
                    prop_assert!(f.verifier().contains_quorum(&r.supporters));
                    prop_assert!(r.state != ServerState::Leading || r.leader == my_id);
                    prop_assert!(my_id != 4 || r.state == ServerState::Observing);
                }
            }
        }
    }
}
