//! Activating a committed reconfig, in this first version's simple way.
//!
//! ZooKeeper activates a new membership without an election: the leader sends COMMITANDACTIVATE
//! (INFORMANDACTIVATE to observers) and every server switches its `QuorumVerifier` in place, keeping
//! the leader when it stays a voter (`QuorumPeer.processReconfig`). Here a committed reconfig **ends the
//! term** instead: the server that applies it writes the dynamic config file, switches its
//! `QuorumConfig`, verifier, election and Zab settings and election peers to the new membership, and
//! goes back to election, where the new voters elect a leader. Clients reconnect, as after any election.
//! The same happens when a reconfig txn reaches a server by other means (a reload of its log, a
//! snapshot from the leader): the committed `/zookeeper/config` of the tree wins over an older config.
//! And a LOOKING server that missed a reconfig altogether (it was down) adopts the newer config that
//! election notifications carry, as ZooKeeper's `WorkerReceiver` does, and starts its election over.
//!
//! A server that the new membership no longer holds stops being a member: it stays up (a removed
//! ZooKeeper server keeps running too), refuses clients and votes in no election, but still listens on
//! its election port: when a later reconfig adds it again, the members' election notifications carry
//! that config, and it rejoins. (ZooKeeper goes further and lets a removed server follow the leader as
//! a non-voting follower, serving clients; here a removed server serves no one, which is the less
//! surprising outcome of removing it.)

use std::collections::HashMap;

use bytes::Bytes;
use tracing::{info, warn};

use super::{member_addr, PeerState, QuorumPeer, Wake};
use crate::config::{dynamic_file_path, dynamic_file_text, QuorumConfig};
use crate::election::{ElectionConfig, FastLeaderElection, QuorumVerifier};
use crate::zab::{LearnerKind, LearnerSummary, ZabPhase};
use zk_proto::Notification;

impl QuorumPeer {
    /// Writes the membership this server runs into the core (`/zookeeper/config`), and activates a
    /// newer one the core found committed in its tree. At start and after every reload.
    pub(super) fn refresh_membership(&mut self) {
        let now = self.server.clock.now();
        let config = self.server.config.quorum.clone();
        self.server.core.set_membership(config, self.server.config.standalone_enabled, now);
        if let Some(newer) = self.server.core.take_activated_config() {
            self.activate(newer);
        }
    }

    /// After the term's state machines ran: whether a reconfig committed, in which case this server
    /// switched to it and the caller ends the term (this design's activation, see the module docs).
    pub(super) fn activate_committed_config(&mut self) -> bool {
        match self.server.core.take_activated_config() {
            Some(config) => {
                self.activate(config);
                true
            }
            None => false,
        }
    }

    /// Leader: tells the core which servers count for a reconfig's synced quorum: this one and the
    /// followers in broadcast (`Leader.isQuorumSynced`, `LearnerHandler.synced()`).
    pub(super) fn report_synced(&mut self, learners: &[LearnerSummary]) {
        let synced = learners
            .iter()
            .filter(|l| l.kind == LearnerKind::Follower && l.phase == ZabPhase::Broadcast)
            .filter_map(|l| l.sid)
            .chain(std::iter::once(self.zab_config.my_id))
            .collect();
        self.server.core.set_synced_voters(synced);
    }

    /// Switches to the committed membership `config` (see the module docs); the caller ends the term.
    pub(super) fn activate(&mut self, config: QuorumConfig) {
        let my_id = self.zab_config.my_id;
        info!(
            version = format_args!("{:x}", config.version),
            members = config.servers.len(),
            "activating a new config"
        );
        let server_config = &self.server.config;
        let path = dynamic_file_path(server_config.dynamic_config_file.as_deref(), &server_config.data_dir, &config);
        match crate::persist::write_atomic(&path, dynamic_file_text(&config).as_bytes()) {
            Ok(()) => info!(path = %path.display(), "dynamic config file written"),
            Err(err) => warn!(path = %path.display(), %err, "cannot write the dynamic config file"),
        }
        let verifier = QuorumVerifier::from_config(&config);
        self.zab_config.verifier = verifier.clone();
        self.zab_config.config_text = Bytes::from(config.config_string());
        self.fle = FastLeaderElection::new(ElectionConfig::new(my_id, verifier, config.config_string()));
        let peers: HashMap<_, _> = match config.servers.get(&my_id) {
            Some(me) => {
                self.me = me.clone();
                config
                    .servers
                    .values()
                    .filter(|s| s.id != my_id)
                    .filter_map(|s| member_addr(s, |a| a.election_port).ok().map(|addr| (s.id, addr)))
                    .collect()
            }
            None => HashMap::new(),
        };
        self.election.set_peers(peers);
        self.server.config.quorum = config.clone();
        let now = self.server.clock.now();
        self.server.core.set_membership(config, self.server.config.standalone_enabled, now);
    }

    /// While LOOKING, a notification whose config is newer than ours (a reconfig this server missed,
    /// e.g. while it was down) is adopted, as ZooKeeper's `FastLeaderElection.Messenger.WorkerReceiver`
    /// does (`processReconfig`, then the election restarts). Returns whether it was; the caller starts
    /// the election again.
    pub(super) fn adopt_config_of(&mut self, from: i64, n: &Notification) -> bool {
        let Some(text) = n.config.as_ref().and_then(|c| std::str::from_utf8(c).ok()) else { return false };
        let Ok(config) = QuorumConfig::from_config_text(text, true) else { return false };
        if config.version <= self.server.config.quorum.version {
            return false;
        }
        info!(from, version = format_args!("{:x}", config.version), "newer config in an election notification");
        self.activate(config);
        true
    }

    /// Whether the membership this server runs still holds it.
    pub(super) fn is_member(&self) -> bool {
        self.server.config.quorum.servers.contains_key(&self.zab_config.my_id)
    }

    /// A removed server: no elections, no clients (see the module docs), until a reconfig adds it
    /// again (returns true: the members' election notifications carry the config that holds it) or
    /// shutdown (returns false).
    pub(super) async fn stay_removed(&mut self) -> bool {
        info!("no longer in the ensemble's config; not taking part");
        self.serving = false;
        self.publish(PeerState::Looking, None);
        self.report("removed", None, None);
        loop {
            match self.wait(None).await {
                Wake::Stop => return false,
                Wake::Election(from, n) => {
                    if self.adopt_config_of(from, &n) && self.is_member() {
                        info!("added to the ensemble again");
                        return true;
                    }
                }
                wake => self.common(wake),
            }
        }
    }
}
