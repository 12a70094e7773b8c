//! ZooKeeper's snapshot: `<dataDir>/version-2/snapshot.<hex last processed zxid>[.gz]`.
//!
//! Layout (every byte through one Adler32, computed inside any compression):
//! 1. [`zk_proto::FileHeader`] `ZKSN`, version 2, dbid -1;
//! 2. sessions: `int count`, then `long id, int timeout` each;
//! 3. ACL cache: `int count`, then `long index, vector<ACL>` each;
//! 4. nodes, depth-first pre-order from the root (path `""`): `ustring path` + [`DataNodeRecord`]
//!    (`buffer data, long acl, StatPersisted`), ended by the path `"/"`;
//! 5. seal: `long adler32-so-far, ustring "/"`;
//! 6. optional digest ([`ZxidDigest`]: `long zxid, int version, long digest`) and its seal;
//! 7. optional `long lastProcessedZxid` and its seal (ZooKeeper 3.9+).
//!
//! [`SnapshotWriter`] and [`SnapshotReader`] are streaming codecs that know nothing of the data tree:
//! the tree feeds them node by node. The SNAP-sync body (sections 2–4, then `"BenWasHere"`) shares
//! them ([`SnapshotWriter::snap_sync`], [`SnapshotReader::snap_sync`], [`Snapshot::write_snap_sync`]).
//! Snappy-compressed snapshots are recognised but not supported.

mod files;
mod reader;
mod records;
mod sync_scanner;
mod whole;
mod writer;

pub use files::{
    find_valid_snapshots, is_valid_snapshot, load_newest_snapshot, open_snapshot_file, read_snapshot_file,
    remove_partial_snapshots, write_snapshot_file, FileSink, LoadedSnapshot, SnapshotFileReader, SnapshotFileWriter,
    MAX_SNAPSHOTS_TRIED,
};
pub use reader::SnapshotReader;
pub use records::{
    AclCacheEntry, DataNodeRecord, SnapshotTrailer, ZxidDigest, DIGEST_VERSION, OPEN_UNSAFE_ACL_ID, SNAP_SYNC_SIGNATURE,
};
pub use sync_scanner::{ScanError, SnapSyncScanner};
pub use whole::Snapshot;
pub use writer::SnapshotWriter;
