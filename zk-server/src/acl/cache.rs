//! `ReferenceCountedACLCache`: ACL lists interned as longs, as data nodes and snapshots store them.

use std::collections::{BTreeMap, HashMap};

use bytes::{BufMut, Bytes};
use zk_proto::{Acl, DecodeError, Jute};

/// The id that stands for `OPEN_ACL_UNSAFE` (and for a null ACL); never stored in the cache.
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

/// ACL lists interned as longs with reference counts. A node stores the long; the snapshot stores the
/// map (`int count`, then `long id, vector<ACL>` per entry) before the data tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclCache {
    by_id: BTreeMap<i64, Vec<Acl>>,
    by_acl: HashMap<Vec<Acl>, i64>,
    references: HashMap<i64, u64>,
    last_id: i64,
}

impl AclCache {
    /// An empty cache.
    pub fn new() -> AclCache {
        AclCache::default()
    }

    /// The long for `acl` (`convertAcls`), adding it if new, and counts one more use. `None` (a null ACL)
    /// is [`OPEN_UNSAFE_ACL_ID`].
    pub fn intern(&mut self, acl: Option<&[Acl]>) -> i64 {
        let Some(acl) = acl else {
            return OPEN_UNSAFE_ACL_ID;
        };
        let id = match self.by_acl.get(acl) {
            Some(id) => *id,
            None => {
                self.last_id += 1;
                let id = self.last_id;
                self.by_id.insert(id, acl.to_vec());
                self.by_acl.insert(acl.to_vec(), id);
                id
            }
        };
        self.add_usage(id);
        id
    }

    /// The ACL for `id` (`convertLong`): [`OPEN_UNSAFE_ACL_ID`] is `OPEN_ACL_UNSAFE`; an unknown id is
    /// `None` (ZooKeeper throws: the data is inconsistent).
    pub fn get(&self, id: i64) -> Option<Vec<Acl>> {
        if id == OPEN_UNSAFE_ACL_ID {
            return Some(Acl::open_unsafe());
        }
        self.by_id.get(&id).cloned()
    }

    /// Counts one more use of `id` (ignored for unknown ids and [`OPEN_UNSAFE_ACL_ID`]).
    pub fn add_usage(&mut self, id: i64) {
        if id != OPEN_UNSAFE_ACL_ID && self.by_id.contains_key(&id) {
            *self.references.entry(id).or_insert(0) += 1;
        }
    }

    /// Counts one use less of `id`; the entry is dropped when no use is left.
    pub fn remove_usage(&mut self, id: i64) {
        if id == OPEN_UNSAFE_ACL_ID || !self.by_id.contains_key(&id) {
            return;
        }
        let count = self.references.entry(id).or_insert(0);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.drop_entry(id);
        }
    }

    /// Drops every entry with no use (after loading a snapshot and counting the nodes' uses).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> =
            self.by_id.keys().copied().filter(|id| self.references.get(id).map_or(true, |c| *c == 0)).collect();
        for id in unused {
            self.drop_entry(id);
        }
    }

    fn drop_entry(&mut self, id: i64) {
        self.references.remove(&id);
        if let Some(acl) = self.by_id.remove(&id) {
            self.by_acl.remove(&acl);
        }
    }

    /// The number of distinct ACL lists.
    pub fn len(&self) -> usize {
        self.by_acl.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.by_acl.is_empty()
    }

    /// The use count of `id`.
    pub fn references(&self, id: i64) -> u64 {
        self.references.get(&id).copied().unwrap_or(0)
    }

    /// Writes the snapshot form: `int count`, then per entry `long id` and `vector<ACL>` (ascending ids).
    pub fn serialize(&self, out: &mut impl BufMut) {
        out.put_i32(i32::try_from(self.by_id.len()).unwrap_or(i32::MAX));
        for (id, acl) in &self.by_id {
            out.put_i64(*id);
            acl.encode(out);
        }
    }

    /// Reads the snapshot form, replacing the contents; every entry starts with no use (count them with
    /// [`add_usage`](Self::add_usage) while loading nodes). The next new id follows the largest read.
    pub fn deserialize(input: &mut Bytes) -> Result<AclCache, DecodeError> {
        let mut cache = AclCache::new();
        let count = i32::decode(input)?;
        for _ in 0..count.max(0) {
            let id = i64::decode(input)?;
            let acl = Vec::<Acl>::decode(input)?;
            cache.last_id = cache.last_id.max(id);
            cache.by_acl.insert(acl.clone(), id);
            cache.by_id.insert(id, acl);
            cache.references.insert(id, 0);
        }
        Ok(cache)
    }
}

#[cfg(test)]
mod tests {
    use zk_proto::perms::{ALL, READ};
    use zk_proto::Id;

    use super::*;

    #[test]
    fn interning_and_reference_counts() {
        let mut cache = AclCache::new();
        let a = vec![Acl::new(ALL, Id::new("digest", "u:h"))];
        let b = vec![Acl::new(READ, Id::anyone())];
        assert_eq!(cache.intern(None), OPEN_UNSAFE_ACL_ID);
        assert_eq!(cache.intern(Some(&a)), 1);
        assert_eq!(cache.intern(Some(&b)), 2);
        assert_eq!(cache.intern(Some(&a)), 1);
        assert_eq!(cache.references(1), 2);
        assert_eq!(cache.get(OPEN_UNSAFE_ACL_ID), Some(Acl::open_unsafe()));
        assert_eq!(cache.get(1), Some(a.clone()));
        assert_eq!(cache.get(9), None);
        cache.remove_usage(1);
        assert_eq!(cache.get(1), Some(a.clone()));
        cache.remove_usage(1);
        assert_eq!(cache.get(1), None);
        assert_eq!(cache.len(), 1);
        // Ids are never reused.
        assert_eq!(cache.intern(Some(&a)), 3);
    }

    #[test]
    fn snapshot_round_trip_and_purge() {
        let mut cache = AclCache::new();
        let a = vec![Acl::new(ALL, Id::new("ip", "10.0.0.0/8"))];
        let b = vec![Acl::new(READ, Id::anyone()), Acl::new(ALL, Id::new("digest", "u:h"))];
        cache.intern(Some(&a));
        cache.intern(Some(&b));
        let mut out = bytes::BytesMut::new();
        cache.serialize(&mut out);
        // count, then (long id, int n, n x (int perms, string scheme, string id)).
        assert_eq!(&out[..12], &[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
        let mut wire = out.freeze();
        let mut loaded = AclCache::deserialize(&mut wire).unwrap();
        assert!(wire.is_empty());
        assert_eq!(loaded.get(1), Some(a.clone()));
        assert_eq!(loaded.get(2), Some(b.clone()));
        assert_eq!(loaded.references(1), 0);
        loaded.add_usage(2);
        loaded.purge_unused();
        assert_eq!(loaded.get(1), None);
        assert_eq!(loaded.get(2), Some(b));
        assert_eq!(loaded.intern(Some(&a)), 3, "new ids follow the largest loaded");
        // Truncated input is an error, not a panic.
        assert!(AclCache::deserialize(&mut bytes::Bytes::from_static(&[0, 0, 0, 5, 0])).is_err());
    }
}
