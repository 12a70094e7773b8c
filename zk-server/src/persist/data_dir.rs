//! [`DataDir`]: the layout of a ZooKeeper dataDir / dataLogDir, the small files beside the data
//! (`myid`, `currentEpoch`, `acceptedEpoch`), and recovery: which snapshot and which logs to replay.

use std::fs;
use std::path::{Path, PathBuf};

use super::atomic_file::write_atomic;
use super::checked_io::DEFAULT_MAX_FIELD_LEN;
use super::error::{IoContext, PersistError, Result};
use super::file_name::{list_files, logs_after, Compression, DataFile, LOG_PREFIX, SNAPSHOT_PREFIX};
use super::purge::{purge, PurgeReport};
use super::snapshot::{
    load_newest_snapshot, remove_partial_snapshots, LoadedSnapshot, SnapshotFileReader, SnapshotFileWriter,
};
use super::txn_log::{TxnLog, TxnLogOptions, TxnLogReader};

/// The subdirectory that holds the files (`FileTxnSnapLog`: "version-" + 2).
pub const VERSION_DIR: &str = "version-2";
/// The server id file, in the dataDir itself.
pub const MYID_FILE: &str = "myid";
/// The last epoch this server accepted as a follower's NEWLEADER, in `version-2/`.
pub const CURRENT_EPOCH_FILE: &str = "currentEpoch";
/// The last epoch this server acknowledged in discovery, in `version-2/`.
pub const ACCEPTED_EPOCH_FILE: &str = "acceptedEpoch";

/// A server's data directories: snapshots and epochs in `<dataDir>/version-2`, logs in
/// `<dataLogDir>/version-2` (the same directory when there is no separate dataLogDir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    data_dir: PathBuf,
    snap_dir: PathBuf,
    log_dir: PathBuf,
}

/// What [`DataDir::recover`] found: the snapshot to start from and the txns to replay after it.
#[derive(Debug)]
pub struct Recovered<T> {
    /// The newest snapshot that read back intact, with what the caller built from it.
    pub snapshot: Option<LoadedSnapshot<T>>,
    /// The zxid the state is at before replaying (the snapshot's, or 0 for an empty database).
    pub snapshot_zxid: i64,
    /// The logs that hold the txns after the snapshot.
    pub logs: Vec<DataFile>,
    /// The txns to apply, from `snapshot_zxid + 1` on. A fuzzy snapshot may already contain some of
    /// their effects; ZooKeeper's txns are idempotent on replay.
    pub txns: TxnLogReader,
}

impl DataDir {
    /// Opens (creating the `version-2` directories if needed) a dataDir and an optional separate
    /// dataLogDir.
    pub fn open(data_dir: &Path, data_log_dir: Option<&Path>) -> Result<DataDir> {
        let snap_dir = data_dir.join(VERSION_DIR);
        let log_dir = data_log_dir.unwrap_or(data_dir).join(VERSION_DIR);
        fs::create_dir_all(&snap_dir).at(&snap_dir)?;
        fs::create_dir_all(&log_dir).at(&log_dir)?;
        if snap_dir != log_dir {
            // FileTxnSnapLog.checkLogDir / checkSnapDir (ZOOKEEPER-2967): a mix-up of the two
            // directories would otherwise silently recover from the wrong files.
            if !list_files(&log_dir, SNAPSHOT_PREFIX)?.is_empty() {
                return Err(PersistError::corrupt(
                    log_dir.display().to_string(),
                    0,
                    "snapshot files in the log directory",
                ));
            }
            if !list_files(&snap_dir, LOG_PREFIX)?.is_empty() {
                return Err(PersistError::corrupt(
                    snap_dir.display().to_string(),
                    0,
                    "log files in the snapshot directory",
                ));
            }
        }
        Ok(DataDir { data_dir: data_dir.to_path_buf(), snap_dir, log_dir })
    }

    /// The dataDir (holds `myid`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `<dataDir>/version-2`: snapshots and epoch files.
    pub fn snap_dir(&self) -> &Path {
        &self.snap_dir
    }

    /// `<dataLogDir>/version-2`: txn logs.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// The snapshots, ascending by zxid.
    pub fn snapshots(&self) -> Result<Vec<DataFile>> {
        list_files(&self.snap_dir, SNAPSHOT_PREFIX)
    }

    /// The txn logs, ascending by zxid.
    pub fn logs(&self) -> Result<Vec<DataFile>> {
        list_files(&self.log_dir, LOG_PREFIX)
    }

    /// The server id from `myid`, if the file exists (standalone servers have none).
    pub fn myid(&self) -> Result<Option<u64>> {
        self.read_number(&self.data_dir.join(MYID_FILE))
    }

    /// Writes `myid` atomically.
    pub fn set_myid(&self, id: u64) -> Result<()> {
        write_atomic(&self.data_dir.join(MYID_FILE), id.to_string().as_bytes())
    }

    /// The `currentEpoch` file's value.
    pub fn current_epoch(&self) -> Result<Option<i64>> {
        self.read_number(&self.snap_dir.join(CURRENT_EPOCH_FILE))
    }

    /// Writes `currentEpoch` atomically (`.tmp`, fsync, rename), as ZooKeeper does: decimal, no newline.
    pub fn set_current_epoch(&self, epoch: i64) -> Result<()> {
        write_atomic(&self.snap_dir.join(CURRENT_EPOCH_FILE), epoch.to_string().as_bytes())
    }

    /// The `acceptedEpoch` file's value.
    pub fn accepted_epoch(&self) -> Result<Option<i64>> {
        self.read_number(&self.snap_dir.join(ACCEPTED_EPOCH_FILE))
    }

    /// Writes `acceptedEpoch` atomically.
    pub fn set_accepted_epoch(&self, epoch: i64) -> Result<()> {
        write_atomic(&self.snap_dir.join(ACCEPTED_EPOCH_FILE), epoch.to_string().as_bytes())
    }

    fn read_number<N: std::str::FromStr>(&self, path: &Path) -> Result<Option<N>> {
        let text = match fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(PersistError::io(path, e)),
        };
        if text.len() > 64 {
            return Err(PersistError::corrupt(path.display().to_string(), 0, "number file too long"));
        }
        let text = String::from_utf8_lossy(&text);
        let line = text.lines().next().unwrap_or("").trim();
        line.parse()
            .map(Some)
            .map_err(|_| PersistError::corrupt(path.display().to_string(), 0, format!("not a number: {line:?}")))
    }

    /// Opens the txn log for appending (repairing a torn tail; see [`super::txn_log::recover_tail`]).
    pub fn open_txn_log(&self, options: TxnLogOptions) -> Result<TxnLog> {
        TxnLog::open(&self.log_dir, options)
    }

    /// Starts writing `snapshot.<hex zxid>` (see [`SnapshotFileWriter`]).
    pub fn new_snapshot(&self, zxid: i64, compression: Compression) -> Result<SnapshotFileWriter> {
        SnapshotFileWriter::create(&self.snap_dir, zxid, compression)
    }

    /// Recovery as `FileTxnSnapLog.restore` does it: load the newest snapshot that reads back intact
    /// (`build` turns its sections into the caller's tree; see [`load_newest_snapshot`]), then return
    /// the txns after it. Without any snapshot, an empty database is fine, but txn logs alone are
    /// refused ([`PersistError::MissingSnapshot`]) unless `trust_empty_snapshot` (ZooKeeper's
    /// `zookeeper.snapshot.trust.empty`), in which case every logged txn is replayed.
    pub fn recover<T>(
        &self,
        trust_empty_snapshot: bool,
        build: impl FnMut(&DataFile, &mut SnapshotFileReader) -> Result<T>,
    ) -> Result<Recovered<T>> {
        remove_partial_snapshots(&self.snap_dir)?;
        let snapshot = load_newest_snapshot(&self.snap_dir, build)?;
        let snapshot_zxid = snapshot.as_ref().map_or(0, |s| s.file.zxid);
        if snapshot.is_none() && !trust_empty_snapshot {
            if let Some(last) = recover_tail_readonly(&self.log_dir)? {
                return Err(PersistError::MissingSnapshot { dir: self.snap_dir.clone(), last_logged_zxid: last });
            }
        }
        let logs = logs_after(&self.logs()?, snapshot_zxid);
        let txns = TxnLogReader::open(&self.log_dir, snapshot_zxid + 1)?;
        Ok(Recovered { snapshot, snapshot_zxid, logs, txns })
    }

    /// Keeps the `retain` newest snapshots and the logs they need (see [`purge`]).
    pub fn purge(&self, retain: usize) -> Result<PurgeReport> {
        purge(&self.snap_dir, &self.log_dir, retain)
    }
}

/// The last complete txn in the logs, without modifying them.
fn recover_tail_readonly(log_dir: &Path) -> Result<Option<i64>> {
    let mut last = None;
    for txn in TxnLogReader::open_with_limit(log_dir, 0, DEFAULT_MAX_FIELD_LEN)? {
        last = Some(txn?.zxid);
    }
    Ok(last)
}
