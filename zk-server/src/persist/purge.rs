//! Purging old snapshots and logs (`PurgeTxnLog`, run by autopurge).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::{IoContext, PersistError, Result};
use super::file_name::{list_files, logs_after, LOG_PREFIX, SNAPSHOT_PREFIX};
use super::snapshot::find_valid_snapshots;

/// The fewest snapshots a purge may keep (`autopurge.snapRetainCount` minimum).
pub const MIN_SNAP_RETAIN_COUNT: usize = 3;

/// What [`purge`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// The zxid of the oldest snapshot kept (nothing is purged without one).
    pub oldest_kept_snapshot: Option<i64>,
    /// The files removed.
    pub deleted: Vec<PathBuf>,
}

/// Keeps the `retain` newest valid snapshots and the logs needed to replay from the oldest of them;
/// removes every older snapshot and log, as `PurgeTxnLog.purge` does. A log named before the oldest kept
/// snapshot is kept when it is the newest such log, because it may hold txns after that snapshot.
pub fn purge(snap_dir: &Path, log_dir: &Path, retain: usize) -> Result<PurgeReport> {
    if retain < MIN_SNAP_RETAIN_COUNT {
        return Err(PersistError::Usage("snapRetainCount must be at least 3"));
    }
    let kept = find_valid_snapshots(snap_dir, retain)?;
    let Some(oldest) = kept.last() else { return Ok(PurgeReport::default()) };
    let least = oldest.zxid;
    let logs = list_files(log_dir, LOG_PREFIX)?;
    let needed: HashSet<PathBuf> = logs_after(&logs, least).into_iter().map(|f| f.path).collect();
    let mut doomed: Vec<PathBuf> =
        logs.into_iter().filter(|f| f.zxid < least && !needed.contains(&f.path)).map(|f| f.path).collect();
    doomed.extend(list_files(snap_dir, SNAPSHOT_PREFIX)?.into_iter().filter(|f| f.zxid < least).map(|f| f.path));
    let mut report = PurgeReport { oldest_kept_snapshot: Some(least), deleted: Vec::new() };
    for path in doomed {
        tracing::info!(path = %path.display(), "purging");
        fs::remove_file(&path).at(&path)?;
        report.deleted.push(path);
    }
    Ok(report)
}
