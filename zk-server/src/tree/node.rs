//! One znode, stored compactly: a single shared allocation holding the path, a packed header (the stat,
//! the ACL index, the child count) and the data bytes.
//!
//! A million znodes is the size operators run, so the layout is what bounds the server's memory: one
//! allocation per node (header, path and data together, behind an 8-byte pointer), no per-node child
//! set (children are found by path order in the tree's map, see [`super::store`]) and no separate key
//! (the map orders nodes by the path they carry). The header stores only what differs from a fresh
//! node's defaults: a node never changed since its create keeps czxid, ctime and its ACL index (22
//! bytes with the flags) instead of the 72 bytes of every field. Nodes are immutable once shared; a
//! change builds the node anew ([`Node::edited`], [`Node::with_data`]).
//!
//! Layout of the bytes: `path_len: u32` and the path first (the map compares paths, so finding it must
//! be cheap), then `flags: u16`, `czxid`, `ctime`, the optional fields `flags` announces (`mzxid`,
//! `mtime`, `pzxid`, `ephemeralOwner` as i64; `version`, `cversion`, `aversion`, `numChildren` as
//! i32), `acl: i32`, and the data.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::cmp::Ordering;

use triomphe::ThinArc;
use zk_proto::{NodeKind, Stat, StatPersisted};

use super::digest::node_digest;

/// A node's header, decoded: the persisted stat, the child count, the ACL index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub stat: StatPersisted,
    pub num_children: i32,
    /// The ACL cache index (see [`super::AclCache`]), kept in 32 bits: ZooKeeper counts one index per
    /// distinct ACL list ever created, from 1. A larger index (never seen in practice) is stored as
    /// `i32::MAX`, which names no list and so grants nothing.
    acl: i32,
}

impl Header {
    fn new(stat: StatPersisted, acl: i64) -> Header {
        let mut header = Header { stat, num_children: 0, acl: 0 };
        header.set_acl(acl);
        header
    }

    /// Sets the ACL index (see the field).
    pub fn set_acl(&mut self, acl: i64) {
        self.acl = i32::try_from(acl).unwrap_or_else(|_| {
            tracing::error!(acl, "ACL index beyond 32 bits; the node's ACL grants nothing");
            i32::MAX
        });
    }
}

// Flags: which optional fields are stored (absent ones take the fresh-node value), and null data.
const MZXID: u16 = 1;
const MTIME: u16 = 1 << 1;
const PZXID: u16 = 1 << 2;
const OWNER: u16 = 1 << 3;
const VERSION: u16 = 1 << 4;
const CVERSION: u16 = 1 << 5;
const AVERSION: u16 = 1 << 6;
const CHILDREN: u16 = 1 << 7;
const NULL_DATA: u16 = 1 << 8;
const LONGS: u16 = MZXID | MTIME | PZXID | OWNER;
const INTS: u16 = VERSION | CVERSION | AVERSION | CHILDREN;

/// The header's encoded length for `flags` (flags, czxid, ctime, the optional fields, acl).
fn header_len(flags: u16) -> usize {
    2 + 16 + 8 * (flags & LONGS).count_ones() as usize + 4 * (flags & INTS).count_ones() as usize + 4
}

/// Encodes a node's bytes into `bytes` (cleared first).
fn encode(bytes: &mut Vec<u8>, header: &Header, path: &[u8], data: Option<&[u8]>) {
    let stat = &header.stat;
    let longs = [
        (MZXID, stat.mzxid, stat.czxid),
        (MTIME, stat.mtime, stat.ctime),
        (PZXID, stat.pzxid, stat.czxid),
        (OWNER, stat.ephemeral_owner, 0),
    ];
    let ints = [
        (VERSION, stat.version),
        (CVERSION, stat.cversion),
        (AVERSION, stat.aversion),
        (CHILDREN, header.num_children),
    ];
    let mut flags = if data.is_none() { NULL_DATA } else { 0 };
    for (flag, value, default) in longs {
        if value != default {
            flags |= flag;
        }
    }
    for (flag, value) in ints {
        if value != 0 {
            flags |= flag;
        }
    }
    let data = data.unwrap_or_default();
    bytes.clear();
    bytes.reserve(4 + path.len() + header_len(flags) + data.len());
    bytes.extend_from_slice(&u32::try_from(path.len()).unwrap_or(u32::MAX).to_le_bytes());
    bytes.extend_from_slice(path);
    bytes.extend_from_slice(&flags.to_le_bytes());
    bytes.extend_from_slice(&stat.czxid.to_le_bytes());
    bytes.extend_from_slice(&stat.ctime.to_le_bytes());
    for (flag, value, _) in longs {
        if flags & flag != 0 {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    for (flag, value) in ints {
        if flags & flag != 0 {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&header.acl.to_le_bytes());
    bytes.extend_from_slice(data);
}

thread_local! {
    /// Where a node's bytes are encoded before they are copied into its allocation (whose size must be
    /// known up front), so building a node allocates only the node.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads the fixed-size fields of a node's bytes.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        if let Some(field) = self.bytes.get(self.at..self.at + N) {
            out.copy_from_slice(field);
        }
        self.at += N;
        out
    }

    fn long(&mut self) -> i64 {
        i64::from_le_bytes(self.take())
    }

    fn int(&mut self) -> i32 {
        i32::from_le_bytes(self.take())
    }
}

/// A znode (see the module docs). Ordered, compared and borrowed by its path bytes.
#[derive(Clone)]
pub struct Node(ThinArc<(), u8>);

impl Node {
    /// A childless node.
    pub(crate) fn new(path: &str, data: Option<&[u8]>, acl: i64, stat: StatPersisted) -> Node {
        Node::build(path.as_bytes(), data, Header::new(stat, acl))
    }

    fn build(path: &[u8], data: Option<&[u8]>, header: Header) -> Node {
        SCRATCH.with_borrow_mut(|bytes| {
            encode(bytes, &header, path, data);
            Node(ThinArc::from_header_and_slice((), bytes))
        })
    }

    /// Where the header starts (after the path).
    fn header_start(&self) -> usize {
        4 + self.path_bytes().len()
    }

    fn flags(&self) -> u16 {
        let at = self.header_start();
        u16::from_le_bytes([self.0.slice[at], self.0.slice[at + 1]])
    }

    /// The decoded header.
    pub(crate) fn header(&self) -> Header {
        let flags = self.flags();
        let mut fields = Fields { bytes: &self.0.slice, at: self.header_start() + 2 };
        let czxid = fields.long();
        let ctime = fields.long();
        let mut long = |flag: u16, default: i64| if flags & flag != 0 { fields.long() } else { default };
        let (mzxid, mtime, pzxid, ephemeral_owner) =
            (long(MZXID, czxid), long(MTIME, ctime), long(PZXID, czxid), long(OWNER, 0));
        let mut int = |flag: u16| if flags & flag != 0 { fields.int() } else { 0 };
        let (version, cversion, aversion, num_children) = (int(VERSION), int(CVERSION), int(AVERSION), int(CHILDREN));
        let acl = fields.int();
        let stat = StatPersisted { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeral_owner, pzxid };
        Header { stat, num_children, acl }
    }

    /// The path as stored (the root is `/`), as bytes.
    pub fn path_bytes(&self) -> &[u8] {
        let bytes = &self.0.slice;
        let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        &bytes[4..4 + len]
    }

    /// The path as stored (the root is `/`).
    pub fn path(&self) -> &str {
        // Built from a `&str`, so always valid.
        std::str::from_utf8(self.path_bytes()).unwrap_or_default()
    }

    /// The same node with `change` applied to its header.
    pub(crate) fn edited(&self, change: impl FnOnce(&mut Header)) -> Node {
        self.with_data(self.data(), change)
    }

    /// The same node with new data, and `change` applied to its header.
    pub(crate) fn with_data(&self, data: Option<&[u8]>, change: impl FnOnce(&mut Header)) -> Node {
        let mut header = self.header();
        change(&mut header);
        Node::build(self.path_bytes(), data, header)
    }

    /// The data; `None` is Java's `null` (distinct from empty data).
    pub fn data(&self) -> Option<&[u8]> {
        let flags = self.flags();
        (flags & NULL_DATA == 0).then(|| &self.0.slice[self.header_start() + header_len(flags)..])
    }

    /// The data length as `Stat.dataLength` reports it (0 for null).
    pub fn data_length(&self) -> i32 {
        self.data().map_or(0, |data| i32::try_from(data.len()).unwrap_or(i32::MAX))
    }

    /// The persisted stat. Its `cversion` counts child creates only: it is what a sequential create
    /// appends (`%010d`) and what `CreateTxn.parentCVersion` is computed from (+1), not
    /// [`Stat::cversion`].
    pub fn stat_persisted(&self) -> StatPersisted {
        self.header().stat
    }

    /// The client view of the stat, as ZooKeeper's `DataNode.copyStat` builds it:
    ///
    /// - `cversion` is `2 × stored cversion − numChildren`: the tree counts creates only (a delete does
    ///   not touch the parent's stored cversion), and every child no longer present was deleted once;
    /// - `ephemeralOwner` shows a session only for ephemeral nodes: containers and TTL nodes show 0.
    pub fn stat(&self) -> Stat {
        let Header { stat: stored, num_children, .. } = self.header();
        let mut stat = stored.to_stat(self.data_length(), num_children);
        stat.cversion = stored.cversion.wrapping_mul(2).wrapping_sub(num_children);
        if !matches!(NodeKind::from_ephemeral_owner(stored.ephemeral_owner), NodeKind::Ephemeral(_)) {
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
        NodeKind::from_ephemeral_owner(self.header().stat.ephemeral_owner)
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
            .field("header", &self.header())
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
        // A fresh node stores path_len, flags, czxid, ctime and acl: 26 bytes besides its path and data.
        assert_eq!(
            Node::new(
                "/a/b",
                Some(b"hello"),
                3,
                StatPersisted { czxid: 5, ctime: 9, mzxid: 5, mtime: 9, pzxid: 5, ..StatPersisted::default() }
            )
            .0
            .slice
            .len(),
            26 + 4 + 5
        );
        let edited = node.edited(|h| h.num_children = 4);
        assert_eq!((edited.path(), edited.data(), edited.num_children()), ("/a/b", Some(&b"hello"[..]), 4));
        let nulled = edited.with_data(None, |h| h.stat.version = 3);
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

    proptest::proptest! {
        /// Whatever the fields (defaults or not), a node reads back exactly what it was built with.
        #[test]
        fn packed_headers_round_trip(
            longs in proptest::array::uniform6(proptest::prop_oneof![proptest::prelude::Just(0i64), proptest::prelude::any::<i64>()]),
            ints in proptest::array::uniform4(proptest::prop_oneof![proptest::prelude::Just(0i32), proptest::prelude::any::<i32>()]),
            acl in -1i64..1000,
            path in "/[a-z/]{0,40}",
            data in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)),
        ) {
            let [czxid, mzxid, ctime, mtime, ephemeral_owner, pzxid] = longs;
            let [version, cversion, aversion, num_children] = ints;
            let stat = StatPersisted { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeral_owner, pzxid };
            let node = Node::new(&path, data.as_deref(), acl, stat.clone()).edited(|h| h.num_children = num_children);
            proptest::prop_assert_eq!(node.stat_persisted(), stat);
            proptest::prop_assert_eq!(node.num_children(), num_children);
            proptest::prop_assert_eq!(node.acl_index(), acl);
            proptest::prop_assert_eq!(node.path(), path.as_str());
            proptest::prop_assert_eq!(node.data(), data.as_deref());
        }
    }
}
