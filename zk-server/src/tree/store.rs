//! Where a [`DataTree`](super::DataTree) keeps its nodes.
//!
//! - [`NodeMap`]: the committed tree's map, a persistent ordered map. Cloning it is O(1), which is how a
//!   snapshot is taken; while nothing else shares it (no snapshot being written) every change is made in
//!   place.
//! - [`Overlay`]: a committed map (or another overlay) seen through [`PendingChanges`], the nodes that
//!   txns still in flight change. It is ZooKeeper's `outstandingChanges`: requests are prepared against
//!   "committed plus pending", and each pending node is dropped from the overlay once the last txn that
//!   touched it has been applied to the committed tree, which then holds the same node.
//!
//! The overlay never copies the committed map: preparing a write costs the few nodes it touches.

use std::collections::VecDeque;
use std::sync::Arc;

use hashbrown::HashMap;

use super::node::Node;

/// The committed tree's node map: full path → node.
pub type NodeMap = imbl::OrdMap<Arc<str>, Arc<Node>>;

/// Reading nodes by path (the path is already in key form: the root is `/`).
pub trait NodeRead {
    /// The stored path (the shared key) and node at `path`.
    fn entry(&self, path: &str) -> Option<(&Arc<str>, &Arc<Node>)>;

    /// The number of nodes.
    fn len(&self) -> usize;

    /// The node at `path`.
    fn get(&self, path: &str) -> Option<&Arc<Node>> {
        self.entry(path).map(|(_, node)| node)
    }
}

/// Changing nodes by path.
pub trait NodeStore: NodeRead {
    /// The node at `path`, to change (copied first if it is shared).
    fn get_mut(&mut self, path: &str) -> Option<&mut Node>;

    /// Inserts or replaces a node; returns the node it replaced.
    fn insert(&mut self, path: Arc<str>, node: Arc<Node>) -> Option<Arc<Node>>;

    /// Removes a node; returns it.
    fn remove(&mut self, path: &str) -> Option<Arc<Node>>;
}

impl NodeRead for NodeMap {
    fn entry(&self, path: &str) -> Option<(&Arc<str>, &Arc<Node>)> {
        self.get_key_value(path)
    }

    fn len(&self) -> usize {
        imbl::OrdMap::len(self)
    }
}

impl NodeStore for NodeMap {
    fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        imbl::OrdMap::get_mut(self, path).map(Arc::make_mut)
    }

    fn insert(&mut self, path: Arc<str>, node: Arc<Node>) -> Option<Arc<Node>> {
        imbl::OrdMap::insert(self, path, node)
    }

    fn remove(&mut self, path: &str) -> Option<Arc<Node>> {
        imbl::OrdMap::remove(self, path)
    }
}

/// One pending node: its state once every txn in flight is applied (`None`: deleted), and the zxid of
/// the last txn that changed it.
#[derive(Debug, Clone)]
struct Slot {
    zxid: i64,
    node: Option<Arc<Node>>,
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

    /// Forgets everything (the committed tree is all there is).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.touched.clear();
    }

    /// The number of pending nodes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn record(&mut self, path: Arc<str>, node: Option<Arc<Node>>) {
        let zxid = self.zxid;
        self.touched.push_back((zxid, path.clone()));
        self.slots.insert(path, Slot { zxid, node });
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
    fn entry(&self, path: &str) -> Option<(&Arc<str>, &Arc<Node>)> {
        match self.changes.slots.get_key_value(path) {
            Some((path, slot)) => slot.node.as_ref().map(|node| (path, node)),
            None => self.base.entry(path),
        }
    }

    /// O(pending nodes).
    fn len(&self) -> usize {
        let mut len = self.base.len() as isize;
        for (path, slot) in &self.changes.slots {
            len += isize::from(slot.node.is_some()) - isize::from(self.base.entry(path).is_some());
        }
        usize::try_from(len).unwrap_or(0)
    }
}

impl<B: NodeRead> NodeStore for Overlay<'_, B> {
    fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        let (key, node) = match self.changes.slots.get_key_value(path) {
            Some((key, slot)) => (key.clone(), slot.node.clone()?),
            None => {
                let (key, node) = self.base.entry(path)?;
                (key.clone(), node.clone())
            }
        };
        self.changes.record(key, Some(node));
        let slot = self.changes.slots.get_mut(path)?;
        slot.node.as_mut().map(Arc::make_mut)
    }

    fn insert(&mut self, path: Arc<str>, node: Arc<Node>) -> Option<Arc<Node>> {
        let old = self.get(&path).cloned();
        self.changes.record(path, Some(node));
        old
    }

    fn remove(&mut self, path: &str) -> Option<Arc<Node>> {
        let (key, old) = self.entry(path).map(|(key, node)| (key.clone(), node.clone()))?;
        self.changes.record(key, None);
        Some(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::StatPersisted;

    fn node(version: i32) -> Arc<Node> {
        let stat = StatPersisted { version, ..StatPersisted::default() };
        Arc::new(Node::new("/x", None, -1, stat))
    }

    fn version(store: &impl NodeRead, path: &str) -> Option<i32> {
        store.get(path).map(|node| node.stat.version)
    }

    #[test]
    fn overlay_reads_through_and_shadows_the_base() {
        let mut base = NodeMap::new();
        NodeStore::insert(&mut base, "/a".into(), node(1));
        NodeStore::insert(&mut base, "/b".into(), node(1));
        let mut changes = PendingChanges::default();
        let mut overlay = Overlay::new(&base, &mut changes);
        overlay.changes.begin(10);
        overlay.get_mut("/a").unwrap().stat.version = 2;
        overlay.remove("/b");
        overlay.insert("/c".into(), node(7));
        assert_eq!(version(&overlay, "/a"), Some(2));
        assert_eq!(version(&overlay, "/b"), None);
        assert_eq!(version(&overlay, "/c"), Some(7));
        assert_eq!(overlay.len(), 2);
        assert!(overlay.get_mut("/b").is_none());
        // The base is untouched.
        assert_eq!(version(&base, "/a"), Some(1));
        assert_eq!(version(&base, "/b"), Some(1));
        assert_eq!(base.len(), 2);
    }

    #[test]
    fn a_commit_retires_only_slots_no_later_txn_changed() {
        let base = NodeMap::new();
        let mut changes = PendingChanges::default();
        let mut overlay = Overlay::new(&base, &mut changes);
        overlay.changes.begin(1);
        overlay.insert("/a".into(), node(0));
        overlay.insert("/b".into(), node(0));
        overlay.changes.begin(2);
        overlay.get_mut("/b").unwrap().stat.version = 1;
        changes.committed(1);
        assert_eq!(changes.len(), 1, "/a retired, /b still pending behind txn 2");
        let overlay = Overlay::new(&base, &mut changes);
        assert_eq!(version(&overlay, "/b"), Some(1));
        assert_eq!(version(&overlay, "/a"), None, "the base (not yet updated in this test) shows through");
        changes.committed(2);
        assert!(changes.is_empty());
    }

    #[test]
    fn overlays_stack() {
        let mut base = NodeMap::new();
        NodeStore::insert(&mut base, "/a".into(), node(1));
        let mut lower = PendingChanges::default();
        let mut first = Overlay::new(&base, &mut lower);
        first.get_mut("/a").unwrap().stat.version = 2;
        let mut upper = PendingChanges::default();
        let mut second = Overlay::new(&first, &mut upper);
        second.get_mut("/a").unwrap().stat.version = 3;
        assert_eq!(version(&second, "/a"), Some(3));
        assert_eq!(version(&first, "/a"), Some(2));
        assert_eq!(version(&base, "/a"), Some(1));
    }
}
