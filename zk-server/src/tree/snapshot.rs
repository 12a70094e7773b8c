//! Snapshot support: walking the tree in ZooKeeper's snapshot order, and rebuilding a tree from
//! snapshot records (`DataTree.serializeNode` / `DataTree.deserialize`).
//!
//! Serialization itself (file layout, checksums) belongs to the persistence layer; this module only
//! exposes the records. Take a [`DataTree`] clone (O(1)) and walk it on another thread while the
//! original keeps applying txns.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use zk_proto::{Acl, StatPersisted};

use super::node::Node;
use super::path::split_last;
use super::{key, DataTree};

/// One node record of a snapshot: `path` then `DataNode{data, aclIndex, stat}`.
#[derive(Debug, Clone)]
pub struct SnapshotNode<'a> {
    /// The full path; the root is `""`, as ZooKeeper writes it.
    pub path: &'a str,
    /// The data (`None` = null).
    pub data: Option<&'a [u8]>,
    /// The ACL cache index.
    pub acl_index: i64,
    /// The persisted stat.
    pub stat: StatPersisted,
}

/// Why snapshot records do not form a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// A node came before its parent (ZooKeeper: "Invalid Datatree, unable to find parent").
    #[error("invalid data tree: no parent for {0}")]
    MissingParent(String),
    /// The first record was not the root (`""`).
    #[error("invalid data tree: the root must come first, got {0}")]
    RootNotFirst(String),
    /// A second root record.
    #[error("invalid data tree: the root appears twice")]
    DuplicateRoot,
    /// No record at all.
    #[error("invalid data tree: no root")]
    Empty,
}

/// Every node in path order: each parent before its children, which is all a snapshot reader needs.
pub struct SnapshotNodes<'a> {
    nodes: imbl::ordset::Iter<'a, Node, imbl::shared_ptr::DefaultSharedPtr>,
    /// Orphans (see `ops.rs`): they and the nodes below them are left out, as ZooKeeper's walk from the
    /// root does not reach them.
    orphans: &'a imbl::OrdSet<Arc<str>>,
}

impl std::fmt::Debug for SnapshotNodes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SnapshotNodes")
    }
}

impl<'a> Iterator for SnapshotNodes<'a> {
    type Item = SnapshotNode<'a>;

    fn next(&mut self) -> Option<SnapshotNode<'a>> {
        let mut node = self.nodes.next()?;
        while !self.orphans.is_empty() && unreachable(self.orphans, node.path()) {
            node = self.nodes.next()?;
        }
        let path = if node.path() == "/" { "" } else { node.path() };
        Some(SnapshotNode { path, data: node.data(), acl_index: node.acl_index(), stat: node.stat_persisted() })
    }
}

/// Whether `path` or one of its ancestors is an orphan.
fn unreachable(orphans: &imbl::OrdSet<Arc<str>>, path: &str) -> bool {
    let mut at = path;
    loop {
        if orphans.contains(at) {
            return true;
        }
        match at.rfind('/') {
            Some(slash) if slash > 0 => at = &at[..slash],
            _ => return false,
        }
    }
}

impl DataTree {
    /// Every node, as a snapshot lists them (ZooKeeper then writes the terminator path `/`): the root
    /// (as `""`) first, then path order, so every parent comes before its children. ZooKeeper walks
    /// depth-first with children in hash-set order; its reader, like ours, only needs parents first.
    pub fn snapshot_nodes(&self) -> SnapshotNodes<'_> {
        SnapshotNodes { nodes: self.nodes.iter(), orphans: &self.meta.orphans }
    }
}

/// Rebuilds a [`DataTree`] from snapshot records: the ACL section first ([`DataTreeBuilder::acl`]),
/// then the nodes in snapshot order ([`DataTreeBuilder::node`]), then [`DataTreeBuilder::finish`].
#[derive(Debug)]
pub struct DataTreeBuilder {
    tree: DataTree,
    has_root: bool,
    /// Children counted per parent, set on the parents at the end (so no parent is rebuilt per child).
    child_counts: HashMap<String, i32>,
}

impl Default for DataTreeBuilder {
    fn default() -> Self {
        DataTreeBuilder::new()
    }
}

impl DataTreeBuilder {
    /// An empty builder.
    pub fn new() -> DataTreeBuilder {
        DataTreeBuilder { tree: DataTree::empty(), has_root: false, child_counts: HashMap::new() }
    }

    /// Adds one ACL cache entry.
    pub fn acl(&mut self, index: i64, acl: Vec<Acl>) -> &mut Self {
        self.tree.meta.acls.insert_loaded(index, acl);
        self
    }

    /// Adds one node; its parent must already be there (the root, `""`, comes first).
    ///
    /// An ACL index missing from the ACL section is kept (ZooKeeper only logs it); such a node's ACL
    /// reads as an empty list.
    pub fn node(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        acl_index: i64,
        stat: StatPersisted,
    ) -> Result<&mut Self, SnapshotError> {
        let tree = &mut self.tree;
        if !tree.meta.acls.contains(acl_index) {
            tracing::warn!(path, acl_index, "snapshot node refers to an unknown ACL");
        }
        tree.meta.acls.add_usage(acl_index);
        let is_root = path.is_empty() || path == "/";
        match (is_root, self.has_root) {
            (false, false) => return Err(SnapshotError::RootNotFirst(path.to_owned())),
            (true, true) => return Err(SnapshotError::DuplicateRoot),
            _ => {}
        }
        let path = key(path);
        let owner = stat.ephemeral_owner;
        let node = Node::new(path, data.as_deref(), acl_index, stat);
        if is_root {
            self.has_root = true;
        } else {
            let (parent, _) = split_last(path).ok_or_else(|| SnapshotError::MissingParent(path.to_string()))?;
            let parent = key(parent);
            if !tree.exists(parent) {
                return Err(SnapshotError::MissingParent(path.to_string()));
            }
            tree.track_kind(path, owner);
            match tree.insert_node(node) {
                // A path listed twice: the later record wins, as in ZooKeeper.
                Some(replaced) => tree.meta.acls.remove_usage(replaced.acl_index()),
                None => match self.child_counts.get_mut(parent) {
                    Some(count) => *count += 1,
                    None => {
                        self.child_counts.insert(parent.to_owned(), 1);
                    }
                },
            }
            return Ok(self);
        }
        if let Some(replaced) = tree.insert_node(node) {
            tree.meta.acls.remove_usage(replaced.acl_index());
        }
        Ok(self)
    }

    /// The finished tree: unused ACL entries are dropped, the size counters computed and quota roots
    /// registered (their stats nodes recounted), as ZooKeeper does after loading. `last_processed_zxid` is the snapshot's zxid.
    pub fn finish(self, last_processed_zxid: i64) -> Result<DataTree, SnapshotError> {
        if !self.has_root {
            return Err(SnapshotError::Empty);
        }
        let mut tree = self.tree;
        for (parent, count) in self.child_counts {
            tree.modify(&parent, |parent| parent.num_children = count);
        }
        tree.meta.acls.purge_unused();
        // As ZooKeeper: the size is taken before the quota stats nodes are recounted.
        tree.meta.data_size = tree.recompute_data_size();
        tree.setup_quotas();
        tree.meta.last_processed_zxid = last_processed_zxid;
        Ok(tree)
    }
}
