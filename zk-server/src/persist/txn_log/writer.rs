//! [`TxnLog`]: appending to ZooKeeper-format txn logs with group commit.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zk_proto::{FileHeader, Jute, TxnEntry};

use super::padding::{padded_size, zero_fill_range, DEFAULT_PREALLOC_SIZE};
use super::reader::{TxnLogReader, LOG_HEADER_LEN};
use super::record::encode_record;
use super::recovery::{recover_tail, truncate_logs, LogRecovery};
use super::syncer::LogFileSyncer;
use crate::persist::atomic_file::sync_dir;
use crate::persist::checked_io::DEFAULT_MAX_FIELD_LEN;
use crate::persist::error::{IoContext, PersistError, Result};
use crate::persist::file_name::log_name;

/// Settings of a [`TxnLog`] (ZooKeeper's system properties of the same meaning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnLogOptions {
    /// Preallocation step in bytes (`zookeeper.preAllocSize`, which is in KiB); 0 disables it.
    pub prealloc_size: u64,
    /// fsync on every commit (`zookeeper.forceSync`, default yes).
    pub force_sync: bool,
    /// Start a new file after a commit leaves the current one larger than this
    /// (`zookeeper.txnLogSizeLimitInKb`, off by default).
    pub size_limit: Option<u64>,
    /// The longest serialized txn accepted when reading (jute.maxbuffer plus its extra size).
    pub max_record_len: usize,
}

impl Default for TxnLogOptions {
    fn default() -> Self {
        TxnLogOptions {
            prealloc_size: DEFAULT_PREALLOC_SIZE,
            force_sync: true,
            size_limit: None,
            max_record_len: DEFAULT_MAX_FIELD_LEN,
        }
    }
}

#[derive(Debug)]
struct OpenLog {
    file: File,
    path: Arc<Path>,
    /// Bytes written (header and records).
    position: u64,
    /// The file's length including preallocated space.
    allocated: u64,
    /// Bytes below this are written (data or zeros), not holes.
    zeroed: u64,
}

/// The txn log of one server: a directory of `log.<zxid>` files in ZooKeeper's format.
///
/// Built for group commit: [`TxnLog::append`] only buffers; [`TxnLog::commit`] writes the whole batch
/// with one `write` and one fdatasync ([`TxnLog::write`] and [`LogFileSyncer`] are its two halves, for
/// a caller that overlaps the sync of one batch with the next). Nothing appended is durable (or may be
/// acknowledged) before the commit (or the sync) that covers it returns. Like ZooKeeper, a new file is started on open, after [`TxnLog::roll`]
/// (after each snapshot) and when the size limit is passed; files are named after their first zxid.
#[derive(Debug)]
pub struct TxnLog {
    dir: PathBuf,
    options: TxnLogOptions,
    current: Option<OpenLog>,
    pending: Vec<u8>,
    pending_first_zxid: Option<i64>,
    pending_count: usize,
    last_appended: Option<i64>,
    last_written: Option<i64>,
    recovery: LogRecovery,
    failed: bool,
    /// What [`TxnLog::commit`] syncs through (kept, so a file is opened once for it).
    syncer: LogFileSyncer,
}

impl TxnLog {
    /// Opens the log directory `dir` (the `version-2` directory, created if missing), cutting off a
    /// torn write at the end of the newest log (see [`recover_tail`]).
    pub fn open(dir: &Path, options: TxnLogOptions) -> Result<TxnLog> {
        fs::create_dir_all(dir).at(dir)?;
        let recovery = recover_tail(dir, options.max_record_len)?;
        Ok(TxnLog {
            dir: dir.to_path_buf(),
            options,
            current: None,
            pending: Vec::new(),
            pending_first_zxid: None,
            pending_count: 0,
            last_appended: recovery.last_zxid,
            last_written: recovery.last_zxid,
            recovery,
            failed: false,
            syncer: LogFileSyncer::default(),
        })
    }

    /// What opening found at the end of the logs.
    pub fn recovery(&self) -> &LogRecovery {
        &self.recovery
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings.
    pub fn options(&self) -> &TxnLogOptions {
        &self.options
    }

    /// Buffers `entry` for the next [`TxnLog::commit`].
    pub fn append(&mut self, entry: &TxnEntry) -> Result<()> {
        self.append_serialized(entry.header.zxid, &entry.to_bytes())
    }

    /// Buffers an already serialized txn entry (`TxnHeader ‖ body ‖ [TxnDigest]`, e.g. a PROPOSAL's
    /// data) whose zxid is `zxid`.
    pub fn append_serialized(&mut self, zxid: i64, entry: &[u8]) -> Result<()> {
        self.check_usable()?;
        if entry.is_empty() {
            return Err(PersistError::Usage("empty txn entry"));
        }
        if entry.len() > self.options.max_record_len {
            // It could never be read back (nor by ZooKeeper, whose limit is the same by default).
            return Err(PersistError::Usage("txn entry longer than max_record_len"));
        }
        if self.last_appended.is_some_and(|last| zxid <= last) {
            // ZooKeeper logs this and appends anyway.
            tracing::warn!(zxid, last = self.last_appended, "appending a zxid not above the last one");
        } else {
            self.last_appended = Some(zxid);
        }
        encode_record(entry, &mut self.pending);
        self.pending_first_zxid.get_or_insert(zxid);
        self.pending_count += 1;
        Ok(())
    }

    /// How many appended txns await a commit.
    pub fn pending(&self) -> usize {
        self.pending_count
    }

    /// Writes every appended txn and makes them durable with one fdatasync (unless `force_sync` is
    /// off), extending the file's preallocation first when the batch comes near its end.
    ///
    /// After a failed commit the log refuses further use ([`PersistError::Failed`]): part of the batch
    /// may have reached the disk. Reopen it, which cuts a partial record off.
    pub fn commit(&mut self) -> Result<()> {
        if let Some(file) = self.write()? {
            if self.options.force_sync {
                if let Err(e) = self.syncer.sync(&file) {
                    self.failed = true;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Writes every appended txn with one `write`, without making it durable, and returns the file
    /// that must be synced for the batch to be on disk (with [`LogFileSyncer`]), or `None` when
    /// nothing was pending. A file created for the batch has its directory entry synced here (when
    /// `force_sync` is on). Batches written one after another may be synced concurrently, each from
    /// its own [`LogFileSyncer`]: a batch is durable once a sync of its file that started after its
    /// write returns.
    ///
    /// After a failed write the log refuses further use, as after a failed [`TxnLog::commit`].
    pub fn write(&mut self) -> Result<Option<Arc<Path>>> {
        self.check_usable()?;
        if self.pending.is_empty() {
            return Ok(None);
        }
        let mut created = false;
        if self.current.is_none() {
            let zxid = self.pending_first_zxid.expect("pending records have a first zxid");
            self.current = Some(self.create_file(zxid)?);
            created = true;
        }
        if let Err(e) = self.write_pending(created) {
            // Part of the batch may be on disk; appending after it could bury a hole in the log.
            // Reopening runs recovery, which cuts any partial record off.
            self.failed = true;
            return Err(e);
        }
        let log = self.current.as_ref().expect("opened above");
        let (end, file) = (log.position, log.path.clone());
        self.pending.clear();
        self.pending_first_zxid = None;
        self.pending_count = 0;
        self.last_written = self.last_appended;
        if self.options.size_limit.is_some_and(|limit| end > limit) {
            tracing::debug!(size = end, "txn log size limit reached, rolling");
            self.current = None;
        }
        Ok(Some(file))
    }

    fn write_pending(&mut self, created: bool) -> Result<()> {
        let log = self.current.as_mut().expect("opened by write");
        let end = log.position + self.pending.len() as u64;
        // As ZooKeeper: extend when the write position is near the end of the allocation. Unlike
        // ZooKeeper (which pads per append, before the unflushed bytes), also extend when the batch
        // itself would not fit, so a large batch does not grow the file outside the preallocation.
        let prealloc = self.options.prealloc_size;
        let mut allocated = padded_size(log.position, log.allocated, prealloc);
        if end > allocated {
            allocated = padded_size(end, allocated, prealloc);
        }
        if allocated != log.allocated {
            log.file.set_len(allocated).at(&log.path)?;
            log.allocated = allocated;
        }
        let zero_fill = zero_fill_range(end, log.zeroed, log.allocated);
        log.file.write_all(&self.pending).at(&log.path)?;
        if let Some((from, to)) = zero_fill {
            write_zeros(&log.file, from, to).at(&log.path)?;
        }
        log.position = end;
        log.allocated = log.allocated.max(end);
        log.zeroed = match zero_fill {
            Some((_, to)) => to,
            None => log.zeroed.max(end),
        };
        if created && self.options.force_sync {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn check_usable(&self) -> Result<()> {
        if self.failed {
            return Err(PersistError::Failed);
        }
        Ok(())
    }

    fn create_file(&self, zxid: i64) -> Result<OpenLog> {
        let path = self.dir.join(log_name(zxid));
        tracing::info!(path = %path.display(), "creating new txn log");
        let mut file = OpenOptions::new().write(true).create_new(true).open(&path).at(&path)?;
        file.write_all(&FileHeader::txn_log().to_bytes()).at(&path)?;
        let end = LOG_HEADER_LEN;
        Ok(OpenLog { file, path: path.into(), position: end, allocated: end, zeroed: end })
    }

    /// Commits what is pending and closes the current file: the next append starts a new one.
    pub fn roll(&mut self) -> Result<()> {
        self.commit()?;
        self.current = None;
        Ok(())
    }

    /// Commits what is pending and closes the current file.
    pub fn close(mut self) -> Result<()> {
        self.roll()
    }

    /// Removes every txn after `zxid` (Zab's TRUNC): pending txns are committed first, the current
    /// file is closed, and later records and files are removed. Returns the last zxid kept.
    pub fn truncate(&mut self, zxid: i64) -> Result<Option<i64>> {
        self.roll()?;
        self.failed = true; // until the truncation has completed
        let kept = truncate_logs(&self.dir, zxid, self.options.max_record_len)?;
        self.failed = false;
        self.last_appended = kept;
        self.last_written = kept;
        Ok(kept)
    }

    /// The zxid of the last txn written (by [`TxnLog::commit`], which makes it durable, or by
    /// [`TxnLog::write`]), or found when the log was opened.
    pub fn last_logged_zxid(&self) -> Option<i64> {
        self.last_written
    }

    /// The zxid of the last appended txn, committed or not.
    pub fn last_appended_zxid(&self) -> Option<i64> {
        self.last_appended
    }

    /// The file the next commit writes to, if one is open.
    pub fn current_file(&self) -> Option<&Path> {
        self.current.as_ref().map(|log| &*log.path)
    }

    /// Reads the committed txns from `zxid` on.
    pub fn read_from(&self, zxid: i64) -> Result<TxnLogReader> {
        TxnLogReader::open_with_limit(&self.dir, zxid, self.options.max_record_len)
    }
}

/// Writes zeros over `from..to` of `file` (without moving its cursor).
fn write_zeros(file: &File, from: u64, to: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut at = from;
    while at < to {
        let len = (to - at).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..len], at)?;
        at += len as u64;
    }
    Ok(())
}

impl Drop for TxnLog {
    fn drop(&mut self) {
        if self.pending_count > 0 {
            tracing::warn!(lost = self.pending_count, "txn log dropped with uncommitted txns");
        }
    }
}
