//! One znode: data, ACL index, persisted stat and children.

use bytes::Bytes;
use zk_proto::{NodeKind, Stat, StatPersisted};

use super::children::Children;
use super::digest::node_digest;
use super::path;

/// A znode as the tree stores it.
///
/// Nodes are shared between a tree and its clones (`Arc<Node>`) and copied on write.
#[derive(Debug, Clone)]
pub struct Node {
    pub(crate) stat: StatPersisted,
    pub(crate) data: Option<Bytes>,
    pub(crate) acl: i64,
    /// This node's contribution to the tree digest (cached, as ZooKeeper's `DataNode` does).
    pub(crate) digest: u32,
    pub(crate) children: Children,
}

impl Node {
    /// A childless node; `path` is needed for its digest.
    pub(crate) fn new(path: &str, data: Option<Bytes>, acl: i64, stat: StatPersisted) -> Node {
        let digest = node_digest(path, data.as_deref(), &stat);
        Node { stat, data, acl, digest, children: Children::Empty }
    }

    /// Recomputes the cached digest after a change.
    pub(crate) fn refresh_digest(&mut self, path: &str) {
        self.digest = node_digest(path, self.data.as_deref(), &self.stat);
    }

    /// The data; `None` is Java's `null` (distinct from empty data).
    pub fn data(&self) -> Option<&Bytes> {
        self.data.as_ref()
    }

    /// The data length as `Stat.dataLength` reports it (0 for null).
    pub fn data_length(&self) -> i32 {
        self.data.as_ref().map_or(0, |data| i32::try_from(data.len()).unwrap_or(i32::MAX))
    }

    /// The persisted stat. Its `cversion` counts child creates only: it is what a sequential create
    /// appends (`%010d`) and what `CreateTxn.parentCVersion` is computed from (+1), not
    /// [`Stat::cversion`].
    pub fn stat_persisted(&self) -> &StatPersisted {
        &self.stat
    }

    /// The client view of the stat, as ZooKeeper's `DataNode.copyStat` builds it:
    ///
    /// - `cversion` is `2 × stored cversion − numChildren`: the tree counts creates only (a delete does
    ///   not touch the parent's stored cversion), and every child no longer present was deleted once;
    /// - `ephemeralOwner` shows a session only for ephemeral nodes: containers and TTL nodes show 0.
    pub fn stat(&self) -> Stat {
        let num_children = self.num_children();
        let mut stat = self.stat.to_stat(self.data_length(), num_children);
        stat.cversion = self.stat.cversion.wrapping_mul(2).wrapping_sub(num_children);
        if !matches!(self.kind(), NodeKind::Ephemeral(_)) {
            stat.ephemeral_owner = 0;
        }
        stat
    }

    /// The ACL cache index (see [`super::AclCache`]).
    pub fn acl_index(&self) -> i64 {
        self.acl
    }

    /// The number of children.
    pub fn num_children(&self) -> i32 {
        i32::try_from(self.children.len()).unwrap_or(i32::MAX)
    }

    /// The children's names, in byte order.
    pub fn children(&self) -> impl Iterator<Item = &str> + '_ {
        self.children.iter().map(|child| path::name(child))
    }

    /// What kind of node this is (from `ephemeralOwner`).
    pub fn kind(&self) -> NodeKind {
        NodeKind::from_ephemeral_owner(self.stat.ephemeral_owner)
    }

    /// This node's digest (`DigestCalculator` version 2).
    pub fn digest(&self) -> u32 {
        self.digest
    }
}
