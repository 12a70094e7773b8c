//! The header of ZooKeeper's txn log and snapshot files.

use crate::jute::jute_record;

jute_record! {
    /// `FileHeader`: magic, format version and database id.
    pub struct FileHeader {
        /// [`FileHeader::TXNLOG_MAGIC`] or [`FileHeader::SNAP_MAGIC`].
        pub magic: i32,
        /// Format version (2).
        pub version: i32,
        /// Database id (0 in logs, -1 in snapshots).
        pub dbid: i64,
    }
}

impl FileHeader {
    /// `"ZKLG"`: a txn log.
    pub const TXNLOG_MAGIC: i32 = i32::from_be_bytes(*b"ZKLG");
    /// `"ZKSN"`: a snapshot.
    pub const SNAP_MAGIC: i32 = i32::from_be_bytes(*b"ZKSN");
    /// The only format version in use.
    pub const VERSION: i32 = 2;

    /// The header ZooKeeper writes at the start of a txn log.
    pub fn txn_log() -> FileHeader {
        FileHeader { magic: Self::TXNLOG_MAGIC, version: Self::VERSION, dbid: 0 }
    }

    /// The header ZooKeeper writes at the start of a snapshot.
    pub fn snapshot() -> FileHeader {
        FileHeader { magic: Self::SNAP_MAGIC, version: Self::VERSION, dbid: -1 }
    }
}
