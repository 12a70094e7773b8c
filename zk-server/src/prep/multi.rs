//! Preparing a `multi`: every op is prepared against the tree as the earlier ops of the same multi
//! leave it; the first failure turns the whole multi into error sub-txns, as ZooKeeper does.

use zk_proto::{ErrorCode, ErrorTxn, MultiOp, MultiRequest, MultiTxn, OpCode, Request, TxnBody, TxnEntry, TxnHeader};

use super::{prepare, PrepContext, Prepared};
use crate::tree::{DataTree, NodeRead, PendingChanges};

fn as_request(op: &MultiOp) -> Request {
    match op {
        MultiOp::Create(r) => Request::Create(r.clone()),
        MultiOp::Create2(r) => Request::Create2(r.clone()),
        MultiOp::CreateContainer(r) => Request::CreateContainer(r.clone()),
        MultiOp::CreateTtl(r) => Request::CreateTtl(r.clone()),
        MultiOp::Delete(r) => Request::Delete(r.clone()),
        MultiOp::SetData(r) => Request::SetData(r.clone()),
        MultiOp::Check(r) => Request::Check(r.clone()),
        MultiOp::GetChildren(r) => Request::GetChildren(r.clone()),
        MultiOp::GetData(r) => Request::GetData(r.clone()),
    }
}

fn error_body(err: ErrorCode) -> TxnBody {
    TxnBody::Error(ErrorTxn { err: err.code() })
}

/// Prepares a write `multi` (op 14) with the zxid and time its txn will carry.
///
/// The result is always a `multi` txn. When an op fails, the ops before it keep their txns, the failing
/// op becomes an `ErrorTxn` with its code and every later op an `ErrorTxn` with
/// `RuntimeInconsistency`; applying such a multi changes nothing (see `DataTree::apply`). A multi holding
/// read ops is malformed as a whole (`MarshallingError`), as in ZooKeeper.
pub fn prepare_multi<S: NodeRead>(
    tree: &DataTree<S>,
    ctx: &PrepContext<'_>,
    zxid: i64,
    time: i64,
    multi: &MultiRequest,
) -> Result<Prepared, ErrorCode> {
    if multi.ops.iter().any(MultiOp::is_read) {
        return Err(ErrorCode::MarshallingError);
    }
    // A scratch layer over the tree, on which each prepared op is applied in turn.
    let mut changes = PendingChanges::default();
    let mut scratch = tree.overlay(&mut changes, tree.meta().clone());
    let mut failed = false;
    let mut txns = Vec::with_capacity(multi.ops.len());
    for op in &multi.ops {
        let prepared = if failed {
            Prepared { op_code: OpCode::Error, body: error_body(ErrorCode::RuntimeInconsistency) }
        } else {
            match prepare(&scratch, ctx, &as_request(op)) {
                Ok(prepared) => {
                    let header =
                        TxnHeader { client_id: ctx.session_id, cxid: 0, zxid, time, op_code: prepared.op_code.code() };
                    scratch.apply(&TxnEntry { header, body: prepared.body.clone(), digest: None });
                    prepared
                }
                Err(err) => {
                    failed = true;
                    Prepared { op_code: OpCode::Error, body: error_body(err) }
                }
            }
        };
        txns.push(prepared.body.to_sub_txn(prepared.op_code));
    }
    Ok(Prepared { op_code: OpCode::Multi, body: TxnBody::Multi(MultiTxn { txns }) })
}
