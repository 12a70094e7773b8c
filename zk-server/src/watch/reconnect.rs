//! `setWatches` / `setWatches2`: re-registering a reconnecting client's watches against the current tree.

use std::hash::Hash;

use zk_proto::{EventType, WatcherEvent};

use super::manager::{event, WatchManager};
use super::mode::WatchMode;
use crate::tree::DataTree;

/// The watch lists of a `SetWatches2` request (a `SetWatches` request has no persistent lists).
#[derive(Debug, Clone, Copy, Default)]
pub struct WatchLists<'a> {
    /// One-shot data watches.
    pub data: &'a [String],
    /// One-shot exist watches.
    pub exist: &'a [String],
    /// One-shot child watches.
    pub child: &'a [String],
    /// Persistent watches.
    pub persistent: &'a [String],
    /// Persistent recursive watches.
    pub persistent_recursive: &'a [String],
}

impl<W: Copy + Eq + Hash + Ord> WatchManager<W> {
    /// Re-registers a reconnecting watcher's watches, or fires them at once when the tree moved past
    /// `relative_zxid` (the client's last seen zxid), as ZooKeeper's `DataTree.setWatches`:
    ///
    /// - data watch: node missing → NodeDeleted; `mzxid > relative_zxid` → NodeDataChanged; else kept;
    /// - exist watch: node present → NodeCreated; else kept;
    /// - child watch: node missing → NodeDeleted; `pzxid > relative_zxid` → NodeChildrenChanged; else
    ///   kept;
    /// - persistent and persistent-recursive watches are kept without checks.
    ///
    /// A watch that fires here is not registered. The events, in list order (data, exist, child), are
    /// sent with zxid -1; as ZooKeeper 3.9, the caller may drop those about an existing node the watcher
    /// cannot READ.
    pub fn set_watches(
        &mut self,
        relative_zxid: i64,
        lists: WatchLists<'_>,
        watcher: W,
        tree: &DataTree,
    ) -> Vec<WatcherEvent> {
        let mut events = Vec::new();
        for path in lists.data {
            match tree.get(path) {
                None => events.push(event(EventType::NodeDeleted, path)),
                Some(node) if node.stat_persisted().mzxid > relative_zxid => {
                    events.push(event(EventType::NodeDataChanged, path))
                }
                Some(_) => {
                    self.data_table().add(path, watcher, WatchMode::Standard);
                }
            }
        }
        for path in lists.exist {
            if tree.exists(path) {
                events.push(event(EventType::NodeCreated, path));
            } else {
                self.data_table().add(path, watcher, WatchMode::Standard);
            }
        }
        for path in lists.child {
            match tree.get(path) {
                None => events.push(event(EventType::NodeDeleted, path)),
                Some(node) if node.stat_persisted().pzxid > relative_zxid => {
                    events.push(event(EventType::NodeChildrenChanged, path))
                }
                Some(_) => {
                    self.child_table().add(path, watcher, WatchMode::Standard);
                }
            }
        }
        for path in lists.persistent {
            self.child_table().add(path, watcher, WatchMode::Persistent);
            self.data_table().add(path, watcher, WatchMode::Persistent);
        }
        for path in lists.persistent_recursive {
            self.data_table().add(path, watcher, WatchMode::PersistentRecursive);
        }
        events
    }
}
