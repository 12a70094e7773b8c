//! `DataTree`: ZooKeeper's in-memory znode tree, with ZooKeeper's exact txn semantics.
//!
//! - [`DataTree::apply`] applies a [`zk_proto::TxnEntry`] deterministically (as `DataTree.processTxn`
//!   of ZooKeeper 3.8), returning per-op results and the watch events to fire ([`ApplyOutcome`]).
//! - Reads: [`DataTree::get`], [`DataTree::stat`], [`DataTree::data`], [`DataTree::acl`],
//!   [`DataTree::children`], ephemerals / containers / TTL bookkeeping, counters.
//! - Storage: nodes live in a [`NodeStore`] (see [`store`]): the committed [`NodeMap`] or an
//!   [`Overlay`] of pending changes, which is what writes are prepared against. Each [`Node`] is one
//!   compact allocation (header, path, data); children are found by path order, not kept per node.
//! - Snapshots: `Clone` is O(1) (all maps are persistent `imbl` structures and nodes are immutable
//!   shared allocations), so a snapshot can be serialized from a clone while writes go on;
//!   [`DataTree::snapshot_nodes`] lists nodes parents first and [`DataTreeBuilder`] rebuilds a tree
//!   from snapshot records.
//! - [`DataTree::digest`]: ZooKeeper's tree digest, maintained incrementally.
//!
//! - Quotas: `zookeeper_limits` / `zookeeper_stats` nodes under `/zookeeper/quota` are kept up to date
//!   as ZooKeeper does (see `quota.rs`).
//!
//! The root is stored under `/`; ZooKeeper's internal alias `""` is accepted wherever a path is read.
//!
//! Checked against Apache ZooKeeper 3.8.0 itself (`tests/oracle.rs`, `tests/differential.rs`: same
//! per-txn results and digests, same final stats, data, ACL indices, quota stats). Deliberate
//! differences, none visible in replies, digests or snapshot contents:
//! - children are listed in byte order, not Java hash-set order, and snapshots list nodes in path order
//!   rather than depth first (both only need parents before children);
//! - a session's ephemeral set is dropped once empty (ZooKeeper keeps an empty set until the session
//!   closes); unlisted ephemerals of a closing session are deleted in path order;
//! - txns ZooKeeper would crash on (a TTL out of range, a create or delete of the root, a corrupt quota
//!   stats node) are refused or tolerated instead;
//! - a snapshot node whose ACL index is missing from the ACL section reads as an empty ACL (ZooKeeper
//!   throws when reading it); so does a node whose ACL index does not fit 32 bits (ZooKeeper numbers
//!   distinct ACL lists from 1, so that takes two billion of them).

mod acl_cache;
mod apply;
pub mod digest;
mod node;
mod ops;
mod outcome;
pub mod path;
mod quota;
mod snapshot;
pub mod store;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use zk_proto::{Acl, Stat, StatPersisted};

pub use acl_cache::{AclCache, OPEN_ACL_UNSAFE_INDEX};
pub use digest::{node_digest, AdHash, DIGEST_VERSION};
use node::Header;
pub use node::Node;
pub use outcome::{ApplyOutcome, OpResult, WatchTrigger};
pub use quota::{LIMIT_NODE, STAT_NODE};
pub use snapshot::{DataTreeBuilder, SnapshotError, SnapshotNode};
pub use store::{NodeMap, NodeRead, NodeStore, Overlay, PendingChanges};

/// ZooKeeper's system node.
pub const ZOOKEEPER_PATH: &str = "/zookeeper";
/// The quota root.
pub const QUOTA_PATH: &str = "/zookeeper/quota";
/// The dynamic configuration node.
pub const CONFIG_PATH: &str = "/zookeeper/config";

/// The in-memory znode tree (see the module docs).
///
/// `S` is where the nodes live: the committed tree's [`NodeMap`], or an [`Overlay`] of pending changes
/// over it, which is what write requests are prepared against.
#[derive(Debug, Clone)]
pub struct DataTree<S = NodeMap> {
    nodes: S,
    meta: TreeMeta,
    /// Whether applying txns collects the watch events they fire (not on speculative trees, whose
    /// outcomes nobody reads).
    collects_triggers: bool,
}

/// Everything of a tree but its nodes: the ACL cache, the per-kind indexes, the quota roots and the
/// running totals. All persistent, so cloning is O(1).
#[derive(Debug, Clone)]
pub struct TreeMeta {
    acls: AclCache,
    ephemerals: OrdMap<i64, OrdSet<Arc<str>>>,
    containers: OrdSet<Arc<str>>,
    ttls: OrdSet<Arc<str>>,
    /// Quota roots (see `quota.rs`).
    quotas: OrdSet<Arc<str>>,
    /// Nodes left below a node that a replayed delete removed while it still had children: still in
    /// the map (and the digest), as in ZooKeeper, but no longer anyone's children (see `ops.rs`).
    orphans: OrdSet<Arc<str>>,
    digest: AdHash,
    data_size: i64,
    last_processed_zxid: i64,
}

impl Default for DataTree {
    fn default() -> Self {
        DataTree::new()
    }
}

/// Maps ZooKeeper's internal root name `""` to `/`.
fn key(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

impl DataTree {
    /// A fresh tree as a ZooKeeper 3.8 server starts with: `/`, `/zookeeper`, `/zookeeper/quota` and
    /// `/zookeeper/config`, all with empty (non-null) data and zeroed stats. `/zookeeper/config` has
    /// `READ_ACL_UNSAFE` (ACL index 1) and aversion -1; the others `OPEN_ACL_UNSAFE` (index -1).
    pub fn new() -> DataTree {
        let mut tree = DataTree::empty();
        let zeroed = StatPersisted::default();
        for path in ["/", ZOOKEEPER_PATH, QUOTA_PATH, CONFIG_PATH] {
            tree.insert_node(Node::new(path, Some(b""), OPEN_ACL_UNSAFE_INDEX, zeroed.clone()));
            if let Some(parent) = path::parent(path) {
                tree.modify(parent, |parent| parent.num_children += 1);
            }
        }
        // ZooKeeper calls setACL(config, READ_ACL_UNSAFE, -1) on the fresh node.
        let _ = tree.set_acl(CONFIG_PATH, &Acl::read_unsafe(), -1);
        tree.meta.data_size = tree.recompute_data_size();
        tree
    }

    /// A tree without any node, not even the root (the start of [`DataTreeBuilder`]).
    pub(crate) fn empty() -> DataTree {
        DataTree {
            nodes: NodeMap::new(),
            meta: TreeMeta {
                acls: AclCache::new(),
                ephemerals: OrdMap::new(),
                containers: OrdSet::new(),
                ttls: OrdSet::new(),
                quotas: OrdSet::new(),
                orphans: OrdSet::new(),
                digest: AdHash::default(),
                data_size: 0,
                last_processed_zxid: 0,
            },
            collects_triggers: true,
        }
    }

    /// Every node's path, in no particular order (nodes orphaned by a replayed delete included).
    pub fn paths(&self) -> impl Iterator<Item = &str> + '_ {
        self.nodes.iter().map(Node::path)
    }

    /// The tree digest recomputed from every node (slow; for checks and tests).
    pub fn recompute_digest(&self) -> i64 {
        let mut hash = AdHash::default();
        for node in self.nodes.iter() {
            hash.add(node_digest(node.path(), node.data(), &node.stat_persisted()));
        }
        hash.value()
    }

    fn recompute_data_size(&self) -> i64 {
        let mut size: i64 = 0;
        for node in self.nodes.iter() {
            size += node_size(node.path(), node.data());
        }
        // The "" alias of the root: no path characters, the root's data once more.
        size + self.get("/").map_or(0, |root| node_size("", root.data()))
    }
}

impl<S: NodeRead> DataTree<S> {
    /// This tree seen through `changes`, with `meta` as the rest of that state (see [`store`]).
    pub fn overlay<'a>(&'a self, changes: &'a mut PendingChanges, meta: TreeMeta) -> DataTree<Overlay<'a, S>> {
        DataTree { nodes: Overlay::new(&self.nodes, changes), meta, collects_triggers: false }
    }

    /// Everything but the nodes (O(1) to clone).
    pub fn meta(&self) -> &TreeMeta {
        &self.meta
    }
}

impl<B> DataTree<Overlay<'_, B>> {
    /// Ends the overlay view, handing back the rest of its state.
    pub fn into_meta(self) -> TreeMeta {
        self.meta
    }
}

impl<S: NodeRead> DataTree<S> {
    /// The node at `path`.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(key(path))
    }

    /// Whether `path` exists.
    pub fn exists(&self, path: &str) -> bool {
        self.nodes.get(key(path)).is_some()
    }

    /// The client view of a node's stat.
    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.get(path).map(Node::stat)
    }

    /// A node's data: `Some(None)` is a node with null data.
    pub fn data(&self, path: &str) -> Option<Option<&[u8]>> {
        self.get(path).map(Node::data)
    }

    /// A node's ACL. A node whose ACL index is unknown (a damaged snapshot) reads as an empty list,
    /// which grants nothing.
    pub fn acl(&self, path: &str) -> Option<Arc<[Acl]>> {
        self.get(path).map(|node| self.acl_of(node))
    }

    /// The ACL at `path`, empty if there is no node.
    pub(crate) fn acl_or_none(&self, path: &str) -> Arc<[Acl]> {
        self.acl(path).unwrap_or_else(|| Arc::from(Vec::new()))
    }

    pub(crate) fn acl_of(&self, node: &Node) -> Arc<[Acl]> {
        self.meta.acls.get(node.acl_index()).unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// A node's children names, in byte order.
    pub fn children(&self, path: &str) -> Option<impl Iterator<Item = &str> + '_> {
        self.get(path)?;
        Some(self.child_nodes(path).into_iter().map(|child| path::name(child.path())))
    }

    /// The child nodes of `path`, in path order.
    pub(crate) fn child_nodes(&self, path: &str) -> Vec<&Node> {
        let mut children = self.nodes.children(key(path));
        if !self.meta.orphans.is_empty() {
            children.retain(|child| !self.meta.orphans.contains(child.path()));
        }
        children
    }

    /// The paths of the ephemeral nodes owned by `session`, in order.
    pub fn ephemerals(&self, session: i64) -> impl Iterator<Item = &str> + '_ {
        self.meta.ephemerals.get(&session).into_iter().flat_map(|paths| paths.iter().map(|p| &**p))
    }

    /// The sessions owning at least one ephemeral node.
    pub fn sessions_with_ephemerals(&self) -> impl Iterator<Item = i64> + '_ {
        self.meta.ephemerals.keys().copied()
    }

    /// The number of ephemeral nodes.
    pub fn ephemerals_count(&self) -> usize {
        self.meta.ephemerals.values().map(OrdSet::len).sum()
    }

    /// The paths of every container node, in order.
    pub fn containers(&self) -> impl Iterator<Item = &str> + '_ {
        self.meta.containers.iter().map(|p| &**p)
    }

    /// The paths of every TTL node, in order.
    pub fn ttl_nodes(&self) -> impl Iterator<Item = &str> + '_ {
        self.meta.ttls.iter().map(|p| &**p)
    }

    /// The number of descendants of `path` (`getAllChildrenNumber`); 0 for a missing node.
    pub fn get_all_children_number(&self, path: &str) -> i32 {
        if key(path) == "/" {
            // ZooKeeper: every node but the root (and its "" alias). For "" it counts the map keys that
            // start with "/", which include the root's "/" alias: one more.
            let extra = usize::from(path.is_empty());
            return i32::try_from(self.nodes.len().saturating_sub(1) + extra).unwrap_or(i32::MAX);
        }
        let mut count: usize = 0;
        let mut stack: Vec<&Node> = self.get(path).into_iter().collect();
        while let Some(node) = stack.pop() {
            if node.num_children() > 0 {
                let children = self.child_nodes(node.path());
                count += children.len();
                stack.extend(children);
            }
        }
        i32::try_from(count).unwrap_or(i32::MAX)
    }

    /// The node count as ZooKeeper reports it (`zk_znode_count`): ZooKeeper's map holds the root
    /// twice (as `""` and `/`), so this is one more than the number of distinct nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// ZooKeeper's `approximateDataSize` as `mntr` shows it: the sum over its node map (the root
    /// counted under `""` and `/`) of the path length in UTF-16 units plus the data length, kept
    /// incrementally as ZooKeeper's cached value is.
    pub fn approximate_data_size(&self) -> i64 {
        self.meta.data_size
    }

    /// The tree digest (`TxnDigest.treeDigest`, digest version [`DIGEST_VERSION`]).
    pub fn digest(&self) -> i64 {
        self.meta.digest.value()
    }

    /// The zxid of the last txn applied.
    pub fn last_processed_zxid(&self) -> i64 {
        self.meta.last_processed_zxid
    }

    /// Sets the last processed zxid (after loading a snapshot, or when a leader starts an epoch).
    pub fn set_last_processed_zxid(&mut self, zxid: i64) {
        self.meta.last_processed_zxid = zxid;
    }

    /// The ACL cache (its entries form a snapshot's ACL section).
    pub fn acl_cache(&self) -> &AclCache {
        &self.meta.acls
    }
}

impl<S: NodeStore> DataTree<S> {
    // ----- primitives keeping the digest and size in step -----

    /// Inserts (or replaces) a node, keeping the digest right; returns the replaced node.
    fn insert_node(&mut self, node: Node) -> Option<Node> {
        self.meta.digest.add(node.digest());
        let old = self.nodes.insert(node)?;
        self.meta.digest.remove(old.digest());
        Some(old)
    }

    /// Removes a node, keeping the digest right.
    fn remove_node(&mut self, path: &str) -> Option<Node> {
        let node = self.nodes.remove(path)?;
        self.meta.digest.remove(node.digest());
        Some(node)
    }

    /// Changes a node's header (the node is rebuilt), keeping the digest right; `None` if there is no
    /// node at `path`.
    fn modify(&mut self, path: &str, change: impl FnOnce(&mut Header)) -> Option<()> {
        let node = self.nodes.get(key(path))?.edited(change);
        self.insert_node(node);
        Some(())
    }

    /// Replaces a node's data, keeping the digest right; `None` if there is no node at `path`.
    fn replace_data(&mut self, path: &str, data: Option<&[u8]>) -> Option<()> {
        let node = self.nodes.get(key(path))?.with_data(data, |_| {});
        self.insert_node(node);
        Some(())
    }
}

/// ZooKeeper's `getNodeSize`: path length in UTF-16 units plus data length.
fn node_size(path: &str, data: Option<&[u8]>) -> i64 {
    let len = path::java_len(path) + data.map_or(0, <[u8]>::len);
    i64::try_from(len).unwrap_or(i64::MAX)
}
