//! The txn log: group commit, preallocation, rolling, reading across files, truncation, torn tails
//! and corruption.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use zk_proto::{Acl, CreateTxn, OpCode, SetDataTxn, TxnBody, TxnDigest, TxnEntry, TxnHeader};
use zk_server::persist::txn_log::{
    read_log_file, recover_tail, EndReason, TxnLog, TxnLogOptions, TxnLogReader, LOG_HEADER_LEN,
};
use zk_server::persist::{PersistError, DEFAULT_MAX_FIELD_LEN};

fn entry(zxid: i64) -> TxnEntry {
    let body = if zxid % 2 == 0 {
        TxnBody::Create(CreateTxn {
            path: format!("/n{zxid}"),
            data: Some(Bytes::from(vec![b'x'; (zxid % 7) as usize * 10])),
            acl: Acl::open_unsafe(),
            ephemeral: false,
            parent_c_version: zxid as i32,
        })
    } else {
        TxnBody::SetData(SetDataTxn { path: "/n".into(), data: Some(Bytes::from_static(b"v")), version: zxid as i32 })
    };
    let op = if zxid % 2 == 0 { OpCode::Create } else { OpCode::SetData };
    TxnEntry {
        header: TxnHeader {
            client_id: 0x1234,
            cxid: zxid as i32,
            zxid,
            time: 1_700_000_000_000 + zxid,
            op_code: op.code(),
        },
        body,
        digest: Some(TxnDigest { version: 2, tree_digest: zxid * 31 }),
    }
}

fn small() -> TxnLogOptions {
    TxnLogOptions { prealloc_size: 4096, ..TxnLogOptions::default() }
}

fn zxids(dir: &Path, from: i64) -> Vec<i64> {
    TxnLogReader::open(dir, from).unwrap().map(|t| t.unwrap().zxid).collect()
}

fn write_log(dir: &Path, zxids: impl IntoIterator<Item = i64>, options: TxnLogOptions) -> PathBuf {
    let mut log = TxnLog::open(dir, options).unwrap();
    for zxid in zxids {
        log.append(&entry(zxid)).unwrap();
    }
    log.commit().unwrap();
    let path = log.current_file().unwrap().to_path_buf();
    log.close().unwrap();
    path
}

#[test]
fn appends_are_invisible_until_commit_and_one_commit_covers_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TxnLog::open(dir.path(), small()).unwrap();
    for zxid in 1..=5 {
        log.append(&entry(zxid)).unwrap();
    }
    assert_eq!(log.pending(), 5);
    assert_eq!(zxids(dir.path(), 0), Vec::<i64>::new(), "nothing is written before commit");
    assert_eq!(log.last_logged_zxid(), None);
    log.commit().unwrap();
    assert_eq!(log.pending(), 0);
    assert_eq!(log.last_logged_zxid(), Some(5));
    assert_eq!(log.current_file().unwrap().file_name().unwrap(), "log.1");
    assert_eq!(zxids(dir.path(), 0), vec![1, 2, 3, 4, 5]);
    let read: Vec<TxnEntry> = TxnLogReader::open(dir.path(), 0).unwrap().map(|t| t.unwrap().entry).collect();
    assert_eq!(read, (1..=5).map(entry).collect::<Vec<_>>());
}

#[test]
fn files_are_preallocated_in_steps_and_read_back_through_the_padding() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TxnLog::open(dir.path(), small()).unwrap();
    log.append(&entry(1)).unwrap();
    log.commit().unwrap();
    let path = log.current_file().unwrap().to_path_buf();
    assert_eq!(fs::metadata(&path).unwrap().len(), LOG_HEADER_LEN + 4096);
    for zxid in 2..=200 {
        log.append(&entry(zxid)).unwrap();
        if zxid % 10 == 0 {
            log.commit().unwrap();
        }
    }
    log.commit().unwrap();
    let len = fs::metadata(&path).unwrap().len();
    assert_eq!((len - LOG_HEADER_LEN) % 4096, 0, "grown by whole steps: {len}");
    let (txns, end, _) = read_log_file(&path).unwrap();
    assert_eq!(txns.len(), 200);
    assert_eq!(end, EndReason::ZeroLength);
    let bytes = fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], b"ZKLG");
    assert_eq!(&bytes[4..16], &[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn the_space_just_ahead_of_the_data_is_zeros_on_disk_not_a_hole() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let mut log = TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap();
    log.append(&entry(1)).unwrap();
    log.commit().unwrap();
    let path = log.current_file().unwrap().to_path_buf();
    let meta = fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), LOG_HEADER_LEN + 64 * 1024 * 1024, "the apparent size is ZooKeeper's padding");
    let on_disk = meta.blocks() * 512;
    // A batch that fills the next blocks then overwrites them instead of allocating them, and its
    // fdatasync has no allocation to commit; the rest of the padding stays sparse.
    assert!(on_disk >= 64 * 1024, "zeros written ahead of the data: {on_disk} bytes allocated");
    assert!(on_disk <= 2 * 1024 * 1024, "the padding is not written out whole: {on_disk} bytes allocated");
    for zxid in 2..=3000 {
        log.append(&entry(zxid)).unwrap();
        if zxid % 100 == 0 {
            log.commit().unwrap();
        }
    }
    log.commit().unwrap();
    let (txns, end, _) = read_log_file(&path).unwrap();
    assert_eq!(txns.len(), 3000);
    assert_eq!(end, EndReason::ZeroLength);
    let bytes = fs::read(&path).unwrap();
    let data_end = bytes.len() - bytes.iter().rev().position(|&b| b != 0).unwrap();
    assert!(fs::metadata(&path).unwrap().blocks() * 512 >= data_end as u64 + 64 * 1024, "still zeroed ahead");
}

#[test]
fn roll_starts_a_file_named_after_its_first_zxid_and_readers_cross_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TxnLog::open(dir.path(), small()).unwrap();
    for (batch, range) in [(1..=3), (4..=9), (10..=12)].into_iter().enumerate() {
        for zxid in range {
            log.append(&entry(zxid)).unwrap();
        }
        log.roll().unwrap();
        assert_eq!(log.current_file(), None, "batch {batch}");
    }
    let mut names: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, vec!["log.1", "log.4", "log.a"]);
    assert_eq!(zxids(dir.path(), 0), (1..=12).collect::<Vec<_>>());
    assert_eq!(zxids(dir.path(), 5), (5..=12).collect::<Vec<_>>());
    assert_eq!(zxids(dir.path(), 10), vec![10, 11, 12]);
    assert_eq!(zxids(dir.path(), 13), Vec::<i64>::new());
}

#[test]
fn the_size_limit_rolls_after_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let options = TxnLogOptions { size_limit: Some(200), ..small() };
    let mut log = TxnLog::open(dir.path(), options).unwrap();
    for zxid in 1..=20 {
        log.append(&entry(zxid)).unwrap();
        log.commit().unwrap();
    }
    let files = fs::read_dir(dir.path()).unwrap().count();
    assert!(files > 3, "{files} files");
    assert_eq!(zxids(dir.path(), 0), (1..=20).collect::<Vec<_>>());
}

#[test]
fn reopening_continues_in_a_new_file_after_the_last_zxid() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 1..=4, small());
    let mut log = TxnLog::open(dir.path(), small()).unwrap();
    assert_eq!(log.last_logged_zxid(), Some(4));
    assert_eq!(log.recovery().torn_tail, None);
    log.append(&entry(5)).unwrap();
    log.commit().unwrap();
    assert_eq!(log.current_file().unwrap().file_name().unwrap(), "log.5");
    assert_eq!(zxids(dir.path(), 0), vec![1, 2, 3, 4, 5]);
}

#[test]
fn truncate_keeps_txns_up_to_the_zxid_and_removes_later_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TxnLog::open(dir.path(), small()).unwrap();
    for range in [1..=5, 6..=10, 11..=15] {
        for zxid in range {
            log.append(&entry(zxid)).unwrap();
        }
        log.roll().unwrap();
    }
    assert_eq!(log.truncate(7).unwrap(), Some(7));
    assert_eq!(log.last_logged_zxid(), Some(7));
    assert_eq!(zxids(dir.path(), 0), (1..=7).collect::<Vec<_>>());
    assert!(!dir.path().join("log.b").exists());
    log.append(&entry(8)).unwrap();
    log.commit().unwrap();
    assert_eq!(zxids(dir.path(), 0), (1..=8).collect::<Vec<_>>());
    assert_eq!(log.truncate(0).unwrap(), None);
    assert_eq!(zxids(dir.path(), 0), Vec::<i64>::new());
}

/// Record boundaries (start offsets, then the end) of a log file.
fn record_offsets(path: &Path) -> Vec<u64> {
    let bytes = fs::read(path).unwrap();
    let mut offsets = vec![LOG_HEADER_LEN];
    let mut pos = LOG_HEADER_LEN as usize;
    loop {
        let len = i32::from_be_bytes(bytes[pos + 8..pos + 12].try_into().unwrap());
        if len <= 0 {
            return offsets;
        }
        pos += 8 + 4 + len as usize + 1;
        offsets.push(pos as u64);
        if pos + 12 > bytes.len() {
            return offsets;
        }
    }
}

#[test]
fn a_log_cut_at_every_byte_of_its_last_entry_recovers_exactly_the_complete_entries() {
    let template = tempfile::tempdir().unwrap();
    let path = write_log(template.path(), 1..=4, TxnLogOptions { prealloc_size: 0, ..small() });
    let offsets = record_offsets(&path);
    assert_eq!(offsets.len(), 5);
    let (last_start, end) = (offsets[3], offsets[4]);
    let original = fs::read(&path).unwrap();
    for cut in last_start..end {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("log.1");
        fs::write(&file, &original[..cut as usize]).unwrap();
        assert_eq!(zxids(dir.path(), 0), vec![1, 2, 3], "reading, cut at {cut}");
        let log = TxnLog::open(dir.path(), small()).unwrap();
        assert_eq!(log.last_logged_zxid(), Some(3), "cut at {cut}");
        assert_eq!(fs::metadata(&file).unwrap().len(), last_start, "recovery cuts the partial record, cut at {cut}");
        let torn = log.recovery().torn_tail.clone();
        if cut == last_start {
            assert_eq!(torn, None);
        } else {
            // The cut bytes are kept aside (without trailing zeros), under a name no reader takes for a log.
            let torn = torn.expect("a torn tail");
            let mut expected = original[last_start as usize..cut as usize].to_vec();
            while expected.last() == Some(&0) {
                expected.pop();
            }
            match torn.saved_to {
                Some(saved) => assert_eq!(fs::read(saved).unwrap(), expected, "cut at {cut}"),
                None => assert!(expected.is_empty(), "only zeros are not kept, cut at {cut}"),
            }
        }
        drop(log);
        assert_eq!(zxids(dir.path(), 0), vec![1, 2, 3]);
    }
}

#[test]
fn zeros_over_any_part_of_the_last_entry_are_a_torn_write() {
    // A preallocated file where the last write only partly reached the disk: the rest is zeros.
    let template = tempfile::tempdir().unwrap();
    let path = write_log(template.path(), 1..=4, small());
    let offsets = record_offsets(&path);
    let (last_start, end) = (offsets[3] as usize, offsets[4] as usize);
    let original = fs::read(&path).unwrap();
    for hole in last_start..end {
        // Zero one 4-byte window (a hole) inside the last record, keeping the rest.
        let mut bytes = original.clone();
        for b in &mut bytes[hole..(hole + 4).min(end)] {
            *b = 0;
        }
        if bytes == original {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("log.1"), &bytes).unwrap();
        let recovery = recover_tail(dir.path(), DEFAULT_MAX_FIELD_LEN).unwrap();
        assert_eq!(recovery.last_zxid, Some(3), "hole at {hole}");
        let torn = recovery.torn_tail.expect("a torn tail");
        assert_eq!(torn.offset, last_start as u64);
        assert_eq!(zxids(dir.path(), 0), vec![1, 2, 3]);
    }
}

#[test]
fn a_checksum_mismatch_in_the_middle_is_corruption() {
    let template = tempfile::tempdir().unwrap();
    let path = write_log(template.path(), 1..=4, small());
    let offsets = record_offsets(&path);
    let mut bytes = fs::read(&path).unwrap();
    bytes[offsets[1] as usize + 20] ^= 0x40; // inside the second entry
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("log.1"), &bytes).unwrap();
    let results: Vec<_> = TxnLogReader::open(dir.path(), 0).unwrap().collect();
    assert_eq!(results.len(), 2, "one good txn, then the error, then nothing");
    assert!(matches!(&results[1], Err(PersistError::Corrupt { offset, .. }) if *offset == offsets[1]));
    assert!(matches!(TxnLog::open(dir.path(), small()), Err(PersistError::Corrupt { .. })));
    assert_eq!(fs::read(dir.path().join("log.1")).unwrap(), bytes, "a corrupt log is never modified");
}

#[test]
fn a_bad_last_record_in_an_older_log_is_corruption_but_a_partial_one_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TxnLog::open(dir.path(), TxnLogOptions { prealloc_size: 0, ..small() }).unwrap();
    for zxid in 1..=3 {
        log.append(&entry(zxid)).unwrap();
    }
    log.roll().unwrap();
    log.append(&entry(4)).unwrap();
    log.close().unwrap();
    let old = dir.path().join("log.1");
    let offsets = record_offsets(&old);
    let original = fs::read(&old).unwrap();
    // A partial last record in an older log (how ZooKeeper leaves one after a crash and restart).
    fs::write(&old, &original[..offsets[3] as usize - 3]).unwrap();
    assert_eq!(zxids(dir.path(), 0), vec![1, 2, 4]);
    // A checksum mismatch there is not a torn write: it is reported.
    let mut flipped = original.clone();
    flipped[offsets[2] as usize + 30] ^= 1;
    fs::write(&old, &flipped).unwrap();
    assert!(TxnLogReader::open(dir.path(), 0).unwrap().any(|t| t.is_err()));
}

#[test]
fn unreasonable_lengths_are_errors_not_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 1..=2, small());
    let offsets = record_offsets(&path);
    let mut bytes = fs::read(&path).unwrap();
    let at = offsets[1] as usize + 8;
    bytes[at..at + 4].copy_from_slice(&0x7fff_fff0i32.to_be_bytes());
    fs::write(&path, &bytes).unwrap();
    let results: Vec<_> = TxnLogReader::open(dir.path(), 0).unwrap().collect();
    assert!(matches!(results.last(), Some(Err(PersistError::Corrupt { .. }))));
}

#[test]
fn an_empty_newest_log_is_removed_and_a_bad_magic_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 1..=2, small());
    fs::write(dir.path().join("log.3"), b"ZKL").unwrap();
    let log = TxnLog::open(dir.path(), small()).unwrap();
    assert_eq!(log.last_logged_zxid(), Some(2));
    assert_eq!(log.recovery().removed_empty.len(), 1);
    assert!(!dir.path().join("log.3").exists());
    drop(log);
    fs::write(dir.path().join("log.1"), b"NOPE0000000000000000").unwrap();
    assert!(matches!(TxnLogReader::open(dir.path(), 0).unwrap().next(), Some(Err(PersistError::Corrupt { .. }))));
}

#[test]
fn force_sync_off_still_writes() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 1..=3, TxnLogOptions { force_sync: false, ..small() });
    assert_eq!(zxids(dir.path(), 0), vec![1, 2, 3]);
    let f = OpenOptions::new().read(true).open(dir.path().join("log.1")).unwrap();
    assert!(f.metadata().unwrap().len() > LOG_HEADER_LEN);
}
