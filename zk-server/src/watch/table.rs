//! One watch table (ZooKeeper keeps two: data and child): path → watchers and watcher → (path → modes),
//! with ZooKeeper 3.9's `WatchManager` trigger rules.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use crate::tree::path::self_and_ancestors;

use super::mode::{Modes, WatchMode};

/// A watch table (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct WatchTable<W> {
    by_path: HashMap<String, BTreeSet<W>>,
    by_watcher: HashMap<W, HashMap<String, Modes>>,
    /// How many (watcher, path) pairs hold a recursive watch; while 0, triggers skip the ancestor walk.
    recursive: usize,
}

impl<W> Default for WatchTable<W> {
    fn default() -> Self {
        WatchTable { by_path: HashMap::new(), by_watcher: HashMap::new(), recursive: 0 }
    }
}

impl<W: Copy + Eq + Hash + Ord> WatchTable<W> {
    /// Adds a watch; false if the watcher already held that mode on that path.
    pub(crate) fn add(&mut self, path: &str, watcher: W, mode: WatchMode) -> bool {
        self.by_path.entry(path.to_owned()).or_default().insert(watcher);
        let paths = self.by_watcher.entry(watcher).or_default();
        let old = paths.get(path).copied().unwrap_or_default();
        let new = old.with(mode);
        if new == old {
            return false;
        }
        paths.insert(path.to_owned(), new);
        if mode == WatchMode::PersistentRecursive {
            self.recursive += 1;
        }
        true
    }

    /// Drops every watch of `watcher` (its connection closed).
    pub(crate) fn remove_watcher(&mut self, watcher: W) {
        let Some(paths) = self.by_watcher.remove(&watcher) else { return };
        for (path, modes) in paths {
            if let Some(watchers) = self.by_path.get_mut(&path) {
                watchers.remove(&watcher);
                if watchers.is_empty() {
                    self.by_path.remove(&path);
                }
            }
            if modes.has(WatchMode::PersistentRecursive) {
                self.recursive = self.recursive.saturating_sub(1);
            }
        }
    }

    /// Fires `path`: every watcher holding any mode on `path` itself (standard modes are consumed), and
    /// every watcher holding a recursive watch on an ancestor. Returns each matched watcher once.
    pub(crate) fn trigger(&mut self, path: &str) -> BTreeSet<W> {
        let mut fired = BTreeSet::new();
        let levels = if self.recursive == 0 { 1 } else { usize::MAX };
        for (level, at) in self_and_ancestors(path).take(levels).enumerate() {
            let Some(watchers) = self.by_path.get_mut(at) else { continue };
            let mut consumed = Vec::new();
            for &watcher in watchers.iter() {
                let Some(modes) = self.by_watcher.get_mut(&watcher).and_then(|paths| paths.get_mut(at)) else {
                    tracing::warn!(path = at, "inconsistent watch table");
                    continue;
                };
                if level == 0 {
                    fired.insert(watcher);
                    let left = modes.without(WatchMode::Standard);
                    if left.is_empty() {
                        consumed.push(watcher);
                    } else {
                        *modes = left;
                    }
                } else if modes.has(WatchMode::PersistentRecursive) {
                    fired.insert(watcher);
                }
            }
            for watcher in consumed {
                watchers.remove(&watcher);
                if let Some(paths) = self.by_watcher.get_mut(&watcher) {
                    paths.remove(at);
                }
            }
            if watchers.is_empty() {
                self.by_path.remove(at);
            }
        }
        fired
    }

    /// Whether `watcher` holds `mode` (any mode for `None`) on exactly `path`.
    pub(crate) fn contains(&self, path: &str, watcher: W, mode: Option<WatchMode>) -> bool {
        let modes = self.by_watcher.get(&watcher).and_then(|paths| paths.get(path));
        match (modes, mode) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(modes), Some(mode)) => modes.has(mode),
        }
    }

    /// Removes `mode` (every mode for `None`) of `watcher` on `path`; true if something was removed.
    pub(crate) fn remove(&mut self, path: &str, watcher: W, mode: Option<WatchMode>) -> bool {
        if !self.by_path.contains_key(path) {
            return false;
        }
        let Some(paths) = self.by_watcher.get_mut(&watcher) else { return false };
        let old = paths.get(path).copied().unwrap_or_default();
        let new = mode.map_or(Modes::NONE, |mode| old.without(mode));
        if new == old {
            return false;
        }
        if new.is_empty() {
            self.unwatch(path, watcher);
        } else if let Some(modes) = self.by_watcher.get_mut(&watcher).and_then(|paths| paths.get_mut(path)) {
            *modes = new;
        }
        if old.has(WatchMode::PersistentRecursive) && !new.has(WatchMode::PersistentRecursive) {
            self.recursive = self.recursive.saturating_sub(1);
        }
        true
    }

    fn unwatch(&mut self, path: &str, watcher: W) {
        if let Some(paths) = self.by_watcher.get_mut(&watcher) {
            paths.remove(path);
            if paths.is_empty() {
                self.by_watcher.remove(&watcher);
            }
        }
        if let Some(watchers) = self.by_path.get_mut(path) {
            watchers.remove(&watcher);
            if watchers.is_empty() {
                self.by_path.remove(path);
            }
        }
    }

    /// The number of (path, watcher) pairs (ZooKeeper's `size()`).
    pub(crate) fn size(&self) -> usize {
        self.by_path.values().map(BTreeSet::len).sum()
    }

    /// Watched paths per watcher.
    pub(crate) fn by_watcher(&self) -> impl Iterator<Item = (W, impl Iterator<Item = &str>)> + '_ {
        self.by_watcher.iter().map(|(watcher, paths)| (*watcher, paths.keys().map(String::as_str)))
    }

    /// Watchers per watched path.
    pub(crate) fn by_path(&self) -> impl Iterator<Item = (&str, &BTreeSet<W>)> + '_ {
        self.by_path.iter().map(|(path, watchers)| (path.as_str(), watchers))
    }

    /// `(watchers, paths, watches)` as ZooKeeper's `WatchesSummary` counts them.
    pub(crate) fn summary(&self) -> (usize, usize, usize) {
        let total = self.by_watcher.values().map(HashMap::len).sum();
        (self.by_watcher.len(), self.by_path.len(), total)
    }
}
