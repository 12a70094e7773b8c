//! ZooKeeper's file names: `log.<hex zxid>` and `snapshot.<hex zxid>[.gz|.snappy]`, directory listings
//! sorted by zxid, and the choice of log files that cover a zxid (`FileTxnLog.getLogFiles`).

use std::fs;
use std::path::{Path, PathBuf};

use super::error::{IoContext, Result};

/// The prefix of txn log files.
pub const LOG_PREFIX: &str = "log";
/// The prefix of snapshot files.
pub const SNAPSHOT_PREFIX: &str = "snapshot";
/// The suffix of files being written (atomic write idiom); listings skip them.
pub const TMP_SUFFIX: &str = ".tmp";

/// How a snapshot file is compressed, from its name's extension (`SnapStream.StreamMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No extension: the plain checked stream.
    None,
    /// `.gz`.
    Gzip,
    /// `.snappy` (recognised, but not readable by this implementation).
    Snappy,
}

impl Compression {
    /// The file name extension, with its dot (`""` for none).
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Snappy => ".snappy",
        }
    }
}

/// `log.<hex zxid>`: the name ZooKeeper gives a log whose first txn is `zxid` (lower-case hex, no padding).
pub fn log_name(zxid: i64) -> String {
    format!("{LOG_PREFIX}.{:x}", zxid)
}

/// `snapshot.<hex zxid>[ext]`: the name of a snapshot of the tree at `zxid`.
pub fn snapshot_name(zxid: i64, compression: Compression) -> String {
    format!("{SNAPSHOT_PREFIX}.{:x}{}", zxid, compression.extension())
}

/// The zxid in a `prefix.<hex>[.anything]` name, as `Util.getZxidFromName` parses it (Java's
/// `Long.parseLong(hex, 16)`: an optional sign, then hex digits; values beyond `i64` are not names).
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<i64> {
    let mut parts = name.split('.');
    if parts.next()? != prefix {
        return None;
    }
    let hex = parts.next()?;
    let (negative, digits) = match hex.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, hex.strip_prefix('+').unwrap_or(hex)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let value = i64::from_str_radix(digits, 16).ok()?;
    Some(if negative { -value } else { value })
}

/// A txn log or snapshot file found in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// The zxid in the name (first txn of a log; last applied txn of a snapshot).
    pub zxid: i64,
    /// The full path.
    pub path: PathBuf,
    /// Compression (snapshots only; [`Compression::None`] for logs).
    pub compression: Compression,
}

/// The compression a snapshot file name says it has (`SnapStream.getStreamMode`).
pub fn compression_of(name: &str) -> Compression {
    // SnapStream.getStreamMode: the last dot-separated part, case-insensitive.
    match name.rsplit('.').next() {
        Some(ext) if ext.eq_ignore_ascii_case("gz") => Compression::Gzip,
        Some(ext) if ext.eq_ignore_ascii_case("snappy") => Compression::Snappy,
        _ => Compression::None,
    }
}

/// Lists the files named `prefix.<hex>...` in `dir`, ascending by zxid, skipping `.tmp` files. A
/// missing directory lists as empty.
pub fn list_files(dir: &Path, prefix: &str) -> Result<Vec<DataFile>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(super::PersistError::io(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.at(dir)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(TMP_SUFFIX) {
            continue;
        }
        let Some(zxid) = zxid_from_name(name, prefix) else { continue };
        let compression = if prefix == SNAPSHOT_PREFIX { compression_of(name) } else { Compression::None };
        files.push(DataFile { zxid, path: entry.path(), compression });
    }
    files.sort_by(|a, b| a.zxid.cmp(&b.zxid).then_with(|| a.path.cmp(&b.path)));
    Ok(files)
}

/// The log files (ascending) that may hold txns with zxid greater than `zxid`: the newest log that
/// starts at or before `zxid`, and every later one (`FileTxnLog.getLogFiles`). With no log starting at
/// or before `zxid`, all logs.
pub fn logs_after(logs: &[DataFile], zxid: i64) -> Vec<DataFile> {
    let start = logs.iter().filter(|f| f.zxid <= zxid).map(|f| f.zxid).max().unwrap_or(i64::MIN);
    logs.iter().filter(|f| f.zxid >= start).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(zxids: &[i64]) -> Vec<DataFile> {
        zxids
            .iter()
            .map(|&zxid| DataFile { zxid, path: log_name(zxid).into(), compression: Compression::None })
            .collect()
    }

    #[test]
    fn names_round_trip_as_zookeeper_writes_them() {
        assert_eq!(log_name(0x1_0000_0001), "log.100000001");
        assert_eq!(snapshot_name(0x15, Compression::Gzip), "snapshot.15.gz");
        assert_eq!(zxid_from_name("log.100000001", LOG_PREFIX), Some(0x1_0000_0001));
        assert_eq!(zxid_from_name("snapshot.15.gz", SNAPSHOT_PREFIX), Some(0x15));
        assert_eq!(zxid_from_name("snapshot.zz", SNAPSHOT_PREFIX), None);
        assert_eq!(zxid_from_name("log", LOG_PREFIX), None);
        assert_eq!(zxid_from_name("logs.1", LOG_PREFIX), None);
        assert_eq!(zxid_from_name("log.fffffffffffffffff", LOG_PREFIX), None);
    }

    #[test]
    fn logs_after_picks_the_log_that_starts_at_or_before() {
        let all = logs(&[1, 0x10, 0x20]);
        let zxids = |v: Vec<DataFile>| v.into_iter().map(|f| f.zxid).collect::<Vec<_>>();
        assert_eq!(zxids(logs_after(&all, 0x15)), vec![0x10, 0x20]);
        assert_eq!(zxids(logs_after(&all, 0x10)), vec![0x10, 0x20]);
        assert_eq!(zxids(logs_after(&all, 0)), vec![1, 0x10, 0x20]);
        assert_eq!(zxids(logs_after(&all, 0x99)), vec![0x20]);
    }
}
