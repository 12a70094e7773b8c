//! The ACL cache: every distinct ACL list stored once, nodes refer to it by an `i64` index.
//!
//! This mirrors ZooKeeper's `ReferenceCountedACLCache`, whose indices are written in snapshots: indices
//! count up from 1 and are never reused, each entry is reference counted by the nodes using it and
//! dropped when the count reaches zero, and index `-1` means `OPEN_ACL_UNSAFE` without an entry (the
//! built-in nodes use it). As in ZooKeeper, an explicitly given `OPEN_ACL_UNSAFE` list is not mapped to
//! `-1`: it gets a counted index, so our snapshots carry the same indices as ZooKeeper's.
//!
//! The maps are persistent (`imbl`), so cloning the cache with the tree is O(1).

use std::sync::Arc;

use imbl::{HashMap, OrdMap};
use zk_proto::Acl;

/// The index ZooKeeper reserves for `OPEN_ACL_UNSAFE` (never stored in the cache).
pub const OPEN_ACL_UNSAFE_INDEX: i64 = -1;

/// One cached ACL list and the number of nodes using it.
#[derive(Debug, Clone)]
struct Entry {
    acl: Arc<[Acl]>,
    refs: u64,
}

/// A reference-counted, persistent ACL cache (see the module docs).
#[derive(Debug, Clone)]
pub struct AclCache {
    by_index: OrdMap<i64, Entry>,
    by_acl: HashMap<Arc<[Acl]>, i64>,
    last_index: i64,
    open_unsafe: Arc<[Acl]>,
}

impl Default for AclCache {
    fn default() -> Self {
        AclCache::new()
    }
}

impl AclCache {
    /// An empty cache.
    pub fn new() -> AclCache {
        AclCache {
            by_index: OrdMap::new(),
            by_acl: HashMap::new(),
            last_index: 0,
            open_unsafe: Acl::open_unsafe().into(),
        }
    }

    /// The index of `acl`, adding the list if new; counts one more use (`convertAcls`).
    pub fn intern(&mut self, acl: &[Acl]) -> i64 {
        let index = match self.by_acl.get(acl) {
            Some(&index) => index,
            None => {
                self.last_index += 1;
                let index = self.last_index;
                let shared: Arc<[Acl]> = acl.into();
                self.by_acl.insert(shared.clone(), index);
                self.by_index.insert(index, Entry { acl: shared, refs: 0 });
                index
            }
        };
        self.add_usage(index);
        index
    }

    /// Counts one more use of `index`; unknown indices (and `-1`) are ignored, as ZooKeeper does.
    pub fn add_usage(&mut self, index: i64) {
        if let Some(entry) = self.by_index.get_mut(&index) {
            entry.refs += 1;
        }
    }

    /// Counts one use less of `index`, dropping the entry when unused.
    pub fn remove_usage(&mut self, index: i64) {
        let Some(entry) = self.by_index.get_mut(&index) else {
            return;
        };
        entry.refs = entry.refs.saturating_sub(1);
        if entry.refs == 0 {
            self.drop_entry(index);
        }
    }

    fn drop_entry(&mut self, index: i64) {
        if let Some(entry) = self.by_index.remove(&index) {
            self.by_acl.remove(&entry.acl);
        }
    }

    /// The ACL list of `index` (`OPEN_ACL_UNSAFE` for `-1`), or `None` if unknown.
    pub fn get(&self, index: i64) -> Option<Arc<[Acl]>> {
        if index == OPEN_ACL_UNSAFE_INDEX {
            return Some(self.open_unsafe.clone());
        }
        self.by_index.get(&index).map(|entry| entry.acl.clone())
    }

    /// Whether `index` can be resolved.
    pub fn contains(&self, index: i64) -> bool {
        index == OPEN_ACL_UNSAFE_INDEX || self.by_index.contains_key(&index)
    }

    /// Every cached list with its index, in index order (what a snapshot's ACL section holds).
    pub fn entries(&self) -> impl Iterator<Item = (i64, &Arc<[Acl]>)> + '_ {
        self.by_index.iter().map(|(index, entry)| (*index, &entry.acl))
    }

    /// The number of cached lists (ZooKeeper's `aclCacheSize`).
    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }

    /// The number of nodes using `index` (0 if unknown).
    pub fn usage(&self, index: i64) -> u64 {
        self.by_index.get(&index).map_or(0, |entry| entry.refs)
    }

    /// Adds a list read from a snapshot under its stored index, with no uses yet. Later indices are
    /// allocated above the largest one loaded.
    pub(crate) fn insert_loaded(&mut self, index: i64, acl: Vec<Acl>) {
        let shared: Arc<[Acl]> = acl.into();
        if let Some(old) = self.by_index.insert(index, Entry { acl: shared.clone(), refs: 0 }) {
            self.by_acl.remove(&old.acl);
        }
        self.by_acl.insert(shared, index);
        self.last_index = self.last_index.max(index);
    }

    /// Drops every list no node uses (after loading a snapshot).
    pub(crate) fn purge_unused(&mut self) {
        let unused: Vec<i64> =
            self.by_index.iter().filter(|(_, entry)| entry.refs == 0).map(|(index, _)| *index).collect();
        for index in unused {
            self.drop_entry(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_proto::Acl;

    #[test]
    fn identical_lists_share_one_index_and_count_uses() {
        let mut cache = AclCache::new();
        let a = cache.intern(&Acl::open_unsafe());
        let b = cache.intern(&Acl::read_unsafe());
        assert_eq!((a, b), (1, 2));
        assert_eq!(cache.intern(&Acl::open_unsafe()), 1);
        assert_eq!(cache.usage(1), 2);
        cache.remove_usage(1);
        assert_eq!(cache.get(1).as_deref(), Some(&Acl::open_unsafe()[..]));
        cache.remove_usage(1);
        assert_eq!(cache.get(1), None);
    }

    #[test]
    fn indices_are_never_reused() {
        let mut cache = AclCache::new();
        let first = cache.intern(&Acl::creator_all());
        cache.remove_usage(first);
        assert_eq!(cache.intern(&Acl::creator_all()), first + 1);
    }

    #[test]
    fn minus_one_is_open_acl_unsafe_without_an_entry() {
        let mut cache = AclCache::new();
        assert_eq!(cache.get(OPEN_ACL_UNSAFE_INDEX).as_deref(), Some(&Acl::open_unsafe()[..]));
        cache.add_usage(OPEN_ACL_UNSAFE_INDEX);
        cache.remove_usage(OPEN_ACL_UNSAFE_INDEX);
        assert!(cache.is_empty());
    }

    #[test]
    fn loaded_entries_are_purged_unless_used() {
        let mut cache = AclCache::new();
        cache.insert_loaded(4, Acl::open_unsafe());
        cache.insert_loaded(9, Acl::read_unsafe());
        cache.add_usage(4);
        cache.purge_unused();
        assert_eq!(cache.entries().map(|(index, _)| index).collect::<Vec<_>>(), [4]);
        assert_eq!(cache.intern(&Acl::creator_all()), 10);
    }
}
