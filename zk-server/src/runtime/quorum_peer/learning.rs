//! FOLLOWING or OBSERVING for one term (ZooKeeper's `Learner`, `Follower` and `Observer`, as a shell):
//! connects to the leader's quorum port, feeds a [`zab::Learner`] what arrives, the log's durability and the
//! clock, and carries out its outputs (log, apply, truncate, install a snapshot) and the core's (forwarded
//! writes, revalidations, session touches).

use std::time::Duration;

use tracing::{info, warn};

use super::{member_addr, QuorumPeer, TermEnd, Wake};
use crate::core::{Output, Role};
use crate::database;
use crate::runtime::log_writer::LogEvent;
use crate::runtime::quorum_link::{self, Inbound, LinkEvent, LinkWriter};
use crate::runtime::PeerState;
use crate::zab::{self, LearnerKind, LearnerOutput};

impl QuorumPeer {
    /// FOLLOWING or OBSERVING `leader_id` for one term.
    pub(super) async fn learn(&mut self, leader_id: i64, kind: LearnerKind) -> TermEnd {
        let Some(leader_server) = self.server.config.quorum.servers.get(&leader_id).cloned() else {
            return TermEnd::Reelect;
        };
        if self.blocked.contains(&leader_id) {
            tokio::time::sleep(self.zab_config.tick).await;
            return TermEnd::Reelect;
        }
        let Ok(addr) = member_addr(&leader_server, |a| a.quorum_port) else { return TermEnd::Reelect };
        let link = self.next_link;
        self.next_link += 1;
        let tick = self.zab_config.tick;
        let limit = tick * self.zab_config.init_limit;
        let deadline = tokio::time::Instant::now() + limit;
        // Learner.connectToLeader: retry until the leader listens (it may still be binding its port). The
        // first retries come quickly: the leader is usually a few milliseconds behind its followers.
        let mut pause = Duration::from_millis(5);
        let writer = loop {
            match quorum_link::connect_to_leader(addr, link, self.limits, &self.link_tx).await {
                Ok(writer) => break Some(writer),
                Err(err) if tokio::time::Instant::now() + pause < deadline => {
                    tracing::debug!(%addr, %err, "leader not reachable yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(tick.min(Duration::from_millis(200)));
                }
                Err(err) => {
                    warn!(%addr, %err, "cannot connect to the leader");
                    break None;
                }
            }
        };
        let Some(writer) = writer else { return TermEnd::Reelect };
        let now = std::time::Instant::now();
        let mut learner = zab::Learner::new(self.zab_config.clone(), leader_id, kind, self.persisted(), now);
        let role = match kind {
            LearnerKind::Follower => Role::Follower,
            LearnerKind::Observer => Role::Observer,
        };
        self.server.core.set_role(role);
        let state = match kind {
            LearnerKind::Follower => PeerState::Following,
            LearnerKind::Observer => PeerState::Observing,
        };
        self.publish(state, Some(leader_id));
        learner.connected(now);
        loop {
            if let Some(end) = self.drive_learner(&mut learner, &writer, state, leader_id).await {
                return end;
            }
            if self.activate_committed_config() {
                return TermEnd::Reelect;
            }
            let name = if kind == LearnerKind::Observer { "observing" } else { "following" };
            self.report(name, Some(learner.phase()), None);
            let timer = learner.poll_timeout().map(tokio::time::Instant::from_std);
            let now_std = std::time::Instant::now();
            match self.wait(timer).await {
                Wake::Stop => return TermEnd::Stop,
                Wake::Timer => {
                    learner.handle_timeout(now_std);
                    if self.serving {
                        self.server.core.tick(self.server.clock.now());
                    }
                }
                Wake::Log(LogEvent::Durable(zxid)) => learner.logged(zxid, now_std),
                Wake::Log(LogEvent::Failed(err)) => {
                    warn!(%err, "txn log failed");
                    return TermEnd::Stop;
                }
                Wake::Link(LinkEvent::Received { link: from, inbound }) if from == link => match inbound {
                    Inbound::Packet(packet) => learner.handle_packet(packet, now_std),
                    Inbound::Snapshot(body) => learner.handle_snapshot(body, now_std),
                },
                Wake::Link(LinkEvent::Closed { link: from }) if from == link => {
                    info!(leader = leader_id, "connection to the leader lost");
                    return TermEnd::Reelect;
                }
                Wake::Link(_) => {}
                Wake::Control(control) => {
                    self.common(Wake::Control(control));
                    if self.blocked.contains(&leader_id) {
                        info!(leader = leader_id, "cut off from the leader");
                        return TermEnd::Reelect;
                    }
                }
                wake => self.common(wake),
            }
        }
    }

    /// Carries out what the learner and the core asked for, until neither has more. `Some` ends the term.
    async fn drive_learner(
        &mut self,
        learner: &mut zab::Learner,
        writer: &LinkWriter,
        state: PeerState,
        leader_id: i64,
    ) -> Option<TermEnd> {
        loop {
            let mut progressed = false;
            let mut batch = Vec::new();
            while let Some(output) = learner.poll_output() {
                progressed = true;
                let now = self.server.clock.now();
                match output {
                    LearnerOutput::Send(packet) => {
                        writer.send(&packet);
                    }
                    LearnerOutput::PersistAcceptedEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_accepted_epoch(epoch) {
                            warn!(%err, "cannot persist acceptedEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LearnerOutput::PersistCurrentEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_current_epoch(epoch) {
                            warn!(%err, "cannot persist currentEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LearnerOutput::Truncate(zxid) => {
                        self.server.storage.append(std::mem::take(&mut batch));
                        self.unapplied.clear();
                        if let Err(err) = self.reload(Some(zxid)).await {
                            warn!(%err, "cannot truncate the txn log");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LearnerOutput::InstallSnapshot { zxid, body } => {
                        self.unapplied.clear();
                        if let Err(err) = self.install_snapshot(zxid, &body).await {
                            warn!(%err, "cannot install the leader's snapshot");
                            return Some(TermEnd::Reelect);
                        }
                    }
                    LearnerOutput::Log(entry) => {
                        self.unapplied.push_back(entry.clone());
                        batch.push(entry);
                    }
                    LearnerOutput::Apply(entry) => {
                        while self.unapplied.front().is_some_and(|e| e.header.zxid <= entry.header.zxid) {
                            self.unapplied.pop_front();
                        }
                        self.server.core.apply_committed(entry, now);
                        let core = &self.server.core;
                        self.server.storage.applied(1, core.tree(), || core.sessions());
                    }
                    LearnerOutput::UpToDate => {
                        info!("following: up to date");
                        self.serving = true;
                        self.publish(state, Some(leader_id));
                    }
                    LearnerOutput::SyncDone => self.server.core.sync_done(now),
                    LearnerOutput::Revalidated { session_id, valid } => {
                        self.server.core.revalidated(session_id, valid, now);
                    }
                    LearnerOutput::Shutdown { reason } => {
                        info!(%reason, "learner term ended");
                        self.server.storage.append(batch);
                        return Some(TermEnd::Reelect);
                    }
                }
            }
            self.server.storage.append(batch);
            while let Some(output) = self.server.core.poll_output() {
                progressed = true;
                match output {
                    Output::Forward { session_id, cxid, op_code, body, authinfo } => {
                        learner.forward(session_id, cxid, op_code, body, authinfo);
                    }
                    Output::Revalidate { session_id, timeout } => learner.revalidate(session_id, timeout),
                    Output::Persist(entry) => {
                        warn!(zxid = entry.header.zxid, "a learner's core proposed a txn; ignored");
                    }
                }
            }
            for (session_id, timeout) in self.server.core.take_touched() {
                learner.touch(session_id, timeout);
            }
            if !progressed {
                return None;
            }
        }
    }

    /// SNAP: replaces the database by the leader's snapshot and persists it.
    async fn install_snapshot(&mut self, zxid: i64, body: &[u8]) -> Result<(), crate::persist::PersistError> {
        let (tree, sessions) = database::load_snap_sync(body, zxid)?;
        let dir = self.server.storage.dir().clone();
        let (snap_tree, snap_sessions) = (tree.clone(), sessions.clone());
        tokio::task::spawn_blocking(move || database::write_snapshot(&dir, &snap_tree, &snap_sessions))
            .await
            .map_err(|_| crate::persist::PersistError::Usage("snapshot task failed"))??;
        let now = self.server.clock.now();
        self.server.core.reset(tree, &sessions, now);
        Ok(())
    }
}
