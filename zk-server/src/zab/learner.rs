//! A learner of one Zab term: ZooKeeper's `Learner` (`registerWithLeader`, `syncWithLeader`, `ping`,
//! `request`, `validateSession`) with `Follower.processPacket` / `FollowerZooKeeperServer.commit` and
//! `Observer.processPacket`, as one sans-IO state machine.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use tracing::{debug, info, warn};
use zk_proto::{Id, Jute, LearnerInfo, PacketType, QuorumPacket, TxnEntry};

use super::output::LearnerOutput;
use super::wire::{
    decode_int, decode_revalidate_reply, encode_int, encode_ping_sessions, encode_request, encode_revalidate_request,
};
use super::{epoch_of, make_zxid, PersistedState, ZabConfig, ZabPhase, PROTOCOL_VERSION};

/// Which learner (`LearnerType` in ZooKeeper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerKind {
    /// A voter: acks proposals, counts in quorums (`Follower`).
    Follower,
    /// A non-voter: receives INFORMs of committed txns only (`Observer`).
    Observer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the shell's connection to the leader.
    Connecting,
    /// FOLLOWERINFO / OBSERVERINFO sent.
    AwaitingLeaderInfo,
    /// ACKEPOCH sent; waiting for DIFF / TRUNC / SNAP.
    AwaitingSyncMode,
    /// SNAP received; the snapshot body comes next on the stream.
    AwaitingSnapshot(i64),
    /// Receiving the sync stream, up to NEWLEADER.
    Syncing,
    /// NEWLEADER acked; waiting for UPTODATE.
    AwaitingUpToDate,
    /// Serving.
    Broadcast,
}

/// A follower or observer for one term. See the module docs for the phases.
#[derive(Debug)]
pub struct Learner {
    config: ZabConfig,
    leader_id: i64,
    kind: LearnerKind,
    state: PersistedState,
    stage: Stage,
    new_epoch: Option<i64>,
    last_received: Instant,
    /// The last zxid handed to the shell with `Log` (or set by TRUNC / SNAP).
    last_log_emitted: i64,
    /// Everything up to here is durable.
    durable: i64,
    /// A NEWLEADER (its zxid) waiting for the log to be durable up to `newleader_target`.
    newleader_wait: Option<i64>,
    newleader_target: i64,
    acked_newleader: bool,
    /// Proposals logged but not committed (`pendingTxns` / `packetsNotCommitted`).
    pending: VecDeque<TxnEntry>,
    /// Logged proposals to ACK once durable (followers only).
    to_ack: VecDeque<i64>,
    /// Sessions touched since the last PING reply.
    touched: BTreeMap<i64, i32>,
    /// REQUEST / REVALIDATE packets issued before UPTODATE.
    held: VecDeque<QuorumPacket>,
    outputs: VecDeque<LearnerOutput>,
    shut_down: bool,
}

impl Learner {
    /// A learner of `leader_id` (`Follower.followLeader` / `Observer.observeLeader` before connecting).
    pub fn new(config: ZabConfig, leader_id: i64, kind: LearnerKind, state: PersistedState, now: Instant) -> Learner {
        Learner {
            config,
            leader_id,
            kind,
            stage: Stage::Connecting,
            new_epoch: None,
            last_received: now,
            last_log_emitted: state.last_logged_zxid,
            durable: state.last_logged_zxid,
            newleader_wait: None,
            newleader_target: 0,
            acked_newleader: false,
            pending: VecDeque::new(),
            to_ack: VecDeque::new(),
            touched: BTreeMap::new(),
            held: VecDeque::new(),
            outputs: VecDeque::new(),
            shut_down: false,
            state,
        }
    }

    /// The shell connected to the leader's quorum port: send FOLLOWERINFO / OBSERVERINFO
    /// (`registerWithLeader`).
    pub fn connected(&mut self, now: Instant) {
        if self.shut_down || self.stage != Stage::Connecting {
            return;
        }
        self.last_received = now;
        self.stage = Stage::AwaitingLeaderInfo;
        let info = LearnerInfo {
            server_id: self.config.my_id,
            protocol_version: PROTOCOL_VERSION,
            config_version: self.config.verifier.version(),
        };
        let packet_type = match self.kind {
            LearnerKind::Follower => PacketType::FollowerInfo,
            LearnerKind::Observer => PacketType::ObserverInfo,
        };
        self.send(QuorumPacket {
            packet_type: packet_type.code(),
            zxid: make_zxid(self.state.accepted_epoch, 0),
            data: Some(info.to_bytes()),
            authinfo: None,
        });
    }

    /// The connection to the leader was lost: the term ends (ZooKeeper's follower goes back to LOOKING).
    pub fn disconnected(&mut self, _now: Instant) {
        self.shutdown("connection to the leader lost");
    }

    /// A packet from the leader.
    pub fn handle_packet(&mut self, packet: QuorumPacket, now: Instant) {
        if self.shut_down {
            return;
        }
        self.last_received = now;
        let Ok(kind) = packet.kind() else {
            return self.shutdown("unknown packet type from the leader");
        };
        match (self.stage, kind) {
            (Stage::AwaitingLeaderInfo, PacketType::LeaderInfo) => self.leader_info(&packet),
            (Stage::AwaitingSyncMode, PacketType::Diff) => self.stage = Stage::Syncing,
            (Stage::AwaitingSyncMode, PacketType::Trunc) => {
                self.outputs.push_back(LearnerOutput::Truncate(packet.zxid));
                self.last_log_emitted = packet.zxid;
                self.durable = self.durable.min(packet.zxid);
                self.stage = Stage::Syncing;
            }
            (Stage::AwaitingSyncMode, PacketType::Snap) => self.stage = Stage::AwaitingSnapshot(packet.zxid),
            (Stage::Syncing | Stage::AwaitingUpToDate, PacketType::Proposal) => self.proposal(&packet),
            (Stage::Syncing | Stage::AwaitingUpToDate, PacketType::Commit) => self.commit(packet.zxid),
            (Stage::Syncing | Stage::AwaitingUpToDate | Stage::Broadcast, PacketType::Inform)
                if self.kind == LearnerKind::Observer =>
            {
                self.inform(&packet)
            }
            (Stage::Syncing, PacketType::NewLeader) => self.newleader(packet.zxid),
            (Stage::AwaitingUpToDate, PacketType::UpToDate) => self.uptodate(),
            (Stage::Syncing | Stage::AwaitingUpToDate, PacketType::Ping) => {}
            (Stage::Broadcast, PacketType::Ping) => self.ping(packet.zxid),
            (Stage::Broadcast, PacketType::Proposal) if self.kind == LearnerKind::Follower => self.proposal(&packet),
            (Stage::Broadcast, PacketType::Commit) if self.kind == LearnerKind::Follower => self.commit(packet.zxid),
            (Stage::Broadcast, PacketType::Sync) => self.outputs.push_back(LearnerOutput::SyncDone),
            (Stage::Broadcast, PacketType::Revalidate) => match decode_revalidate_reply(packet.data.as_ref()) {
                Some((session_id, valid)) => self.outputs.push_back(LearnerOutput::Revalidated { session_id, valid }),
                None => self.shutdown("malformed REVALIDATE reply"),
            },
            (Stage::Broadcast, kind) => warn!(?kind, "ignoring unexpected packet from the leader"),
            (stage, kind) => {
                warn!(?stage, ?kind, "unexpected packet from the leader");
                self.shutdown("unexpected packet from the leader")
            }
        }
    }

    /// The snapshot body that followed a SNAP packet on the stream (opaque here).
    pub fn handle_snapshot(&mut self, body: Bytes, now: Instant) {
        if self.shut_down {
            return;
        }
        self.last_received = now;
        let Stage::AwaitingSnapshot(zxid) = self.stage else {
            return self.shutdown("snapshot body without SNAP");
        };
        self.outputs.push_back(LearnerOutput::InstallSnapshot { zxid, body });
        self.last_log_emitted = zxid;
        self.durable = zxid;
        self.pending.clear();
        self.to_ack.clear();
        self.stage = Stage::Syncing;
    }

    /// The log is durable up to `zxid` (every `Log` up to it).
    pub fn logged(&mut self, zxid: i64, _now: Instant) {
        if self.shut_down {
            return;
        }
        let zxid = zxid.min(self.last_log_emitted);
        self.durable = self.durable.max(zxid);
        if let Some(newleader) = self.newleader_wait {
            if self.durable >= self.newleader_target {
                self.newleader_wait = None;
                self.finish_newleader(newleader);
            }
        }
        self.flush_acks();
    }

    /// A local client's write (or sync, op 9) to forward as REQUEST (`Learner.request`); held until
    /// UPTODATE if the term is not serving yet.
    pub fn forward(&mut self, session_id: i64, cxid: i32, op_code: i32, body: Bytes, authinfo: Vec<Id>) {
        let data = encode_request(session_id, cxid, op_code, &body);
        let packet = QuorumPacket {
            packet_type: PacketType::Request.code(),
            zxid: -1,
            data: Some(data),
            authinfo: Some(authinfo),
        };
        self.send_or_hold(packet);
    }

    /// Ask the leader whether a session a client reconnects with is still valid (`validateSession`).
    pub fn revalidate(&mut self, session_id: i64, timeout: i32) {
        let data = encode_revalidate_request(session_id, timeout);
        self.send_or_hold(QuorumPacket {
            packet_type: PacketType::Revalidate.code(),
            zxid: -1,
            data: Some(data),
            authinfo: None,
        });
    }

    /// Session activity, reported to the leader in the next PING reply.
    pub fn touch(&mut self, session_id: i64, timeout: i32) {
        self.touched.insert(session_id, timeout);
    }

    /// The leader's silence: initLimit ticks until UPTODATE, syncLimit ticks after (the socket read
    /// timeout ZooKeeper sets).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.shutdown("leader silent too long");
        }
    }

    /// When [`Learner::handle_timeout`] wants to run next (`None` once shut down).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shut_down {
            return None;
        }
        let limit =
            if self.stage == Stage::Broadcast { self.config.sync_timeout() } else { self.config.init_timeout() };
        Some(self.last_received + limit)
    }

    /// The next output, in order.
    pub fn poll_output(&mut self) -> Option<LearnerOutput> {
        self.outputs.pop_front()
    }

    /// The term's phase.
    pub fn phase(&self) -> ZabPhase {
        match self.stage {
            Stage::Connecting | Stage::AwaitingLeaderInfo => ZabPhase::Discovery,
            Stage::Broadcast => ZabPhase::Broadcast,
            _ => ZabPhase::Synchronization,
        }
    }

    /// Follower or observer.
    pub fn kind(&self) -> LearnerKind {
        self.kind
    }

    /// The leader's sid.
    pub fn leader_id(&self) -> i64 {
        self.leader_id
    }

    /// The epoch from LEADERINFO.
    pub fn epoch(&self) -> Option<i64> {
        self.new_epoch
    }

    /// The epochs as persisted so far in this term.
    pub fn persisted_state(&self) -> PersistedState {
        PersistedState { last_logged_zxid: self.durable, ..self.state }
    }

    /// Whether the term is over.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// LEADERINFO (`registerWithLeader`).
    fn leader_info(&mut self, packet: &QuorumPacket) {
        if decode_int(packet.data.as_ref()).is_none() {
            return self.shutdown("malformed LEADERINFO");
        }
        let new_epoch = epoch_of(packet.zxid);
        let current = if new_epoch > self.state.accepted_epoch {
            self.state.accepted_epoch = new_epoch;
            self.outputs.push_back(LearnerOutput::PersistAcceptedEpoch(new_epoch));
            i32::try_from(self.state.current_epoch).unwrap_or(i32::MAX)
        } else if new_epoch == self.state.accepted_epoch {
            -1
        } else {
            return self.shutdown(&format!(
                "leader's epoch {new_epoch} is less than our accepted epoch {}",
                self.state.accepted_epoch
            ));
        };
        info!(leader = self.leader_id, new_epoch, "LEADERINFO accepted");
        self.new_epoch = Some(new_epoch);
        self.stage = Stage::AwaitingSyncMode;
        self.send(QuorumPacket {
            packet_type: PacketType::AckEpoch.code(),
            zxid: self.state.last_logged_zxid,
            data: Some(encode_int(current)),
            authinfo: None,
        });
    }

    fn decode_txn(&mut self, packet: &QuorumPacket, what: &str) -> Option<TxnEntry> {
        let entry = packet.data.clone().and_then(|data| TxnEntry::from_bytes(data).ok());
        match entry {
            Some(entry) if entry.header.zxid == packet.zxid && packet.zxid > self.last_log_emitted => Some(entry),
            Some(_) => {
                self.shutdown(&format!("{what} zxid {:#x} out of order", packet.zxid));
                None
            }
            None => {
                self.shutdown(&format!("malformed {what}"));
                None
            }
        }
    }

    /// PROPOSAL: log it; followers ack it once durable (`FollowerZooKeeperServer.logRequest`).
    fn proposal(&mut self, packet: &QuorumPacket) {
        let Some(entry) = self.decode_txn(packet, "PROPOSAL") else { return };
        self.last_log_emitted = entry.header.zxid;
        if self.kind == LearnerKind::Follower {
            self.to_ack.push_back(entry.header.zxid);
        }
        self.outputs.push_back(LearnerOutput::Log(entry.clone()));
        self.pending.push_back(entry);
    }

    /// COMMIT: the oldest pending proposal must be the one committed, else the term ends
    /// (`FollowerZooKeeperServer.commit` exits the process).
    fn commit(&mut self, zxid: i64) {
        match self.pending.front() {
            Some(head) if head.header.zxid == zxid => {
                if let Some(entry) = self.pending.pop_front() {
                    self.outputs.push_back(LearnerOutput::Apply(entry));
                }
            }
            Some(head) => {
                let next = head.header.zxid;
                self.shutdown(&format!("committing zxid {zxid:#x} but next pending txn is {next:#x}"));
            }
            None => self.shutdown(&format!("committing zxid {zxid:#x} with no outstanding txns")),
        }
    }

    /// INFORM (observers): committed txn with its data: log and apply (`Observer.processPacket`).
    fn inform(&mut self, packet: &QuorumPacket) {
        let Some(entry) = self.decode_txn(packet, "INFORM") else { return };
        self.last_log_emitted = entry.header.zxid;
        self.outputs.push_back(LearnerOutput::Log(entry.clone()));
        self.outputs.push_back(LearnerOutput::Apply(entry));
    }

    /// NEWLEADER: once everything logged so far is durable, persist currentEpoch and ack.
    fn newleader(&mut self, zxid: i64) {
        if Some(epoch_of(zxid)) != self.new_epoch {
            return self.shutdown("NEWLEADER of another epoch");
        }
        self.newleader_target = self.last_log_emitted;
        if self.durable >= self.newleader_target {
            self.finish_newleader(zxid);
        } else {
            self.newleader_wait = Some(zxid);
        }
    }

    fn finish_newleader(&mut self, zxid: i64) {
        let epoch = epoch_of(zxid);
        self.state.current_epoch = epoch;
        self.outputs.push_back(LearnerOutput::PersistCurrentEpoch(epoch));
        self.send(QuorumPacket::new(PacketType::Ack, zxid));
        self.acked_newleader = true;
        self.stage = Stage::AwaitingUpToDate;
        self.flush_acks();
    }

    /// UPTODATE: serve, ack the epoch again, and send what was held back.
    fn uptodate(&mut self) {
        let Some(epoch) = self.new_epoch else { return };
        info!(leader = self.leader_id, epoch, "UPTODATE: serving");
        self.stage = Stage::Broadcast;
        self.outputs.push_back(LearnerOutput::UpToDate);
        self.send(QuorumPacket::new(PacketType::Ack, make_zxid(epoch, 0)));
        while let Some(packet) = self.held.pop_front() {
            self.send(packet);
        }
    }

    /// PING: echo the zxid with the sessions touched since the last reply (`Learner.ping`).
    fn ping(&mut self, zxid: i64) {
        let sessions: Vec<(i64, i32)> = std::mem::take(&mut self.touched).into_iter().collect();
        let data = encode_ping_sessions(&sessions);
        self.send(QuorumPacket { packet_type: PacketType::Ping.code(), zxid, data: Some(data), authinfo: None });
    }

    fn flush_acks(&mut self) {
        if !self.acked_newleader {
            return;
        }
        while self.to_ack.front().is_some_and(|z| *z <= self.durable) {
            if let Some(zxid) = self.to_ack.pop_front() {
                self.send(QuorumPacket::new(PacketType::Ack, zxid));
            }
        }
    }

    fn send_or_hold(&mut self, packet: QuorumPacket) {
        if self.shut_down {
            return;
        }
        if self.stage == Stage::Broadcast {
            self.send(packet);
        } else {
            self.held.push_back(packet);
        }
    }

    fn send(&mut self, packet: QuorumPacket) {
        self.outputs.push_back(LearnerOutput::Send(packet));
    }

    fn shutdown(&mut self, reason: &str) {
        if !self.shut_down {
            debug!(reason, "learner shutting down");
            self.shut_down = true;
            self.outputs.push_back(LearnerOutput::Shutdown { reason: reason.to_string() });
        }
    }
}
