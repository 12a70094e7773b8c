//! Errors of the persistence layer.

use std::io;
use std::path::{Path, PathBuf};

/// Why reading or writing ZooKeeper's on-disk files failed.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// An operating-system error on a file or directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Bytes that are not what the format allows: a bad magic, a checksum mismatch in the middle of a log,
    /// an unreasonable length, an undecodable record.
    #[error("{context} at byte {offset}: {reason}")]
    Corrupt {
        /// The file (or stream) being read.
        context: String,
        /// The byte offset of the bad record or field.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// Snapshots exist but none of them could be read.
    #[error("no valid snapshot in {}", dir.display())]
    NoValidSnapshot {
        /// The snapshot directory.
        dir: PathBuf,
    },
    /// Txn logs exist but no snapshot does, so replaying them alone could miss data (ZooKeeper refuses this
    /// too unless `zookeeper.snapshot.trust.empty` is set).
    #[error("txn logs up to zxid {last_logged_zxid:#x} but no snapshot in {}", dir.display())]
    MissingSnapshot {
        /// The snapshot directory.
        dir: PathBuf,
        /// The last zxid found in the logs.
        last_logged_zxid: i64,
    },
    /// A txn log whose earlier write or sync failed: part of a batch may be on disk, so it accepts
    /// nothing more until it is reopened (which repairs the end of the log).
    #[error("the txn log failed earlier and must be reopened")]
    Failed,
    /// A call that the API's state does not allow (e.g. writing snapshot sections out of order).
    #[error("misuse: {0}")]
    Usage(&'static str),
    /// A format variant this implementation does not read (e.g. snappy-compressed snapshots).
    #[error("{}: unsupported: {what}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        what: &'static str,
    },
}

impl PersistError {
    /// An [`PersistError::Io`] for `path`.
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> PersistError {
        PersistError::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// A [`PersistError::Corrupt`].
    pub fn corrupt(context: impl Into<String>, offset: u64, reason: impl Into<String>) -> PersistError {
        PersistError::Corrupt { context: context.into(), offset, reason: reason.into() }
    }
}

/// The result type of this module.
pub type Result<T, E = PersistError> = std::result::Result<T, E>;

/// Extension to attach a path to an `io::Result`.
pub(crate) trait IoContext<T> {
    /// Maps an I/O error into [`PersistError::Io`] for `path`.
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|e| PersistError::io(path, e))
    }
}
