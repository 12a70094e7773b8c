//! ZooKeeper's data tree digest (`DigestCalculator` version 2 and `AdHash`).
//!
//! A node's digest is the CRC-32 of its path (the root as `""`), its data (when not null) and 60 bytes of
//! big-endian stat fields (czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion,
//! ephemeralOwner). Nodes whose path starts with `/zookeeper/` contribute 0. The tree digest is the
//! wrapping 64-bit sum of every node's digest, kept up to date on each change.

use zk_proto::StatPersisted;

/// The digest version ZooKeeper writes in `TxnDigest.version` and snapshots.
pub const DIGEST_VERSION: i32 = 2;

/// Paths under this prefix are left out of the digest (ZooKeeper's quota bookkeeping is node-local).
const EXCLUDED_SUBTREE: &str = "/zookeeper/";

/// The digest of one node, as `DigestCalculator.calculateDigest` computes it (a value in `0..2^32`).
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> u32 {
    if path.starts_with(EXCLUDED_SUBTREE) {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut fields = [0u8; 60];
    let mut at = 0;
    for long in [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime] {
        fields[at..at + 8].copy_from_slice(&long.to_be_bytes());
        at += 8;
    }
    for int in [stat.version, stat.cversion, stat.aversion] {
        fields[at..at + 4].copy_from_slice(&int.to_be_bytes());
        at += 4;
    }
    fields[at..at + 8].copy_from_slice(&stat.ephemeral_owner.to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(path.as_bytes());
    if let Some(data) = data {
        crc.update(data);
    }
    crc.update(&fields);
    crc.finalize()
}

/// An additive hash of node digests (ZooKeeper's `AdHash`): order-independent and updatable in O(1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AdHash(i64);

impl AdHash {
    /// Adds a node's digest.
    pub fn add(&mut self, digest: u32) {
        self.0 = self.0.wrapping_add(i64::from(digest));
    }

    /// Removes a node's digest.
    pub fn remove(&mut self, digest: u32) {
        self.0 = self.0.wrapping_sub(i64::from(digest));
    }

    /// The hash value (`TxnDigest.treeDigest`).
    pub fn value(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_under_the_zookeeper_subtree_digest_to_zero() {
        let stat = StatPersisted { czxid: 5, ..Default::default() };
        assert_eq!(node_digest("/zookeeper/quota", Some(b""), &stat), 0);
        assert_ne!(node_digest("/zookeeper", Some(b""), &stat), 0);
    }

    #[test]
    fn root_digests_as_the_empty_path() {
        let stat = StatPersisted::default();
        assert_eq!(node_digest("/", Some(b""), &stat), node_digest("", Some(b""), &stat));
    }

    #[test]
    fn null_and_empty_data_digest_alike() {
        // Java's CRC32.update(new byte[0]) is a no-op, so null and empty data give the same digest.
        let stat = StatPersisted { mzxid: 9, ..Default::default() };
        assert_eq!(node_digest("/a", None, &stat), node_digest("/a", Some(b""), &stat));
    }

    #[test]
    fn adhash_add_then_remove_is_identity() {
        let mut hash = AdHash::default();
        hash.add(u32::MAX);
        hash.add(7);
        hash.remove(u32::MAX);
        assert_eq!(hash.value(), 7);
    }
}
