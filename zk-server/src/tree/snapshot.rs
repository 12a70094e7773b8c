//! Snapshot support: walking the tree in ZooKeeper's snapshot order, and rebuilding a tree from
//! snapshot records (`DataTree.serializeNode` / `DataTree.deserialize`).
//!
//! Serialization itself (file layout, checksums) belongs to the persistence layer; this module only
//! exposes the records. Take a [`DataTree`] clone (O(1)) and walk it on another thread while the
//! original keeps applying txns.

use std::sync::Arc;

use bytes::Bytes;
use zk_proto::{Acl, StatPersisted};

use super::children::ChildIter;
use super::node::Node;
use super::path::split_last;
use super::{key, DataTree};

/// One node record of a snapshot: `path` then `DataNode{data, aclIndex, stat}`.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotNode<'a> {
    /// The full path; the root is `""`, as ZooKeeper writes it.
    pub path: &'a str,
    /// The data (`None` = null).
    pub data: Option<&'a Bytes>,
    /// The ACL cache index.
    pub acl_index: i64,
    /// The persisted stat.
    pub stat: &'a StatPersisted,
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

/// A depth-first, pre-order walk from the root (children in name order).
#[derive(Debug)]
pub struct SnapshotNodes<'a> {
    tree: &'a DataTree,
    root: Option<&'a Node>,
    stack: Vec<ChildIter<'a>>,
}

impl<'a> Iterator for SnapshotNodes<'a> {
    type Item = SnapshotNode<'a>;

    fn next(&mut self) -> Option<SnapshotNode<'a>> {
        if let Some(root) = self.root.take() {
            self.stack.push(root.children.iter());
            return Some(record("", root));
        }
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                None => {
                    self.stack.pop();
                }
                Some(path) => {
                    // Always present in a consistent tree; skipped if not, as ZooKeeper does.
                    let Some(node) = self.tree.nodes.get(path) else { continue };
                    self.stack.push(node.children.iter());
                    return Some(record(path, node));
                }
            }
        }
    }
}

fn record<'a>(path: &'a str, node: &'a Node) -> SnapshotNode<'a> {
    SnapshotNode { path, data: node.data.as_ref(), acl_index: node.acl, stat: &node.stat }
}

impl DataTree {
    /// Every node reachable from the root, depth-first pre-order, as ZooKeeper's snapshot lists them
    /// (ZooKeeper then writes the terminator path `/`). ZooKeeper visits children in hash-set order;
    /// we visit them in name order, which readers do not depend on.
    pub fn snapshot_nodes(&self) -> SnapshotNodes<'_> {
        SnapshotNodes { tree: self, root: self.get("/"), stack: Vec::new() }
    }
}

/// Rebuilds a [`DataTree`] from snapshot records: the ACL section first ([`DataTreeBuilder::acl`]),
/// then the nodes in snapshot order ([`DataTreeBuilder::node`]), then [`DataTreeBuilder::finish`].
#[derive(Debug)]
pub struct DataTreeBuilder {
    tree: DataTree,
    has_root: bool,
}

impl Default for DataTreeBuilder {
    fn default() -> Self {
        DataTreeBuilder::new()
    }
}

impl DataTreeBuilder {
    /// An empty builder.
    pub fn new() -> DataTreeBuilder {
        DataTreeBuilder { tree: DataTree::empty(), has_root: false }
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
        let path: Arc<str> = key(path).into();
        let owner = stat.ephemeral_owner;
        let node = Node::new(&path, data, acl_index, stat);
        if is_root {
            self.has_root = true;
        } else {
            let (parent, _) = split_last(&path).ok_or_else(|| SnapshotError::MissingParent(path.to_string()))?;
            let child = path.clone();
            tree.modify(parent, |parent| parent.children.insert(child))
                .ok_or_else(|| SnapshotError::MissingParent(path.to_string()))?;
            tree.track_kind(&path, owner);
        }
        if let Some(replaced) = tree.insert_node(path, node) {
            // A path listed twice: the later record wins, as in ZooKeeper.
            tree.meta.acls.remove_usage(replaced.acl);
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
        tree.meta.acls.purge_unused();
        // As ZooKeeper: the size is taken before the quota stats nodes are recounted.
        tree.meta.data_size = tree.recompute_data_size();
        tree.setup_quotas();
        tree.meta.last_processed_zxid = last_processed_zxid;
        Ok(tree)
    }
}
