//! The records a snapshot holds besides its framing.

use bytes::{BufMut, Bytes};
use zk_proto::{Acl, Jute, StatPersisted};

/// The ACL index of nodes whose ACL is null (`ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID`); it is
/// never stored in the cache.
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

/// The string that ends a SNAP sync body (`LearnerHandler`: "BenWasHere").
pub const SNAP_SYNC_SIGNATURE: &str = "BenWasHere";

/// The digest format written by ZooKeeper 3.6+ (`DigestCalculator.DIGEST_VERSION`).
pub const DIGEST_VERSION: i32 = 2;

/// One node as a snapshot stores it (`DataNode` serialization): data, ACL cache index, metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataNodeRecord {
    /// The data; `None` is a null buffer (a node created with null data), distinct from empty.
    pub data: Option<Bytes>,
    /// The node's index into the ACL cache ([`OPEN_UNSAFE_ACL_ID`] for a null ACL).
    pub acl: i64,
    /// The persisted stat.
    pub stat: StatPersisted,
}

impl DataNodeRecord {
    /// Appends the jute encoding.
    pub fn encode<B: BufMut>(&self, buf: &mut B) {
        DataNodeRecord::encode_parts(buf, self.data.as_deref(), self.acl, &self.stat);
    }

    /// Appends the jute encoding of a record given by its parts (no copy of the data into a record).
    pub fn encode_parts<B: BufMut>(buf: &mut B, data: Option<&[u8]>, acl: i64, stat: &StatPersisted) {
        match data {
            // A jute buffer: its length (bounded by the packet limit), then the bytes; -1 is null.
            Some(data) => {
                buf.put_i32(i32::try_from(data.len()).unwrap_or(i32::MAX));
                buf.put_slice(data);
            }
            None => buf.put_i32(-1),
        }
        acl.encode(buf);
        stat.encode(buf);
    }

    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        self.data.encoded_len() + 8 + StatPersisted::MIN_LEN
    }
}

/// One entry of the ACL cache (`ReferenceCountedACLCache`): an index and the ACL list it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AclCacheEntry {
    /// The index nodes refer to (counting from 1).
    pub index: i64,
    /// The ACL list.
    pub acls: Vec<Acl>,
}

/// The tree digest at a zxid (`DataTree.ZxidDigest`), written after the first seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZxidDigest {
    /// The zxid the digest was computed at (0: no digest was known).
    pub zxid: i64,
    /// The digest version ([`DIGEST_VERSION`]).
    pub digest_version: i32,
    /// The tree digest.
    pub digest: i64,
}

/// What follows the nodes of a snapshot file: each present section is followed by its own seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotTrailer {
    /// The digest section (`zookeeper.digest.enabled`, ZooKeeper 3.6+).
    pub digest: Option<ZxidDigest>,
    /// The last processed zxid section (`zookeeper.serializeLastProcessedZxid.enabled`, ZooKeeper 3.9+).
    pub last_processed_zxid: Option<i64>,
}
