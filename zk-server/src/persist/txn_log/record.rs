//! One txn log record, the pure codec: `long adler32(entry) ‖ int len ‖ entry ‖ 0x42`.
//!
//! The checksum covers the serialized txn entry only (`FileTxnLog.append`: despite its class comment,
//! ZooKeeper hashes just the entry bytes).

use std::io::Read;

use bytes::Bytes;

use crate::persist::checked_io::{CheckedReader, ReadFault};

/// The end-of-record marker, `'B'`.
pub const END_OF_RECORD: u8 = 0x42;
/// Bytes a record adds around its entry: checksum, length and marker.
pub const RECORD_OVERHEAD: usize = 8 + 4 + 1;

/// Appends the record for the serialized txn entry `entry` to `out`.
///
/// # Panics
/// If `entry` is longer than `i32::MAX` bytes ([`super::TxnLog`] refuses entries over its
/// `max_record_len` before they get here).
pub fn encode_record(entry: &[u8], out: &mut Vec<u8>) {
    let len = i32::try_from(entry.len()).expect("txn entry longer than i32::MAX");
    out.reserve(entry.len() + RECORD_OVERHEAD);
    out.extend_from_slice(&i64::from(adler2::adler32_slice(entry)).to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(entry);
    out.push(END_OF_RECORD);
}

/// Why a log file's sequence of records ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// A zero (or null, -1) length: the preallocated zero padding, the normal end of a log.
    ZeroLength,
    /// The file ended inside a record (or exactly between records).
    ShortRead,
    /// The byte after the entry is not `0x42`: a partial (torn) last write.
    MissingMarker,
    /// The checksum does not match, and only zeros follow in the last log: a torn last write (see the
    /// module docs of [`crate::persist::txn_log`] for when this is accepted).
    TornChecksum,
}

/// What reading one record found.
#[derive(Debug)]
pub(crate) enum RecordRead {
    /// A complete record whose checksum matches.
    Record {
        /// The serialized txn entry.
        entry: Bytes,
    },
    /// No further record in this file, for the reason given (ZooKeeper's notion of EOF).
    End(EndReason),
    /// A complete record whose checksum does not match.
    ChecksumMismatch,
    /// A length that is negative (other than -1) or over the limit: corruption, never a torn write.
    BadLength(i32),
}

/// Reads the record that starts at the reader's position.
pub(crate) fn read_record<R: Read>(r: &mut CheckedReader<R>, max_len: usize) -> Result<RecordRead, std::io::Error> {
    let map = |fault: ReadFault| match fault {
        ReadFault::Io(e) => Err(e),
        ReadFault::Eof | ReadFault::Invalid(_) => Ok(RecordRead::End(EndReason::ShortRead)),
    };
    let crc = match r.read_i64() {
        Ok(v) => v,
        Err(f) => return map(f),
    };
    let len = match r.read_i32() {
        Ok(v) => v,
        Err(f) => return map(f),
    };
    if len == 0 || len == -1 {
        return Ok(RecordRead::End(EndReason::ZeroLength));
    }
    if len < 0 || len as usize > max_len {
        return Ok(RecordRead::BadLength(len));
    }
    let entry = match r.read_bytes(len as usize) {
        Ok(v) => v,
        Err(f) => return map(f),
    };
    match r.read_u8() {
        Ok(END_OF_RECORD) => {}
        Ok(_) => return Ok(RecordRead::End(EndReason::MissingMarker)),
        Err(f) => return map(f),
    }
    if crc != i64::from(adler2::adler32_slice(&entry)) {
        return Ok(RecordRead::ChecksumMismatch);
    }
    Ok(RecordRead::Record { entry: Bytes::from(entry) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> RecordRead {
        read_record(&mut CheckedReader::new(bytes, usize::MAX), 1 << 20).unwrap()
    }

    #[test]
    fn a_record_round_trips() {
        let mut out = Vec::new();
        encode_record(b"entry", &mut out);
        assert_eq!(out.len(), 5 + RECORD_OVERHEAD);
        assert!(matches!(read(&out), RecordRead::Record { entry } if &entry[..] == b"entry"));
    }

    #[test]
    fn every_truncation_is_a_short_read_and_damage_is_detected() {
        let mut out = Vec::new();
        encode_record(b"entry", &mut out);
        for cut in 0..out.len() {
            assert!(matches!(read(&out[..cut]), RecordRead::End(EndReason::ShortRead)), "cut {cut}");
        }
        let mut no_marker = out.clone();
        *no_marker.last_mut().unwrap() = 0;
        assert!(matches!(read(&no_marker), RecordRead::End(EndReason::MissingMarker)));
        let mut flipped = out.clone();
        flipped[14] ^= 1;
        assert!(matches!(read(&flipped), RecordRead::ChecksumMismatch));
        assert!(matches!(read(&[0; 32]), RecordRead::End(EndReason::ZeroLength)));
        let mut huge = vec![0; 8];
        huge.extend_from_slice(&0x7fff_0000i32.to_be_bytes());
        assert!(matches!(read(&huge), RecordRead::BadLength(_)));
    }
}
