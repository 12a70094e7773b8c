//! The leader of one Zab term: ZooKeeper's `Leader` (`lead`, `getEpochToPropose`, `waitForEpochAck`,
//! `waitForNewLeaderAck`, `propose`, `processAck`, `tryToCommit`, `processSync`) together with one
//! `LearnerHandler` per learner connection (`run`, `syncFollower`, `ping`), as one sans-IO state machine.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::{debug, info, warn};
use zk_proto::{Jute, OpCode, PacketType, QuorumPacket, TxnEntry};

use super::handler::{LearnerLink, LearnerSummary, Stage};
use super::learner::LearnerKind;
use super::output::LeaderOutput;
use super::sync::{plan_sync, SyncPlan};
use super::wire::{
    decode_int, decode_learner_sid, decode_ping_sessions, decode_request, decode_revalidate_request, encode_int,
    encode_revalidate_reply,
};
use super::{counter_of, epoch_of, make_zxid, LinkId, PersistedState, ZabConfig, ZabError, ZabPhase, PROTOCOL_VERSION};

#[derive(Debug)]
struct Proposal {
    zxid: i64,
    data: Bytes,
    acks: BTreeSet<i64>,
}

/// The leader of one term. See the module docs for the phases.
#[derive(Debug)]
pub struct Leader {
    config: ZabConfig,
    state: PersistedState,
    phase: ZabPhase,
    epoch: Option<i64>,
    /// The epoch to propose so far: max(acceptedEpoch) + 1 (`getEpochToPropose`).
    proposed_epoch: i64,
    /// `connectingFollowers`.
    connecting: BTreeSet<i64>,
    /// `electingFollowers`.
    epoch_acks: BTreeSet<i64>,
    /// `newLeaderProposal.ackSet`.
    newleader_acks: BTreeSet<i64>,
    /// The end of the current discovery/synchronization wait (initLimit ticks each).
    stage_deadline: Option<Instant>,
    links: BTreeMap<LinkId, LearnerLink>,
    /// The in-memory committed log (`ZKDatabase.committedLog`): (zxid, PROPOSAL data).
    committed: VecDeque<(i64, Bytes)>,
    /// `lastCommitted` / the data tree's last processed zxid.
    last_committed: i64,
    /// `outstandingProposals`, in zxid order.
    outstanding: VecDeque<Proposal>,
    /// `lastProposed`.
    last_proposed: i64,
    /// `pendingSyncs`: (answer once this zxid commits, connection).
    pending_syncs: VecDeque<(i64, LinkId)>,
    next_half_tick: Instant,
    half_ticks: u64,
    outputs: VecDeque<LeaderOutput>,
    shut_down: bool,
}

impl Leader {
    /// Starts leading (`Leader.lead`). `history`: the most recent txns of the local log, ascending,
    /// ending at `state.last_logged_zxid`; all of it counts as committed (as ZooKeeper reloads its
    /// database), and the last `commit_log_count` of it serve DIFF syncs.
    pub fn new(config: ZabConfig, state: PersistedState, history: Vec<TxnEntry>, now: Instant) -> Leader {
        let skip = history.len().saturating_sub(config.commit_log_count);
        let committed: VecDeque<(i64, Bytes)> = history
            .iter()
            .skip(skip)
            .filter(|e| e.header.zxid <= state.last_logged_zxid)
            .map(|e| (e.header.zxid, e.to_bytes()))
            .collect();
        let half = half_tick(&config);
        let mut leader = Leader {
            proposed_epoch: state.accepted_epoch + 1,
            connecting: BTreeSet::from([config.my_id]),
            epoch_acks: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            stage_deadline: Some(now + config.init_timeout()),
            links: BTreeMap::new(),
            committed,
            last_committed: state.last_logged_zxid,
            outstanding: VecDeque::new(),
            last_proposed: state.last_logged_zxid,
            pending_syncs: VecDeque::new(),
            next_half_tick: now + half,
            half_ticks: 0,
            outputs: VecDeque::new(),
            shut_down: false,
            phase: ZabPhase::Discovery,
            epoch: None,
            config,
            state,
        };
        info!(my_id = leader.config.my_id, "LEADING: discovery");
        leader.check_epoch_quorum(now);
        leader
    }

    /// A learner connected on the quorum port (a new `LearnerHandler`).
    pub fn link_up(&mut self, link: LinkId, now: Instant) {
        if self.shut_down {
            return;
        }
        let fresh = LearnerLink {
            sid: None,
            kind: LearnerKind::Follower,
            stage: Stage::Connected,
            last_heard: now,
            peer_last_zxid: -1,
        };
        self.links.insert(link, fresh);
    }

    /// The connection dropped: its handler is gone (acks already counted stay counted, as in ZooKeeper).
    pub fn link_down(&mut self, link: LinkId, _now: Instant) {
        if self.links.remove(&link).is_some() {
            debug!(link, "learner link down");
        }
    }

    /// A packet from a learner.
    pub fn handle_packet(&mut self, link: LinkId, packet: QuorumPacket, now: Instant) {
        if self.shut_down {
            return;
        }
        let Some(entry) = self.links.get_mut(&link) else { return };
        entry.last_heard = now;
        let stage = entry.stage;
        let Ok(kind) = packet.kind() else {
            return self.close(link, "unknown packet type");
        };
        match (stage, kind) {
            (Stage::Connected, PacketType::FollowerInfo | PacketType::ObserverInfo) => {
                self.learner_info(link, kind, &packet, now)
            }
            (Stage::EpochSent, PacketType::AckEpoch) => self.ack_epoch(link, &packet, now),
            (Stage::Syncing, PacketType::Ack) => {
                if Some(packet.zxid) == self.epoch.map(|e| make_zxid(e, 0)) {
                    self.newleader_acked(link, now);
                } else {
                    warn!(link, zxid = packet.zxid, "ACK before the NEWLEADER ack; ignored");
                }
            }
            (Stage::Syncing | Stage::AwaitingUpToDate, PacketType::Ping) => {}
            (Stage::AwaitingUpToDate | Stage::Broadcast, PacketType::Ack) => {
                let link = &self.links[&link];
                if link.kind == LearnerKind::Follower {
                    if let Some(sid) = link.sid {
                        self.process_ack(sid, packet.zxid);
                    }
                }
            }
            (Stage::Broadcast, PacketType::Ping) => match decode_ping_sessions(packet.data.as_ref()) {
                Some(sessions) if sessions.is_empty() => {}
                Some(sessions) => self.outputs.push_back(LeaderOutput::TouchSessions(sessions)),
                None => self.close(link, "malformed PING"),
            },
            (Stage::Broadcast, PacketType::Request) => {
                match decode_request(packet.data.as_ref(), packet.authinfo.as_ref()) {
                    Some(req) if req.op_code == OpCode::Sync.code() => self.process_sync(link),
                    Some(req) => self.outputs.push_back(LeaderOutput::Forwarded {
                        link,
                        session_id: req.session_id,
                        cxid: req.cxid,
                        op_code: req.op_code,
                        body: req.body,
                        authinfo: req.authinfo,
                    }),
                    None => self.close(link, "malformed REQUEST"),
                }
            }
            (Stage::Broadcast, PacketType::Revalidate) => match decode_revalidate_request(packet.data.as_ref()) {
                Some((session_id, timeout)) => {
                    self.outputs.push_back(LeaderOutput::Revalidate { link, session_id, timeout })
                }
                None => self.close(link, "malformed REVALIDATE"),
            },
            (stage, kind) => {
                warn!(link, ?stage, ?kind, "unexpected quorum packet");
                self.close(link, "unexpected packet")
            }
        }
    }

    /// The core prepared a txn (`Leader.propose`): only in broadcast, zxids consecutive from
    /// `epoch << 32 | 1`. The shell appends it to the local log and calls [`Leader::logged`] once durable.
    /// A zxid counter of 0xFFFFFFFF is refused and ends the term (ZOOKEEPER-1277).
    pub fn propose(&mut self, entry: TxnEntry, _now: Instant) -> Result<(), ZabError> {
        if self.shut_down || self.phase != ZabPhase::Broadcast {
            return Err(ZabError::NotBroadcasting);
        }
        let zxid = entry.header.zxid;
        if counter_of(zxid) == 0xFFFF_FFFF {
            self.shutdown("zxid lower 32 bits have rolled over, forcing re-election");
            return Err(ZabError::ZxidRollover(zxid));
        }
        if zxid != self.last_proposed + 1 {
            return Err(ZabError::NonConsecutiveZxid { last: self.last_proposed, got: zxid });
        }
        let data = entry.to_bytes();
        self.last_proposed = zxid;
        let packet =
            QuorumPacket { packet_type: PacketType::Proposal.code(), zxid, data: Some(data.clone()), authinfo: None };
        self.send_to_forwarding(|kind| (kind == LearnerKind::Follower).then(|| packet.clone()));
        self.outstanding.push_back(Proposal { zxid, data, acks: BTreeSet::new() });
        Ok(())
    }

    /// Our own log holds everything up to `zxid` durably: the leader's own ack.
    pub fn logged(&mut self, zxid: i64, _now: Instant) {
        if self.shut_down {
            return;
        }
        let me = self.config.my_id;
        for p in self.outstanding.iter_mut().take_while(|p| p.zxid <= zxid) {
            p.acks.insert(me);
        }
        self.try_commit();
    }

    /// The core's answer to a [`LeaderOutput::Revalidate`].
    pub fn revalidated(&mut self, link: LinkId, session_id: i64, valid: bool) {
        if self.shut_down || !self.links.contains_key(&link) {
            return;
        }
        let data = encode_revalidate_reply(session_id, valid);
        self.send(
            link,
            QuorumPacket { packet_type: PacketType::Revalidate.code(), zxid: -1, data: Some(data), authinfo: None },
        );
    }

    /// Timers: the initLimit waits, and every tickTime/2 the ping round of `Leader.lead`'s loop (with the
    /// synced-quorum check on every other one) and the learners' socket timeouts.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.shut_down {
            return;
        }
        if self.stage_deadline.is_some_and(|d| now >= d) {
            let reason = match self.phase {
                ZabPhase::Discovery if self.epoch.is_none() => "timeout waiting for a quorum of FOLLOWERINFO",
                ZabPhase::Discovery => "timeout waiting for a quorum of ACKEPOCH",
                _ => "timeout waiting for a quorum of NEWLEADER acks",
            };
            return self.shutdown(reason);
        }
        if now >= self.next_half_tick {
            self.half_tick(now);
            let half = half_tick(&self.config);
            self.next_half_tick += half;
            if self.next_half_tick <= now {
                self.next_half_tick = now + half;
            }
        }
    }

    /// When [`Leader::handle_timeout`] wants to run next (`None` once shut down).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shut_down {
            return None;
        }
        Some(self.stage_deadline.map_or(self.next_half_tick, |d| d.min(self.next_half_tick)))
    }

    /// The next output, in order.
    pub fn poll_output(&mut self) -> Option<LeaderOutput> {
        self.outputs.pop_front()
    }

    /// The term's phase.
    pub fn phase(&self) -> ZabPhase {
        self.phase
    }

    /// The new epoch, once a quorum of FOLLOWERINFO chose it.
    pub fn epoch(&self) -> Option<i64> {
        self.epoch
    }

    /// Whether the term is over.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// `lastProposed`.
    pub fn last_proposed(&self) -> i64 {
        self.last_proposed
    }

    /// The last committed zxid.
    pub fn last_committed(&self) -> i64 {
        self.last_committed
    }

    /// Proposals waiting for a quorum of acks (`mntr` `zk_pending_syncs`-like gauges).
    pub fn outstanding_proposals(&self) -> usize {
        self.outstanding.len()
    }

    /// Followers in broadcast (`mntr` `zk_synced_followers`).
    pub fn synced_followers(&self) -> usize {
        self.links.values().filter(|l| l.kind == LearnerKind::Follower && l.stage == Stage::Broadcast).count()
    }

    /// Observers in broadcast (`mntr` `zk_synced_observers`).
    pub fn synced_observers(&self) -> usize {
        self.links.values().filter(|l| l.kind == LearnerKind::Observer && l.stage == Stage::Broadcast).count()
    }

    /// Forwarded syncs waiting for the commit of the proposals before them (`mntr` `zk_pending_syncs`).
    pub fn pending_syncs(&self) -> usize {
        self.pending_syncs.len()
    }

    /// Every learner connection (`mntr` `zk_learners`, `stat`).
    pub fn learners(&self) -> Vec<LearnerSummary> {
        self.links
            .iter()
            .map(|(link, l)| LearnerSummary { link: *link, sid: l.sid, kind: l.kind, phase: l.stage.phase() })
            .collect()
    }

    // ---- discovery ----

    /// FOLLOWERINFO / OBSERVERINFO (`LearnerHandler.run`, then `getEpochToPropose`).
    fn learner_info(&mut self, link: LinkId, kind: PacketType, packet: &QuorumPacket, now: Instant) {
        let Some(sid) = decode_learner_sid(packet.data.as_ref()) else {
            return self.close(link, "malformed LearnerInfo");
        };
        if sid == self.config.my_id {
            return self.close(link, "learner claims the leader's sid");
        }
        // A reconnecting learner replaces its older connection.
        let stale: Vec<LinkId> =
            self.links.iter().filter(|(l, e)| **l != link && e.sid == Some(sid)).map(|(l, _)| *l).collect();
        for old in stale {
            self.close(old, "replaced by a newer connection of the same sid");
        }
        let learner_kind = if kind == PacketType::ObserverInfo { LearnerKind::Observer } else { LearnerKind::Follower };
        if let Some(entry) = self.links.get_mut(&link) {
            entry.sid = Some(sid);
            entry.kind = learner_kind;
            entry.stage = Stage::AwaitingEpoch;
        }
        match self.epoch {
            Some(epoch) => self.send_leader_info(link, epoch),
            None => {
                let accepted = epoch_of(packet.zxid);
                if accepted >= self.proposed_epoch {
                    self.proposed_epoch = accepted.saturating_add(1);
                }
                if self.config.verifier.is_voter(sid) {
                    self.connecting.insert(sid);
                }
                self.check_epoch_quorum(now);
            }
        }
    }

    fn check_epoch_quorum(&mut self, now: Instant) {
        if self.epoch.is_some() || !self.config.verifier.contains_quorum(&self.connecting) {
            return;
        }
        let epoch = self.proposed_epoch;
        info!(epoch, "new epoch chosen");
        self.epoch = Some(epoch);
        self.state.accepted_epoch = epoch;
        self.outputs.push_back(LeaderOutput::PersistAcceptedEpoch(epoch));
        self.last_proposed = make_zxid(epoch, 0);
        self.stage_deadline = Some(now + self.config.init_timeout());
        let waiting: Vec<LinkId> =
            self.links.iter().filter(|(_, l)| l.stage == Stage::AwaitingEpoch).map(|(l, _)| *l).collect();
        for link in waiting {
            self.send_leader_info(link, epoch);
        }
        self.epoch_acks.insert(self.config.my_id);
        self.check_epoch_ack_quorum(now);
    }

    fn send_leader_info(&mut self, link: LinkId, epoch: i64) {
        if let Some(entry) = self.links.get_mut(&link) {
            entry.stage = Stage::EpochSent;
        }
        let packet = QuorumPacket {
            packet_type: PacketType::LeaderInfo.code(),
            zxid: make_zxid(epoch, 0),
            data: Some(encode_int(PROTOCOL_VERSION)),
            authinfo: None,
        };
        self.send(link, packet);
    }

    /// ACKEPOCH (`LearnerHandler.run`, then `waitForEpochAck`).
    fn ack_epoch(&mut self, link: LinkId, packet: &QuorumPacket, now: Instant) {
        let Some(current_epoch) = decode_int(packet.data.as_ref()) else {
            return self.close(link, "malformed ACKEPOCH");
        };
        let Some(entry) = self.links.get_mut(&link) else { return };
        entry.peer_last_zxid = packet.zxid;
        entry.stage = Stage::EpochAcked;
        let sid = entry.sid.unwrap_or(-1);
        if self.phase != ZabPhase::Discovery {
            return self.sync_link(link, now);
        }
        if current_epoch != -1 {
            let current_epoch = i64::from(current_epoch);
            let ours = (self.state.current_epoch, self.state.last_logged_zxid);
            if (current_epoch, packet.zxid) > ours {
                return self.shutdown(&format!(
                    "follower {sid} is ahead of the leader: epoch {current_epoch}, zxid {:#x}",
                    packet.zxid
                ));
            }
            self.epoch_acks.insert(sid);
        }
        self.check_epoch_ack_quorum(now);
    }

    fn check_epoch_ack_quorum(&mut self, now: Instant) {
        if self.phase != ZabPhase::Discovery || !self.config.verifier.contains_quorum(&self.epoch_acks) {
            return;
        }
        info!(epoch = ?self.epoch, "epoch acked by a quorum: synchronization");
        self.phase = ZabPhase::Synchronization;
        self.stage_deadline = Some(now + self.config.init_timeout());
        self.newleader_acks.insert(self.config.my_id);
        let acked: Vec<LinkId> =
            self.links.iter().filter(|(_, l)| l.stage == Stage::EpochAcked).map(|(l, _)| *l).collect();
        for link in acked {
            self.sync_link(link, now);
        }
        self.check_newleader_quorum(now);
    }

    // ---- synchronization ----

    /// `LearnerHandler.syncFollower` + `startForwarding` + NEWLEADER.
    fn sync_link(&mut self, link: LinkId, now: Instant) {
        let Some(entry) = self.links.get_mut(&link) else { return };
        let Some(epoch) = self.epoch else { return };
        let peer = entry.peer_last_zxid;
        let kind = entry.kind;
        entry.stage = Stage::Syncing;
        entry.last_heard = now;
        let zxids: Vec<i64> = self.committed.iter().map(|(z, _)| *z).collect();
        let plan = plan_sync(peer, self.last_committed, &zxids);
        debug!(link, peer, ?plan, "syncing learner");
        match plan {
            SyncPlan::Diff { trunc, from } => {
                let head = match trunc {
                    Some(to) => QuorumPacket::new(PacketType::Trunc, to),
                    None => QuorumPacket::new(PacketType::Diff, self.last_committed),
                };
                self.send(link, head);
                let txns: Vec<(i64, Bytes)> = self.committed.iter().skip(from).cloned().collect();
                for (zxid, data) in txns {
                    let proposal = QuorumPacket {
                        packet_type: PacketType::Proposal.code(),
                        zxid,
                        data: Some(data),
                        authinfo: None,
                    };
                    self.send(link, proposal);
                    self.send(link, QuorumPacket::new(PacketType::Commit, zxid));
                }
            }
            SyncPlan::Trunc(to) => self.send(link, QuorumPacket::new(PacketType::Trunc, to)),
            SyncPlan::Snap => {
                self.send(link, QuorumPacket::new(PacketType::Snap, self.last_committed));
                self.outputs.push_back(LeaderOutput::SendSnapshot { link, zxid: self.last_committed });
            }
        }
        if kind == LearnerKind::Follower {
            // Every outstanding proposal is above the sync point: after a TRUNC (or a SNAP) the
            // learner's log no longer holds what it acked on an earlier connection, so those acks are
            // void; it acks the proposals again once it has logged them from this stream.
            if let Some(sid) = self.links.get(&link).and_then(|l| l.sid) {
                for p in &mut self.outstanding {
                    p.acks.remove(&sid);
                }
            }
            let pending: Vec<QuorumPacket> = self
                .outstanding
                .iter()
                .map(|p| QuorumPacket {
                    packet_type: PacketType::Proposal.code(),
                    zxid: p.zxid,
                    data: Some(p.data.clone()),
                    authinfo: None,
                })
                .collect();
            for packet in pending {
                self.send(link, packet);
            }
        }
        let newleader = QuorumPacket {
            packet_type: PacketType::NewLeader.code(),
            zxid: make_zxid(epoch, 0),
            data: Some(self.config.config_text.clone()),
            authinfo: None,
        };
        self.send(link, newleader);
    }

    /// The learner's ACK of NEWLEADER (`waitForNewLeaderAck`); then UPTODATE once the quorum formed.
    fn newleader_acked(&mut self, link: LinkId, now: Instant) {
        let Some(entry) = self.links.get_mut(&link) else { return };
        entry.stage = Stage::AwaitingUpToDate;
        let sid = entry.sid.unwrap_or(-1);
        if self.phase == ZabPhase::Broadcast {
            self.send_uptodate(link);
        } else {
            self.newleader_acks.insert(sid);
            self.check_newleader_quorum(now);
        }
    }

    fn check_newleader_quorum(&mut self, now: Instant) {
        if self.phase != ZabPhase::Synchronization || !self.config.verifier.contains_quorum(&self.newleader_acks) {
            return;
        }
        let Some(epoch) = self.epoch else { return };
        info!(epoch, "NEWLEADER acked by a quorum: broadcast");
        self.phase = ZabPhase::Broadcast;
        self.stage_deadline = None;
        self.state.current_epoch = epoch;
        self.outputs.push_back(LeaderOutput::PersistCurrentEpoch(epoch));
        self.outputs.push_back(LeaderOutput::Established { epoch });
        self.half_ticks = 0;
        self.next_half_tick = now + half_tick(&self.config);
        let waiting: Vec<LinkId> =
            self.links.iter().filter(|(_, l)| l.stage == Stage::AwaitingUpToDate).map(|(l, _)| *l).collect();
        for link in waiting {
            self.send_uptodate(link);
        }
    }

    fn send_uptodate(&mut self, link: LinkId) {
        if let Some(entry) = self.links.get_mut(&link) {
            entry.stage = Stage::Broadcast;
        }
        self.send(link, QuorumPacket::new(PacketType::UpToDate, -1));
    }

    // ---- broadcast ----

    /// `Leader.processAck` for a follower's ACK.
    fn process_ack(&mut self, sid: i64, zxid: i64) {
        if counter_of(zxid) == 0 || zxid <= self.last_committed {
            // The NEWLEADER re-ack after UPTODATE, or an ack for an already committed txn.
            return;
        }
        let Some(front) = self.outstanding.front() else { return };
        let Ok(index) = usize::try_from(zxid - front.zxid) else { return };
        match self.outstanding.get_mut(index) {
            Some(p) if p.zxid == zxid => {
                p.acks.insert(sid);
            }
            _ => {
                warn!(sid, zxid, "ACK for an unknown proposal");
                return;
            }
        }
        self.try_commit();
    }

    /// `Leader.tryToCommit`: commit in zxid order while the oldest outstanding proposal has a quorum.
    fn try_commit(&mut self) {
        while self.outstanding.front().is_some_and(|p| self.config.verifier.contains_quorum(&p.acks)) {
            let Some(p) = self.outstanding.pop_front() else { break };
            self.commit(p);
        }
    }

    fn commit(&mut self, p: Proposal) {
        let zxid = p.zxid;
        self.last_committed = zxid;
        self.outputs.push_back(LeaderOutput::Commit(zxid));
        let inform =
            QuorumPacket { packet_type: PacketType::Inform.code(), zxid, data: Some(p.data.clone()), authinfo: None };
        let commit = QuorumPacket::new(PacketType::Commit, zxid);
        self.send_to_forwarding(|kind| match kind {
            LearnerKind::Follower => Some(commit.clone()),
            LearnerKind::Observer => Some(inform.clone()),
        });
        self.committed.push_back((zxid, p.data));
        while self.committed.len() > self.config.commit_log_count {
            self.committed.pop_front();
        }
        while self.pending_syncs.front().is_some_and(|(at, _)| *at <= zxid) {
            if let Some((_, link)) = self.pending_syncs.pop_front() {
                self.send_sync(link);
            }
        }
    }

    /// `Leader.processSync`: answer at once when nothing is outstanding, else once the last proposed
    /// txn commits.
    fn process_sync(&mut self, link: LinkId) {
        if self.outstanding.is_empty() {
            self.send_sync(link);
        } else {
            self.pending_syncs.push_back((self.last_proposed, link));
        }
    }

    fn send_sync(&mut self, link: LinkId) {
        if self.links.contains_key(&link) {
            self.send(link, QuorumPacket::new(PacketType::Sync, 0));
        }
    }

    fn half_tick(&mut self, now: Instant) {
        let init = self.config.init_timeout();
        let sync = self.config.sync_timeout();
        let silent: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| {
                let limit = if l.stage == Stage::Broadcast { sync } else { init };
                now.saturating_duration_since(l.last_heard) > limit
            })
            .map(|(link, _)| *link)
            .collect();
        for link in silent {
            self.close(link, "learner silent too long");
        }
        if self.phase != ZabPhase::Broadcast {
            return;
        }
        self.half_ticks += 1;
        if self.half_ticks.is_multiple_of(2) {
            let mut synced = BTreeSet::from([self.config.my_id]);
            for l in self.links.values() {
                let limit = if l.stage == Stage::Broadcast { sync } else { init + sync };
                if l.kind == LearnerKind::Follower
                    && l.stage.forwarding()
                    && now.saturating_duration_since(l.last_heard) <= limit
                {
                    synced.extend(l.sid);
                }
            }
            if !self.config.verifier.contains_quorum(&synced) {
                return self.shutdown(&format!("not sufficient followers synced, only synced with sids: {synced:?}"));
            }
        }
        let ping = QuorumPacket::new(PacketType::Ping, self.last_proposed);
        self.send_to_forwarding(|_| Some(ping.clone()));
    }

    // ---- plumbing ----

    fn send(&mut self, link: LinkId, packet: QuorumPacket) {
        self.outputs.push_back(LeaderOutput::Send { link, packet });
    }

    fn send_to_forwarding(&mut self, mut packet_for: impl FnMut(LearnerKind) -> Option<QuorumPacket>) {
        for (link, l) in &self.links {
            if l.stage.forwarding() {
                if let Some(packet) = packet_for(l.kind) {
                    self.outputs.push_back(LeaderOutput::Send { link: *link, packet });
                }
            }
        }
    }

    fn close(&mut self, link: LinkId, reason: &str) {
        if self.links.remove(&link).is_some() {
            warn!(link, reason, "closing learner link");
            self.outputs.push_back(LeaderOutput::Close { link });
        }
    }

    fn shutdown(&mut self, reason: &str) {
        if !self.shut_down {
            warn!(reason, "leader shutting down");
            self.shut_down = true;
            self.outputs.push_back(LeaderOutput::Shutdown { reason: reason.to_string() });
        }
    }
}

fn half_tick(config: &ZabConfig) -> Duration {
    (config.tick / 2).max(Duration::from_millis(1))
}
