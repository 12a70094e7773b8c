//! What applying a txn produced: per-op results for the reply, and the watch triggers to fire.

use std::sync::Arc;

use zk_proto::{Acl, ErrorCode, EventType, Stat};

/// The result of [`super::DataTree::apply`] (ZooKeeper's `ProcessTxnResult` plus the fired watches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// The txn's zxid.
    pub zxid: i64,
    /// The txn's result code: the `ErrorTxn` code, the failure of an op that could not be applied
    /// (only expected while replaying a log over a fuzzy snapshot), or for a multi the first non-OK
    /// sub-result.
    pub err: ErrorCode,
    /// What the txn did.
    pub result: OpResult,
    /// The watch events to fire, in ZooKeeper's order.
    pub triggers: Vec<WatchTrigger>,
}

/// The result of one op (a txn, or a sub-txn of a multi).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// A node was created (any create flavour).
    Created {
        /// The created path (with its sequence suffix).
        path: String,
        /// The new node's stat.
        stat: Stat,
    },
    /// A node was deleted.
    Deleted {
        /// The deleted path.
        path: String,
    },
    /// A node's data was set (`setData`, `reconfig`).
    DataSet {
        /// The node.
        path: String,
        /// Its stat after the change.
        stat: Stat,
    },
    /// A node's ACL was set.
    AclSet {
        /// The node.
        path: String,
        /// Its stat after the change.
        stat: Stat,
    },
    /// A version check inside a multi (no change).
    Checked {
        /// The checked path.
        path: String,
    },
    /// A session was created (the tree does not change).
    SessionCreated,
    /// A session was closed and its ephemeral nodes deleted.
    SessionClosed {
        /// The paths actually deleted, in order.
        deleted: Vec<String>,
    },
    /// An `ErrorTxn`: a write that failed during preparation, or a sub-op of a failed multi.
    Error(ErrorCode),
    /// An op whose change could not be applied to this tree (e.g. a create of an existing node while
    /// replaying a log over a fuzzy snapshot).
    Failed {
        /// The op's path.
        path: String,
        /// Why.
        err: ErrorCode,
    },
    /// A multi: one result per sub-txn. Shorter than the sub-txn list if a sub-txn could not be decoded
    /// (ZooKeeper stops at that point too).
    Multi(Vec<OpResult>),
}

impl OpResult {
    /// The result code of this op (`Ok` for anything but `Error` / `Failed` / a failed multi).
    pub fn err(&self) -> ErrorCode {
        match self {
            OpResult::Error(err) | OpResult::Failed { err, .. } => *err,
            OpResult::Multi(results) => {
                results.iter().map(OpResult::err).find(|err| *err != ErrorCode::Ok).unwrap_or(ErrorCode::Ok)
            }
            _ => ErrorCode::Ok,
        }
    }
}

/// A watch event produced by a change: feed it to [`crate::watch::WatchManager::trigger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchTrigger {
    /// The node the event is about (`/` for children of the root).
    pub path: String,
    /// The event.
    pub event: EventType,
    /// The node's ACL at trigger time; ZooKeeper 3.9 only notifies watchers with READ on it.
    pub acl: Arc<[Acl]>,
}
