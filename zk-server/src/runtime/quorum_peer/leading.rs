//! LEADING for one term (ZooKeeper's `Leader.lead` and its `LearnerHandler`s, as a shell): binds the quorum
//! port, feeds a [`zab::Leader`] the learners' links, the log's durability and the clock, and carries out
//! its outputs and the core's (proposals to log and propose, commits to apply, forwarded requests).

use std::collections::HashMap;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};
use zk_proto::{Jute, LearnerInfo, PacketType};

use super::{member_addr, QuorumPeer, TermEnd, Wake, COMMIT_LOG_COUNT};
use crate::core::{LeaderFacts, Output, Role};
use crate::database;
use crate::runtime::log_writer::LogEvent;
use crate::runtime::quorum_link::{self, Inbound, LinkEvent, LinkId, LinkWriter};
use crate::runtime::PeerState;
use crate::zab::{self, LeaderOutput};

impl QuorumPeer {
    /// LEADING for one term.
    pub(super) async fn lead(&mut self) -> TermEnd {
        let quorum_addr = match member_addr(&self.me, |a| a.quorum_port) {
            Ok(addr) => addr,
            Err(err) => {
                warn!(%err, "no quorum address");
                return TermEnd::Stop;
            }
        };
        let listener = match TcpListener::bind(quorum_addr).await {
            Ok(listener) => listener,
            Err(err) => {
                warn!(%quorum_addr, %err, "cannot listen for learners");
                return TermEnd::Reelect;
            }
        };
        let (stop_accepting, accept_stop_rx) = watch::channel(false);
        let first_link = self.next_link;
        self.next_link += 1 << 32; // this term's links take ids from a range of their own
        tokio::spawn(quorum_link::accept_learners(
            listener,
            self.limits,
            first_link,
            self.link_tx.clone(),
            accept_stop_rx,
        ));
        let history = match self.server.storage.log_tail(COMMIT_LOG_COUNT).await {
            Ok(history) => history,
            Err(err) => {
                warn!(%err, "cannot read the txn log");
                return TermEnd::Stop;
            }
        };
        let now = std::time::Instant::now();
        let mut leader = zab::Leader::new(self.zab_config.clone(), self.persisted(), history, now);
        self.server.core.set_role(Role::Leader);
        self.publish(PeerState::Leading, Some(self.zab_config.my_id));
        let mut links: HashMap<LinkId, LinkWriter> = HashMap::new();
        // Which server each link belongs to, from its FOLLOWERINFO/OBSERVERINFO (for test partitions).
        let mut link_sids: HashMap<LinkId, i64> = HashMap::new();
        let end = loop {
            if let Some(end) = self.drive_leader(&mut leader, &mut links) {
                break end;
            }
            if self.activate_committed_config() {
                break TermEnd::Reelect;
            }
            let learners = leader.learners();
            self.report_synced(&learners);
            let facts = LeaderFacts {
                learners: learners.len(),
                synced_followers: leader.synced_followers(),
                synced_non_voting_followers: 0,
                synced_observers: leader.synced_observers(),
                pending_syncs: leader.pending_syncs(),
            };
            self.report("leading", Some(leader.phase()), Some(facts));
            let timer = leader.poll_timeout().map(tokio::time::Instant::from_std);
            let now_std = std::time::Instant::now();
            match self.wait(timer).await {
                Wake::Stop => break TermEnd::Stop,
                Wake::Timer => {
                    leader.handle_timeout(now_std);
                    if self.serving {
                        self.server.core.tick(self.server.clock.now());
                    }
                }
                Wake::Log(LogEvent::Durable(zxid)) => leader.logged(zxid, now_std),
                Wake::Log(LogEvent::Failed(err)) => {
                    warn!(%err, "txn log failed");
                    break TermEnd::Stop;
                }
                Wake::Link(LinkEvent::Accepted { link, writer }) => {
                    links.insert(link, writer);
                    leader.link_up(link, now_std);
                }
                Wake::Link(LinkEvent::Received { link, inbound: Inbound::Packet(packet) }) => {
                    if let Some(sid) = learner_sid(&packet) {
                        link_sids.insert(link, sid);
                    }
                    if link_sids.get(&link).is_some_and(|sid| self.blocked.contains(sid)) {
                        if links.remove(&link).is_some() {
                            leader.link_down(link, now_std);
                        }
                    } else if links.contains_key(&link) {
                        leader.handle_packet(link, packet, now_std);
                    }
                }
                Wake::Link(LinkEvent::Received { link, inbound: Inbound::Snapshot(_) }) => {
                    links.remove(&link);
                    leader.link_down(link, now_std);
                }
                Wake::Link(LinkEvent::Closed { link }) => {
                    link_sids.remove(&link);
                    if links.remove(&link).is_some() {
                        leader.link_down(link, now_std);
                    }
                }
                Wake::Control(control) => {
                    self.common(Wake::Control(control));
                    let cut: Vec<LinkId> =
                        link_sids.iter().filter(|(_, sid)| self.blocked.contains(sid)).map(|(link, _)| *link).collect();
                    for link in cut {
                        link_sids.remove(&link);
                        if links.remove(&link).is_some() {
                            leader.link_down(link, now_std);
                        }
                    }
                }
                wake => self.common(wake),
            }
        };
        let _ = stop_accepting.send(true);
        end
    }

    /// Carries out what the leader and the core asked for, until neither has more. `Some` ends the term.
    fn drive_leader(&mut self, leader: &mut zab::Leader, links: &mut HashMap<LinkId, LinkWriter>) -> Option<TermEnd> {
        loop {
            let mut progressed = false;
            while let Some(output) = leader.poll_output() {
                progressed = true;
                let now = self.server.clock.now();
                match output {
                    LeaderOutput::Send { link, packet } => {
                        if let Some(writer) = links.get(&link) {
                            writer.send(&packet);
                        }
                    }
                    LeaderOutput::SendSnapshot { link, zxid } => {
                        let core = &self.server.core;
                        if core.tree().last_processed_zxid() != zxid {
                            warn!(
                                zxid,
                                at = core.tree().last_processed_zxid(),
                                "snapshot for a learner is not at the synced zxid"
                            );
                        }
                        match database::snap_sync_body(core.tree(), &core.sessions()) {
                            Ok(body) => {
                                if let Some(writer) = links.get(&link) {
                                    writer.send_raw(Bytes::from(body));
                                }
                            }
                            Err(err) => {
                                warn!(%err, "cannot serialize a snapshot for a learner");
                                links.remove(&link);
                            }
                        }
                    }
                    LeaderOutput::Close { link } => {
                        links.remove(&link);
                    }
                    LeaderOutput::PersistAcceptedEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_accepted_epoch(epoch) {
                            warn!(%err, "cannot persist acceptedEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LeaderOutput::PersistCurrentEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_current_epoch(epoch) {
                            warn!(%err, "cannot persist currentEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LeaderOutput::Established { epoch } => {
                        info!(epoch, "leading");
                        self.server.core.start_epoch(epoch);
                        self.serving = true;
                        self.publish(PeerState::Leading, Some(self.zab_config.my_id));
                    }
                    LeaderOutput::Commit(zxid) => {
                        while self.unapplied.front().is_some_and(|e| e.header.zxid <= zxid) {
                            self.unapplied.pop_front();
                        }
                        let before = self.server.core.stats().commits;
                        self.server.core.durable(zxid, now);
                        let core = &self.server.core;
                        self.server.storage.applied(core.stats().commits - before, core.tree(), || core.sessions());
                    }
                    LeaderOutput::Forwarded { link: _, session_id, cxid, op_code, body, authinfo } => {
                        self.server.core.remote_request(session_id, cxid, op_code, body, authinfo, now);
                    }
                    LeaderOutput::TouchSessions(sessions) => self.server.core.touch_sessions(&sessions, now),
                    LeaderOutput::Revalidate { link, session_id, timeout } => {
                        let valid = self.server.core.revalidate(session_id, timeout, now);
                        leader.revalidated(link, session_id, valid);
                    }
                    LeaderOutput::Shutdown { reason } => {
                        info!(%reason, "leader stepping down");
                        return Some(TermEnd::Reelect);
                    }
                }
            }
            let mut batch = Vec::new();
            while let Some(output) = self.server.core.poll_output() {
                progressed = true;
                match output {
                    Output::Persist(entry) => {
                        if let Err(err) = leader.propose(entry.clone(), std::time::Instant::now()) {
                            warn!(%err, "cannot propose; stepping down");
                            // What was proposed before it is logged, as `unapplied` says.
                            self.server.storage.append(batch);
                            return Some(TermEnd::Reelect);
                        }
                        self.unapplied.push_back(entry.clone());
                        batch.push(entry);
                    }
                    Output::Forward { .. } | Output::Revalidate { .. } => {
                        warn!("a leader's core asked to forward; ignored");
                    }
                }
            }
            self.server.storage.append(batch);
            if !progressed {
                return None;
            }
        }
    }
}

/// The server id a FOLLOWERINFO or OBSERVERINFO packet introduces.
fn learner_sid(packet: &zk_proto::QuorumPacket) -> Option<i64> {
    let info =
        packet.packet_type == PacketType::FollowerInfo.code() || packet.packet_type == PacketType::ObserverInfo.code();
    let mut data = packet.data.clone().filter(|_| info)?;
    LearnerInfo::decode(&mut data).ok().map(|i| i.server_id).or_else(|| {
        // A bare sid (older learners send only the 8-byte id).
        packet.data.as_ref().filter(|d| d.len() >= 8).map(|d| i64::from_be_bytes(d[..8].try_into().unwrap_or_default()))
    })
}
