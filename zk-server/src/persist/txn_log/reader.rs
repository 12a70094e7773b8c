//! Reading txn logs: one file record by record, and a [`TxnLogReader`] over every log from a zxid on.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use zk_proto::{FileHeader, Jute, TxnEntry};

use super::record::{read_record, EndReason, RecordRead};
use crate::persist::checked_io::{CheckedReader, ReadFault, DEFAULT_MAX_FIELD_LEN};
use crate::persist::error::{IoContext, PersistError, Result};
use crate::persist::file_name::{list_files, logs_after, LOG_PREFIX};

/// The size of the file header at the start of every log.
pub const LOG_HEADER_LEN: u64 = 16;

/// One txn read from a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedTxn {
    /// The txn's zxid (from its header).
    pub zxid: i64,
    /// The decoded txn.
    pub entry: TxnEntry,
    /// The serialized entry exactly as logged (what a Zab PROPOSAL or DIFF carries).
    pub bytes: Bytes,
}

/// One step through a log file.
#[derive(Debug)]
pub(crate) enum FileStep {
    /// A txn, with the offset just past its record.
    Txn(LoggedTxn, u64),
    /// No more records; `offset` is where the first unusable byte starts.
    End(EndReason, u64),
}

/// Reads the records of one log file.
#[derive(Debug)]
pub(crate) struct LogFileReader {
    path: PathBuf,
    reader: CheckedReader<BufReader<File>>,
    /// Whether this is the newest log in its directory (where a torn write may be).
    is_last: bool,
    max_record_len: usize,
}

impl LogFileReader {
    /// Opens `path` and checks its header. `Ok(None)` when the newest log is empty or shorter than its
    /// header (a crash right after creating it, which ZooKeeper also tolerates for an empty file).
    pub(crate) fn open(path: &Path, is_last: bool, max_record_len: usize) -> Result<Option<LogFileReader>> {
        let file = File::open(path).at(path)?;
        let mut reader = CheckedReader::new(BufReader::new(file), DEFAULT_MAX_FIELD_LEN);
        let context = path.display().to_string();
        let mut raw = [0u8; LOG_HEADER_LEN as usize];
        match reader.read_exact(&mut raw) {
            Ok(()) => {}
            Err(ReadFault::Eof) if is_last => return Ok(None),
            Err(fault) => return Err(fault.into_error(&context, 0)),
        }
        let header = FileHeader::from_bytes(Bytes::copy_from_slice(&raw))
            .map_err(|e| PersistError::corrupt(&context, 0, e.to_string()))?;
        if header.magic != FileHeader::TXNLOG_MAGIC {
            return Err(PersistError::corrupt(&context, 0, format!("bad magic {:#x}", header.magic)));
        }
        if header.version != FileHeader::VERSION {
            tracing::warn!(path = %context, version = header.version, "unexpected txn log version");
        }
        Ok(Some(LogFileReader { path: path.to_path_buf(), reader, is_last, max_record_len }))
    }

    /// Reads the next record.
    pub(crate) fn step(&mut self) -> Result<FileStep> {
        let start = self.reader.position();
        let read = read_record(&mut self.reader, self.max_record_len).at(&self.path)?;
        match read {
            RecordRead::Record { entry } => {
                let decoded = TxnEntry::from_bytes(entry.clone())
                    .map_err(|e| PersistError::corrupt(ctx(&self.path), start, format!("undecodable txn: {e}")))?;
                let txn = LoggedTxn { zxid: decoded.header.zxid, entry: decoded, bytes: entry };
                Ok(FileStep::Txn(txn, self.reader.position()))
            }
            RecordRead::End(reason) => {
                if reason != EndReason::ZeroLength {
                    tracing::debug!(path = %ctx(&self.path), offset = start, ?reason, "txn log ends with a partial record");
                }
                Ok(FileStep::End(reason, start))
            }
            RecordRead::BadLength(len) => {
                Err(PersistError::corrupt(ctx(&self.path), start, format!("unreasonable record length {len}")))
            }
            RecordRead::ChecksumMismatch => {
                if self.is_last && self.rest_is_zero()? {
                    tracing::warn!(path = %ctx(&self.path), offset = start, "torn write at the end of the txn log");
                    Ok(FileStep::End(EndReason::TornChecksum, start))
                } else {
                    Err(PersistError::corrupt(ctx(&self.path), start, "txn record checksum mismatch"))
                }
            }
        }
    }

    /// Whether every byte from the current position to the end of the file is zero (consumes them).
    pub(crate) fn rest_is_zero(&mut self) -> Result<bool> {
        all_zero(self.reader.inner_mut()).at(&self.path)
    }
}

fn ctx(path: &Path) -> String {
    path.display().to_string()
}

/// Iterates the txns of every log in a directory from a zxid on, across files, as ZooKeeper's
/// `FileTxnIterator` does: it starts in the newest log that begins before the zxid and skips txns
/// below it. Each file ends at its first zero length, missing marker or short read (ZooKeeper's EOF);
/// a checksum mismatch is an error except as a torn write at the end of the newest log.
#[derive(Debug)]
pub struct TxnLogReader {
    files: VecDeque<PathBuf>,
    last: Option<PathBuf>,
    current: Option<LogFileReader>,
    from_zxid: i64,
    max_record_len: usize,
    done: bool,
}

impl TxnLogReader {
    /// Reads the logs in `log_dir` (a `version-2` directory) from `from_zxid` on.
    pub fn open(log_dir: &Path, from_zxid: i64) -> Result<TxnLogReader> {
        Self::open_with_limit(log_dir, from_zxid, DEFAULT_MAX_FIELD_LEN)
    }

    /// [`TxnLogReader::open`] with a maximum record length other than ZooKeeper's default.
    pub fn open_with_limit(log_dir: &Path, from_zxid: i64, max_record_len: usize) -> Result<TxnLogReader> {
        let all = list_files(log_dir, LOG_PREFIX)?;
        let last = all.last().map(|f| f.path.clone());
        let files = logs_after(&all, from_zxid.saturating_sub(1)).into_iter().map(|f| f.path).collect();
        Ok(TxnLogReader { files, last, current: None, from_zxid, max_record_len, done: false })
    }

    fn next_txn(&mut self) -> Result<Option<LoggedTxn>> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.files.pop_front() else { return Ok(None) };
                let is_last = self.last.as_ref() == Some(&path);
                self.current = LogFileReader::open(&path, is_last, self.max_record_len)?;
                continue;
            }
            let reader = self.current.as_mut().expect("checked above");
            match reader.step()? {
                FileStep::Txn(txn, _) if txn.zxid < self.from_zxid => continue,
                FileStep::Txn(txn, _) => return Ok(Some(txn)),
                FileStep::End(..) => self.current = None,
            }
        }
    }
}

impl Iterator for TxnLogReader {
    type Item = Result<LoggedTxn>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_txn();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }
}

/// Reads every record of one log file (for tools and tests): the txns, and how and where the file ends.
pub fn read_log_file(path: &Path) -> Result<(Vec<LoggedTxn>, EndReason, u64)> {
    let Some(mut reader) = LogFileReader::open(path, true, DEFAULT_MAX_FIELD_LEN)? else {
        return Ok((Vec::new(), EndReason::ShortRead, 0));
    };
    let mut txns = Vec::new();
    loop {
        match reader.step()? {
            FileStep::Txn(txn, _) => txns.push(txn),
            FileStep::End(reason, offset) => return Ok((txns, reason, offset)),
        }
    }
}

/// Consumes the rest of a reader, returning whether every byte was zero.
pub(crate) fn all_zero<R: Read>(mut r: R) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(true);
        }
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
    }
}
