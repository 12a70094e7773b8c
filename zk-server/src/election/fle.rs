//! The fast leader election state machine for one server (`FastLeaderElection.java`), sans-IO.
//!
//! ZooKeeper runs election as three threads: `WorkerReceiver` (decodes frames, answers some of them
//! at once, queues the rest), `lookForLeader` (the loop that consumes the queue with a timeout) and
//! `WorkerSender`. Here they are one state machine: [`FastLeaderElection::handle_notification`] does
//! the receiver's work and then the loop's work for that message, [`FastLeaderElection::handle_timeout`]
//! stands for the loop's `poll` timing out, and the sender's queue is pulled with
//! [`FastLeaderElection::poll_messages`]. Time comes in as `now`; nothing here sleeps, reads a clock
//! or touches a socket.
//!
//! Like ZooKeeper's `FastLeaderElection` object, one instance lives as long as the server process:
//! the logical clock survives from one election to the next, and a server that stops
//! leading/following calls [`FastLeaderElection::start`] again.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use zk_proto::Notification;

use super::quorum::QuorumVerifier;
use super::vote::{total_order_predicate, ServerState, Vote};

/// `fastleader.minNotificationInterval` default: the first poll timeout.
pub const MIN_NOTIFICATION_INTERVAL: Duration = Duration::from_millis(200);
/// `fastleader.maxNotificationInterval` default: the poll timeout stops doubling here.
pub const MAX_NOTIFICATION_INTERVAL: Duration = Duration::from_millis(60_000);
/// `FastLeaderElection.finalizeWait`: how long a quorum must stand unchallenged before deciding.
pub const FINALIZE_WAIT: Duration = Duration::from_millis(200);

/// Static settings of one server's election.
#[derive(Debug, Clone)]
pub struct ElectionConfig {
    /// This server's id.
    pub my_id: i64,
    /// The membership (voters, observers, weights).
    pub verifier: QuorumVerifier,
    /// The quorum config text sent in every notification (`QuorumVerifier.toString()`, e.g.
    /// [`crate::config::QuorumConfig::config_string`]).
    pub config_text: Bytes,
    /// The first poll timeout ([`MIN_NOTIFICATION_INTERVAL`]).
    pub min_notification_interval: Duration,
    /// The largest poll timeout ([`MAX_NOTIFICATION_INTERVAL`]).
    pub max_notification_interval: Duration,
    /// [`FINALIZE_WAIT`].
    pub finalize_wait: Duration,
}

impl ElectionConfig {
    /// Settings with ZooKeeper's default intervals.
    pub fn new(my_id: i64, verifier: QuorumVerifier, config_text: impl Into<Bytes>) -> ElectionConfig {
        ElectionConfig {
            my_id,
            verifier,
            config_text: config_text.into(),
            min_notification_interval: MIN_NOTIFICATION_INTERVAL,
            max_notification_interval: MAX_NOTIFICATION_INTERVAL,
            finalize_wait: FINALIZE_WAIT,
        }
    }
}

/// The end of an election: who leads, and what this server becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionResult {
    /// The elected leader.
    pub leader: i64,
    /// [`ServerState::Leading`] when `leader` is this server, else following (a voter) or observing.
    pub state: ServerState,
    /// The leader's epoch as voted (`peerEpoch`).
    pub epoch: i64,
    /// The leader's zxid as voted.
    pub zxid: i64,
    /// The round the decision was made in (the logical clock afterwards).
    pub election_epoch: i64,
    /// The voters whose matching votes made the quorum (ZooKeeper's `leadingVoteSet` when leading).
    pub supporters: BTreeSet<i64>,
    /// How it was decided.
    pub path: DecisionPath,
    /// When it was decided.
    pub decided_at: Instant,
}

/// Which rule of `lookForLeader` ended the election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionPath {
    /// A quorum of this round's votes matched our proposal and nothing better came within
    /// `finalizeWait` (`case LOOKING`).
    Elected,
    /// A quorum reported an established leader that itself reported LEADING (`case FOLLOWING/LEADING`,
    /// via `recvset` or `outofelection`).
    Joined,
}

/// A (leader, zxid, epoch) triple: the proposal or the server's initial vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proposal {
    leader: i64,
    zxid: i64,
    epoch: i64,
}

/// The fast leader election state machine of one server.
#[derive(Debug)]
pub struct FastLeaderElection {
    config: ElectionConfig,
    /// `logicalclock`: the election round.
    logical_clock: i64,
    /// `proposedLeader/Zxid/Epoch`.
    proposal: Proposal,
    /// `getInitId()/getInitLastLoggedZxid()/getPeerEpoch()` for the running election.
    initial: Proposal,
    /// `QuorumPeer.getPeerState()`.
    state: ServerState,
    /// `QuorumPeer.getCurrentVote()`: the self-vote at first start, then the last decided vote.
    current_vote: Option<Vote>,
    started: bool,
    /// Votes of this round (`recvset`).
    recvset: BTreeMap<i64, Vote>,
    /// Votes of servers out of election (`outofelection`).
    out_of_election: BTreeMap<i64, Vote>,
    /// `notTimeout`.
    not_timeout: Duration,
    /// When the loop's current `poll` times out.
    poll_deadline: Option<Instant>,
    /// Draining the queue for `finalizeWait`: the deadline and the quorum found.
    finalizing: Option<(Instant, BTreeSet<i64>)>,
    outbox: VecDeque<(i64, Notification)>,
    /// Messages to ourselves (`QuorumCnxManager.toSend` to our own sid goes to the receive queue).
    loopback: VecDeque<Notification>,
    outcome: Option<ElectionResult>,
}

impl FastLeaderElection {
    /// A server that has not started electing yet (its first election begins with [`Self::start`]).
    pub fn new(config: ElectionConfig) -> FastLeaderElection {
        let none = Proposal { leader: -1, zxid: -1, epoch: -1 };
        FastLeaderElection {
            not_timeout: config.min_notification_interval,
            config,
            logical_clock: 0,
            proposal: none,
            initial: none,
            state: ServerState::Looking,
            current_vote: None,
            started: false,
            recvset: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            poll_deadline: None,
            finalizing: None,
            outbox: VecDeque::new(),
            loopback: VecDeque::new(),
            outcome: None,
        }
    }

    /// This server's id.
    pub fn my_id(&self) -> i64 {
        self.config.my_id
    }

    /// The election round.
    pub fn logical_clock(&self) -> i64 {
        self.logical_clock
    }

    /// The server state (LOOKING until decided).
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The current proposal as a LOOKING vote of this round (`getVote`).
    pub fn proposal(&self) -> Vote {
        Vote::looking(self.proposal.leader, self.proposal.zxid, self.logical_clock, self.proposal.epoch)
    }

    /// The vote this server reports to LOOKING peers when it is not looking (`getCurrentVote`).
    pub fn current_vote(&self) -> Option<Vote> {
        self.current_vote
    }

    /// The decision, once made (cleared by the next [`Self::start`]).
    pub fn outcome(&self) -> Option<&ElectionResult> {
        self.outcome.as_ref()
    }

    /// `QuorumPeer.updateElectionVote`: once Zab settles a new epoch, the vote this server reports to
    /// LOOKING peers carries it, so that a joining server sees one epoch across the ensemble.
    pub fn update_election_vote(&mut self, new_epoch: i64) {
        if let Some(v) = &mut self.current_vote {
            v.peer_epoch = new_epoch;
        }
    }

    /// The membership.
    pub fn verifier(&self) -> &QuorumVerifier {
        &self.config.verifier
    }

    fn is_participant(&self) -> bool {
        self.config.verifier.is_voter(self.config.my_id)
    }

    /// Begins an election (`QuorumPeer` entering LOOKING, then `lookForLeader`): increments the logical
    /// clock, votes for this server (`getInitId`, `getInitLastLoggedZxid`, `getPeerEpoch`; a non-voter
    /// votes `Long.MIN_VALUE` for all three) and broadcasts the vote to every voter.
    pub fn start(&mut self, now: Instant, my_last_zxid: i64, my_current_epoch: i64) {
        let my_id = self.config.my_id;
        if self.current_vote.is_none() {
            // QuorumPeer.startLeaderElection: new Vote(myid, lastLoggedZxid, currentEpoch), round -1.
            self.current_vote = Some(Vote::looking(my_id, my_last_zxid, -1, my_current_epoch));
        }
        let participant = self.is_participant();
        self.initial = Proposal {
            leader: if participant { my_id } else { i64::MIN },
            zxid: if participant { my_last_zxid } else { i64::MIN },
            epoch: if participant { my_current_epoch } else { i64::MIN },
        };
        self.started = true;
        self.state = ServerState::Looking;
        self.outcome = None;
        self.recvset.clear();
        self.out_of_election.clear();
        self.finalizing = None;
        self.loopback.clear();
        self.not_timeout = self.config.min_notification_interval;
        self.logical_clock = self.logical_clock.saturating_add(1);
        self.proposal = self.initial;
        self.send_notifications();
        self.poll_deadline = Some(now + self.not_timeout);
        self.drain_loopback(now);
    }

    /// When [`Self::handle_timeout`] next needs to run: the end of `finalizeWait` or of the current
    /// poll; `None` when not looking.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state != ServerState::Looking || !self.started {
            return None;
        }
        match &self.finalizing {
            Some((deadline, _)) => Some(*deadline),
            None => self.poll_deadline,
        }
    }

    /// Messages to send, as `(recipient sid, notification)`, oldest first. A recipient without a
    /// connection should be dialed (as `QuorumCnxManager.toSend` does).
    pub fn poll_messages(&mut self) -> Vec<(i64, Notification)> {
        self.outbox.drain(..).collect()
    }

    /// Timers (`lookForLeader`'s `poll` returning null):
    /// * after `finalizeWait` with nothing better received, decide;
    /// * after `notTimeout` with no notification, resend our vote to every voter and double the timeout
    ///   up to the maximum. ZooKeeper resends only when some connection's queue is empty
    ///   (`haveDelivered`) and otherwise calls `connectAll`; here the resend always happens and the shell
    ///   dials any recipient it is not connected to, which covers both.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state != ServerState::Looking || !self.started {
            return;
        }
        if let Some((deadline, supporters)) = &self.finalizing {
            if now >= *deadline {
                let supporters = supporters.clone();
                let p = self.proposal;
                let end = Vote::looking(p.leader, p.zxid, self.logical_clock, p.epoch);
                self.decide(end, supporters, DecisionPath::Elected, now);
            }
            return;
        }
        if self.poll_deadline.is_some_and(|d| now >= d) {
            self.send_notifications();
            self.not_timeout = self.not_timeout.saturating_mul(2).min(self.config.max_notification_interval);
            self.poll_deadline = Some(now + self.not_timeout);
            self.drain_loopback(now);
        }
    }

    /// A notification received from `from_sid` (an authenticated election connection). Never panics
    /// on hostile content: unknown states are dropped, odd values only affect votes.
    pub fn handle_notification(&mut self, from_sid: i64, n: Notification, now: Instant) {
        self.receive(from_sid, &n, now);
        self.drain_loopback(now);
    }

    fn drain_loopback(&mut self, now: Instant) {
        while let Some(n) = self.loopback.pop_front() {
            self.receive(self.config.my_id, &n, now);
        }
    }

    /// `Messenger.WorkerReceiver.run` for one message, then `lookForLeader` for it.
    fn receive(&mut self, from: i64, n: &Notification, now: Instant) {
        // A non-voter (observer) gets our current vote right away, and its message goes no further.
        if !self.config.verifier.is_voter(from) {
            if from == self.config.my_id {
                // An observer never writes to itself: a message claiming to come from our own id is
                // forged, and answering it would loop.
                return;
            }
            if let Some(current) = self.current_vote.or(self.started.then(|| self.proposal())) {
                let reply = Vote { election_epoch: self.logical_clock, ..current };
                self.send(from, reply);
            }
            return;
        }
        // Unknown sender states are skipped (`default: continue`).
        let Some(vote) = Vote::from_notification(n) else { return };
        if self.state == ServerState::Looking {
            if !self.started {
                return;
            }
            // A LOOKING peer in an older round gets our proposal and round.
            if vote.state == ServerState::Looking && vote.election_epoch < self.logical_clock {
                let reply = self.proposal();
                self.send(from, reply);
            }
            self.look_for_leader(from, vote, now);
        } else if vote.state == ServerState::Looking {
            // Not looking: tell a LOOKING peer whom we follow/lead, in the round we decided in.
            if let Some(current) = self.current_vote {
                self.send(from, current);
            }
        }
    }

    /// One iteration of `lookForLeader`'s loop, for a received notification.
    fn look_for_leader(&mut self, from: i64, n: Vote, now: Instant) {
        if self.finalizing.is_some() {
            // Draining for finalizeWait: a better vote goes back to the queue and ends the wait, anything
            // else is dropped and the wait starts over.
            if self.beats_proposal(&n) {
                self.finalizing = None;
            } else {
                let wait = self.config.finalize_wait;
                if let Some((deadline, _)) = &mut self.finalizing {
                    *deadline = now + wait;
                }
                return;
            }
        }
        // Each `poll` waits notTimeout afresh.
        self.poll_deadline = Some(now + self.not_timeout);
        // Only votes from a voter for a voter count.
        if !self.config.verifier.is_voter(from) || !self.config.verifier.is_voter(n.leader) {
            return;
        }
        match n.state {
            ServerState::Looking => self.on_looking(from, n, now),
            ServerState::Observing => {}
            ServerState::Following | ServerState::Leading => self.on_out_of_election(from, n, now),
        }
    }

    /// `case LOOKING` of `lookForLeader`.
    fn on_looking(&mut self, from: i64, n: Vote, now: Instant) {
        if self.initial.zxid == -1 || n.zxid == -1 {
            return;
        }
        if n.election_epoch > self.logical_clock {
            // A newer round: join it, forget this round's votes, and vote for the better of the sender's
            // vote and our own initial vote.
            self.logical_clock = n.election_epoch;
            self.recvset.clear();
            let candidate = (n.leader, n.zxid, n.peer_epoch);
            let init = self.initial;
            if total_order_predicate(self.weight(n.leader), candidate, (init.leader, init.zxid, init.epoch)) {
                self.proposal = Proposal { leader: n.leader, zxid: n.zxid, epoch: n.peer_epoch };
            } else {
                self.proposal = init;
            }
            self.send_notifications();
        } else if n.election_epoch < self.logical_clock {
            return;
        } else if self.beats_proposal(&n) {
            self.proposal = Proposal { leader: n.leader, zxid: n.zxid, epoch: n.peer_epoch };
            self.send_notifications();
        }
        self.recvset.insert(from, Vote::looking(n.leader, n.zxid, n.election_epoch, n.peer_epoch));
        let mine = self.proposal();
        if let Some(quorum) = self.vote_quorum(&self.recvset, &mine) {
            self.finalizing = Some((now + self.config.finalize_wait, quorum));
        }
    }

    /// `case FOLLOWING/LEADING` of `lookForLeader`: join an established leader once a quorum reports it
    /// and `checkLeader` holds, looking first at this round's votes, then at every out-of-election vote
    /// (ZOOKEEPER-1732).
    fn on_out_of_election(&mut self, from: i64, n: Vote, now: Instant) {
        let tracked = Vote { version: n.version, ..n };
        if n.election_epoch == self.logical_clock {
            self.recvset.insert(from, Vote { version: 0, ..n });
            if let Some(quorum) = self.vote_quorum(&self.recvset, &tracked) {
                if self.check_leader(&self.recvset, n.leader, n.election_epoch) {
                    self.decide(n, quorum, DecisionPath::Joined, now);
                    return;
                }
            }
        }
        self.out_of_election.insert(from, tracked);
        if let Some(quorum) = self.vote_quorum(&self.out_of_election, &tracked) {
            if self.check_leader(&self.out_of_election, n.leader, n.election_epoch) {
                self.logical_clock = n.election_epoch;
                self.decide(n, quorum, DecisionPath::Joined, now);
            }
        }
    }

    /// `getVoteTracker(...).hasAllQuorums()`: the voters whose vote equals `vote`, if they are a quorum.
    fn vote_quorum(&self, votes: &BTreeMap<i64, Vote>, vote: &Vote) -> Option<BTreeSet<i64>> {
        let acks: BTreeSet<i64> = votes.iter().filter(|(_, v)| vote.same_as(v)).map(|(sid, _)| *sid).collect();
        self.config.verifier.contains_quorum(&acks).then_some(acks)
    }

    /// `checkLeader`: another server is only followed once it reported LEADING itself; this server only
    /// leads if the decision is of its own round.
    fn check_leader(&self, votes: &BTreeMap<i64, Vote>, leader: i64, election_epoch: i64) -> bool {
        if leader != self.config.my_id {
            votes.get(&leader).is_some_and(|v| v.state == ServerState::Leading)
        } else {
            self.logical_clock == election_epoch
        }
    }

    fn weight(&self, sid: i64) -> i64 {
        self.config.verifier.weight(sid)
    }

    fn beats_proposal(&self, n: &Vote) -> bool {
        let p = self.proposal;
        total_order_predicate(self.weight(n.leader), (n.leader, n.zxid, n.peer_epoch), (p.leader, p.zxid, p.epoch))
    }

    /// `setPeerState` + `leaveInstance`: LEADING if we won, else FOLLOWING (a voter) or OBSERVING.
    fn decide(&mut self, end: Vote, supporters: BTreeSet<i64>, path: DecisionPath, now: Instant) {
        let state = if end.leader == self.config.my_id {
            ServerState::Leading
        } else if self.is_participant() {
            ServerState::Following
        } else {
            ServerState::Observing
        };
        self.state = state;
        self.finalizing = None;
        self.poll_deadline = None;
        self.loopback.clear();
        // The end vote, as the peer then reports it (`new Vote(leader, zxid, electionEpoch, peerEpoch)`).
        self.current_vote = Some(Vote::looking(end.leader, end.zxid, end.election_epoch, end.peer_epoch));
        self.outcome = Some(ElectionResult {
            leader: end.leader,
            state,
            epoch: end.peer_epoch,
            zxid: end.zxid,
            election_epoch: end.election_epoch,
            supporters,
            path,
            decided_at: now,
        });
    }

    /// `sendNotifications`: our proposal, this round, state LOOKING, to every voter (ourselves included,
    /// through the loopback).
    fn send_notifications(&mut self) {
        let vote = self.proposal();
        let voters: Vec<i64> = self.config.verifier.voting_members().iter().copied().collect();
        for sid in voters {
            self.send(sid, vote);
        }
    }

    /// Queues `vote` for `to`, sent with our current state.
    fn send(&mut self, to: i64, vote: Vote) {
        let n = vote.to_notification(self.state, self.config.config_text.clone());
        if to == self.config.my_id {
            self.loopback.push_back(n);
        } else {
            self.outbox.push_back((to, n));
        }
    }
}
