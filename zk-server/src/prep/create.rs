//! Preparing the create family: `create`, `create2`, `createContainer` and `createTTL`.

use bytes::Bytes;
use zk_proto::{
    Acl, CreateContainerTxn, CreateMode, CreateRequest, CreateTtlRequest, CreateTtlTxn, CreateTxn, ErrorCode, NodeKind,
    OpCode, TxnBody, MAX_TTL,
};

use super::{check, node, parent_for_change, PrepContext, Prepared};
use crate::tree::{path, DataTree, NodeRead};

/// The fields every create flavour shares.
struct Create<'r> {
    path: &'r str,
    data: &'r Option<Bytes>,
    acl: &'r [Acl],
    flags: i32,
    ttl: i64,
}

pub(super) fn create<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    op: OpCode,
    request: &CreateRequest,
) -> Result<Prepared, ErrorCode> {
    let create = Create { path: &request.path, data: &request.data, acl: &request.acl, flags: request.flags, ttl: -1 };
    prepare(tree, ctx, op, create)
}

pub(super) fn create_ttl<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    request: &CreateTtlRequest,
) -> Result<Prepared, ErrorCode> {
    let create =
        Create { path: &request.path, data: &request.data, acl: &request.acl, flags: request.flags, ttl: request.ttl };
    prepare(tree, ctx, OpCode::CreateTtl, create)
}

/// `EphemeralType.validateTTL`: TTL modes need 0 < ttl <= 40 bits; other modes must not carry one.
fn validate_ttl(mode: CreateMode, ttl: i64) -> Result<(), ErrorCode> {
    let valid = if mode.is_ttl() { ttl > 0 && ttl <= MAX_TTL } else { ttl < 0 };
    if valid {
        Ok(())
    } else {
        Err(ErrorCode::BadArguments)
    }
}

fn prepare<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    op: OpCode,
    create: Create<'_>,
) -> Result<Prepared, ErrorCode> {
    // The checks run in ZooKeeper's order, so each bad request gets the same error code as there.
    let mode = CreateMode::try_from(create.flags).map_err(|_| ErrorCode::BadArguments)?;
    if mode.is_ttl() && !ctx.extended_types {
        return Err(ErrorCode::Unimplemented);
    }
    validate_ttl(mode, create.ttl)?;
    let parent_path = parent_for_change(create.path)?;
    let acl = ctx.auth.fix_acl(create.acl, ctx.ids)?;
    let parent = node(tree, parent_path)?;
    check(tree, ctx, parent_path, zk_proto::perms::CREATE)?;
    let parent_cversion = parent.stat_persisted().cversion;
    let path =
        if mode.is_sequential() { path::sequential_path(create.path, parent_cversion) } else { create.path.to_owned() };
    path::validate_path(&path)?;
    if tree.exists(&path) {
        return Err(ErrorCode::NodeExists);
    }
    if matches!(parent.kind(), NodeKind::Ephemeral(_)) {
        return Err(ErrorCode::NoChildrenForEphemerals);
    }
    if ctx.enforce_quota {
        tree.check_quota(&path, create.data.as_ref().map_or(0, |d| d.len()) as i64, 1)?;
    }
    let parent_c_version = parent_cversion.wrapping_add(1);
    let data = create.data.clone();
    let body = match op {
        OpCode::CreateContainer => TxnBody::CreateContainer(CreateContainerTxn { path, data, acl, parent_c_version }),
        OpCode::CreateTtl => TxnBody::CreateTtl(CreateTtlTxn { path, data, acl, parent_c_version, ttl: create.ttl }),
        _ => TxnBody::Create(CreateTxn { path, data, acl, ephemeral: mode.is_ephemeral(), parent_c_version }),
    };
    Ok(Prepared::new(op, body))
}
