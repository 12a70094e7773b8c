//! `reconfig` preparation, as the `OpCode.reconfig` case of ZooKeeper's
//! `PrepRequestProcessor.pRequest2Txn`: compute the next membership from the last committed one
//! (incrementally from joining/leaving servers, or wholesale from `newMembers`), check it, and turn the
//! request into the txn every ZooKeeper writes for it: a `SetDataTxn` of `/zookeeper/config` holding the
//! new config string, whose `version=` is the reconfig txn's own zxid, with data version -1.
//!
//! The checks run in ZooKeeper's order, and fail with its error codes:
//! `reconfigEnabled` (`ReconfigDisabled`), an ensemble at all (`Unimplemented` standalone), no other
//! reconfig in flight (`ReconfigInProgress`), `curConfigId` (-1 = any, else the current version:
//! `BadVersion`), a well-formed membership (`BadArguments`; a server id that is not a number is Java's
//! `NumberFormatException`, which ZooKeeper answers `MarshallingError`), at least two voters with
//! `standaloneEnabled` (one without) (`BadArguments`), a synced quorum of the new voters
//! (`Leader.isQuorumSynced`: the leader and its synced followers; `NewConfigNoQuorum`), and last WRITE
//! permission on `/zookeeper/config`, whose ACL is world-read-only, so that only the super user passes
//! unless `skipACL` is set (`NoAuth`).

use std::collections::BTreeSet;

use bytes::Bytes;
use zk_proto::{ErrorCode, OpCode, ReconfigRequest, SetDataTxn, TxnBody};

use super::{check, PrepContext, Prepared};
use crate::config::{QuorumConfig, QuorumServer};
use crate::election::QuorumVerifier;
use crate::tree::{DataTree, NodeRead, CONFIG_PATH};

/// What preparing a `reconfig` needs to know of the ensemble; only a leader has it (ZooKeeper's
/// `LeaderZooKeeperServer`, `QuorumPeer.getLastSeenQuorumVerifier`, `Leader.isQuorumSynced`).
#[derive(Debug, Clone, Copy)]
pub struct ReconfigContext<'a> {
    /// The last committed membership (`getQuorumVerifier`).
    pub current: &'a QuorumConfig,
    /// Whether a reconfig txn is proposed but not yet committed (`lastSeenQV != QV`).
    pub in_progress: bool,
    /// The leader and the followers that completed their sync (`LearnerHandler.synced()`).
    pub synced: &'a BTreeSet<i64>,
    /// The zxid the txn gets: the new config's version.
    pub zxid: i64,
    /// `standaloneEnabled`: a new config needs two voters instead of one.
    pub standalone_enabled: bool,
}

/// A prepared `reconfig`: the txn and the membership it commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedReconfig {
    /// The `SetDataTxn` of `/zookeeper/config` (txn type `reconfig`).
    pub prepared: Prepared,
    /// The new membership, versioned with the txn's zxid.
    pub config: QuorumConfig,
}

/// Prepares `request` (see the module docs). `ensemble` is `None` on a server that is not leading.
pub fn reconfig<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    ensemble: Option<&ReconfigContext<'_>>,
    request: &ReconfigRequest,
) -> Result<PreparedReconfig, ErrorCode> {
    if !ctx.reconfig_enabled {
        return Err(ErrorCode::ReconfigDisabled);
    }
    if ctx.auth.skip_acl {
        tracing::warn!("skipACL is set, reconfig operation will skip ACL checks");
    }
    // Standalone: "reconfiguration currently not supported".
    let ensemble = ensemble.ok_or(ErrorCode::Unimplemented)?;
    if ensemble.in_progress {
        return Err(ErrorCode::ReconfigInProgress);
    }
    let current = ensemble.current;
    if request.cur_config_id != -1 && request.cur_config_id != current.version {
        return Err(ErrorCode::BadVersion);
    }
    let mut next = match &request.new_members {
        Some(members) => non_incremental(members)?,
        None => incremental(current, request.joining_servers.as_deref(), request.leaving_servers.as_deref())?,
    };
    next.version = ensemble.zxid;
    let voters = next.voting_members().count();
    if (ensemble.standalone_enabled && voters < 2) || voters < 1 {
        tracing::warn!(voters, "reconfig failed - too few voters in the new configuration");
        return Err(ErrorCode::BadArguments);
    }
    let verifier = QuorumVerifier::from_config(&next);
    let synced: BTreeSet<i64> = ensemble.synced.iter().copied().filter(|sid| verifier.is_voter(*sid)).collect();
    if !verifier.contains_quorum(&synced) {
        tracing::warn!("reconfig failed - there must be a connected and synced quorum in new configuration");
        return Err(ErrorCode::NewConfigNoQuorum);
    }
    check(tree, ctx, CONFIG_PATH, zk_proto::perms::WRITE)?;
    let txn = SetDataTxn { path: CONFIG_PATH.to_owned(), data: Some(Bytes::from(next.config_string())), version: -1 };
    Ok(PreparedReconfig { prepared: Prepared::new(OpCode::Reconfig, TxnBody::SetData(txn)), config: next })
}

/// `newMembers`: commas or newlines between entries, parsed as a dynamic config file
/// (`QuorumPeerConfig.parseDynamicConfig`).
fn non_incremental(members: &str) -> Result<QuorumConfig, ErrorCode> {
    let text = members.replace(',', "\n");
    QuorumConfig::from_config_text(&text, false).map_err(|err| {
        tracing::info!(%err, "reconfig: malformed new membership");
        ErrorCode::BadArguments
    })
}

/// Joining `server.N=spec` entries and leaving ids applied to the current majority membership.
fn incremental(
    current: &QuorumConfig,
    joining: Option<&str>,
    leaving: Option<&str>,
) -> Result<QuorumConfig, ErrorCode> {
    if current.hierarchical {
        tracing::warn!("incremental reconfiguration requested but the configuration is hierarchical");
        return Err(ErrorCode::BadArguments);
    }
    let mut servers = current.servers.clone();
    for id in leaving.map(split).unwrap_or_default() {
        // `Long.parseLong` throws outside the KeeperException handling: a marshalling error.
        let id: i64 = id.parse().map_err(|_| ErrorCode::MarshallingError)?;
        servers.remove(&id);
    }
    for joiner in joining.map(split).unwrap_or_default() {
        let parts: Vec<&str> = joiner.split('=').map(str::trim).filter(|p| !p.is_empty()).collect();
        let [key, spec] = parts[..] else { return Err(ErrorCode::BadArguments) };
        let id_text = key.rsplit_once('.').map_or(key, |(_, id)| id);
        let id: i64 = id_text.parse().map_err(|_| ErrorCode::MarshallingError)?;
        let server = QuorumServer::parse(id, spec, false).map_err(|err| {
            tracing::info!(%err, "reconfig: malformed server spec");
            ErrorCode::BadArguments
        })?;
        // "each server should have at least 3 ports specified"
        if server.client_address.is_none() {
            return Err(ErrorCode::BadArguments);
        }
        if servers.values().any(|other| other.id != id && shares_address(&server, other)) {
            return Err(ErrorCode::BadArguments);
        }
        servers.insert(id, server);
    }
    Ok(QuorumConfig { servers, ..QuorumConfig::default() })
}

/// `StringUtils.split`: trimmed, non-empty parts.
fn split(s: &str) -> Vec<&str> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// `QuorumServer.checkAddressDuplicate`: two servers may not share a quorum or election address.
fn shares_address(a: &QuorumServer, b: &QuorumServer) -> bool {
    let ends = |s: &QuorumServer| -> Vec<(String, u16)> {
        s.addresses
            .iter()
            .flat_map(|addr| [(addr.host.clone(), addr.quorum_port), (addr.host.clone(), addr.election_port)])
            .collect()
    };
    let theirs = ends(b);
    ends(a).iter().any(|end| theirs.contains(end))
}
