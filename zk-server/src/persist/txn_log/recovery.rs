//! Repairing the end of the logs after a crash, and truncating them to a zxid (Zab's TRUNC).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::reader::{FileStep, LogFileReader, LOG_HEADER_LEN};
use super::record::EndReason;
use crate::persist::atomic_file::sync_dir;
use crate::persist::error::{IoContext, Result};
use crate::persist::file_name::{list_files, LOG_PREFIX};

/// A torn last write that recovery cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The log file.
    pub path: PathBuf,
    /// Its new length: the end of its last complete record.
    pub offset: u64,
    /// How the partial record was recognised.
    pub reason: EndReason,
    /// How many bytes were cut (the partial record, plus any preallocated space).
    pub discarded: u64,
    /// Where the cut bytes were kept (up to their last non-zero byte), for inspection:
    /// `torn-log.<zxid>-at-<hex offset>` beside the log, a name no ZooKeeper takes for a log.
    pub saved_to: Option<PathBuf>,
}

/// What [`recover_tail`] found at the end of a log directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRecovery {
    /// The zxid of the last complete txn in the logs, if any.
    pub last_zxid: Option<i64>,
    /// The torn write that was cut off, if any.
    pub torn_tail: Option<TornTail>,
    /// Newest logs that held no complete txn (crash right after creating them) and were removed.
    pub removed_empty: Vec<PathBuf>,
}

/// Makes the newest log end cleanly after its last complete record, as a restart must before writing
/// again: a partial record at the end (short read, missing marker, zeros over part of it, or a checksum
/// mismatch followed only by zeros) is cut off, and newest logs without any complete txn are removed.
///
/// ZooKeeper itself never repairs a log: it always starts a new file on restart and its reader stops
/// at the partial record, except that it refuses to start on a checksum mismatch even at the very end.
/// A torn write was never acknowledged (acknowledgements wait for the fsync), so cutting it loses
/// nothing, and the repaired log stays readable by ZooKeeper.
pub fn recover_tail(log_dir: &Path, max_record_len: usize) -> Result<LogRecovery> {
    let mut recovery = LogRecovery::default();
    let mut logs = list_files(log_dir, LOG_PREFIX)?;
    while let Some(newest) = logs.pop() {
        let path = newest.path;
        let Some(mut reader) = LogFileReader::open(&path, true, max_record_len)? else {
            remove_empty(&path, log_dir, &mut recovery)?;
            continue;
        };
        let mut last_zxid = None;
        let (reason, good_end) = loop {
            match reader.step()? {
                FileStep::Txn(txn, _) => last_zxid = Some(txn.zxid),
                FileStep::End(reason, offset) => break (reason, offset),
            }
        };
        let clean = reason == EndReason::ZeroLength && reader.rest_is_zero()?;
        if !clean {
            let len = fs::metadata(&path).at(&path)?.len();
            if len > good_end {
                let saved_to = save_discarded(&path, good_end)?;
                let file = OpenOptions::new().write(true).open(&path).at(&path)?;
                file.set_len(good_end).at(&path)?;
                file.sync_all().at(&path)?;
                tracing::warn!(path = %path.display(), offset = good_end, ?reason, discarded = len - good_end,
                    "cut a torn write off the end of the txn log");
                recovery.torn_tail = Some(TornTail {
                    path: path.clone(),
                    offset: good_end,
                    reason,
                    discarded: len - good_end,
                    saved_to,
                });
            }
        }
        match last_zxid {
            Some(zxid) => {
                recovery.last_zxid = Some(zxid);
                return Ok(recovery);
            }
            None => remove_empty(&path, log_dir, &mut recovery)?,
        }
    }
    Ok(recovery)
}

/// Copies the bytes of `path` from `offset` on, without trailing zeros, to a side file beside it.
/// `None` when they are all zero.
fn save_discarded(path: &Path, offset: u64) -> Result<Option<PathBuf>> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let side = path.with_file_name(format!("torn-{name}-at-{offset:x}"));
    let mut input = File::open(path).at(path)?;
    input.seek(SeekFrom::Start(offset)).at(path)?;
    let mut output = File::create(&side).at(&side)?;
    let mut buf = vec![0u8; 64 * 1024];
    let (mut written, mut meaningful) = (0u64, 0u64);
    loop {
        let n = input.read(&mut buf).at(path)?;
        if n == 0 {
            break;
        }
        output.write_all(&buf[..n]).at(&side)?;
        if let Some(last) = buf[..n].iter().rposition(|&b| b != 0) {
            meaningful = written + last as u64 + 1;
        }
        written += n as u64;
    }
    if meaningful == 0 {
        drop(output);
        fs::remove_file(&side).at(&side)?;
        return Ok(None);
    }
    output.set_len(meaningful).at(&side)?;
    output.sync_all().at(&side)?;
    Ok(Some(side))
}

fn remove_empty(path: &Path, log_dir: &Path, recovery: &mut LogRecovery) -> Result<()> {
    tracing::warn!(path = %path.display(), "removing a txn log without any complete txn");
    fs::remove_file(path).at(path)?;
    sync_dir(log_dir)?;
    recovery.removed_empty.push(path.to_path_buf());
    Ok(())
}

/// Removes every txn after `zxid` from the logs in `log_dir` (`FileTxnLog.truncate`, for Zab's TRUNC):
/// later logs are deleted (newest first) and the log holding `zxid` is cut after the last record with a
/// zxid not above it. Returns the last zxid kept, if any.
pub fn truncate_logs(log_dir: &Path, zxid: i64, max_record_len: usize) -> Result<Option<i64>> {
    let mut logs = list_files(log_dir, LOG_PREFIX)?;
    while logs.last().is_some_and(|f| f.zxid > zxid) {
        let path = logs.pop().expect("checked").path;
        tracing::info!(path = %path.display(), zxid, "truncate: removing txn log");
        fs::remove_file(&path).at(&path)?;
    }
    sync_dir(log_dir)?;
    let Some(holder) = logs.last() else { return Ok(None) };
    let path = &holder.path;
    let Some(mut reader) = LogFileReader::open(path, true, max_record_len)? else { return Ok(None) };
    let mut keep_end = LOG_HEADER_LEN;
    let mut kept = None;
    loop {
        match reader.step()? {
            FileStep::Txn(txn, end) if txn.zxid <= zxid => {
                keep_end = end;
                kept = Some(txn.zxid);
            }
            FileStep::Txn(..) | FileStep::End(..) => break,
        }
    }
    drop(reader);
    let file = OpenOptions::new().write(true).open(path).at(path)?;
    file.set_len(keep_end).at(path)?;
    file.sync_all().at(path)?;
    if kept.is_none() {
        // Nothing left before `zxid` in the oldest remaining log: look further back.
        fs::remove_file(path).at(path)?;
        sync_dir(log_dir)?;
        return truncate_logs(log_dir, zxid, max_record_len);
    }
    Ok(kept)
}
