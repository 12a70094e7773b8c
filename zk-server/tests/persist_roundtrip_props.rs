//! Property tests: whatever we write, we read back identically (txn logs and snapshots), and no byte
//! string makes the readers panic.

use bytes::Bytes;
use proptest::prelude::*;
use zk_proto::arbitrary::any_jute;
use zk_proto::{Acl, StatPersisted, TxnEntry};
use zk_server::persist::snapshot::{
    AclCacheEntry, DataNodeRecord, Snapshot, SnapshotReader, SnapshotTrailer, ZxidDigest,
};
use zk_server::persist::txn_log::{TxnLog, TxnLogOptions, TxnLogReader};

fn node() -> impl Strategy<Value = (String, DataNodeRecord)> {
    (
        "(/[a-z0-9]{1,6}){1,3}",
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        any::<i64>(),
        any_jute::<StatPersisted>(),
    )
        .prop_map(|(path, data, acl, stat)| (path, DataNodeRecord { data: data.map(Bytes::from), acl, stat }))
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        proptest::collection::vec((any::<i64>(), any::<i32>()), 0..5),
        proptest::collection::vec((any::<i64>(), proptest::collection::vec(any_jute::<Acl>(), 0..3)), 0..4),
        proptest::collection::vec(node(), 0..8),
        proptest::option::of((any::<i64>(), 2..3i32, any::<i64>())),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(|(sessions, acls, nodes, digest, last)| Snapshot {
            sessions,
            acls: acls.into_iter().map(|(index, acls)| AclCacheEntry { index, acls }).collect(),
            nodes,
            trailer: SnapshotTrailer {
                digest: digest
                    .map(|(zxid, digest_version, digest)| ZxidDigest { zxid, digest_version, digest })
                    .or(last.map(|_| ZxidDigest { zxid: 0, digest_version: 2, digest: 0 })),
                last_processed_zxid: last,
            },
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn logged_txns_read_back_identically(entries in proptest::collection::vec(any_jute::<TxnEntry>(), 1..20), batch in 1usize..5) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TxnLog::open(dir.path(), TxnLogOptions { prealloc_size: 1024, ..TxnLogOptions::default() }).unwrap();
        let entries: Vec<TxnEntry> = entries
            .into_iter()
            .enumerate()
            .map(|(i, mut e)| {
                e.header.zxid = i as i64 + 1;
                e
            })
            .collect();
        for (i, entry) in entries.iter().enumerate() {
            log.append(entry).unwrap();
            if i % batch == 0 {
                log.commit().unwrap();
            }
        }
        log.close().unwrap();
        let read: Vec<TxnEntry> = TxnLogReader::open(dir.path(), 0).unwrap().map(|t| t.unwrap().entry).collect();
        prop_assert_eq!(read, entries);
    }

    #[test]
    fn snapshots_and_snap_sync_bodies_read_back_identically(snapshot in snapshot()) {
        let bytes = snapshot.write(Vec::new()).unwrap();
        let read = Snapshot::read(SnapshotReader::new(&bytes[..], "prop").unwrap()).unwrap();
        prop_assert_eq!(&read, &snapshot);
        let body = snapshot.write_snap_sync(Vec::new()).unwrap();
        let read = Snapshot::read_snap_sync(&body[..]).unwrap();
        prop_assert_eq!(read, Snapshot { trailer: SnapshotTrailer::default(), ..snapshot });
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut with_header = b"ZKSN\x00\x00\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff".to_vec();
        with_header.extend_from_slice(&bytes);
        if let Ok(reader) = SnapshotReader::new(&with_header[..], "garbage") {
            let _ = Snapshot::read(reader);
        }
        let _ = Snapshot::read_snap_sync(&bytes[..]);
        let dir = tempfile::tempdir().unwrap();
        let mut log = b"ZKLG\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        log.extend_from_slice(&bytes);
        std::fs::write(dir.path().join("log.1"), &log).unwrap();
        for txn in TxnLogReader::open(dir.path(), 0).unwrap() {
            let _ = txn;
        }
        let _ = TxnLog::open(dir.path(), TxnLogOptions::default());
    }
}
