//! `DataTree::apply`: ZooKeeper's `DataTree.processTxn`.

use zk_proto::{
    ttl_ephemeral_owner, ErrorCode, ErrorTxn, MultiTxn, OpCode, TxnBody, TxnEntry, TxnHeader,
    CONTAINER_EPHEMERAL_OWNER, MAX_TTL,
};

use super::digest::DIGEST_VERSION;
use super::ops::NewNode;
use super::outcome::{ApplyOutcome, OpResult, WatchTrigger};
use super::path::split_last;
use super::{DataTree, NodeStore};

/// The sub-txn types ZooKeeper accepts inside a multi; any other type stops the multi where it stands.
fn is_multi_sub_op(op: OpCode) -> bool {
    matches!(
        op,
        OpCode::Create
            | OpCode::Create2
            | OpCode::CreateTtl
            | OpCode::CreateContainer
            | OpCode::Delete
            | OpCode::DeleteContainer
            | OpCode::SetData
            | OpCode::Error
            | OpCode::Check
    )
}

impl<S: NodeStore> DataTree<S> {
    /// Applies one txn, exactly as ZooKeeper 3.8's `DataTree.processTxn` does.
    ///
    /// Applying the same txns in the same order to equal trees gives equal trees (same nodes, stats, ACL
    /// indices and digest). Ops that cannot be applied (possible only while replaying a log over a fuzzy
    /// snapshot, or for a malformed log) leave the tree as ZooKeeper would and are reported as
    /// [`OpResult::Failed`]; a create of an existing node (`create`, not `create2`) still moves the
    /// parent's cversion and pzxid forward, as ZooKeeper's replay fix-up does. The last processed zxid
    /// only moves forward.
    pub fn apply(&mut self, entry: &TxnEntry) -> ApplyOutcome {
        let header = &entry.header;
        let mut triggers = Vec::new();
        let result = self.apply_op(header, header.op_code, &entry.body, &mut triggers);
        if header.zxid > self.meta.last_processed_zxid {
            self.meta.last_processed_zxid = header.zxid;
        }
        if let Some(false) = self.digest_matches(entry) {
            tracing::debug!(zxid = header.zxid, "tree digest differs from the txn's digest");
        }
        ApplyOutcome { zxid: header.zxid, err: result.err(), result, triggers }
    }

    /// Whether the tree's digest equals the digest carried by `entry` (call after applying it).
    /// `None` if the entry carries no digest of the version this tree computes.
    pub fn digest_matches(&self, entry: &TxnEntry) -> Option<bool> {
        let digest = entry.digest.as_ref().filter(|digest| digest.version == DIGEST_VERSION)?;
        Some(digest.tree_digest == self.digest())
    }

    fn apply_op(
        &mut self,
        header: &TxnHeader,
        op_code: i32,
        body: &TxnBody,
        triggers: &mut Vec<WatchTrigger>,
    ) -> OpResult {
        let (zxid, time) = (header.zxid, header.time);
        let result = match body {
            TxnBody::Create(txn) => {
                let owner = if txn.ephemeral { header.client_id } else { 0 };
                let new = NewNode {
                    data: txn.data.as_ref(),
                    acl: &txn.acl,
                    ephemeral_owner: owner,
                    parent_cversion: txn.parent_c_version,
                    zxid,
                    time,
                };
                self.create_result(&txn.path, new, triggers)
            }
            TxnBody::CreateTtl(txn) if txn.ttl <= 0 || txn.ttl > MAX_TTL => {
                // ZooKeeper throws an unchecked exception here; refuse the op instead.
                OpResult::Failed { path: txn.path.clone(), err: ErrorCode::BadArguments }
            }
            TxnBody::CreateTtl(txn) => {
                let new = NewNode {
                    data: txn.data.as_ref(),
                    acl: &txn.acl,
                    ephemeral_owner: ttl_ephemeral_owner(txn.ttl),
                    parent_cversion: txn.parent_c_version,
                    zxid,
                    time,
                };
                self.create_result(&txn.path, new, triggers)
            }
            TxnBody::CreateContainer(txn) => {
                let new = NewNode {
                    data: txn.data.as_ref(),
                    acl: &txn.acl,
                    ephemeral_owner: CONTAINER_EPHEMERAL_OWNER,
                    parent_cversion: txn.parent_c_version,
                    zxid,
                    time,
                };
                self.create_result(&txn.path, new, triggers)
            }
            TxnBody::Delete(txn) => match self.delete_node(&txn.path, zxid, triggers) {
                Ok(()) => OpResult::Deleted { path: txn.path.clone() },
                Err(err) => OpResult::Failed { path: txn.path.clone(), err },
            },
            TxnBody::SetData(txn) => {
                match self.set_data(&txn.path, txn.data.as_ref(), txn.version, zxid, time, triggers) {
                    Ok(stat) => OpResult::DataSet { path: txn.path.clone(), stat },
                    Err(err) => OpResult::Failed { path: txn.path.clone(), err },
                }
            }
            TxnBody::Check(txn) => OpResult::Checked { path: txn.path.clone() },
            TxnBody::SetAcl(txn) => match self.set_acl(&txn.path, &txn.acl, txn.version) {
                Ok(stat) => OpResult::AclSet { path: txn.path.clone(), stat },
                Err(err) => OpResult::Failed { path: txn.path.clone(), err },
            },
            TxnBody::CreateSession(_) => OpResult::SessionCreated,
            TxnBody::CloseSession(txn) => {
                let listed = txn.as_ref().map(|txn| txn.paths2_delete.as_slice());
                OpResult::SessionClosed { deleted: self.kill_session(header.client_id, zxid, listed, triggers) }
            }
            TxnBody::Error(txn) => OpResult::Error(ErrorCode::from_code(txn.err)),
            TxnBody::Multi(multi) => self.apply_multi(header, multi, triggers),
        };
        self.fix_up_replayed_create(op_code, body, result, zxid)
    }

    fn create_result(&mut self, path: &str, new: NewNode<'_>, triggers: &mut Vec<WatchTrigger>) -> OpResult {
        match self.create_node(path, new, triggers) {
            Ok(stat) => OpResult::Created { path: path.to_owned(), stat },
            Err(err) => OpResult::Failed { path: path.to_owned(), err },
        }
    }

    /// A `create` txn (type 1 only, as in ZooKeeper) replayed onto a tree that already has the node:
    /// its parent's cversion / pzxid still move to the txn's values when larger.
    fn fix_up_replayed_create(&mut self, op_code: i32, body: &TxnBody, result: OpResult, zxid: i64) -> OpResult {
        let (TxnBody::Create(txn), OpResult::Failed { err: ErrorCode::NodeExists, .. }) = (body, &result) else {
            return result;
        };
        if op_code != OpCode::Create.code() {
            return result;
        }
        tracing::debug!(path = %txn.path, "create of an existing node: adjusting the parent's cversion");
        let Some((parent, _)) = split_last(&txn.path) else {
            return result;
        };
        match self.set_cversion_pzxid(parent, txn.parent_c_version, zxid) {
            Ok(()) => result,
            Err(err) => OpResult::Failed { path: txn.path.clone(), err },
        }
    }

    /// A multi: if any sub-txn is an error, every other sub-txn becomes an error too (OK before the
    /// first error, RUNTIMEINCONSISTENCY after it) and nothing changes; otherwise each sub-txn is
    /// applied in order. A sub-txn of a type a multi may not hold, or whose body does not decode, ends
    /// the multi there (ZooKeeper's IOException path): earlier sub-txns stay applied.
    fn apply_multi(&mut self, header: &TxnHeader, multi: &MultiTxn, triggers: &mut Vec<WatchTrigger>) -> OpResult {
        let failed = multi.txns.iter().any(|sub| sub.op_code == OpCode::Error.code());
        let mut past_error = false;
        let mut results = Vec::with_capacity(multi.txns.len());
        for sub in &multi.txns {
            let op = match OpCode::try_from(sub.op_code) {
                Ok(op) if is_multi_sub_op(op) => op,
                _ => {
                    tracing::warn!(zxid = header.zxid, op = sub.op_code, "invalid sub-txn type in multi");
                    break;
                }
            };
            if op == OpCode::Error {
                past_error = true;
            }
            let (op_code, body) = if failed && op != OpCode::Error {
                let err = if past_error { ErrorCode::RuntimeInconsistency } else { ErrorCode::Ok };
                (OpCode::Error.code(), TxnBody::Error(ErrorTxn { err: err.code() }))
            } else {
                match sub.body() {
                    Ok(body) => (sub.op_code, body),
                    Err(error) => {
                        tracing::warn!(zxid = header.zxid, %error, "undecodable sub-txn in multi");
                        break;
                    }
                }
            };
            let sub_header = TxnHeader { op_code, ..header.clone() };
            results.push(self.apply_op(&sub_header, op_code, &body, triggers));
        }
        OpResult::Multi(results)
    }
}
