//! The actors around Zab in the simulation: the leader's core (proposals), clients on learners
//! (forwarded writes and syncs), the election stand-in and the fault injector.

use std::collections::BTreeSet;

use bytes::Bytes;
use rand::RngExt;
use zk_proto::{OpCode, SetDataTxn, TxnBody, TxnEntry, TxnHeader};
use zk_server::zab::{Leader, Learner, LearnerKind, PersistedState, ZabConfig, ZabError, ZabPhase};

use super::{Link, Msg, Role, Sim, COMMIT_LOG_COUNT, LEADER_END, LEARNER_END, MS};

impl Sim {
    pub(super) fn propose_round(&mut self) {
        for i in 0..self.nodes.len() {
            let (leading, learning) = match &self.nodes[i].role {
                Role::Leading(l) => (l.phase() == ZabPhase::Broadcast && !l.is_shut_down(), false),
                Role::Learning { learner, .. } => (false, learner.phase() == ZabPhase::Broadcast),
                _ => (false, false),
            };
            if leading && self.rng.random_bool(0.7) {
                self.propose_on(i);
            } else if learning && self.rng.random_bool(0.15) {
                let op = if self.rng.random_bool(0.5) { OpCode::Sync } else { OpCode::SetData };
                if op == OpCode::Sync {
                    self.nodes[i].syncs_asked += 1;
                }
                if let Role::Learning { learner, .. } = &mut self.nodes[i].role {
                    learner.touch(0x100 + i as i64, 4000);
                    learner.forward(0x100 + i as i64, 1, op.code(), Bytes::from_static(b"req"), Vec::new());
                }
                self.drain(i);
            }
        }
    }

    pub(super) fn propose_on(&mut self, i: usize) {
        let now = self.instant();
        let Role::Leading(leader) = &mut self.nodes[i].role else { return };
        if leader.phase() != ZabPhase::Broadcast || leader.is_shut_down() {
            return;
        }
        let zxid = leader.last_proposed() + 1;
        let mut data = [0u8; 8];
        self.rng.fill(&mut data[..]);
        let entry = TxnEntry {
            header: TxnHeader {
                client_id: self.rng.random_range(1..1000),
                cxid: self.rng.random_range(0..1000),
                zxid,
                time: (self.now / MS) as i64,
                op_code: OpCode::SetData.code(),
            },
            body: TxnBody::SetData(SetDataTxn {
                path: "/sim".into(),
                data: Some(Bytes::copy_from_slice(&data)),
                version: 1,
            }),
            digest: None,
        };
        match leader.propose(entry.clone(), now) {
            Ok(()) => self.append(i, entry),
            Err(ZabError::ZxidRollover(_)) => {}
            Err(e) => self.fail(&format!("propose refused: {e}")),
        }
        self.drain(i);
    }

    pub(super) fn election_round(&mut self) {
        let partitions: BTreeSet<u8> = self.nodes.iter().map(|n| n.partition).collect();
        for p in partitions {
            let members: Vec<usize> = (0..self.nodes.len()).filter(|i| self.nodes[*i].partition == p).collect();
            let leaders: Vec<usize> = members
                .iter()
                .copied()
                .filter(|i| matches!(&self.nodes[*i].role, Role::Leading(l) if !l.is_shut_down()))
                .collect();
            let looking: Vec<usize> = members
                .iter()
                .copied()
                .filter(|i| matches!(self.nodes[*i].role, Role::Looking { since } if self.now >= since + 50 * MS))
                .collect();
            if looking.is_empty() {
                continue;
            }
            if !leaders.is_empty() {
                for i in looking {
                    let leader = leaders[self.rng.random_range(0..leaders.len())];
                    self.become_learner(i, leader);
                }
                continue;
            }
            let voters: BTreeSet<i64> =
                looking.iter().filter(|i| self.nodes[**i].voter).map(|i| self.nodes[*i].id).collect();
            if !self.config.verifier.contains_quorum(&voters) {
                continue;
            }
            // FLE elects the best (currentEpoch, lastLoggedZxid, sid) among the voters that elect.
            let Some(winner) = looking
                .iter()
                .copied()
                .filter(|i| self.nodes[*i].voter)
                .max_by_key(|i| (self.nodes[*i].disk.current, self.nodes[*i].disk.last_zxid(), self.nodes[*i].id))
            else {
                continue;
            };
            self.become_leader(winner);
            for i in looking {
                if i != winner {
                    self.become_learner(i, winner);
                }
            }
        }
    }

    fn persisted(&self, i: usize) -> PersistedState {
        let disk = &self.nodes[i].disk;
        PersistedState {
            accepted_epoch: disk.accepted,
            current_epoch: disk.current,
            last_logged_zxid: disk.last_zxid(),
        }
    }

    fn config_for(&self, i: usize) -> ZabConfig {
        ZabConfig { my_id: self.nodes[i].id, ..self.config.clone() }
    }

    fn become_leader(&mut self, i: usize) {
        self.log(|| format!("node {} leads", i + 1));
        let state = self.persisted(i);
        let node = &mut self.nodes[i];
        node.state = node.disk.txns.clone();
        node.verified = 0;
        node.serving = false;
        let skip = node.disk.txns.len().saturating_sub(2 * COMMIT_LOG_COUNT);
        let history = node.disk.txns[skip..].to_vec();
        let leader = Leader::new(self.config_for(i), state, history, self.instant());
        self.nodes[i].role = Role::Leading(Box::new(leader));
        self.drain(i);
    }

    fn become_learner(&mut self, i: usize, leader: usize) {
        let kind = if self.nodes[i].voter { LearnerKind::Follower } else { LearnerKind::Observer };
        let id = self.next_link;
        self.next_link += 1;
        self.log(|| format!("node {} learns from node {} on link {id}", i + 1, leader + 1));
        self.links.insert(id, Link::new(leader, i));
        let learner = Learner::new(self.config_for(i), self.nodes[leader].id, kind, self.persisted(i), self.instant());
        let node = &mut self.nodes[i];
        node.state = node.disk.txns.clone();
        node.verified = 0;
        node.serving = false;
        node.role = Role::Learning { learner: Box::new(learner), link: id };
        self.send(id, LEARNER_END, Msg::Connect);
    }

    pub(super) fn inject_fault(&mut self) {
        let n = self.nodes.len();
        match self.rng.random_range(0..100) {
            0..30 => {
                let ids: Vec<u64> =
                    self.links.iter().filter(|(_, l)| l.ends.iter().all(|e| *e)).map(|(id, _)| *id).collect();
                if !ids.is_empty() {
                    let id = ids[self.rng.random_range(0..ids.len())];
                    self.abort(id);
                }
            }
            30..45 => {
                for i in 0..n {
                    self.nodes[i].partition = self.rng.random_range(0..2);
                }
                self.log(|| format!("partition {:?}", self.nodes.iter().map(|n| n.partition).collect::<Vec<_>>()));
            }
            45..60 => {
                self.log(|| "partitions heal".into());
                self.nodes.iter_mut().for_each(|n| n.partition = 0);
            }
            60..72 => {
                let i = self.rng.random_range(0..n);
                if !matches!(self.nodes[i].role, Role::Down) {
                    self.crash(i);
                }
            }
            72..80 => {
                // A correlated failure (one rack loses power): two nodes at once.
                let a = self.rng.random_range(0..n);
                let b = (a + self.rng.random_range(1..n)) % n;
                for i in [a, b] {
                    if !matches!(self.nodes[i].role, Role::Down) {
                        self.crash(i);
                    }
                }
            }
            _ => {}
        }
    }

    /// The node's process dies: volatile state and the non-durable log tail are lost. Its connections
    /// are reset (the peer notices at once) or go silent (the peer times out).
    pub(super) fn crash(&mut self, i: usize) {
        self.log(|| format!("node {} crashes", i + 1));
        let mine: Vec<(u64, usize)> = self
            .links
            .iter()
            .flat_map(|(id, l)| {
                [LEADER_END, LEARNER_END].into_iter().filter(|e| l.node(*e) == i && l.ends[*e]).map(|e| (*id, e))
            })
            .collect();
        let node = &mut self.nodes[i];
        node.role = Role::Down;
        node.disk.txns.truncate(node.disk.durable);
        node.state.clear();
        node.flush_due = None;
        node.serving = false;
        node.verified = 0;
        node.restart_at = Some(self.now + self.rng.random_range(100 * MS..=2_000 * MS));
        for (id, end) in mine {
            if let Some(l) = self.links.get_mut(&id) {
                l.ends[end] = false;
                l.queues[end].clear();
            }
            if self.rng.random_bool(0.5) {
                self.abort(id);
            }
        }
    }

    /// One leader in broadcast, every other live node its learner in broadcast, all states equal.
    pub(super) fn settled(&self) -> bool {
        let leaders: Vec<&Leader> = self
            .nodes
            .iter()
            .filter_map(|n| match &n.role {
                Role::Leading(l) if l.phase() == ZabPhase::Broadcast && !l.is_shut_down() => Some(&**l),
                _ => None,
            })
            .collect();
        let [leader] = leaders[..] else { return false };
        if leader.outstanding_proposals() != 0 {
            return false;
        }
        let leader_node = self.nodes.iter().find(|n| matches!(&n.role, Role::Leading(l) if std::ptr::eq(&**l, leader)));
        let Some(leader_node) = leader_node else { return false };
        self.nodes.iter().all(|n| {
            let synced = match &n.role {
                Role::Leading(_) => true,
                Role::Learning { learner, .. } => {
                    learner.phase() == ZabPhase::Broadcast && learner.leader_id() == leader_node.id
                }
                _ => false,
            };
            synced
                && n.serving
                && n.state.len() == leader_node.state.len()
                && n.state.last() == leader_node.state.last()
        })
    }
}
