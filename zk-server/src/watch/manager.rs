//! `WatchManager`: the server's data and child watch tables and how events reach them.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;

use zk_proto::{AddWatchMode, EventType, KeeperState, WatcherEvent, WatcherType};

use super::mode::WatchMode;
use super::table::WatchTable;

/// The watches of every connection, as ZooKeeper's `DataTree` holds them: a data table (getData and
/// exists watches, persistent and persistent-recursive watches) and a child table (getChildren watches
/// and persistent watches).
///
/// `W` identifies a watcher, normally a connection. Everything is deterministic: watchers are notified
/// in `W` order (ZooKeeper uses hash-set order).
#[derive(Debug, Clone)]
pub struct WatchManager<W> {
    data: WatchTable<W>,
    child: WatchTable<W>,
}

impl<W> Default for WatchManager<W> {
    fn default() -> Self {
        WatchManager { data: WatchTable::default(), child: WatchTable::default() }
    }
}

/// ZooKeeper's `WatchesSummary` (4lw `wchs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WatchesSummary {
    /// Watchers with at least one watch.
    pub watchers: usize,
    /// Watched paths.
    pub paths: usize,
    /// (watcher, path) pairs.
    pub total_watches: usize,
}

/// A notification for path `path` of type `event` (state SyncConnected, as servers send).
pub(crate) fn event(event: EventType, path: &str) -> WatcherEvent {
    WatcherEvent { event_type: event.code(), state: KeeperState::SyncConnected.code(), path: path.to_owned() }
}

impl<W: Copy + Eq + Hash + Ord> WatchManager<W> {
    /// An empty manager.
    pub fn new() -> WatchManager<W> {
        WatchManager::default()
    }

    /// A one-shot data watch (getData, or exists on an existing node).
    pub fn add_data_watch(&mut self, path: &str, watcher: W) -> bool {
        self.data.add(path, watcher, WatchMode::Standard)
    }

    /// A one-shot exist watch (exists on a missing node); ZooKeeper keeps it in the data table.
    pub fn add_exist_watch(&mut self, path: &str, watcher: W) -> bool {
        self.data.add(path, watcher, WatchMode::Standard)
    }

    /// A one-shot child watch (getChildren).
    pub fn add_child_watch(&mut self, path: &str, watcher: W) -> bool {
        self.child.add(path, watcher, WatchMode::Standard)
    }

    /// `addWatch`: a persistent watch goes into both tables, a persistent-recursive one into the data
    /// table only (so it never sees NodeChildrenChanged). True if the watch is new.
    pub fn add_persistent_watch(&mut self, path: &str, watcher: W, mode: AddWatchMode) -> bool {
        let mode = WatchMode::from(mode);
        let added = self.data.add(path, watcher, mode);
        if mode == WatchMode::Persistent {
            self.child.add(path, watcher, mode) || added
        } else {
            added
        }
    }

    /// Fires the watches an event on `path` reaches, as ZooKeeper's `DataTree` calls its two tables:
    ///
    /// - NodeCreated, NodeDataChanged: the data table;
    /// - NodeChildrenChanged: the child table;
    /// - NodeDeleted: the data table, then the child table, each watcher notified once.
    ///
    /// In a table, every watch on `path` itself fires (one-shot ones are removed), and every
    /// persistent-recursive watch on an ancestor fires. Each watcher gets at most one notification.
    /// The caller sends each with the txn's zxid (and, as ZooKeeper 3.9, only to watchers with READ on
    /// the trigger's ACL).
    pub fn trigger(&mut self, path: &str, event_type: EventType) -> Vec<(W, WatcherEvent)> {
        let fired: Vec<W> = match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => self.data.trigger(path).into_iter().collect(),
            EventType::NodeChildrenChanged => self.child.trigger(path).into_iter().collect(),
            EventType::NodeDeleted => {
                let data = self.data.trigger(path);
                let child = self.child.trigger(path);
                let mut fired: Vec<W> = data.iter().copied().collect();
                fired.extend(child.difference(&data).copied());
                fired
            }
            _ => Vec::new(),
        };
        fired.into_iter().map(|watcher| (watcher, event(event_type, path))).collect()
    }

    /// Drops every watch of `watcher` (its connection closed).
    pub fn remove_watcher(&mut self, watcher: W) {
        self.data.remove_watcher(watcher);
        self.child.remove_watcher(watcher);
    }

    /// `removeWatches`: true if something was removed (false means NoWatcher).
    ///
    /// Children: the one-shot child watch; Data: the one-shot data / exist watch; Persistent: the
    /// persistent watch (both tables); PersistentRecursive: the recursive watch; Any: every watch of
    /// this watcher on `path`.
    pub fn remove_watches(&mut self, path: &str, watcher: W, kind: WatcherType) -> bool {
        match kind {
            WatcherType::Children => self.child.remove(path, watcher, Some(WatchMode::Standard)),
            WatcherType::Data => self.data.remove(path, watcher, Some(WatchMode::Standard)),
            WatcherType::Persistent => {
                let child = self.child.remove(path, watcher, Some(WatchMode::Persistent));
                self.data.remove(path, watcher, Some(WatchMode::Persistent)) || child
            }
            WatcherType::PersistentRecursive => self.data.remove(path, watcher, Some(WatchMode::PersistentRecursive)),
            WatcherType::Any => {
                let child = self.child.remove(path, watcher, None);
                self.data.remove(path, watcher, None) || child
            }
        }
    }

    /// `checkWatches`: whether `watcher` holds a watch of `kind` on exactly `path` (false means
    /// NoWatcher).
    pub fn check_watches(&self, path: &str, watcher: W, kind: WatcherType) -> bool {
        match kind {
            WatcherType::Children => self.child.contains(path, watcher, Some(WatchMode::Standard)),
            WatcherType::Data => self.data.contains(path, watcher, Some(WatchMode::Standard)),
            WatcherType::Persistent => self.data.contains(path, watcher, Some(WatchMode::Persistent)),
            WatcherType::PersistentRecursive => self.data.contains(path, watcher, Some(WatchMode::PersistentRecursive)),
            WatcherType::Any => self.child.contains(path, watcher, None) || self.data.contains(path, watcher, None),
        }
    }

    /// The number of watches in both tables (`mntr` `zk_watch_count`).
    pub fn watch_count(&self) -> usize {
        self.data.size() + self.child.size()
    }

    /// The data table's summary (4lw `wchs`; ZooKeeper reports the data table only).
    pub fn summary(&self) -> WatchesSummary {
        let (watchers, paths, total_watches) = self.data.summary();
        WatchesSummary { watchers, paths, total_watches }
    }

    /// Watched paths per watcher in the data table (4lw `wchc`, keyed by the caller's session ids).
    pub fn paths_by_watcher(&self) -> BTreeMap<W, BTreeSet<String>> {
        self.data.by_watcher().map(|(watcher, paths)| (watcher, paths.map(str::to_owned).collect())).collect()
    }

    /// Watchers per watched path in the data table (4lw `wchp`).
    pub fn watchers_by_path(&self) -> BTreeMap<String, BTreeSet<W>> {
        self.data.by_path().map(|(path, watchers)| (path.to_owned(), watchers.clone())).collect()
    }

    /// Watched paths per watcher in the child table.
    pub fn child_paths_by_watcher(&self) -> BTreeMap<W, BTreeSet<String>> {
        self.child.by_watcher().map(|(watcher, paths)| (watcher, paths.map(str::to_owned).collect())).collect()
    }

    pub(crate) fn data_table(&mut self) -> &mut WatchTable<W> {
        &mut self.data
    }

    pub(crate) fn child_table(&mut self) -> &mut WatchTable<W> {
        &mut self.child
    }
}
