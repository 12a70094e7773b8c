//! The state writes are prepared against: the committed tree plus every txn in flight.
//!
//! It is kept as pending changes over the committed tree (ZooKeeper's `outstandingChanges`, see
//! [`crate::tree::store`]), so preparing a write touches only the nodes it changes, and the committed
//! tree, which nothing else shares between snapshots, is changed in place at commit.

use zk_proto::TxnEntry;

use crate::tree::{DataTree, NodeMap, Overlay, PendingChanges, TreeMeta};

/// The speculative tree (see the module docs).
#[derive(Debug, Default)]
pub(super) struct Speculative {
    changes: PendingChanges,
    /// The rest of the speculative state; `None` while it is the committed tree's (nothing pending).
    meta: Option<TreeMeta>,
}

impl Speculative {
    /// Nothing is in flight: the committed tree is the speculative one.
    pub(super) fn reset(&mut self) {
        self.changes.clear();
        self.meta = None;
    }

    /// Runs `f` on the speculative tree over `committed`.
    pub(super) fn with<R>(
        &mut self,
        committed: &DataTree,
        f: impl FnOnce(&mut DataTree<Overlay<'_, NodeMap>>) -> R,
    ) -> R {
        let meta = self.meta.take().unwrap_or_else(|| committed.meta().clone());
        let mut tree = committed.overlay(&mut self.changes, meta);
        let result = f(&mut tree);
        self.meta = Some(tree.into_meta());
        result
    }

    /// Changes made from now on belong to txn `zxid` (they stay pending until it commits).
    pub(super) fn begin(&mut self, zxid: i64) {
        self.changes.begin(zxid);
    }

    /// Applies a txn just handed out; returns the speculative tree digest after it.
    pub(super) fn apply(&mut self, committed: &DataTree, entry: &TxnEntry) -> i64 {
        self.begin(entry.header.zxid);
        self.with(committed, |tree| {
            tree.apply(entry);
            tree.digest()
        })
    }

    /// The committed tree now includes every txn up to `zxid`.
    pub(super) fn committed(&mut self, zxid: i64) {
        self.changes.committed(zxid);
    }

    /// The number of nodes changed by txns in flight.
    #[cfg(test)]
    pub(super) fn pending_nodes(&self) -> usize {
        self.changes.len()
    }
}
