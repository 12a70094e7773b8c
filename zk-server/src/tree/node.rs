//! One znode, stored compactly: a single shared allocation holding the stat, the ACL index, the child
//! count, then the path and the data bytes.
//!
//! A million znodes is the size operators run, so the layout is what bounds the server's memory: one
//! allocation per node (header, path and data together, behind an 8-byte pointer), no per-node child
//! set (children are found by path order in the tree's map, see [`super::store`]) and no separate key
//! (the map orders nodes by the path they carry). Nodes are immutable once shared; a change builds the
//! node anew ([`Node::edited`], [`Node::with_data`]).

use std::borrow::Borrow;
use std::cmp::Ordering;

use triomphe::ThinArc;
use zk_proto::{NodeKind, Stat, StatPersisted};

use super::digest::node_digest;

/// What a node holds besides its path and data: the persisted stat's fields, flattened so the header
/// is 72 bytes without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub ephemeral_owner: i64,
    pub pzxid: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub num_children: i32,
    /// The ACL cache index (see [`super::AclCache`]), kept in 32 bits: ZooKeeper counts one index per
    /// distinct ACL list ever created, from 1. A larger index (never seen in practice) is stored as
    /// `i32::MAX`, which names no list and so grants nothing.
    acl: i32,
    /// The data length; -1 for null data.
    data_len: i32,
}

impl Header {
    fn new(stat: &StatPersisted, acl: i64) -> Header {
        let mut header = Header {
            czxid: stat.czxid,
            mzxid: stat.mzxid,
            ctime: stat.ctime,
            mtime: stat.mtime,
            ephemeral_owner: stat.ephemeral_owner,
            pzxid: stat.pzxid,
            version: stat.version,
            cversion: stat.cversion,
            aversion: stat.aversion,
            num_children: 0,
            acl: 0,
            data_len: -1,
        };
        header.set_acl(acl);
        header
    }

    /// The persisted stat.
    pub fn stat(&self) -> StatPersisted {
        StatPersisted {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion,
            aversion: self.aversion,
            ephemeral_owner: self.ephemeral_owner,
            pzxid: self.pzxid,
        }
    }

    /// Sets the ACL index (see the field).
    pub fn set_acl(&mut self, acl: i64) {
        self.acl = i32::try_from(acl).unwrap_or_else(|_| {
            tracing::error!(acl, "ACL index beyond 32 bits; the node's ACL grants nothing");
            i32::MAX
        });
    }
}

/// A znode (see the module docs). Ordered, compared and borrowed by its path bytes.
#[derive(Clone)]
pub struct Node(ThinArc<Header, u8>);

impl Node {
    /// A childless node.
    pub(crate) fn new(path: &str, data: Option<&[u8]>, acl: i64, stat: StatPersisted) -> Node {
        Node::build(path.as_bytes(), data, Header::new(&stat, acl))
    }

    fn build(path: &[u8], data: Option<&[u8]>, mut header: Header) -> Node {
        let data_bytes = data.unwrap_or_default();
        header.data_len = data.map_or(-1, |data| i32::try_from(data.len()).unwrap_or(i32::MAX));
        let mut bytes = Vec::with_capacity(path.len() + data_bytes.len());
        bytes.extend_from_slice(path);
        bytes.extend_from_slice(data_bytes);
        Node(ThinArc::from_header_and_slice(header, &bytes))
    }

    pub(crate) fn header(&self) -> &Header {
        &self.0.header.header
    }

    fn path_len(&self) -> usize {
        self.0.slice.len() - self.header().data_len.max(0) as usize
    }

    /// The path as stored (the root is `/`), as bytes.
    pub fn path_bytes(&self) -> &[u8] {
        &self.0.slice[..self.path_len()]
    }

    /// The path as stored (the root is `/`).
    pub fn path(&self) -> &str {
        // Built from a `&str`, so always valid.
        std::str::from_utf8(self.path_bytes()).unwrap_or_default()
    }

    /// The same node with `change` applied to its header.
    pub(crate) fn edited(&self, change: impl FnOnce(&mut Header)) -> Node {
        let mut header = self.header().clone();
        change(&mut header);
        Node::build(self.path_bytes(), self.data(), header)
    }

    /// The same node with new data, and `change` applied to its header.
    pub(crate) fn with_data(&self, data: Option<&[u8]>, change: impl FnOnce(&mut Header)) -> Node {
        let mut header = self.header().clone();
        change(&mut header);
        Node::build(self.path_bytes(), data, header)
    }

    /// The data; `None` is Java's `null` (distinct from empty data).
    pub fn data(&self) -> Option<&[u8]> {
        (self.header().data_len >= 0).then(|| &self.0.slice[self.path_len()..])
    }

    /// The data length as `Stat.dataLength` reports it (0 for null).
    pub fn data_length(&self) -> i32 {
        self.header().data_len.max(0)
    }

    /// The persisted stat. Its `cversion` counts child creates only: it is what a sequential create
    /// appends (`%010d`) and what `CreateTxn.parentCVersion` is computed from (+1), not
    /// [`Stat::cversion`].
    pub fn stat_persisted(&self) -> StatPersisted {
        self.header().stat()
    }

    /// The client view of the stat, as ZooKeeper's `DataNode.copyStat` builds it:
    ///
    /// - `cversion` is `2 × stored cversion − numChildren`: the tree counts creates only (a delete does
    ///   not touch the parent's stored cversion), and every child no longer present was deleted once;
    /// - `ephemeralOwner` shows a session only for ephemeral nodes: containers and TTL nodes show 0.
    pub fn stat(&self) -> Stat {
        let num_children = self.num_children();
        let stored = self.stat_persisted();
        let mut stat = stored.to_stat(self.data_length(), num_children);
        stat.cversion = stored.cversion.wrapping_mul(2).wrapping_sub(num_children);
        if !matches!(self.kind(), NodeKind::Ephemeral(_)) {
            stat.ephemeral_owner = 0;
        }
        stat
    }

    /// The ACL cache index (see [`super::AclCache`]).
    pub fn acl_index(&self) -> i64 {
        i64::from(self.header().acl)
    }

    /// The number of children.
    pub fn num_children(&self) -> i32 {
        self.header().num_children
    }

    /// What kind of node this is (from `ephemeralOwner`).
    pub fn kind(&self) -> NodeKind {
        NodeKind::from_ephemeral_owner(self.header().ephemeral_owner)
    }

    /// This node's digest (`DigestCalculator` version 2).
    pub fn digest(&self) -> u32 {
        node_digest(self.path(), self.data(), &self.stat_persisted())
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("path", &self.path())
            .field("header", self.header())
            .field("data_len", &self.data().map(<[u8]>::len))
            .finish()
    }
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        self.path_bytes() == other.path_bytes()
    }
}

impl Eq for Node {}

impl PartialOrd for Node {
    fn partial_cmp(&self, other: &Node) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Node {
    fn cmp(&self, other: &Node) -> Ordering {
        self.path_bytes().cmp(other.path_bytes())
    }
}

impl Borrow<[u8]> for Node {
    fn borrow(&self) -> &[u8] {
        self.path_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_data_and_header_share_one_allocation_and_survive_edits() {
        let stat = StatPersisted { czxid: 5, version: 2, ..StatPersisted::default() };
        let node = Node::new("/a/b", Some(b"hello"), 3, stat.clone());
        assert_eq!((node.path(), node.data(), node.acl_index()), ("/a/b", Some(&b"hello"[..]), 3));
        assert_eq!(node.stat_persisted(), stat);
        assert_eq!(std::mem::size_of::<Header>(), 72, "no padding");
        let edited = node.edited(|h| h.num_children = 4);
        assert_eq!((edited.path(), edited.data(), edited.num_children()), ("/a/b", Some(&b"hello"[..]), 4));
        let nulled = edited.with_data(None, |h| h.version = 3);
        assert_eq!((nulled.path(), nulled.data(), nulled.data_length()), ("/a/b", None, 0));
        assert_eq!(nulled.num_children(), 4);
        let emptied = nulled.with_data(Some(b""), |_| {});
        assert_eq!(emptied.data(), Some(&b""[..]));
        // The original is unchanged.
        assert_eq!((node.data(), node.num_children()), (Some(&b"hello"[..]), 0));
    }

    #[test]
    fn nodes_order_by_path_bytes() {
        let stat = StatPersisted::default();
        let a = Node::new("/a", None, -1, stat.clone());
        let b = Node::new("/a/b", Some(b"zzz"), -1, stat);
        assert!(a < b);
        let key: &[u8] = b.borrow();
        assert_eq!(key, b"/a/b");
    }
}
