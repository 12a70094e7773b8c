//! The data directory at run time (ZooKeeper's `FileTxnSnapLog` as a server uses it): recovery, the txn
//! log threads (group commit with overlapping syncs, `log_writer`), snapshots every `snapCount` commits
//! on their own thread, and, for an ensemble, closing and reopening everything around a Zab TRUNC or the
//! end of a term.

use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tracing::{error, info, warn};
use zk_proto::TxnEntry;

use super::log_writer::{Commit, LogCommand, LogEvent, LogWriter};
use crate::config::ServerConfig;
use crate::database::{self, Loaded};
use crate::persist::{DataDir, PersistError, TxnLogOptions, TxnLogReader, DEFAULT_MAX_FIELD_LEN};
use crate::tree::DataTree;

/// The open data directory and its txn log writer.
#[derive(Debug)]
pub(crate) struct Storage {
    dir: DataDir,
    options: TxnLogOptions,
    trust_empty: bool,
    snap_count: i32,
    retain: usize,
    purge: bool,
    log: Option<LogWriter>,
    snapshot: Option<JoinHandle<()>>,
    since_snapshot: u64,
    snap_threshold: u64,
}

impl Storage {
    /// Opens the data directory, recovers the database, writes a snapshot of it (as
    /// `ZooKeeperServer.loadData` does, so that a log never lacks a snapshot to start from) and starts
    /// the log threads, which report on `events`.
    pub(crate) async fn open(
        config: &ServerConfig,
        events: mpsc::UnboundedSender<LogEvent>,
    ) -> Result<(Storage, Loaded), PersistError> {
        let dir = DataDir::open(&config.data_dir, Some(&config.data_log_dir))?;
        let mut storage = Storage {
            dir,
            options: TxnLogOptions {
                prealloc_size: config.pre_alloc_size_bytes().max(0) as u64,
                force_sync: config.force_sync,
                size_limit: None,
                max_record_len: DEFAULT_MAX_FIELD_LEN,
            },
            trust_empty: config.other.get("snapshot.trust.empty").is_some_and(|p| p.value.trim() == "true"),
            snap_count: config.snap_count,
            retain: config.snap_retain_count.max(3) as usize,
            purge: config.purge_interval > 0,
            log: None,
            snapshot: None,
            since_snapshot: 0,
            snap_threshold: 0,
        };
        storage.snap_threshold = storage.next_snap_threshold();
        let loaded = storage.reopen(None, true, events).await?;
        Ok((storage, loaded))
    }

    /// The data directory.
    pub(crate) fn dir(&self) -> &DataDir {
        &self.dir
    }

    /// Stops the log threads (everything appended is made durable first), optionally truncates the log
    /// after `truncate_to` (removing snapshots past it), reloads the database and restarts the log
    /// threads. With `snapshot`, writes a snapshot of what was loaded.
    pub(crate) async fn reopen(
        &mut self,
        truncate_to: Option<i64>,
        snapshot: bool,
        events: mpsc::UnboundedSender<LogEvent>,
    ) -> Result<Loaded, PersistError> {
        self.close().await;
        let dir = self.dir.clone();
        let (options, trust_empty) = (self.options.clone(), self.trust_empty);
        let (loaded, log) = tokio::task::spawn_blocking(move || -> Result<_, PersistError> {
            if let Some(zxid) = truncate_to {
                let mut log = dir.open_txn_log(options.clone())?;
                let kept = log.truncate(zxid)?;
                log.close()?;
                for file in dir.snapshots()?.into_iter().filter(|f| f.zxid > zxid) {
                    info!(path = %file.path.display(), "removing a snapshot past the truncation point");
                    std::fs::remove_file(&file.path)
                        .map_err(|e| PersistError::io(file.path.display().to_string(), e))?;
                }
                info!(zxid = format_args!("{zxid:#x}"), kept = ?kept, "txn log truncated");
            }
            let loaded = database::load(&dir, trust_empty)?;
            if snapshot {
                database::write_snapshot(&dir, &loaded.tree, &loaded.sessions)?;
            }
            let log = dir.open_txn_log(options)?;
            Ok((loaded, log))
        })
        .await
        .map_err(|e| PersistError::Usage(if e.is_panic() { "recovery panicked" } else { "recovery cancelled" }))??;
        self.log = Some(LogWriter::start(log, events).map_err(|e| PersistError::io("txn log thread", e))?);
        self.since_snapshot = 0;
        Ok(loaded)
    }

    /// Appends txns; the log threads report them durable.
    pub(crate) fn append(&self, batch: Vec<TxnEntry>) {
        if batch.is_empty() {
            return;
        }
        if !self.log.as_ref().is_some_and(|log| log.send(LogCommand::Append(batch))) {
            warn!("txn log is stopped");
        }
    }

    /// Appends txns, writing and syncing them on this thread when the log is idle (see
    /// [`LogWriter::commit_if_idle`]). Returns what the log reports for them when they were (their
    /// durability, or the log's failure); otherwise the log threads report on the log's events.
    pub(crate) fn commit_if_idle(&self, batch: Vec<TxnEntry>) -> Vec<LogEvent> {
        if batch.is_empty() {
            return Vec::new();
        }
        match self.log.as_ref().map(|log| log.commit_if_idle(batch)) {
            Some(Commit::Here(events)) => events,
            Some(Commit::Queued) => Vec::new(),
            Some(Commit::Stopped) | None => {
                warn!("txn log is stopped");
                Vec::new()
            }
        }
    }

    /// Waits until everything appended so far is durable (false if the log has stopped).
    pub(crate) async fn sync(&self) -> bool {
        let (done, wait) = tokio::sync::oneshot::channel();
        match &self.log {
            Some(log) if log.send(LogCommand::Barrier(done)) => wait.await.is_ok(),
            _ => false,
        }
    }

    /// `count` more txns were applied to `tree`: snapshot it when `snapCount` says so.
    pub(crate) fn applied(&mut self, count: u64, tree: &DataTree, sessions: impl FnOnce() -> Vec<(i64, i32)>) {
        self.since_snapshot += count;
        if self.since_snapshot < self.snap_threshold {
            return;
        }
        if self.snapshot.as_ref().is_some_and(|s| !s.is_finished()) {
            return; // One at a time; the next commit tries again.
        }
        self.since_snapshot = 0;
        self.snap_threshold = self.next_snap_threshold();
        if let Some(log) = &self.log {
            log.send(LogCommand::Roll);
        }
        // O(1): the snapshot thread walks a persistent copy while the core keeps applying txns.
        let (tree, sessions) = (tree.clone(), sessions());
        let (dir, retain, purge) = (self.dir.clone(), self.retain, self.purge);
        self.snapshot = std::thread::Builder::new()
            .name("zk-snapshot".into())
            .spawn(move || {
                if let Err(err) = database::write_snapshot(&dir, &tree, &sessions) {
                    error!(%err, "snapshot failed");
                    return;
                }
                if purge {
                    if let Err(err) = dir.purge(retain) {
                        warn!(%err, "purge failed");
                    }
                }
            })
            .ok();
    }

    /// The last `count` txns of the log, oldest first (a new leader's history for DIFF syncs). Reads
    /// only the newest log files: from the newest one back until they hold `count` txns.
    pub(crate) async fn log_tail(&self, count: usize) -> Result<Vec<TxnEntry>, PersistError> {
        let dir = self.dir.clone();
        let max = self.options.max_record_len;
        tokio::task::spawn_blocking(move || {
            let files = dir.logs()?;
            let mut tail = std::collections::VecDeque::with_capacity(count);
            for start in files.iter().rev() {
                tail.clear();
                for txn in TxnLogReader::open_with_limit(dir.log_dir(), start.zxid, max)? {
                    if tail.len() == count {
                        tail.pop_front();
                    }
                    tail.push_back(txn?.entry);
                }
                if tail.len() >= count {
                    break;
                }
            }
            Ok(tail.into())
        })
        .await
        .map_err(|_| PersistError::Usage("log reader task failed"))?
    }

    /// Stops the log threads after they have made everything appended durable, and waits for a
    /// snapshot in progress.
    pub(crate) async fn close(&mut self) {
        let (log, snapshot) = (self.log.take(), self.snapshot.take());
        if log.is_some() || snapshot.is_some() {
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(mut log) = log {
                    log.close();
                }
                if let Some(snapshot) = snapshot {
                    let _ = snapshot.join();
                }
            })
            .await;
        }
    }

    /// ZooKeeper snapshots after a random count in `[snapCount/2 + 1, snapCount]` txns, so that the
    /// servers of an ensemble do not all snapshot at once.
    fn next_snap_threshold(&self) -> u64 {
        let snap_count = self.snap_count.max(2) as u64;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()) as u64;
        snap_count / 2 + 1 + nanos % (snap_count / 2).max(1)
    }
}
