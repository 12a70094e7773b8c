//! The safety checks of the simulation: epochs on disk, one established leader per epoch, committed
//! txns in every later leader's history, and serving states as prefixes of one chain.

use rand::RngExt;
use zk_proto::TxnEntry;
use zk_server::zab::make_zxid;

use super::{Sim, MS};

impl Sim {
    pub(super) fn persist_accepted(&mut self, i: usize, epoch: i64) {
        if epoch < self.nodes[i].disk.accepted {
            self.fail(&format!("acceptedEpoch of node {} goes back to {epoch}", i + 1));
        }
        self.nodes[i].disk.accepted = epoch;
    }

    pub(super) fn persist_current(&mut self, i: usize, epoch: i64) {
        let disk = &self.nodes[i].disk;
        if epoch < disk.current || epoch > disk.accepted {
            self.fail(&format!(
                "currentEpoch {epoch} of node {} (was {}, accepted {})",
                i + 1,
                disk.current,
                disk.accepted
            ));
        }
        self.nodes[i].disk.current = epoch;
    }

    pub(super) fn established(&mut self, i: usize, epoch: i64) {
        let sid = self.nodes[i].id;
        if let Some((other, _)) = self.established.insert(epoch, (sid, self.nodes[i].state.clone())) {
            self.fail(&format!("epoch {epoch} established by {other} and then by {sid}"));
        }
        self.stats.established += 1;
        self.log(|| format!("node {sid} established epoch {epoch}"));
        // Zab: a txn committed in an earlier epoch is in the initial history of every later leader.
        for entry in self.acked.range(..make_zxid(epoch, 0)).map(|(_, e)| e) {
            self.check_in_leader(epoch, entry);
        }
        // Its whole initial history is committed from now on (Zab's "established" history).
        let history: Vec<TxnEntry> = self.nodes[i].state.clone();
        for entry in history {
            let later: Vec<i64> = self.established.range(epoch + 1..).map(|(e, _)| *e).collect();
            for e in later {
                self.check_in_leader(e, &entry);
            }
            self.acked.insert(entry.header.zxid, entry);
        }
        self.nodes[i].serving = true;
        self.nodes[i].verified = 0;
        // Fault trigger: a correlated crash of the new leader and another node right after it
        // established, while the learners' sync data may still be in flight to their disks.
        if self.now < self.fault_end && self.rng.random_bool(0.25) {
            let n = self.nodes.len();
            let other = (i + self.rng.random_range(1..n)) % n;
            for node in [i, other] {
                let at = self.now + self.rng.random_range(0..=30 * MS);
                self.planned_crashes.push((at, node));
            }
        }
    }

    pub(super) fn check_in_leader(&self, epoch: i64, entry: &TxnEntry) {
        let Some((sid, state)) = self.established.get(&epoch) else { return };
        let zxid = entry.header.zxid;
        let found = state.binary_search_by_key(&zxid, |e| e.header.zxid).ok().map(|at| &state[at]);
        if found != Some(entry) {
            self.fail(&format!("leader {sid} of epoch {epoch} lacks committed txn {zxid:#x}"));
        }
    }

    /// Every serving node's applied state is a prefix of the chain (or extends it).
    pub(super) fn check_chain(&mut self) {
        for i in 0..self.nodes.len() {
            let node = &self.nodes[i];
            if !node.serving || node.verified == node.state.len() {
                continue;
            }
            for k in node.verified..node.state.len() {
                if k < self.chain.len() {
                    if node.state[k] != self.chain[k] {
                        self.fail(&format!(
                            "node {} applied {:#x} at position {k} where another applied {:#x}",
                            node.id, node.state[k].header.zxid, self.chain[k].header.zxid
                        ));
                    }
                } else {
                    self.chain.push(node.state[k].clone());
                }
            }
            self.nodes[i].verified = self.nodes[i].state.len();
        }
    }
}
