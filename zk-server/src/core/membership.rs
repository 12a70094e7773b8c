//! The ensemble's membership as the core sees it: what `/zookeeper/config` holds, what a `reconfig`
//! is checked against, and the new membership a committed reconfig activates.
//!
//! ZooKeeper writes the last committed config into `/zookeeper/config` whenever it (re)loads its
//! database (`ZKDatabase.initConfigInZKDatabase`: data = the config string, data version -1, mzxid = the
//! config's version) and activates a committed reconfig without a new election (COMMITANDACTIVATE,
//! `QuorumPeer.processReconfig`). This core only reports the activation
//! ([`ServerCore::take_activated_config`]); its driver carries it out by ending the term and electing
//! again under the new membership (see `runtime::quorum_peer`).

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;
use tracing::{info, warn};
use zk_proto::OpCode;

use super::{InFlight, Now, Role, ServerCore};
use crate::config::QuorumConfig;
use crate::prep::ReconfigContext;
use crate::tree::CONFIG_PATH;

/// The core's view of the ensemble's membership (`None` standalone).
#[derive(Debug, Clone, Default)]
pub(super) struct Membership {
    /// The last committed config (`QuorumPeer.getQuorumVerifier`).
    config: QuorumConfig,
    /// `standaloneEnabled`.
    standalone_enabled: bool,
    /// Leader: itself and the followers in broadcast (`Leader.isQuorumSynced`).
    synced: BTreeSet<i64>,
    /// A committed config newer than the one the driver runs, not yet taken.
    activated: Option<QuorumConfig>,
}

impl ServerCore {
    /// Sets the membership this server runs (at start and after each reload, as ZooKeeper calls
    /// `initConfigInZKDatabase`) and writes it into `/zookeeper/config`. If the tree already holds a
    /// newer committed config (a reconfig txn in the log that this server had not activated yet), that
    /// one wins: it is kept in the tree and reported by [`Self::take_activated_config`].
    pub fn set_membership(&mut self, config: QuorumConfig, standalone_enabled: bool, now: Now) {
        let membership = self.membership.get_or_insert_with(Membership::default);
        membership.standalone_enabled = standalone_enabled;
        membership.config = config;
        if self.note_tree_config() {
            return;
        }
        let Some(membership) = &self.membership else { return };
        let data = Bytes::from(membership.config.config_string());
        if self.tree.get(CONFIG_PATH).and_then(|node| node.data()) == Some(&data) {
            return;
        }
        let version = membership.config.version;
        let written = self.tree.set_data(CONFIG_PATH, Some(&data), -1, version, now.wall_ms, &mut Vec::new());
        if let Err(err) = written {
            warn!(%err, "cannot write /zookeeper/config");
        }
        if self.in_flight.is_empty() {
            self.spec.reset();
        } else {
            // The speculative tree gets the same change, pending until every txn in flight commits.
            self.spec.begin(self.last_zxid);
            self.spec.with(&self.tree, |tree| {
                let _ = tree.set_data(CONFIG_PATH, Some(&data), -1, version, now.wall_ms, &mut Vec::new());
            });
        }
    }

    /// The last committed membership (`None` standalone).
    pub fn membership(&self) -> Option<&QuorumConfig> {
        self.membership.as_ref().map(|m| &m.config)
    }

    /// Leader: the servers that count for a reconfig's synced quorum (`Leader.isQuorumSynced`): this
    /// server and the followers whose sync completed. The driver keeps it current.
    pub fn set_synced_voters(&mut self, synced: BTreeSet<i64>) {
        if let Some(membership) = &mut self.membership {
            membership.synced = synced;
        }
    }

    /// A committed reconfig's new membership, once: the driver must switch to it (ZooKeeper's
    /// `QuorumPeer.processReconfig`). It is already the core's [`Self::membership`].
    pub fn take_activated_config(&mut self) -> Option<QuorumConfig> {
        self.membership.as_mut()?.activated.take()
    }

    /// What preparing a `reconfig` checks against (only while leading an ensemble).
    ///
    /// An associated function over the fields it reads, so preparation can borrow the speculative tree
    /// mutably beside it.
    pub(super) fn reconfig_context<'a>(
        membership: &'a Option<Membership>,
        role: Role,
        in_flight: &VecDeque<InFlight>,
        last_zxid: i64,
    ) -> Option<ReconfigContext<'a>> {
        let membership = membership.as_ref().filter(|_| role == Role::Leader)?;
        Some(ReconfigContext {
            current: &membership.config,
            in_progress: in_flight.iter().any(|f| f.entry.header.op_code == OpCode::Reconfig.code()),
            synced: &membership.synced,
            zxid: last_zxid + 1,
            standalone_enabled: membership.standalone_enabled,
        })
    }

    /// Adopts the committed tree's `/zookeeper/config` when it is newer than the membership (after a
    /// reconfig txn is applied, or a tree is loaded). Returns whether it did.
    pub(super) fn note_tree_config(&mut self) -> bool {
        let Some(membership) = &mut self.membership else { return false };
        let Some(data) = self.tree.get(CONFIG_PATH).and_then(|node| node.data()) else { return false };
        let Ok(text) = std::str::from_utf8(data) else { return false };
        let committed = match QuorumConfig::from_config_text(text, true) {
            Ok(committed) => committed,
            Err(err) => {
                warn!(%err, "/zookeeper/config does not hold a config; ignored");
                return false;
            }
        };
        if committed.version <= membership.config.version {
            return false;
        }
        info!(
            from = format_args!("{:x}", membership.config.version),
            to = format_args!("{:x}", committed.version),
            "reconfig committed"
        );
        membership.config = committed.clone();
        membership.activated = Some(committed);
        true
    }
}
