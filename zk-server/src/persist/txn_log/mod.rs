//! ZooKeeper's txn log: `<dataLogDir>/version-2/log.<hex zxid of its first txn>`.
//!
//! A file is a [`zk_proto::FileHeader`] (`ZKLG`, version 2, dbid 0) followed by records
//! `long adler32(entry) ‖ int len ‖ entry ‖ 0x42`, where `entry` is a serialized
//! [`zk_proto::TxnEntry`], then zero padding up to the preallocated size.
//!
//! # Where a log ends, and torn writes
//! ZooKeeper's reader ends a file at a zero (or -1) length, a short read or a missing `0x42` marker,
//! and moves on to the next file; a checksum mismatch is an error that stops the server. It never
//! repairs a file: after a restart it starts a new one, so an old file may keep a partial record at
//! its end forever. We read exactly the same way, with one deliberate difference: in the **newest**
//! log, a complete-looking record with a bad checksum followed only by zeros is taken as a torn write
//! (a crash before the fsync left a hole of zeros in it) rather than as corruption. Anywhere else a
//! checksum mismatch, an unreasonable length or an undecodable txn is [`PersistError::Corrupt`].
//! When a [`TxnLog`] is opened for writing, [`recover_tail`] physically cuts a torn write off the
//! newest log, so it can never end up in the middle of the history.
//!
//! [`PersistError::Corrupt`]: crate::persist::PersistError::Corrupt

mod padding;
mod reader;
mod record;
mod recovery;
mod syncer;
mod writer;

pub use padding::{padded_size, DEFAULT_PREALLOC_SIZE, PREALLOC_MARGIN};
pub use reader::{read_log_file, LoggedTxn, TxnLogReader, LOG_HEADER_LEN};
pub use record::{encode_record, EndReason, END_OF_RECORD, RECORD_OVERHEAD};
pub use recovery::{recover_tail, truncate_logs, LogRecovery, TornTail};
pub use syncer::LogFileSyncer;
pub use writer::{TxnLog, TxnLogOptions};
