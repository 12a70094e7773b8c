//! Request preparation, as ZooKeeper's `PrepRequestProcessor`: validate a write, check its ACL, and turn
//! it into a txn, against the tree as it will be once every earlier write has been applied (the
//! server keeps a speculative tree for that, so pipelined writes see each other).
//!
//! A write that fails here still becomes a txn (an `ErrorTxn` with its own zxid), exactly as in
//! ZooKeeper; that keeps replies in order behind earlier writes and zxids identical to Apache's.

mod create;
mod multi;
mod reconfig;
#[cfg(test)]
mod reconfig_tests;

use zk_proto::{
    CheckVersionTxn, CloseSessionTxn, CreateSessionTxn, DeleteTxn, ErrorCode, Id, NodeKind, OpCode, Request, SetAclTxn,
    SetDataTxn, TxnBody,
};

use crate::acl::AuthConfig;
use crate::tree::{path, DataTree, Node, NodeRead, CONFIG_PATH, QUOTA_PATH, ZOOKEEPER_PATH};

pub use multi::prepare_multi;
pub use reconfig::{reconfig, PreparedReconfig, ReconfigContext};

/// Who is asking, and the server settings preparation depends on.
#[derive(Debug, Clone, Copy)]
pub struct PrepContext<'a> {
    /// Registered auth providers and ACL settings.
    pub auth: &'a AuthConfig,
    /// The ids the connection has authenticated as.
    pub ids: &'a [Id],
    /// The requesting session.
    pub session_id: i64,
    /// Whether TTL nodes are allowed (`zookeeper.extendedTypesEnabled`).
    pub extended_types: bool,
    /// Whether `reconfig` is allowed (`reconfigEnabled`).
    pub reconfig_enabled: bool,
    /// Whether hard quotas refuse creates and setData (`zookeeper.enforceQuota`).
    pub enforce_quota: bool,
    /// What a `reconfig` is checked against: set on a leader, `None` elsewhere (a standalone server
    /// answers `Unimplemented`, as ZooKeeper's).
    pub ensemble: Option<ReconfigContext<'a>>,
}

/// A txn body and the type its header carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The txn type (the request's opcode for successful ops).
    pub op_code: OpCode,
    /// The txn body.
    pub body: TxnBody,
}

impl Prepared {
    fn new(op_code: OpCode, body: TxnBody) -> Prepared {
        Prepared { op_code, body }
    }
}

/// Prepares any write request against `tree`: a `multi` with [`prepare_multi`] (its txn will carry
/// `zxid` and `time`), anything else with [`prepare`].
pub fn prepare_request<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    zxid: i64,
    time: i64,
    request: &Request,
) -> Result<Prepared, ErrorCode> {
    match request {
        Request::Multi(multi) => prepare_multi(tree, ctx, zxid, time, multi),
        request => prepare(tree, ctx, request),
    }
}

/// Prepares one write request (anything but `multi`, see [`prepare_multi`]) against `tree`.
pub fn prepare<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    request: &Request,
) -> Result<Prepared, ErrorCode> {
    match request {
        Request::Create(r) => create::create(tree, ctx, OpCode::Create, r),
        Request::Create2(r) => create::create(tree, ctx, OpCode::Create2, r),
        Request::CreateContainer(r) => create::create(tree, ctx, OpCode::CreateContainer, r),
        Request::CreateTtl(r) => create::create_ttl(tree, ctx, r),
        Request::Delete(r) => delete(tree, ctx, &r.path, r.version),
        Request::DeleteContainer(r) => delete_container(tree, &r.path),
        Request::SetData(r) => {
            path::validate_path(&r.path)?;
            let node = node(tree, &r.path)?;
            check(tree, ctx, &r.path, zk_proto::perms::WRITE)?;
            if ctx.enforce_quota {
                let old = node.data().map_or(0, |d| d.len()) as i64;
                let new = r.data.as_ref().map_or(0, |d| d.len()) as i64;
                tree.check_quota(&r.path, new - old, 0)?;
            }
            let version = next_version(node.stat_persisted().version, r.version)?;
            let txn = SetDataTxn { path: r.path.clone(), data: r.data.clone(), version };
            Ok(Prepared::new(OpCode::SetData, TxnBody::SetData(txn)))
        }
        Request::SetAcl(r) => {
            path::validate_path(&r.path)?;
            let acl = ctx.auth.fix_acl(&r.acl, ctx.ids)?;
            let node = node(tree, &r.path)?;
            check(tree, ctx, &r.path, zk_proto::perms::ADMIN)?;
            let version = next_version(node.stat_persisted().aversion, r.version)?;
            Ok(Prepared::new(OpCode::SetAcl, TxnBody::SetAcl(SetAclTxn { path: r.path.clone(), acl, version })))
        }
        Request::Check(r) => {
            path::validate_path(&r.path)?;
            let node = node(tree, &r.path)?;
            check(tree, ctx, &r.path, zk_proto::perms::READ)?;
            let version = next_version(node.stat_persisted().version, r.version)?;
            Ok(Prepared::new(OpCode::Check, TxnBody::Check(CheckVersionTxn { path: r.path.clone(), version })))
        }
        Request::CloseSession => Ok(close_session(tree, ctx.session_id)),
        Request::Reconfig(r) => reconfig::reconfig(tree, ctx, ctx.ensemble.as_ref(), r).map(|p| p.prepared),
        other => {
            tracing::warn!(op = %other.op_code(), "not a write request");
            Err(ErrorCode::BadArguments)
        }
    }
}

/// The `ErrorTxn` a write becomes when preparation fails.
pub fn error(err: ErrorCode) -> Prepared {
    Prepared::new(OpCode::Error, TxnBody::Error(zk_proto::ErrorTxn { err: err.code() }))
}

/// The `createSession` txn for a new session with the negotiated timeout.
pub fn create_session(time_out: i32) -> Prepared {
    Prepared::new(OpCode::CreateSession, TxnBody::CreateSession(CreateSessionTxn { time_out }))
}

/// The `closeSession` txn of a session: its ephemerals (including ones created by writes still in
/// flight, which the speculative tree already holds), in the order ZooKeeper lists them: the iteration
/// order of a clone of its `HashSet` (the deletes, and so their watch events, happen in this order).
///
/// A session with so many ephemerals that the list would not fit a txn log record gets a closeSession
/// without a list instead (ZooKeeper's `closeSessionTxn.enabled=false` form): applying it deletes whatever
/// ephemerals the session has at that point, which is the same set, so replay is unchanged.
pub fn close_session<S: NodeRead>(tree: &DataTree<S>, session_id: i64) -> Prepared {
    let mut paths: Vec<String> = tree.ephemerals(session_id).map(str::to_owned).collect();
    let listed_len: usize = paths.iter().map(|path| 4 + path.len()).sum();
    if listed_len > MAX_CLOSE_SESSION_LIST {
        return Prepared::new(OpCode::CloseSession, TxnBody::CloseSession(None));
    }
    // Creation order first: the order the Java set received them.
    paths.sort_by_cached_key(|path| tree.get(path).map_or(0, |node| node.stat_persisted().czxid));
    crate::java_hash::cloned_string_set_order(&mut paths);
    Prepared::new(OpCode::CloseSession, TxnBody::CloseSession(Some(CloseSessionTxn { paths2_delete: paths })))
}

/// The largest path list a closeSession txn carries (ZooKeeper's `jute.maxbuffer`, so any ZooKeeper
/// reading our log accepts the record too).
const MAX_CLOSE_SESSION_LIST: usize = zk_proto::DEFAULT_MAX_FRAME;

fn delete<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    path: &str,
    version: i32,
) -> Result<Prepared, ErrorCode> {
    let parent = parent_for_change(path)?;
    if is_special(path) {
        return Err(ErrorCode::BadArguments);
    }
    node(tree, parent)?;
    check(tree, ctx, parent, zk_proto::perms::DELETE)?;
    let node = node(tree, path)?;
    next_version(node.stat_persisted().version, version)?;
    if node.num_children() > 0 {
        return Err(ErrorCode::NotEmpty);
    }
    Ok(Prepared::new(OpCode::Delete, TxnBody::Delete(DeleteTxn { path: path.to_owned() })))
}

/// The internal delete of an empty container or expired TTL node (issued by the reaper).
fn delete_container<S: NodeRead>(tree: &DataTree<S>, path: &str) -> Result<Prepared, ErrorCode> {
    parent_for_change(path)?;
    let node = node(tree, path)?;
    if node.num_children() > 0 {
        return Err(ErrorCode::NotEmpty);
    }
    if matches!(node.kind(), NodeKind::Ephemeral(_) | NodeKind::Persistent) {
        // As ZooKeeper 3.9's PrepRequestProcessor (3.8 misreads a client's request and answers
        // BadArguments whatever the node).
        return Err(ErrorCode::BadVersion);
    }
    Ok(Prepared::new(OpCode::DeleteContainer, TxnBody::Delete(DeleteTxn { path: path.to_owned() })))
}

/// ZooKeeper's quick checks before a create or delete: a `/` somewhere and no NUL. Returns the parent
/// path as ZooKeeper computes it (`""` for children of the root).
fn parent_for_change(path: &str) -> Result<&str, ErrorCode> {
    match path.rfind('/') {
        Some(slash) if !path.contains('\0') => Ok(&path[..slash]),
        _ => Err(ErrorCode::BadArguments),
    }
}

/// Nodes ZooKeeper never lets a client delete.
fn is_special(path: &str) -> bool {
    matches!(path, "/" | ZOOKEEPER_PATH | QUOTA_PATH | CONFIG_PATH)
}

fn node<'t, S: NodeRead>(tree: &'t DataTree<S>, path: &str) -> Result<&'t Node, ErrorCode> {
    tree.get(path).ok_or(ErrorCode::NoNode)
}

fn check<S: NodeRead>(tree: &DataTree<S>, ctx: &PrepContext<'_>, path: &str, perm: i32) -> Result<(), ErrorCode> {
    let acl = tree.acl(path).ok_or(ErrorCode::NoNode)?;
    ctx.auth.check_acl(&acl, ctx.ids, perm)
}

/// `checkAndIncVersion`: `expected` -1 matches anything; the result is the version after the change.
fn next_version(current: i32, expected: i32) -> Result<i32, ErrorCode> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BadVersion);
    }
    Ok(current.wrapping_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::DeleteContainerRequest;

    /// As ZooKeeper 3.9 (differential test, `sessions` script): NoNode, then NotEmpty, then BadVersion
    /// for a node that is neither a container nor a TTL node.
    #[test]
    fn delete_container_errors() {
        let tree = DataTree::new();
        let auth = AuthConfig::default();
        let ctx = PrepContext {
            auth: &auth,
            ids: &[],
            session_id: 1,
            extended_types: true,
            reconfig_enabled: false,
            enforce_quota: false,
            ensemble: None,
        };
        let delete = |path: &str| {
            prepare(&tree, &ctx, &Request::DeleteContainer(DeleteContainerRequest { path: path.into() }))
                .map(|prepared| prepared.op_code)
        };
        assert_eq!(delete("/missing"), Err(ErrorCode::NoNode));
        assert_eq!(delete(ZOOKEEPER_PATH), Err(ErrorCode::NotEmpty));
        assert_eq!(delete(QUOTA_PATH), Err(ErrorCode::BadVersion));
        assert_eq!(delete("no-slash"), Err(ErrorCode::BadArguments));
    }

    /// A session holding ~100k ephemerals used to produce a closeSession record over the txn log's record
    /// limit, and the server stopped on the log error (client benchmark). Such a session now closes with a
    /// list-less closeSession, which deletes the same nodes.
    #[test]
    fn huge_close_session_lists_fall_back_to_the_unlisted_form() {
        use zk_proto::{Acl, CreateTxn, TxnEntry, TxnHeader};
        let session = 0x0100_0000_0000_0001;
        let mut tree = DataTree::new();
        let long = "x".repeat(200);
        let count = MAX_CLOSE_SESSION_LIST / 200 + 10;
        for (i, zxid) in (1..=count as i64).enumerate() {
            let path = format!("/{long}{i}");
            let body = TxnBody::Create(CreateTxn {
                path,
                data: None,
                acl: Acl::open_unsafe(),
                ephemeral: true,
                parent_c_version: i as i32 + 1,
            });
            let header = TxnHeader { client_id: session, cxid: 0, zxid, time: 0, op_code: OpCode::Create.code() };
            tree.apply(&TxnEntry { header, body, digest: None });
        }
        let prepared = close_session(&tree, session);
        assert_eq!(prepared.body, TxnBody::CloseSession(None));
        let header = TxnHeader { client_id: session, cxid: 0, zxid: count as i64 + 1, time: 0, op_code: -11 };
        tree.apply(&TxnEntry { header, body: prepared.body, digest: None });
        assert_eq!(tree.ephemerals(session).count(), 0);
        assert_eq!(tree.get_all_children_number("/"), DataTree::new().get_all_children_number("/"));
        // A small session still lists its paths.
        assert!(matches!(close_session(&tree, 7).body, TxnBody::CloseSession(Some(_))));
    }
}
