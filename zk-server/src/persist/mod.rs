//! Persistence in Apache ZooKeeper's own file formats, so that zk-server can start on a ZooKeeper
//! dataDir and ZooKeeper on ours.
//!
//! - [`txn_log`]: the write-ahead txn log (`log.<zxid>`), group commit, torn-tail recovery, truncation.
//! - [`snapshot`]: the fuzzy snapshot (`snapshot.<zxid>`), a streaming codec independent of the data
//!   tree, and the SNAP-sync body.
//! - [`DataDir`]: the directory layout (`version-2/`, `myid`, epochs), recovery planning and purge.

mod atomic_file;
mod checked_io;
mod data_dir;
mod error;
mod file_name;
mod purge;
pub mod snapshot;
pub mod txn_log;

pub use atomic_file::{sync_dir, write_atomic};
pub use checked_io::DEFAULT_MAX_FIELD_LEN;
pub use data_dir::{DataDir, Recovered, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, MYID_FILE, VERSION_DIR};
pub use error::{PersistError, Result};
pub use file_name::{
    compression_of, list_files, log_name, logs_after, snapshot_name, zxid_from_name, Compression, DataFile, LOG_PREFIX,
    SNAPSHOT_PREFIX,
};
pub use purge::{purge, PurgeReport, MIN_SNAP_RETAIN_COUNT};
pub use snapshot::{
    AclCacheEntry, DataNodeRecord, ScanError, SnapSyncScanner, Snapshot, SnapshotFileWriter, SnapshotReader,
    SnapshotTrailer, SnapshotWriter, ZxidDigest,
};
pub use txn_log::{LoggedTxn, TxnLog, TxnLogOptions, TxnLogReader};
