//! Where a [`DataTree`](super::DataTree) keeps its nodes.
//!
//! - [`NodeMap`]: the committed tree's nodes, a persistent ordered set. Cloning it is O(1), which is how a
//!   snapshot is taken; while nothing else shares it (no snapshot being written) every change is made in
//!   place.
//! - [`Overlay`]: a committed map (or another overlay) seen through [`PendingChanges`], the nodes that
//!   txns still in flight change. It is ZooKeeper's `outstandingChanges`: requests are prepared against
//!   "committed plus pending", and each pending node is dropped from the overlay once the last txn that
//!   touched it has been applied to the committed tree, which then holds the same node.
//!
//! The overlay never copies the committed map: preparing a write costs the few nodes it touches.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use hashbrown::HashMap;

use super::node::Node;

/// The committed tree's nodes, ordered by path (each node carries its path).
///
/// In path order a node's children follow it, interleaved with their own descendants; [`NodeRead::children`]
/// steps over those. A parent always comes before its children, which is the order a snapshot needs.
pub type NodeMap = imbl::OrdSet<Node>;

/// Reading nodes by path (the path is already in key form: the root is `/`).
pub trait NodeRead {
    /// The node at `path`.
    fn get(&self, path: &str) -> Option<&Node>;

    /// The number of nodes.
    fn len(&self) -> usize;

    /// Whether there is no node at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The children of `parent`, in path order.
    fn children(&self, parent: &str) -> Vec<&Node>;
}

/// Changing nodes by path.
pub trait NodeStore: NodeRead {
    /// Inserts or replaces the node at the path `node` carries; returns the node it replaced.
    fn insert(&mut self, node: Node) -> Option<Node>;

    /// Removes a node; returns it.
    fn remove(&mut self, path: &str) -> Option<Node>;
}

/// The prefix every child path of `parent` starts with.
fn child_prefix(parent: &str) -> String {
    if parent == "/" {
        "/".to_owned()
    } else {
        format!("{parent}/")
    }
}

impl NodeRead for NodeMap {
    fn get(&self, path: &str) -> Option<&Node> {
        imbl::OrdSet::get::<[u8]>(self, path.as_bytes())
    }

    fn len(&self) -> usize {
        imbl::OrdSet::len(self)
    }

    fn children(&self, parent: &str) -> Vec<&Node> {
        let prefix = child_prefix(parent);
        let prefix = prefix.as_bytes();
        let mut children = Vec::new();
        let mut from: Bound<Vec<u8>> = Bound::Excluded(prefix.to_vec());
        loop {
            let bounds = (from.as_ref().map(Vec::as_slice), Bound::Unbounded);
            let mut skip_to = None;
            for node in self.range::<_, [u8]>(bounds) {
                let path = node.path_bytes();
                let Some(rest) = path.strip_prefix(prefix) else { return children };
                match rest.iter().position(|&b| b == b'/') {
                    None => children.push(node),
                    Some(slash) => {
                        // A grandchild: step over everything under that child (paths starting with
                        // `child/`, which sort below `child0`).
                        let mut next = path[..prefix.len() + slash].to_vec();
                        next.push(b'0');
                        skip_to = Some(next);
                        break;
                    }
                }
            }
            match skip_to {
                Some(next) => from = Bound::Included(next),
                None => return children,
            }
        }
    }
}

impl NodeStore for NodeMap {
    fn insert(&mut self, node: Node) -> Option<Node> {
        imbl::OrdSet::insert(self, node)
    }

    fn remove(&mut self, path: &str) -> Option<Node> {
        imbl::OrdSet::remove::<[u8]>(self, path.as_bytes())
    }
}

/// One pending node: its state once every txn in flight is applied (`None`: deleted), and the zxid of
/// the last txn that changed it.
#[derive(Debug, Clone)]
struct Slot {
    zxid: i64,
    node: Option<Node>,
}

/// The nodes changed by txns in flight (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct PendingChanges {
    slots: HashMap<Arc<str>, Slot>,
    /// Every change, in zxid order: which slots a commit may retire.
    touched: VecDeque<(i64, Arc<str>)>,
    /// The zxid of the txn whose changes are being recorded.
    zxid: i64,
}

impl PendingChanges {
    /// Changes recorded from now on belong to the txn `zxid` (zxids must not go backwards).
    pub fn begin(&mut self, zxid: i64) {
        self.zxid = self.zxid.max(zxid);
    }

    /// The committed tree now includes every txn up to `zxid`: nodes last changed by those are the
    /// committed tree's again.
    pub fn committed(&mut self, zxid: i64) {
        while let Some((touched, _)) = self.touched.front() {
            if *touched > zxid {
                break;
            }
            let Some((_, path)) = self.touched.pop_front() else { break };
            if self.slots.get(&path).is_some_and(|slot| slot.zxid <= zxid) {
                self.slots.remove(&path);
            }
        }
    }

    /// Forgets everything (the committed tree is all there is), including the last zxid: after a role
    /// change the next txns may be numbered below it (a new term after a truncated log).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.touched.clear();
        self.zxid = 0;
    }

    /// The number of pending nodes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot key for `path` (the existing one if the path is pending already).
    fn key(&self, path: &str) -> Arc<str> {
        match self.slots.get_key_value(path) {
            Some((key, _)) => key.clone(),
            None => Arc::from(path),
        }
    }

    fn record(&mut self, key: Arc<str>, node: Option<Node>) {
        let zxid = self.zxid;
        self.touched.push_back((zxid, key.clone()));
        self.slots.insert(key, Slot { zxid, node });
    }
}

/// A node map seen through pending changes (see the module docs).
#[derive(Debug)]
pub struct Overlay<'a, B> {
    base: &'a B,
    changes: &'a mut PendingChanges,
}

impl<'a, B: NodeRead> Overlay<'a, B> {
    /// `base` as `changes` leave it.
    pub fn new(base: &'a B, changes: &'a mut PendingChanges) -> Overlay<'a, B> {
        Overlay { base, changes }
    }
}

impl<B: NodeRead> NodeRead for Overlay<'_, B> {
    fn get(&self, path: &str) -> Option<&Node> {
        match self.changes.slots.get(path) {
            Some(slot) => slot.node.as_ref(),
            None => self.base.get(path),
        }
    }

    /// O(pending nodes).
    fn len(&self) -> usize {
        let mut len = self.base.len() as isize;
        for (path, slot) in &self.changes.slots {
            len += isize::from(slot.node.is_some()) - isize::from(self.base.get(path).is_some());
        }
        usize::try_from(len).unwrap_or(0)
    }

    /// O(pending nodes + children); only rare writes (a quota recount) list children while pending.
    fn children(&self, parent: &str) -> Vec<&Node> {
        let slots = &self.changes.slots;
        let mut children: Vec<&Node> =
            self.base.children(parent).into_iter().filter(|node| !slots.contains_key(node.path())).collect();
        let prefix = child_prefix(parent);
        for (path, slot) in slots {
            let is_child =
                path.strip_prefix(prefix.as_str()).is_some_and(|name| !name.is_empty() && !name.contains('/'));
            if let (true, Some(node)) = (is_child, &slot.node) {
                children.push(node);
            }
        }
        children.sort_unstable();
        children
    }
}

impl<B: NodeRead> NodeStore for Overlay<'_, B> {
    fn insert(&mut self, node: Node) -> Option<Node> {
        let old = self.get(node.path()).cloned();
        let key = self.changes.key(node.path());
        self.changes.record(key, Some(node));
        old
    }

    fn remove(&mut self, path: &str) -> Option<Node> {
        let old = self.get(path).cloned()?;
        let key = self.changes.key(path);
        self.changes.record(key, None);
        Some(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::StatPersisted;

    fn node(path: &str, version: i32) -> Node {
        let stat = StatPersisted { version, ..StatPersisted::default() };
        Node::new(path, None, -1, stat)
    }

    fn set_version(store: &mut impl NodeStore, path: &str, version: i32) {
        let node = store.get(path).unwrap().edited(|h| h.stat.version = version);
        store.insert(node);
    }

    fn version(store: &impl NodeRead, path: &str) -> Option<i32> {
        store.get(path).map(|node| node.stat_persisted().version)
    }

    fn child_paths(store: &impl NodeRead, parent: &str) -> Vec<String> {
        store.children(parent).into_iter().map(|node| node.path().to_owned()).collect()
    }

    #[test]
    fn children_step_over_grandchildren_whatever_their_names() {
        let mut map = NodeMap::new();
        for path in ["/", "/a", "/a/b", "/a/b-x", "/a/b/c", "/a/b/c/d", "/a/b0", "/a/ba", "/a!", "/b", "/a/b/e"] {
            map.insert(node(path, 0));
        }
        assert_eq!(child_paths(&map, "/a"), ["/a/b", "/a/b-x", "/a/b0", "/a/ba"]);
        assert_eq!(child_paths(&map, "/"), ["/a", "/a!", "/b"]);
        assert_eq!(child_paths(&map, "/a/b"), ["/a/b/c", "/a/b/e"]);
        assert!(child_paths(&map, "/b").is_empty());
        assert!(child_paths(&map, "/missing").is_empty());
    }

    #[test]
    fn overlay_reads_through_and_shadows_the_base() {
        let mut base = NodeMap::new();
        for path in ["/", "/a", "/b"] {
            base.insert(node(path, 1));
        }
        let mut changes = PendingChanges::default();
        let mut overlay = Overlay::new(&base, &mut changes);
        overlay.changes.begin(10);
        set_version(&mut overlay, "/a", 2);
        overlay.remove("/b");
        overlay.insert(node("/c", 7));
        assert_eq!(version(&overlay, "/a"), Some(2));
        assert_eq!(version(&overlay, "/b"), None);
        assert_eq!(version(&overlay, "/c"), Some(7));
        assert_eq!(overlay.len(), 3);
        assert_eq!(child_paths(&overlay, "/"), ["/a", "/c"]);
        // The base is untouched.
        assert_eq!(version(&base, "/a"), Some(1));
        assert_eq!(version(&base, "/b"), Some(1));
        assert_eq!(base.len(), 3);
    }

    #[test]
    fn a_commit_retires_only_slots_no_later_txn_changed() {
        let base = NodeMap::new();
        let mut changes = PendingChanges::default();
        let mut overlay = Overlay::new(&base, &mut changes);
        overlay.changes.begin(1);
        overlay.insert(node("/a", 0));
        overlay.insert(node("/b", 0));
        overlay.changes.begin(2);
        set_version(&mut overlay, "/b", 1);
        changes.committed(1);
        assert_eq!(changes.len(), 1, "/a retired, /b still pending behind txn 2");
        let overlay = Overlay::new(&base, &mut changes);
        assert_eq!(version(&overlay, "/b"), Some(1));
        assert_eq!(version(&overlay, "/a"), None, "the base (not yet updated in this test) shows through");
        changes.committed(2);
        assert!(changes.is_empty());
    }

    /// A new term can number its txns below the last ones recorded: after `clear` they still retire.
    #[test]
    fn cleared_changes_retire_txns_numbered_below_earlier_ones() {
        let base = NodeMap::new();
        let mut changes = PendingChanges::default();
        changes.begin(100);
        Overlay::new(&base, &mut changes).insert(node("/a", 0));
        changes.clear();
        changes.begin(5);
        Overlay::new(&base, &mut changes).insert(node("/b", 0));
        changes.committed(5);
        assert!(changes.is_empty());
    }

    #[test]
    fn overlays_stack() {
        let mut base = NodeMap::new();
        base.insert(node("/a", 1));
        let mut lower = PendingChanges::default();
        let mut first = Overlay::new(&base, &mut lower);
        set_version(&mut first, "/a", 2);
        let mut upper = PendingChanges::default();
        let mut second = Overlay::new(&first, &mut upper);
        set_version(&mut second, "/a", 3);
        assert_eq!(version(&second, "/a"), Some(3));
        assert_eq!(version(&first, "/a"), Some(2));
        assert_eq!(version(&base, "/a"), Some(1));
    }
}
